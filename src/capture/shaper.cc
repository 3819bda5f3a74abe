// Shaper over libnl-route-3: one netlink socket per Shaper; every call replaces or reads the
// root of the interface's egress tree. Errors become RuntimeError with user-facing messages.
#include "capture/shaper.h"

#include <fmt/format.h>
#include <linux/if_ether.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/class.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>

#include <algorithm>
#include <limits>

#include "common/error.h"

namespace netres::capture {
namespace {

constexpr uint32_t kRootHandle = 0x00010000;  // "1:"

// Rates go to libnl as int bytes per second (tbf) or 32-bit htb fields.
constexpr uint64_t kMaxRateBits = uint64_t{std::numeric_limits<int32_t>::max()} * 8;

std::string handle_text(uint32_t handle) {
  if (handle == TC_H_ROOT) return "root";
  char text[32];
  rtnl_tc_handle2str(handle, text, sizeof text);
  return text;
}

[[noreturn]] void fail(int err, const std::string& what, const std::string& interface) {
  int code = err < 0 ? -err : err;
  if (code == NLE_PERM) {
    throw RuntimeError(fmt::format(
        "{} on '{}': operation not permitted (shaping needs CAP_NET_ADMIN; run as root)", what,
        interface));
  }
  if (code == NLE_NODEV || code == NLE_OBJ_NOTFOUND)
    throw RuntimeError(fmt::format("no such interface '{}'", interface));
  throw RuntimeError(fmt::format("{} on '{}': {}", what, interface, nl_geterror(err)));
}

template <typename T, void (*Free)(T*)>
struct NlPtr {
  T* p = nullptr;
  ~NlPtr() {
    if (p) Free(p);
  }
};

}  // namespace

struct Shaper::Netlink {
  nl_sock* sock = nullptr;
  rtnl_link* link = nullptr;
  int ifindex = 0;
  ~Netlink() {
    if (link) rtnl_link_put(link);
    if (sock) nl_socket_free(sock);
  }
};

uint32_t default_burst(uint64_t rate_bits) {
  return static_cast<uint32_t>(std::max<uint64_t>(rate_bits / 8 / 100, 16 * 1024));
}

void validate(const TokenBucketSpec& spec) {
  if (spec.rate_bits < 8) throw UsageError("--rate must be at least 8bit");
  if (spec.rate_bits > kMaxRateBits)
    throw UsageError(fmt::format("--rate must be at most {}mbit", kMaxRateBits / 1'000'000));
  if (spec.burst != 0 && (spec.burst < 2048 || spec.burst > (256u << 20)))
    throw UsageError("--burst must be 2k-256M (it must hold at least one full-size packet)");
  if (spec.latency_us < 1000 || spec.latency_us > 10'000'000)
    throw UsageError("--latency must be 1ms-10s");
}

void validate(const PortShapeSpec& spec) {
  if (spec.ports.empty()) throw UsageError("--match port needs a port number");
  for (uint16_t port : spec.ports)
    if (port == 0) throw UsageError("--match port: ports are 1-65535");
  TokenBucketSpec t{spec.rate_bits, spec.burst, 50000};
  validate(t);
  if (spec.default_rate_bits != 0) {
    t.rate_bits = spec.default_rate_bits;
    validate(t);
  }
}

Shaper::Shaper(const std::string& interface) : interface_(interface), nl_(new Netlink) {
  nl_->sock = nl_socket_alloc();
  if (nl_->sock == nullptr) throw RuntimeError("out of memory for a netlink socket");
  int err = nl_connect(nl_->sock, NETLINK_ROUTE);
  if (err < 0) throw RuntimeError(fmt::format("netlink: {}", nl_geterror(err)));
  err = rtnl_link_get_kernel(nl_->sock, 0, interface.c_str(), &nl_->link);
  if (err < 0 || nl_->link == nullptr) {
    if (err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND || err == -NLE_INVAL || err == 0)
      throw RuntimeError(fmt::format("no such interface '{}'", interface));
    fail(err, "looking up the interface", interface);
  }
  nl_->ifindex = rtnl_link_get_ifindex(nl_->link);
}

Shaper::~Shaper() = default;

void Shaper::set_token_bucket(const TokenBucketSpec& spec) {
  validate(spec);
  NlPtr<rtnl_qdisc, rtnl_qdisc_put> q{rtnl_qdisc_alloc()};
  rtnl_tc_set_link(TC_CAST(q.p), nl_->link);
  rtnl_tc_set_parent(TC_CAST(q.p), TC_H_ROOT);
  rtnl_tc_set_handle(TC_CAST(q.p), kRootHandle);
  int err = rtnl_tc_set_kind(TC_CAST(q.p), "tbf");
  if (err < 0) fail(err, "tbf", interface_);
  uint32_t burst = spec.burst ? spec.burst : default_burst(spec.rate_bits);
  rtnl_qdisc_tbf_set_rate(q.p, static_cast<int>(spec.rate_bits / 8), static_cast<int>(burst), 0);
  // The queue holds what the rate drains in `latency`, plus the burst (tc's "latency").
  uint64_t limit = spec.rate_bits / 8 * spec.latency_us / 1'000'000 + burst;
  rtnl_qdisc_tbf_set_limit(q.p, static_cast<int>(std::min<uint64_t>(limit, INT32_MAX)));
  err = rtnl_qdisc_add(nl_->sock, q.p, NLM_F_CREATE | NLM_F_REPLACE);
  if (err < 0) fail(err, "setting the tbf qdisc", interface_);
}

void Shaper::set_port_shaping(const PortShapeSpec& spec) {
  validate(spec);
  constexpr uint32_t kMatchedClass = 0x00010010;  // "1:10"
  constexpr uint32_t kDefaultClass = 0x00010020;  // "1:20"
  // The kernel will not change an htb root into another htb setup in place, and the old
  // classes and filters must go anyway: start from the default.
  clear();
  NlPtr<rtnl_qdisc, rtnl_qdisc_put> q{rtnl_qdisc_alloc()};
  rtnl_tc_set_link(TC_CAST(q.p), nl_->link);
  rtnl_tc_set_parent(TC_CAST(q.p), TC_H_ROOT);
  rtnl_tc_set_handle(TC_CAST(q.p), kRootHandle);
  int err = rtnl_tc_set_kind(TC_CAST(q.p), "htb");
  if (err < 0) fail(err, "htb", interface_);
  // Without a default rate, unclassified traffic bypasses the classes (htb's direct queue),
  // so only the matched port is limited.
  rtnl_htb_set_defcls(q.p, spec.default_rate_bits ? kDefaultClass : 0);
  err = rtnl_qdisc_add(nl_->sock, q.p, NLM_F_CREATE | NLM_F_REPLACE);
  if (err < 0) fail(err, "setting the htb qdisc", interface_);

  auto add_class = [&](uint32_t classid, uint64_t rate_bits) {
    NlPtr<rtnl_class, rtnl_class_put> c{rtnl_class_alloc()};
    rtnl_tc_set_link(TC_CAST(c.p), nl_->link);
    rtnl_tc_set_parent(TC_CAST(c.p), kRootHandle);
    rtnl_tc_set_handle(TC_CAST(c.p), classid);
    int e = rtnl_tc_set_kind(TC_CAST(c.p), "htb");
    if (e < 0) fail(e, "htb class", interface_);
    auto bytes = static_cast<uint32_t>(rate_bits / 8);
    uint32_t burst = spec.burst ? spec.burst : default_burst(rate_bits);
    rtnl_htb_set_rate(c.p, bytes);
    rtnl_htb_set_ceil(c.p, bytes);
    rtnl_htb_set_rbuffer(c.p, burst);
    rtnl_htb_set_cbuffer(c.p, burst);
    e = rtnl_class_add(nl_->sock, c.p, NLM_F_CREATE);
    if (e < 0) fail(e, "adding an htb class", interface_);
  };
  add_class(kMatchedClass, spec.rate_bits);
  if (spec.default_rate_bits) add_class(kDefaultClass, spec.default_rate_bits);

  // One u32 filter per port and side. The offsets assume an IPv4 header without options
  // (20 bytes), as tc's "match ip sport/dport" does: source port at 20, destination at 22.
  for (uint16_t port : spec.ports) {
    for (int offset : {20, 22}) {
      NlPtr<rtnl_cls, rtnl_cls_put> f{rtnl_cls_alloc()};
      rtnl_tc_set_link(TC_CAST(f.p), nl_->link);
      rtnl_tc_set_parent(TC_CAST(f.p), kRootHandle);
      int e = rtnl_tc_set_kind(TC_CAST(f.p), "u32");
      if (e < 0) fail(e, "u32 filter", interface_);
      rtnl_cls_set_prio(f.p, 1);
      rtnl_cls_set_protocol(f.p, ETH_P_IP);
      if ((e = rtnl_u32_add_key_uint16(f.p, port, 0xffff, offset, 0)) < 0 ||
          (e = rtnl_u32_set_classid(f.p, kMatchedClass)) < 0 ||
          (e = rtnl_u32_set_cls_terminal(f.p)) < 0)
        fail(e, "u32 filter", interface_);
      e = rtnl_cls_add(nl_->sock, f.p, NLM_F_CREATE);
      if (e < 0) fail(e, "adding a u32 filter", interface_);
    }
  }
}

bool Shaper::clear() {
  NlPtr<rtnl_qdisc, rtnl_qdisc_put> q{rtnl_qdisc_alloc()};
  rtnl_tc_set_ifindex(TC_CAST(q.p), nl_->ifindex);
  rtnl_tc_set_parent(TC_CAST(q.p), TC_H_ROOT);
  int err = rtnl_qdisc_delete(nl_->sock, q.p);
  // The kernel answers ENOENT (or EINVAL for the default noqueue/pfifo) when no root qdisc of
  // ours is there: nothing to clear is not an error.
  if (err == -NLE_OBJ_NOTFOUND || err == -NLE_INVAL || err == -NLE_NOADDR) return false;
  if (err < 0) fail(err, "removing the root qdisc", interface_);
  return true;
}

std::vector<ShapeEntry> Shaper::show() {
  std::vector<ShapeEntry> out;
  NlPtr<nl_cache, nl_cache_free> qdiscs;
  int err = rtnl_qdisc_alloc_cache(nl_->sock, &qdiscs.p);
  if (err < 0) fail(err, "listing qdiscs", interface_);
  for (nl_object* o = nl_cache_get_first(qdiscs.p); o != nullptr; o = nl_cache_get_next(o)) {
    auto* q = reinterpret_cast<rtnl_qdisc*>(o);
    if (rtnl_tc_get_ifindex(TC_CAST(q)) != nl_->ifindex) continue;
    ShapeEntry e;
    e.type = "qdisc";
    const char* kind = rtnl_tc_get_kind(TC_CAST(q));
    e.kind = kind ? kind : "";
    e.handle = handle_text(rtnl_tc_get_handle(TC_CAST(q)));
    e.parent = handle_text(rtnl_tc_get_parent(TC_CAST(q)));
    if (e.kind == "tbf") {
      e.rate_bits = static_cast<uint64_t>(std::max(rtnl_qdisc_tbf_get_rate(q), 0)) * 8;
      e.burst = static_cast<uint32_t>(std::max(rtnl_qdisc_tbf_get_rate_bucket(q), 0));
      e.limit = static_cast<uint32_t>(std::max(rtnl_qdisc_tbf_get_limit(q), 0));
    }
    out.push_back(std::move(e));
  }
  NlPtr<nl_cache, nl_cache_free> classes;
  err = rtnl_class_alloc_cache(nl_->sock, nl_->ifindex, &classes.p);
  if (err < 0) fail(err, "listing classes", interface_);
  for (nl_object* o = nl_cache_get_first(classes.p); o != nullptr; o = nl_cache_get_next(o)) {
    auto* c = reinterpret_cast<rtnl_class*>(o);
    ShapeEntry e;
    e.type = "class";
    const char* kind = rtnl_tc_get_kind(TC_CAST(c));
    e.kind = kind ? kind : "";
    e.handle = handle_text(rtnl_tc_get_handle(TC_CAST(c)));
    e.parent = handle_text(rtnl_tc_get_parent(TC_CAST(c)));
    if (e.kind == "htb") {
      uint64_t rate = 0, ceil = 0;
      if (rtnl_htb_get_rate64(c, &rate) == 0) e.rate_bits = rate * 8;
      if (rtnl_htb_get_ceil64(c, &ceil) == 0) e.ceil_bits = ceil * 8;
      e.burst = rtnl_htb_get_rbuffer(c);
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace netres::capture
