// libpcap handles for interfaces and files, with libpcap's error codes turned into the
// messages users need (which capability is missing, which interface does not exist).
#include "capture/pcap_source.h"

#include <fmt/format.h>
#include <pcap/pcap.h>
#include <poll.h>

#include <cstring>
#include <utility>

#include "common/error.h"
#include "common/terminal.h"

namespace netres::capture {
namespace {

struct DispatchContext {
  PacketHandler* handler;
};

void on_pcap_packet(u_char* user, const pcap_pkthdr* header, const u_char* bytes) {
  reinterpret_cast<DispatchContext*>(user)->handler->on_packet(*header, bytes);
}

bool is_pseudo_device(const std::string& name) {
  return name == "any" || name.starts_with("nflog") || name.starts_with("nfqueue") ||
         name.starts_with("dbus") || name.starts_with("bluetooth") || name.starts_with("usbmon");
}

[[noreturn]] void throw_activate_error(pcap_t* p, int status, const std::string& name) {
  std::string detail = pcap_geterr(p);
  switch (status) {
    case PCAP_ERROR_PERM_DENIED:
    case PCAP_ERROR_PROMISC_PERM_DENIED:
      throw RuntimeError(fmt::format(
          "no permission to capture on '{}': live capture needs CAP_NET_RAW (and CAP_NET_ADMIN "
          "for promiscuous mode); run as root or grant them with "
          "'setcap cap_net_raw,cap_net_admin=eip netres'",
          name));
    case PCAP_ERROR_NO_SUCH_DEVICE:
      throw RuntimeError(fmt::format("no such interface '{}' (see 'ip link')", name));
    case PCAP_ERROR_IFACE_NOT_UP:
      throw RuntimeError(fmt::format("interface '{}' is down", name));
    default:
      throw RuntimeError(fmt::format("cannot capture on '{}': {}", name,
                                     detail.empty() ? pcap_statustostr(status) : detail));
  }
}

}  // namespace

PcapSource::PcapSource(pcap* handle, std::string name, bool live)
    : handle_(handle), name_(std::move(name)), live_(live) {}

PcapSource::PcapSource(PcapSource&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)),
      name_(std::move(other.name_)),
      live_(other.live_),
      at_end_(other.at_end_) {}

PcapSource& PcapSource::operator=(PcapSource&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) pcap_close(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
    name_ = std::move(other.name_);
    live_ = other.live_;
    at_end_ = other.at_end_;
  }
  return *this;
}

PcapSource::~PcapSource() {
  if (handle_ != nullptr) pcap_close(handle_);
}

PcapSource PcapSource::open_live(const LiveOptions& options) {
  std::string name = options.interface.empty() ? default_interface() : options.interface;
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_create(name.c_str(), errbuf);
  if (p == nullptr) throw RuntimeError(fmt::format("cannot capture on '{}': {}", name, errbuf));
  PcapSource source(p, name, true);
  pcap_set_snaplen(p, options.snaplen);
  pcap_set_promisc(p, options.promiscuous ? 1 : 0);
  pcap_set_timeout(p, options.timeout_ms);
  if (options.immediate) pcap_set_immediate_mode(p, 1);
  if (options.buffer_size > 0) {
    if (options.buffer_size > static_cast<uint64_t>(INT32_MAX))
      throw UsageError("-B: the kernel buffer can be at most 2G");
    pcap_set_buffer_size(p, static_cast<int>(options.buffer_size));
  }
  int status = pcap_activate(p);
  if (status < 0) throw_activate_error(p, status, name);
  if (status > 0) warn("capture", fmt::format("{}: {}", name, pcap_geterr(p)));
  if (pcap_setnonblock(p, 1, errbuf) != 0)
    throw RuntimeError(fmt::format("cannot capture on '{}': {}", name, errbuf));
  return source;
}

PcapSource PcapSource::open_file(const std::string& path) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p =
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, errbuf);
  if (p == nullptr) throw UsageError(fmt::format("cannot read '{}': {}", path, errbuf));
  return PcapSource(p, path, false);
}

void PcapSource::set_filter(const std::string& expression) {
  bpf_u_int32 netmask = PCAP_NETMASK_UNKNOWN;
  if (live_) {
    bpf_u_int32 net = 0, mask = 0;
    char errbuf[PCAP_ERRBUF_SIZE];
    // Only "ip broadcast" needs the netmask; interfaces without IPv4 have none, which is fine.
    if (pcap_lookupnet(name_.c_str(), &net, &mask, errbuf) == 0) netmask = mask;
  }
  bpf_program program{};
  if (pcap_compile(handle_, &program, expression.c_str(), 1, netmask) != 0)
    throw UsageError(fmt::format("bad filter '{}': {}", expression, pcap_geterr(handle_)));
  int rc = pcap_setfilter(handle_, &program);
  pcap_freecode(&program);
  if (rc != 0)
    throw RuntimeError(
        fmt::format("cannot install filter on '{}': {}", name_, pcap_geterr(handle_)));
}

int PcapSource::dispatch(int max_packets, PacketHandler& handler) {
  DispatchContext context{&handler};
  int n = pcap_dispatch(handle_, max_packets <= 0 ? -1 : max_packets, on_pcap_packet,
                        reinterpret_cast<u_char*>(&context));
  if (n == PCAP_ERROR_BREAK) return 0;
  if (n < 0) {
    std::string detail = pcap_geterr(handle_);
    if (live_) throw RuntimeError(fmt::format("capture on '{}' failed: {}", name_, detail));
    throw UsageError(fmt::format("reading '{}': {}", name_, detail));
  }
  if (n == 0 && !live_) at_end_ = true;
  return n;
}

void PcapSource::wait(int timeout_ms) {
  int fd = pcap_get_selectable_fd(handle_);
  if (fd < 0) return;
  pollfd p{fd, POLLIN, 0};
  ::poll(&p, 1, timeout_ms);  // EINTR (a signal) is as good as a wake-up here
}

void PcapSource::break_loop() {
  if (handle_ != nullptr) pcap_breakloop(handle_);
}

std::optional<PcapStats> PcapSource::stats() const {
  if (!live_) return std::nullopt;
  pcap_stat s{};
  if (pcap_stats(handle_, &s) != 0) return std::nullopt;
  return PcapStats{s.ps_recv, s.ps_drop, s.ps_ifdrop};
}

int PcapSource::linktype() const { return pcap_datalink(handle_); }

int PcapSource::snaplen() const { return pcap_snapshot(handle_); }

std::string PcapSource::linktype_description() const {
  int dlt = linktype();
  const char* name = pcap_datalink_val_to_name(dlt);
  const char* description = pcap_datalink_val_to_description(dlt);
  if (name == nullptr) return fmt::format("{}", dlt);
  return fmt::format("{} ({})", name, description != nullptr ? description : "");
}

std::string default_interface() {
  pcap_if_t* all = nullptr;
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  if (pcap_findalldevs(&all, errbuf) != 0)
    throw RuntimeError(fmt::format("cannot list interfaces: {}", errbuf));
  std::string chosen;
  for (pcap_if_t* d = all; d != nullptr; d = d->next) {
    std::string name = d->name;
    if ((d->flags & PCAP_IF_LOOPBACK) || !(d->flags & PCAP_IF_UP) || is_pseudo_device(name))
      continue;
    chosen = name;
    break;
  }
  pcap_freealldevs(all);
  if (chosen.empty())
    throw RuntimeError("no interface to capture on (none is up besides loopback); use -i");
  return chosen;
}

}  // namespace netres::capture
