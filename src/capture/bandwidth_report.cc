#include "capture/bandwidth_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <utility>
#include <vector>

#include "common/output.h"
#include "common/size.h"

namespace netres::capture {
namespace {

// Endpoint A or B of a flow row as "addr:port" (ports only for TCP/UDP-like keys).
std::string endpoint_text(const FlowEntry& e, bool a) {
  bool lo = a == e.a_is_lo;
  std::string addr = format_address(lo ? e.key.lo_addr : e.key.hi_addr, e.key.version);
  uint16_t port = lo ? e.key.lo_port : e.key.hi_port;
  bool ports = e.key.proto == 6 || e.key.proto == 17 || e.key.proto == 132;
  if (!ports) return addr;
  return e.key.version == 6 ? fmt::format("[{}]:{}", addr, port) : fmt::format("{}:{}", addr, port);
}

// Direction names per view: a flow has A->B and B->A, an endpoint sent and received.
std::pair<const char*, const char*> direction_names(Aggregation by) {
  if (by == Aggregation::kFlow) return {"a_to_b", "b_to_a"};
  return {"sent", "received"};
}

}  // namespace

std::string format_utc_second(int64_t second) {
  std::time_t t = static_cast<std::time_t>(second);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string key_text(Aggregation by, const FlowEntry& e) {
  switch (by) {
    case Aggregation::kFlow:
      return fmt::format("{} {} <=> {}", protocol_name(e.key.proto), endpoint_text(e, true),
                         endpoint_text(e, false));
    case Aggregation::kHost:
      return format_address(e.key.lo_addr, e.key.version);
    case Aggregation::kPort:
      return fmt::format("{}/{}", protocol_name(e.key.proto), e.key.lo_port);
    case Aggregation::kProto:
      return protocol_name(e.key.proto);
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
      j["proto"] = protocol_name(k.proto);
      j["a"] = format_address(a, k.version);
      j["b"] = format_address(b, k.version);
      if (ports) {
        j["a_port"] = e.a_is_lo ? k.lo_port : k.hi_port;
        j["b_port"] = e.a_is_lo ? k.hi_port : k.lo_port;
      }
      break;
    }
    case Aggregation::kHost:
      j["host"] = format_address(k.lo_addr, k.version);
      break;
    case Aggregation::kPort:
      j["proto"] = protocol_name(k.proto);
      j["port"] = k.lo_port;
      break;
    case Aggregation::kProto:
      j["proto"] = protocol_name(k.proto);
      break;
  }
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
nlohmann::json other_json(Aggregation by, const FlowTable& table) {
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

void print_totals(std::FILE* out, const FlowStats& stats, bool json, size_t limit) {
  const Aggregation by = stats.by();
  const auto& t = stats.totals();
  const auto& ev = stats.table().evicted();
  const bool evicted = stats.table().evictions() > 0;
  auto rows = stats.top(limit);
  if (json) {
    NdjsonWriter ndjson(out);
    for (const FlowEntry* e : rows) ndjson.write(totals_json(by, *e));
    if (evicted) ndjson.write(other_json(by, stats.table()));
    ndjson.write({{"type", "summary"},
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
    ndjson.flush();
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
    cells.push_back(format_utc_second(e->peak_second));
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
  table.print(out);
  fmt::print(out, "\n{} packets, {} bytes ({}), {} {}s{}{}\n", t.packets, t.bytes,
             format_bytes(t.bytes), stats.table().size(), aggregation_name(by),
             t.non_ip_packets
                 ? fmt::format(", {} non-IP packets ({} bytes)", t.non_ip_packets, t.non_ip_bytes)
                 : "",
             evicted ? fmt::format(", {} evicted (--max-flows {})", stats.table().evictions(),
                                   stats.table().capacity())
                     : "");
  if (t.packets > 0) {
    fmt::print(out, "busiest second: {} with {} bytes ({})\n", format_utc_second(t.peak_second),
               t.peak_bytes, format_bits(static_cast<double>(t.peak_bytes) * 8) + "/s");
  }
  std::fflush(out);
}

double rate_bits(const RateHistory& h, int64_t now, int window, int64_t started) {
  int span = static_cast<int>(std::clamp<int64_t>(now - started, 1, window));
  return static_cast<double>(h.sum(now, window)) * 8 / span;
}

void print_live(std::FILE* out, const FlowStats& stats, size_t limit, int64_t now, int64_t started,
                bool json, bool terminal) {
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
      const FlowTable::History& hist = *stats.table().history(*e);  // live: kept
      nlohmann::json r;
      add_key_json(r, by, *e);
      for (int w : kRateWindows) {
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
    NdjsonWriter(out).write(snap);
    std::fflush(out);
    return;
  }
  std::vector<Table::Column> cols = {{aggregation_name(by)}};
  if (by != Aggregation::kProto) cols.push_back({"dir"});
  cols.insert(cols.end(), {{"2s", true}, {"10s", true}, {"40s", true}, {"total", true}});
  Table table(cols);
  auto [d0, d1] = by == Aggregation::kFlow ? std::pair{"=>", "<="} : std::pair{"out", "in"};
  for (const FlowEntry* e : rows) {
    const FlowTable::History& hist = *stats.table().history(*e);  // live: kept
    for (int d = 0; d < (by == Aggregation::kProto ? 1 : 2); ++d) {
      std::vector<std::string> cells = {d == 0 ? key_text(by, *e) : ""};
      if (by != Aggregation::kProto) cells.push_back(d == 0 ? d0 : d1);
      for (int w : kRateWindows) {
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
    std::fputs("\033[H\033[2J", out);
  else
    fmt::print(out, "{}\n", format_utc_second(now));
  table.print(out);
  const auto& t = stats.totals();
  fmt::print(out, "total: {} packets, {}, {} {}s\n", t.packets, format_bytes(t.bytes),
             stats.table().size(), aggregation_name(by));
  if (!terminal) std::fputc('\n', out);
  std::fflush(out);
}

std::string eviction_text(const FlowStats& stats, size_t max_flows) {
  return fmt::format(
      "{} {}s evicted from the full table (--max-flows {}); their packets are in the 'other / "
      "evicted' row",
      stats.table().evictions(), aggregation_name(stats.by()), max_flows);
}

}  // namespace netres::capture
