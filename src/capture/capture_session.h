// CaptureSession: one run of `netres capture`: open the source, filter, drop privileges, then
// loop until the count, the duration, the end of the file or a signal, decoding and writing.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "capture/packet_text.h"
#include "capture/packet_view.h"
#include "capture/pcap_source.h"
#include "capture/pcap_writer.h"
#include "capture/write_queue.h"

namespace netres::capture {

struct CaptureOptions {
  std::string read_file;  // offline when set; else live on `live.interface`
  LiveOptions live;
  std::string filter;                   // tcpdump syntax; empty: everything
  uint64_t count = 0;                   // stop after this many packets; 0: no limit
  std::chrono::nanoseconds duration{};  // stop after this long; 0: no limit
  std::string drop_user;                // -Z
  // Writing (-w); empty path: no file.
  std::string write_path;
  uint64_t rotate_size = 0;
  std::chrono::nanoseconds rotate_interval{};
  bool packet_buffered = false;
  CaptureFileFormat write_format = CaptureFileFormat::kPcap;
  // Memory for packets waiting for the writer thread (live: when it is full, packets are dropped
  // and counted); 0: the default, 64 MiB or twice the kernel buffer if that is more.
  uint64_t write_queue_size = 0;
};

struct CaptureResult {
  uint64_t captured = 0;  // packets that passed the filter and were handled
  uint64_t written = 0;   // of those, packets in the -w files
  // Of those, packets the writer thread had no room for (live only; the disk was too slow).
  uint64_t dropped_write_queue = 0;
  std::vector<std::string> files;
  std::optional<PcapStats> stats;  // live only
  bool interrupted = false;        // SIGINT / SIGTERM ended the run
  // What ended the run early (a full disk, a corrupt file), so callers can print the counts
  // before reporting it; null when the run ended normally.
  std::exception_ptr error;
};

// Called for every packet when decoding is wanted; `view` is valid only during the call.
using PacketCallback = std::function<void(const PacketView& view, Timestamp ts)>;
// Called every tick interval during a run (live displays refresh from it).
using TickCallback = std::function<void()>;

class CaptureSession {
 public:
  // Opens everything. Throws UsageError / RuntimeError (see PcapSource, PcapWriter).
  explicit CaptureSession(CaptureOptions options);
  ~CaptureSession();

  const PcapSource& source() const { return source_; }

  // Runs the loop with SIGINT and SIGTERM handlers installed that stop it cleanly (the dump
  // file is flushed and closed); a second signal gets the default action. `on_packet` may be
  // empty when nothing is printed, and then packets are not decoded at all.
  CaptureResult run(const PacketCallback& on_packet);

  // Makes run() call `on_tick` every `interval` (> 0) from its loop, between dispatches, so
  // a tick is late by at most one dispatch slice (~100 ms).
  void set_tick(std::chrono::nanoseconds interval, TickCallback on_tick);

 private:
  CaptureOptions options_;
  PcapSource source_;
  std::unique_ptr<QueuedPcapWriter> writer_;
  std::chrono::nanoseconds tick_interval_{};
  TickCallback on_tick_;
};

}  // namespace netres::capture
