#include "resolve/resolve_output.h"

#include <fmt/format.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/duration.h"
#include "resolve/dns_message.h"

namespace netres::resolve {
namespace {

// JSON string literal. Everything we print is ASCII by construction (names pass the name
// checks, record data is in dig's presentation form with \DDD escapes), so only '"', '\\' and
// control bytes need escaping; anything else goes through nlohmann, which replaces bad UTF-8.
void append_json_string(std::string& out, std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) {
      out += nlohmann::json(std::string(s))
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return;
    }
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  out += '"';
}

double milliseconds(Nanos d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

std::string answers_cell(const ResolveRow& row) {
  std::string data;
  for (const auto& rec : row.answers) {
    if (!data.empty()) data += ", ";
    data += rec.data;
  }
  if (row.cname_chain.empty()) return data.empty() ? "-" : data;
  std::string cell = row.qname;
  for (const auto& hop : row.cname_chain) cell += " -> " + hop;
  if (!data.empty()) cell += " -> " + data;
  return cell;
}

// Written by hand: building an nlohmann object per row (a std::map and a string per field) was a
// fifth of the verb's CPU for 50,000 names. Keys stay in the alphabetical order nlohmann's
// objects print them in, so the output is unchanged.
void append_row_json(std::string& out, const ResolveRow& row) {
  out += "{\"answers\":[";
  for (size_t i = 0; i < row.answers.size(); ++i) {
    const auto& rec = row.answers[i];
    if (i) out += ',';
    out += "{\"data\":";
    append_json_string(out, rec.data);
    out += fmt::format(",\"ttl\":{},\"type\":", rec.ttl);
    append_json_string(out, type_name(rec.type));
    out += '}';
  }
  out += "],\"cname_chain\":[";
  for (size_t i = 0; i < row.cname_chain.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, row.cname_chain[i]);
  }
  out += "],\"duration_ms\":";
  out += nlohmann::json(milliseconds(row.duration)).dump();
  out += ",\"name\":";
  append_json_string(out, row.name);
  out += ",\"qname\":";
  append_json_string(out, row.qname);
  out += row.rcode >= 0 ? fmt::format(",\"rcode\":{}", row.rcode) : ",\"rcode\":null";
  out += ",\"server\":";
  append_json_string(out, row.server);
  out += ",\"status\":";
  append_json_string(out, row.status);
  out += row.ttl ? fmt::format(",\"ttl\":{}", *row.ttl) : ",\"ttl\":null";
  out += ",\"type\":";
  append_json_string(out, type_name(row.type));
  out += "}\n";
}

RowPrinter::RowPrinter(std::FILE* out, bool json)
    : out_(out),
      json_(json),
      table_({{"NAME"}, {"TYPE"}, {"STATUS"}, {"TTL", true}, {"ANSWERS"}}) {}

void RowPrinter::add(const std::vector<ResolveRow>& rows) {
  for (const ResolveRow& row : rows) {
    if (json_) {
      line_.clear();
      append_row_json(line_, row);
      std::fwrite(line_.data(), 1, line_.size(), out_);
    } else {
      table_.add_row({row.name, type_name(row.type), row.status,
                      row.ttl ? std::to_string(*row.ttl) : "-", answers_cell(row)});
    }
  }
}

void RowPrinter::finish() {
  if (!json_) table_.print(out_);
  std::fflush(out_);
}

std::string progress_text(const ResolveProgress& p) {
  double rate = to_seconds(p.elapsed) > 0 ? p.queries_done / to_seconds(p.elapsed) : 0;
  return fmt::format("{}/{} queries, {} names done, {} failed, {:.0f} q/s", p.queries_done,
                     p.queries_total, p.names_done, p.names_failed, rate);
}

std::string summary_text(const ResolveSummary& s) {
  double seconds = to_seconds(s.elapsed);
  return fmt::format("{} names, {} ok, {} failed, {} queries in {} ({:.0f} queries/s)", s.names,
                     s.ok, s.failed, s.queries, format_duration(s.elapsed),
                     seconds > 0 ? s.queries / seconds : 0.0);
}

std::string engine_stats_text(const ResolverStats& e) {
  return fmt::format(
      "engine: {} sent, {} retransmitted, {} late or duplicate replies, {} mismatched, {} over "
      "TCP, {} window cuts, {} spurious timeouts, {} sends deferred, srtt {:.2f} ms, rto {:.1f} "
      "ms",
      e.sent, e.retransmitted, e.late_replies, e.mismatched, e.tcp_fallbacks, e.window_cuts,
      e.spurious, e.send_blocked, milliseconds(e.srtt), milliseconds(e.rto));
}

}  // namespace netres::resolve
