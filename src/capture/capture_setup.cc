#include "capture/capture_setup.h"

#include <fmt/format.h>

#include <chrono>

#include "capture/pcap_writer.h"
#include "common/error.h"
#include "common/option_check.h"
#include "common/size.h"

namespace netres::capture {

void apply_source_flags(const SourceFlags& f, CaptureOptions& o) {
  if (!f.read_file.empty() && !f.interface.empty())
    throw UsageError("-r and -i exclude each other: read a file or capture live");
  o.read_file = f.read_file;
  o.live.interface = f.interface;
  for (const auto& word : f.filter_words) o.filter += (o.filter.empty() ? "" : " ") + word;
  o.count = f.count;
  if (!f.duration.empty()) o.duration = parse_duration(f.duration, "--duration");
  o.live.promiscuous = !f.no_promisc;
  if (!f.buffer_size.empty()) o.live.buffer_size = parse_size(f.buffer_size, "-B");
}

CaptureOptions options_for(const CaptureFlags& f) {
  CaptureOptions o;
  apply_source_flags(f.source, o);
  if (f.snaplen < 0 || f.snaplen > 262144) throw UsageError("-s: snaplen must be 0-262144");
  o.live.snaplen = f.snaplen == 0 ? 262144 : f.snaplen;
  o.live.immediate = f.immediate;
  o.drop_user = f.user;
  o.write_path = f.write_file;
  if ((!f.file_size.empty() || !f.rotate.empty()) && f.write_file.empty())
    throw UsageError("-C and -G rotate the -w file: give -w too");
  if (!f.file_size.empty()) {
    o.rotate_size = parse_size(f.file_size, "-C");
    if (o.rotate_size < 1024) throw UsageError("-C: files must be at least 1k");
  }
  if (!f.rotate.empty()) o.rotate_interval = parse_duration(f.rotate, "-G");
  o.packet_buffered = f.packet_buffered;
  if (f.pcapng && f.write_file.empty())
    throw UsageError("--pcapng is a format for -w: give -w too");
  if (!f.write_queue.empty()) {
    if (f.write_file.empty()) throw UsageError("--write-queue is memory for -w: give -w too");
    o.write_queue_size = parse_size(f.write_queue, "--write-queue");
    if (o.write_queue_size < (2u << 20)) throw UsageError("--write-queue: at least 2M");
  }
  o.write_format =
      f.pcapng ? CaptureFileFormat::kPcapng : PcapWriter::format_for_path(f.write_file);
  return o;
}

bool prints_packets(const CaptureFlags& f) {
  return f.write_file.empty() || f.print || f.json || f.hex;
}

Aggregation parse_aggregation(const std::string& by) {
  if (by == "flow") return Aggregation::kFlow;
  if (by == "host") return Aggregation::kHost;
  if (by == "port") return Aggregation::kPort;
  if (by == "proto") return Aggregation::kProto;
  throw UsageError(fmt::format("--by: unknown view '{}': use flow, host, port or proto", by));
}

BandwidthSetup setup_for(const BandwidthFlags& f) {
  BandwidthSetup s;
  SourceFlags source = f.source;
  s.all_files = source.read_files;
  if (s.all_files.empty() && !source.read_file.empty()) s.all_files = {source.read_file};
  if (!s.all_files.empty()) source.read_file = s.all_files.front();  // for the -r/-i check
  apply_source_flags(source, s.capture);
  s.capture.live.snaplen = 256;
  s.stats.by = parse_aggregation(f.by);
  require_in_range(f.max_flows, "--max-flows", 1, 100'000'000);
  require_at_least(f.top, "--top", 1);
  s.interval = parse_duration(f.interval, "--interval");
  if (s.interval < std::chrono::milliseconds(100))
    throw UsageError("--interval must be at least 100ms");
  s.live = s.all_files.empty();
  s.stats.keep_history = s.live;
  // A live capture is endless, so its table is bounded; a file is finite, and every flow in it
  // gets its row (about 150 bytes each) unless the user asks for a bound.
  s.stats.max_entries = s.live || f.max_flows_given ? f.max_flows : FlowTable::kUnbounded;
  s.top = s.live || f.top_given ? f.top : 0;
  if (!f.shard.empty()) {
    s.shard = parse_shard(f.shard, "--shard");
    if (s.live) throw UsageError("--shard takes a share of the -r files: give -r FILE...");
  }
  // Contiguous shares keep each file's packets, and the files' order, in one shard.
  auto begin = static_cast<ptrdiff_t>(s.shard.begin_of(s.all_files.size()));
  auto size = static_cast<ptrdiff_t>(s.shard.portion(s.all_files.size()));
  s.files.assign(s.all_files.begin() + begin, s.all_files.begin() + begin + size);
  s.stats.keep_bins = !f.results.empty();
  return s;
}

}  // namespace netres::capture
