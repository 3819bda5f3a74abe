// Banner grabbing on open ports: wait for services that speak first (SSH, SMTP, FTP), send an
// HTTP probe to web ports at once and to silent ports halfway through the wait.
#include <fmt/format.h>
#include <sys/socket.h>

#include <string_view>

#include "common/error.h"
#include "scan/scan_worker.h"

namespace netres::scan {
namespace {

constexpr size_t kBannerBytes = 512;
constexpr std::string_view kHttpProbe = "HEAD / HTTP/1.0\r\n\r\n";

bool speaks_http_first(uint16_t port) {
  switch (port) {
    case 80:
    case 81:
    case 591:
    case 3000:
    case 5000:
    case 8000:
    case 8008:
    case 8080:
    case 8081:
    case 8088:
    case 8888:
    case 9000:
    case 9090:
      return true;
    default:
      return false;
  }
}

}  // namespace

void Worker::start_banner(uint32_t idx) {
  Slot& s = slots_[idx];
  if (s.fd >= 0) {
    asio::error_code ec;
    s.socket.assign(socket_protocol(s.fd_family), s.fd, ec);
    if (ec) throw RuntimeError(fmt::format("cannot watch a socket: {}", ec.message()));
    s.fd = -1;
  }
  s.phase = Phase::kBanner;
  s.probe_sent = false;
  if (!s.buffer) s.buffer = std::make_unique<char[]>(kBannerBytes);
  uint16_t port = shared_.space.port_of(s.pair);
  // SSH, SMTP, FTP and friends speak first; web servers wait for a request.
  if (speaks_http_first(port)) send_probe(s);
  uint32_t gen = s.generation;
  s.socket.async_read_some(asio::buffer(s.buffer.get(), kBannerBytes),
                           [this, idx, gen](const asio::error_code& e, size_t n) {
                             on_banner(idx, gen, e, n);
                             fill();
                           });
  Nanos wait = s.probe_sent ? options_.banner_timeout : options_.banner_timeout / 2;
  banner_deadlines_.push_back({idx, gen, Clock::now() + wait});
}

void Worker::send_probe(Slot& s) {
  // Tiny, on a fresh connection: the send buffer always has room, so this never blocks.
  // MSG_NOSIGNAL: a peer that already reset must not raise SIGPIPE.
  ::send(s.socket.native_handle(), kHttpProbe.data(), kHttpProbe.size(), MSG_NOSIGNAL);
  s.probe_sent = true;
}

void Worker::on_banner(uint32_t idx, uint32_t gen, const asio::error_code& ec, size_t n) {
  Slot& s = slots_[idx];
  if (s.generation != gen || s.phase != Phase::kBanner) return;
  if (ec == asio::error::operation_aborted) return;
  std::string banner = ec ? std::string() : std::string(s.buffer.get(), n);
  finish(idx, PortState::kOpen, Reason::kSynAck, s.rtt, std::move(banner));
}

void Worker::expire_banners(Clock::time_point now) {
  for (size_t i = 0; i < banner_deadlines_.size();) {
    Deadline d = banner_deadlines_[i];
    Slot& s = slots_[d.slot];
    bool live = s.generation == d.generation && s.phase == Phase::kBanner;
    if (live && d.at > now) {
      ++i;
      continue;
    }
    banner_deadlines_[i] = banner_deadlines_.back();
    banner_deadlines_.pop_back();
    if (!live) continue;
    if (!s.probe_sent) {
      // Silent so far: maybe it is a web server on an unusual port.
      send_probe(s);
      banner_deadlines_.push_back({d.slot, d.generation, now + options_.banner_timeout / 2});
    } else {
      finish(d.slot, PortState::kOpen, Reason::kSynAck, s.rtt);
    }
  }
}

}  // namespace netres::scan
