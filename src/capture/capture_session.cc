// The capture loop: pcap_dispatch in slices short enough to check the clock, signal handlers that
// only call pcap_breakloop, and errors carried out of libpcap's C callback as exception_ptr.
#include "capture/capture_session.h"

#include <pcap/pcap.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <exception>

#include "capture/privileges.h"
#include "common/error.h"

namespace netres::capture {
namespace {

std::atomic<pcap_t*> g_active_handle{nullptr};
volatile sig_atomic_t g_stop_requested = 0;

extern "C" void on_stop_signal(int) {
  g_stop_requested = 1;
  pcap_t* p = g_active_handle.load();
  if (p != nullptr) pcap_breakloop(p);
}

// Installs the handlers for the lifetime of a run and restores the previous ones after.
class StopSignals {
 public:
  StopSignals() {
    g_stop_requested = 0;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;  // a second Ctrl-C kills, in case something hangs
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

// With whole 64 kB segments at ~1 GB/s, libpcap's default 2 MiB ring holds 2 ms: the capture
// thread must run as soon as a block is ready, ahead of the writer thread (and anything else on
// its CPU). Linux 6.12+ (EEVDF) lets a task ask for a short time slice, which makes it preempt
// the running task when it wakes, and needs no privilege; older kernels ignore the field. Best
// effort: the policy and nice value stay as they were.
struct SchedAttr {  // linux/sched/types.h's sched_attr, which clashes with glibc's sched.h
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
};

void ask_for_short_slice() {
  if (sched_getscheduler(0) != SCHED_OTHER) return;  // someone chose a policy: leave it
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
  if (errno != 0) return;
  SchedAttr attr{};
  attr.size = sizeof attr;
  attr.sched_policy = SCHED_OTHER;
  attr.sched_nice = nice;
  attr.sched_runtime = 100'000;  // 0.1 ms, the shortest slice the kernel accepts
  if (::syscall(SYS_sched_setattr, 0, &attr, 0) != 0) {
    // Not allowed or not known here: the capture works the same, only wakes up later.
  }
}

class SessionHandler : public PacketHandler {
 public:
  SessionHandler(const PcapSource& source, QueuedPcapWriter* writer,
                 const PacketCallback& on_packet)
      : source_(source), writer_(writer), on_packet_(on_packet), linktype_(source.linktype()) {}

  void on_packet(const pcap_pkthdr& h, const uint8_t* bytes) override {
    if (error_) return;
    ++captured_;
    Timestamp ts{static_cast<int64_t>(h.ts.tv_sec), static_cast<uint32_t>(h.ts.tv_usec)};
    try {
      if (writer_ != nullptr) writer_->write(ts, h.len, bytes, h.caplen);
      if (on_packet_) {
        decode_packet(linktype_, {bytes, h.caplen}, h.len, view_);
        on_packet_(view_, ts);
      }
    } catch (...) {
      // Exceptions must not unwind through libpcap's C frames: stop and rethrow after.
      error_ = std::current_exception();
      const_cast<PcapSource&>(source_).break_loop();
    }
  }

  uint64_t captured_ = 0;
  std::exception_ptr error_;

 private:
  const PcapSource& source_;
  QueuedPcapWriter* writer_;
  const PacketCallback& on_packet_;
  int linktype_;
  PacketView view_;
};

}  // namespace

CaptureSession::CaptureSession(CaptureOptions options)
    : options_(std::move(options)),
      source_(options_.read_file.empty() ? PcapSource::open_live(options_.live)
                                         : PcapSource::open_file(options_.read_file)) {
  // Live, even an empty filter is installed (as tcpdump does): it compiles to "ret #snaplen", and
  // that is what makes the kernel copy only snaplen bytes into the ring. Without it every packet
  // is copied whole (64k for a GSO segment) and libpcap cuts it afterwards: a ring of 2M then
  // holds ~30 packets instead of ~12,000 at -s 96.
  if (!options_.filter.empty() || source_.is_live()) source_.set_filter(options_.filter);
  // As tcpdump: the device is open, so root is no longer needed, not even for the dump file.
  if (!options_.drop_user.empty()) drop_privileges(options_.drop_user);
  if (!options_.write_path.empty()) {
    PcapWriterOptions w;
    w.path = options_.write_path;
    w.linktype = source_.linktype();
    w.snaplen = source_.snaplen();
    w.rotate_size = options_.rotate_size;
    w.rotate_interval = options_.rotate_interval;
    w.packet_buffered = options_.packet_buffered;
    w.format = options_.write_format;
    if (source_.is_live()) w.interface_name = source_.name();
    WriteQueueOptions q;
    uint64_t queue = options_.write_queue_size;
    if (queue == 0) {
      // libpcap's default kernel buffer is 2 MiB.
      const uint64_t ring = options_.live.buffer_size > 0 ? options_.live.buffer_size : 2 << 20;
      queue = std::max<uint64_t>(64 << 20, 2 * ring);
    }
    q.max_buffers = std::max<uint64_t>(2, queue / q.buffer_size);
    // Reading a file, waiting for the disk loses nothing: never drop.
    q.lossless = !source_.is_live();
    writer_ = std::make_unique<QueuedPcapWriter>(w, q);
  }
}

CaptureSession::~CaptureSession() = default;

void CaptureSession::set_tick(std::chrono::nanoseconds interval, TickCallback on_tick) {
  tick_interval_ = interval;
  on_tick_ = std::move(on_tick);
}

CaptureResult CaptureSession::run(const PacketCallback& on_packet) {
  using Clock = std::chrono::steady_clock;
  StopSignals signals;
  g_active_handle.store(source_.handle());
  struct ClearHandle {
    ~ClearHandle() { g_active_handle.store(nullptr); }
  } clear_handle;

  if (source_.is_live()) ask_for_short_slice();
  SessionHandler handler(source_, writer_.get(), on_packet);
  CaptureResult result;
  const auto start = Clock::now();
  auto last_flush = start;
  const bool timed = options_.duration.count() > 0;
  const bool ticking = on_tick_ && tick_interval_.count() > 0;
  auto next_tick = start + tick_interval_;

  while (!g_stop_requested) {
    int want = -1;
    if (options_.count > 0) {
      if (handler.captured_ >= options_.count) break;
      uint64_t left = options_.count - handler.captured_;
      want = left > 1'000'000 ? 1'000'000 : static_cast<int>(left);
    }
    if (timed && Clock::now() - start >= options_.duration) break;
    try {
      if (source_.dispatch(want, handler) == 0 && source_.is_live()) {
        int wait_ms = 100;
        if (timed) {
          auto left = std::chrono::duration_cast<std::chrono::milliseconds>(options_.duration -
                                                                            (Clock::now() - start));
          wait_ms = static_cast<int>(std::clamp<int64_t>(left.count() + 1, 0, 100));
        }
        source_.wait(wait_ms);
      }
    } catch (...) {
      handler.error_ = std::current_exception();
    }
    if (writer_ && !handler.error_) {
      try {
        // -U: what this batch captured goes to the writer thread now, to be flushed.
        if (options_.packet_buffered) writer_->submit();
        writer_->check();  // a full disk stops the capture even when no packet comes
      } catch (...) {
        handler.error_ = std::current_exception();
      }
    }
    if (handler.error_) break;
    if (!source_.is_live() && source_.at_end()) break;
    if (ticking && Clock::now() >= next_tick) {
      // A slow tick (a blocked terminal) skips missed ticks rather than bursting them.
      while (next_tick <= Clock::now()) next_tick += tick_interval_;
      try {
        on_tick_();
      } catch (...) {
        handler.error_ = std::current_exception();
        break;
      }
    }
    // Once a second, live, what is buffered goes to the writer thread, which flushes it once it
    // has caught up: on a quiet link the file is at most a second behind.
    if (writer_ && source_.is_live() && Clock::now() - last_flush >= std::chrono::seconds(1)) {
      writer_->submit();
      last_flush = Clock::now();
    }
  }
  result.interrupted = g_stop_requested != 0;
  result.captured = handler.captured_;
  result.stats = source_.stats();
  std::exception_ptr error = handler.error_;
  if (writer_) {
    try {
      writer_->close();
    } catch (...) {
      if (!error) error = std::current_exception();
    }
    result.written = writer_->packets_written();
    result.dropped_write_queue = writer_->dropped();
    result.files = writer_->files();
  }
  result.error = error;
  return result;
}

}  // namespace netres::capture
