// What capture and bandwidth decide before opening a device or file: their flags' texts checked
// and turned into CaptureOptions (and, for bandwidth, FlowStatsOptions). Both verbs read packets
// the same way, so the source flags (-i, -r, -c, --duration, -p, -B and the filter) are one
// struct with one set of checks. Kept out of the CLI so each rule has a unit test.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "capture/capture_session.h"
#include "capture/flow_stats.h"
#include "common/duration.h"
#include "common/shard.h"

namespace netres::capture {

// Where packets come from and when to stop, as given on the command line.
struct SourceFlags {
  std::string interface;
  std::string read_file;
  std::vector<std::string> read_files;    // bandwidth: -r given once or more (read in order)
  std::vector<std::string> filter_words;  // joined with spaces into one tcpdump expression
  uint64_t count = 0;
  std::string duration;
  bool no_promisc = false;
  std::string buffer_size;
};

// Sets o's source: read_file or live interface (-r and -i exclude each other), filter, count,
// duration, promiscuous mode and kernel buffer. Throws UsageError naming the flag.
void apply_source_flags(const SourceFlags& f, CaptureOptions& o);

struct CaptureFlags {
  SourceFlags source;
  int snaplen = 0;  // 0: 262144
  bool immediate = false;
  std::string write_file;
  std::string file_size;
  std::string rotate;
  bool packet_buffered = false;
  bool pcapng = false;
  std::string write_queue;
  bool print = false;
  bool json = false;
  bool hex = false;
  bool no_time = false;
  std::string user;
};

// The capture verb's options: the source, then -s (0-262144), -Z and the -w file with its
// rotation (-C at least 1k, -G), format (--pcapng or the file's name) and --write-queue (at
// least 2M); the writing flags need -w. Throws UsageError.
CaptureOptions options_for(const CaptureFlags& f);

// Packets are printed unless they only go to a -w file (--print, --json and -x print too).
bool prints_packets(const CaptureFlags& f);

struct BandwidthFlags {
  SourceFlags source;
  std::string by = "flow";
  size_t top = 10;
  bool top_given = false;  // offline runs show every row unless --top is given
  std::string interval = "1s";
  size_t max_flows = 100000;
  bool max_flows_given = false;  // files keep every row unless --max-flows is given
  bool json = false;
  std::string shard;    // --shard K/N: the K-th of N contiguous shares of the -r files
  std::string results;  // --results FILE
};

// --by: flow, host, port or proto. Throws UsageError.
Aggregation parse_aggregation(const std::string& by);

struct BandwidthSetup {
  CaptureOptions capture;
  FlowStatsOptions stats;
  Nanos interval{0};  // live snapshots off a terminal, at least 100ms
  bool live = false;
  size_t top = 0;  // rows in the totals: live or --top given: --top; a file: 0 (all)
  std::vector<std::string> all_files;  // every -r file, as given
  std::vector<std::string> files;      // the ones this run reads: its shard's share, in order
  Shard shard;
};

// The bandwidth verb's options: the source with a 256-byte snaplen (only headers matter, and a
// short one leaves the kernel buffer room for more packets), --by, --max-flows (1-100000000),
// --top (at least 1) and --interval. Live runs keep rate history and a bounded table; a file
// keeps every row unless --max-flows is given. Several -r files are read one after the other into
// one table; --shard K/N reads the K-th of N contiguous shares of them (files only), --results
// keeps per-second bins. Throws UsageError.
BandwidthSetup setup_for(const BandwidthFlags& f);

}  // namespace netres::capture
