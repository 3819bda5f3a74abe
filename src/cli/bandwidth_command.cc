// netres bandwidth: flags -> CaptureOptions + FlowStatsOptions -> CaptureSession feeding
// FlowStats -> live top tables or snapshots while running, totals per key at the end.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "capture/capture_session.h"
#include "capture/flow_stats.h"
#include "cli/commands.h"
#include "common/duration.h"
#include "common/error.h"
#include "common/output.h"
#include "common/size.h"
#include "common/terminal.h"

namespace netres::cli {
namespace {

using capture::Aggregation;
using capture::FlowEntry;
using capture::FlowStats;

struct BandwidthFlags {
  std::string interface;
  std::string read_file;
  std::vector<std::string> filter_words;
  std::string by = "flow";
  size_t top = 10;
  bool top_given = false;  // offline runs show every row unless --top is given
  std::string interval = "1s";
  std::string duration;
  uint64_t count = 0;
  size_t max_flows = 100000;
  bool max_flows_given = false;  // files keep every row unless --max-flows is given
  bool no_promisc = false;
  std::string buffer_size;
  bool json = false;
};

constexpr int kWindows[] = {2, 10, 40};

std::string format_time(int64_t second) {
  std::time_t t = static_cast<std::time_t>(second);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// Endpoint A or B of a flow row as "addr:port" (ports only for TCP/UDP-like keys).
std::string endpoint_text(const FlowEntry& e, bool a) {
  bool lo = a == e.a_is_lo;
  std::string addr = capture::format_address(lo ? e.key.lo_addr : e.key.hi_addr, e.key.version);
  uint16_t port = lo ? e.key.lo_port : e.key.hi_port;
  bool ports = e.key.proto == 6 || e.key.proto == 17 || e.key.proto == 132;
  if (!ports) return addr;
  return e.key.version == 6 ? fmt::format("[{}]:{}", addr, port) : fmt::format("{}:{}", addr, port);
}

std::string key_text(Aggregation by, const FlowEntry& e) {
  switch (by) {
    case Aggregation::kFlow:
      return fmt::format("{} {} <=> {}", capture::protocol_name(e.key.proto),
                         endpoint_text(e, true), endpoint_text(e, false));
    case Aggregation::kHost:
      return capture::format_address(e.key.lo_addr, e.key.version);
    case Aggregation::kPort:
      return fmt::format("{}/{}", capture::protocol_name(e.key.proto), e.key.lo_port);
    case Aggregation::kProto:
      return capture::protocol_name(e.key.proto);
  }
  return "";
}

void add_key_json(nlohmann::json& j, Aggregation by, const FlowEntry& e) {
  const auto& k = e.key;
  switch (by) {
    case Aggregation::kFlow: {
      bool ports = k.proto == 6 || k.proto == 17 || k.proto == 132;
      const auto& a = e.a_is_lo ? k.lo_addr : k.hi_addr;
      const auto& b = e.a_is_lo ? k.hi_addr : k.lo_addr;
      j["proto"] = capture::protocol_name(k.proto);
      j["a"] = capture::format_address(a, k.version);
      j["b"] = capture::format_address(b, k.version);
      if (ports) {
        j["a_port"] = e.a_is_lo ? k.lo_port : k.hi_port;
        j["b_port"] = e.a_is_lo ? k.hi_port : k.lo_port;
      }
      break;
    }
    case Aggregation::kHost:
      j["host"] = capture::format_address(k.lo_addr, k.version);
      break;
    case Aggregation::kPort:
      j["proto"] = capture::protocol_name(k.proto);
      j["port"] = k.lo_port;
      break;
    case Aggregation::kProto:
      j["proto"] = capture::protocol_name(k.proto);
      break;
  }
}

// Direction names per view: a flow has A->B and B->A, an endpoint sent and received.
std::pair<const char*, const char*> direction_names(Aggregation by) {
  if (by == Aggregation::kFlow) return {"a_to_b", "b_to_a"};
  return {"sent", "received"};
}

nlohmann::json totals_json(Aggregation by, const FlowEntry& e) {
  nlohmann::json j;
  j["type"] = aggregation_name(by);
  add_key_json(j, by, e);
  if (by != Aggregation::kProto) {
    auto [d0, d1] = direction_names(by);
    j[fmt::format("packets_{}", d0)] = e.counters[0].packets;
    j[fmt::format("bytes_{}", d0)] = e.counters[0].bytes;
    j[fmt::format("packets_{}", d1)] = e.counters[1].packets;
    j[fmt::format("bytes_{}", d1)] = e.counters[1].bytes;
  }
  j["packets"] = e.total_packets();
  j["bytes"] = e.total_bytes();
  j["first"] = e.first_second;
  j["last"] = e.last_second;
  j["peak_second"] = e.peak_second;
  j["peak_bytes"] = e.peak_bytes;
  return j;
}

// What evicted rows had counted, as one row, so the rows plus it add up to the totals.
nlohmann::json other_json(Aggregation by, const capture::FlowTable& table) {
  const auto& ev = table.evicted();
  nlohmann::json j = {{"type", "other"},
                      {"by", aggregation_name(by)},
                      {"reason", "evicted"},
                      {"entries", table.evictions()}};
  if (by == Aggregation::kHost || by == Aggregation::kPort) {
    j["packets_sent"] = ev[0].packets;
    j["bytes_sent"] = ev[0].bytes;
    j["packets_received"] = ev[1].packets;
    j["bytes_received"] = ev[1].bytes;
  }
  j["packets"] = ev[0].packets + ev[1].packets;
  j["bytes"] = ev[0].bytes + ev[1].bytes;
  return j;
}

void print_totals(const FlowStats& stats, bool json, size_t limit) {
  const Aggregation by = stats.by();
  const auto& t = stats.totals();
  const auto& ev = stats.table().evicted();
  const bool evicted = stats.table().evictions() > 0;
  auto rows = stats.top(limit);
  if (json) {
    NdjsonWriter out(stdout);
    for (const FlowEntry* e : rows) out.write(totals_json(by, *e));
    if (evicted) out.write(other_json(by, stats.table()));
    out.write({{"type", "summary"},
               {"by", aggregation_name(by)},
               {"packets", t.packets},
               {"bytes", t.bytes},
               {"non_ip_packets", t.non_ip_packets},
               {"non_ip_bytes", t.non_ip_bytes},
               {"rows", stats.table().size()},
               {"evicted", stats.table().evictions()},
               {"first", t.first_second},
               {"last", t.last_second},
               {"peak_second", t.peak_second},
               {"peak_bytes", t.peak_bytes}});
    out.flush();
    return;
  }
  std::vector<Table::Column> cols = {{aggregation_name(by)}};
  if (by == Aggregation::kFlow) {
    cols.insert(cols.end(),
                {{"pkts A>B", true}, {"bytes A>B", true}, {"pkts B>A", true}, {"bytes B>A", true}});
  } else if (by != Aggregation::kProto) {
    cols.insert(cols.end(),
                {{"pkts out", true}, {"bytes out", true}, {"pkts in", true}, {"bytes in", true}});
  }
  cols.insert(cols.end(), {{"packets", true}, {"bytes", true}, {"peak/s", true}, {"peak at"}});
  Table table(cols);
  for (const FlowEntry* e : rows) {
    std::vector<std::string> cells = {key_text(by, *e)};
    if (by != Aggregation::kProto) {
      cells.push_back(std::to_string(e->counters[0].packets));
      cells.push_back(std::to_string(e->counters[0].bytes));
      cells.push_back(std::to_string(e->counters[1].packets));
      cells.push_back(std::to_string(e->counters[1].bytes));
    }
    cells.push_back(std::to_string(e->total_packets()));
    cells.push_back(std::to_string(e->total_bytes()));
    cells.push_back(format_bits(static_cast<double>(e->peak_bytes) * 8));
    cells.push_back(format_time(e->peak_second));
    table.add_row(std::move(cells));
  }
  if (evicted) {
    // Flow directions (A>B) do not sum across different flows; sent/received do.
    std::vector<std::string> cells = {
        fmt::format("other / evicted ({} {}s)", stats.table().evictions(), aggregation_name(by))};
    if (by != Aggregation::kProto) {
      bool sums = by != Aggregation::kFlow;
      cells.push_back(sums ? std::to_string(ev[0].packets) : "-");
      cells.push_back(sums ? std::to_string(ev[0].bytes) : "-");
      cells.push_back(sums ? std::to_string(ev[1].packets) : "-");
      cells.push_back(sums ? std::to_string(ev[1].bytes) : "-");
    }
    cells.push_back(std::to_string(ev[0].packets + ev[1].packets));
    cells.push_back(std::to_string(ev[0].bytes + ev[1].bytes));
    cells.push_back("-");
    cells.push_back("-");
    table.add_row(std::move(cells));
  }
  table.print(stdout);
  fmt::print("\n{} packets, {} bytes ({}), {} {}s{}{}\n", t.packets, t.bytes, format_bytes(t.bytes),
             stats.table().size(), aggregation_name(by),
             t.non_ip_packets
                 ? fmt::format(", {} non-IP packets ({} bytes)", t.non_ip_packets, t.non_ip_bytes)
                 : "",
             evicted ? fmt::format(", {} evicted (--max-flows {})", stats.table().evictions(),
                                   stats.table().capacity())
                     : "");
  if (t.packets > 0) {
    fmt::print("busiest second: {} with {} bytes ({})\n", format_time(t.peak_second), t.peak_bytes,
               format_bits(static_cast<double>(t.peak_bytes) * 8) + "/s");
  }
  std::fflush(stdout);
}

// Rate over `window` seconds before `now`, in bits per second; a run younger than the window
// divides by its age so the first seconds do not read low.
double rate_bits(const capture::RateHistory& h, int64_t now, int window, int64_t started) {
  int span = static_cast<int>(std::clamp<int64_t>(now - started, 1, window));
  return static_cast<double>(h.sum(now, window)) * 8 / span;
}

void print_live(const FlowStats& stats, size_t limit, int64_t now, int64_t started, bool json,
                bool terminal) {
  const Aggregation by = stats.by();
  auto rows = stats.top(limit, now, 2);
  if (json) {
    nlohmann::json snap = {{"type", "snapshot"},
                           {"by", aggregation_name(by)},
                           {"time", now},
                           {"packets", stats.totals().packets},
                           {"bytes", stats.totals().bytes},
                           {"rows", nlohmann::json::array()}};
    auto [d0, d1] = direction_names(by);
    for (const FlowEntry* e : rows) {
      const capture::FlowTable::History& hist = *stats.table().history(*e);  // live: kept
      nlohmann::json r;
      add_key_json(r, by, *e);
      for (int w : kWindows) {
        if (by == Aggregation::kProto) {
          r[fmt::format("bps_{}s", w)] =
              rate_bits(hist[0], now, w, started) + rate_bits(hist[1], now, w, started);
        } else {
          r[fmt::format("bps_{}s_{}", w, d0)] = rate_bits(hist[0], now, w, started);
          r[fmt::format("bps_{}s_{}", w, d1)] = rate_bits(hist[1], now, w, started);
        }
      }
      r["packets"] = e->total_packets();
      r["bytes"] = e->total_bytes();
      snap["rows"].push_back(std::move(r));
    }
    NdjsonWriter(stdout).write(snap);
    std::fflush(stdout);
    return;
  }
  std::vector<Table::Column> cols = {{aggregation_name(by)}};
  if (by != Aggregation::kProto) cols.push_back({"dir"});
  cols.insert(cols.end(), {{"2s", true}, {"10s", true}, {"40s", true}, {"total", true}});
  Table table(cols);
  auto [d0, d1] = by == Aggregation::kFlow ? std::pair{"=>", "<="} : std::pair{"out", "in"};
  for (const FlowEntry* e : rows) {
    const capture::FlowTable::History& hist = *stats.table().history(*e);  // live: kept
    for (int d = 0; d < (by == Aggregation::kProto ? 1 : 2); ++d) {
      std::vector<std::string> cells = {d == 0 ? key_text(by, *e) : ""};
      if (by != Aggregation::kProto) cells.push_back(d == 0 ? d0 : d1);
      for (int w : kWindows) {
        double bits = rate_bits(hist[d], now, w, started);
        if (by == Aggregation::kProto) bits += rate_bits(hist[1], now, w, started);
        cells.push_back(format_bits(bits));
      }
      cells.push_back(format_bytes(by == Aggregation::kProto
                                       ? e->total_bytes()
                                       : e->counters[static_cast<size_t>(d)].bytes));
      table.add_row(std::move(cells));
    }
  }
  // Home and clear, so the table redraws in place like iftop.
  if (terminal)
    std::fputs("\033[H\033[2J", stdout);
  else
    fmt::print("{}\n", format_time(now));
  table.print(stdout);
  const auto& t = stats.totals();
  fmt::print("total: {} packets, {}, {} {}s\n", t.packets, format_bytes(t.bytes),
             stats.table().size(), aggregation_name(by));
  if (!terminal) std::fputc('\n', stdout);
  std::fflush(stdout);
}

Aggregation parse_by(const std::string& by) {
  if (by == "flow") return Aggregation::kFlow;
  if (by == "host") return Aggregation::kHost;
  if (by == "port") return Aggregation::kPort;
  if (by == "proto") return Aggregation::kProto;
  throw UsageError(fmt::format("--by: unknown view '{}': use flow, host, port or proto", by));
}

int run_bandwidth(const BandwidthFlags& f) {
  capture::CaptureOptions o;
  if (!f.read_file.empty() && !f.interface.empty())
    throw UsageError("-r and -i exclude each other: read a file or capture live");
  o.read_file = f.read_file;
  o.live.interface = f.interface;
  o.live.promiscuous = !f.no_promisc;
  // Only headers matter here; a short snaplen keeps the kernel buffer for more packets.
  o.live.snaplen = 256;
  if (!f.buffer_size.empty()) o.live.buffer_size = parse_size(f.buffer_size, "-B");
  for (const auto& word : f.filter_words) o.filter += (o.filter.empty() ? "" : " ") + word;
  o.count = f.count;
  if (!f.duration.empty()) o.duration = parse_duration(f.duration, "--duration");
  capture::FlowStatsOptions so;
  so.by = parse_by(f.by);
  if (f.max_flows < 1 || f.max_flows > 100'000'000)
    throw UsageError("--max-flows must be 1-100000000");
  if (f.top < 1) throw UsageError("--top must be at least 1");
  Nanos interval = parse_duration(f.interval, "--interval");
  if (interval < std::chrono::milliseconds(100))
    throw UsageError("--interval must be at least 100ms");
  const bool live = f.read_file.empty();
  so.keep_history = live;
  // A live capture is endless, so its table is bounded; a file is finite, and every flow in it
  // gets its row (about 150 bytes each) unless the user asks for a bound.
  so.max_entries = live || f.max_flows_given ? f.max_flows : capture::FlowTable::kUnbounded;

  capture::CaptureSession session(o);
  FlowStats stats(so);
  const auto& source = session.source();
  if (live) {
    fmt::print(stderr, "listening on {}, link-type {}\n", source.name(),
               source.linktype_description());
    std::fflush(stderr);
  }
  auto wall_second = [] {
    return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count());
  };
  const int64_t started = wall_second();
  const bool terminal = stdout_is_terminal() && !f.json;
  if (live) {
    session.set_tick(terminal ? std::chrono::seconds(1) : interval,
                     [&] { print_live(stats, f.top, wall_second(), started, f.json, terminal); });
  }
  capture::CaptureResult result = session.run(
      [&](const capture::PacketView& view, capture::Timestamp ts) { stats.add(view, ts.seconds); });
  if (live && terminal) std::fputs("\033[H\033[2J", stdout);
  print_totals(stats, f.json, live || f.top_given ? f.top : 0);
  if (stats.table().evictions() > 0) {
    warn("bandwidth",
         fmt::format("{} {}s evicted from the full table (--max-flows {}); their "
                     "packets are in the 'other / evicted' row",
                     stats.table().evictions(), aggregation_name(stats.by()), f.max_flows));
  }
  if (result.stats && result.stats->dropped_kernel > 0) {
    warn("bandwidth", fmt::format("{} packets dropped by kernel", result.stats->dropped_kernel));
  }
  if (result.error) std::rethrow_exception(result.error);
  return kExitOk;
}

}  // namespace

void add_bandwidth_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<BandwidthFlags>();
  auto* sub = app.add_subcommand(
      "bandwidth",
      "Bytes and packets per flow, host, port or protocol, live (top table, rates over 2/10/40 "
      "s) or from a pcap file (totals, busiest second). A trailing tcpdump-syntax filter selects "
      "packets.");
  sub->add_option("-i,--interface", flags->interface,
                  "interface to capture on (default: the first up, non-loopback one; 'any')");
  sub->add_option("-r,--read", flags->read_file, "read packets from a pcap or pcapng file");
  sub->add_option("--by", flags->by, "rows per flow (default), host, port or proto");
  auto* top = sub->add_option("--top", flags->top,
                              "rows shown, busiest first (live default 10; offline default all)");
  sub->add_option("--interval", flags->interval,
                  "live, not on a terminal or --json: print a snapshot this often (default 1s)");
  sub->add_option("--duration", flags->duration, "stop after this long, e.g. 30s");
  sub->add_option("-c,--count", flags->count, "stop after this many packets");
  auto* max_flows = sub->add_option(
      "--max-flows", flags->max_flows,
      "rows kept at most; when full the least recently seen is evicted into one 'other' row "
      "(live default 100000; files: no bound unless given)");
  sub->add_flag("-p,--no-promisc", flags->no_promisc,
                "do not put the interface in promiscuous mode");
  sub->add_option("-B,--buffer-size", flags->buffer_size, "kernel capture buffer, e.g. 4M");
  sub->add_flag("--json", flags->json, "NDJSON output (see docs/bandwidth.md)");
  sub->add_option("filter", flags->filter_words,
                  "filter expression in tcpdump (pcap-filter) syntax");
  sub->final_callback([&action, flags, top, max_flows] {
    flags->top_given = top->count() > 0;
    flags->max_flows_given = max_flows->count() > 0;
    action = [flags] { return run_bandwidth(*flags); };
  });
}

}  // namespace netres::cli
