// Text exposition. The two formats differ in the counter's family name (0.0.4 names the family
// with its _total), the HELP escaping, the content type and OpenMetrics's closing "# EOF".
#include "monitor/exposition.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>

namespace netres::monitor {

void Family::add(Labels labels, double value) {
  samples.push_back(
      Sample{type == MetricType::kCounter ? "_total" : "", std::move(labels), value, nullptr});
}

void Family::add(std::shared_ptr<const Labels> base, Labels extra, double value) {
  samples.push_back(Sample{type == MetricType::kCounter ? "_total" : "", std::move(extra), value,
                           std::move(base)});
}

void Family::add_histogram(const Labels& labels, const std::vector<double>& bounds,
                           const std::vector<uint64_t>& counts, double sum) {
  add_histogram_shared(labels.empty() ? nullptr : std::make_shared<const Labels>(labels), bounds,
                       counts, sum);
}

void Family::add_histogram_shared(std::shared_ptr<const Labels> base,
                                  const std::vector<double>& bounds,
                                  const std::vector<uint64_t>& counts, double sum) {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    samples.push_back(Sample{"_bucket",
                             {{"le", i < bounds.size() ? format_value(bounds[i]) : "+Inf"}},
                             static_cast<double>(cumulative),
                             base});
  }
  samples.push_back(Sample{"_sum", {}, sum, base});
  samples.push_back(Sample{"_count", {}, static_cast<double>(cumulative), std::move(base)});
}

ExpositionFormat negotiate_format(std::string_view accept) {
  // Each media range: "type/subtype;param=...;q=0.5", comma separated.
  size_t pos = 0;
  while (pos <= accept.size()) {
    size_t end = accept.find(',', pos);
    if (end == std::string_view::npos) end = accept.size();
    std::string_view range = accept.substr(pos, end - pos);
    size_t semi = range.find(';');
    std::string_view type = range.substr(0, semi);
    while (!type.empty() && type.front() == ' ') type.remove_prefix(1);
    while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
    if (type == "application/openmetrics-text") {
      double q = 1;
      if (size_t qp = range.find("q="); qp != std::string_view::npos)
        q = std::strtod(std::string(range.substr(qp + 2)).c_str(), nullptr);
      if (q > 0) return ExpositionFormat::kOpenMetrics;
    }
    pos = end + 1;
  }
  return ExpositionFormat::kText004;
}

std::string_view content_type(ExpositionFormat f) {
  return f == ExpositionFormat::kOpenMetrics
             ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
             : "text/plain; version=0.0.4; charset=utf-8";
}

namespace {

void append_escaped_label_value(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

}  // namespace

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  append_escaped_label_value(out, v);
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

namespace {

std::string escape_help(std::string_view v, bool quotes) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (quotes && c == '"')
      out += "\\\"";
    else
      out += c;
  }
  return out;
}

std::string_view type_name(MetricType t) {
  switch (t) {
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kCounter:
      return "counter";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

std::string render(const std::vector<Family>& families, ExpositionFormat f) {
  const bool om = f == ExpositionFormat::kOpenMetrics;
  std::string out;
  for (const auto& fam : families) {
    if (fam.samples.empty()) continue;
    std::string name = fam.name;
    if (!om && fam.type == MetricType::kCounter) name += "_total";
    out += fmt::format("# HELP {} {}\n", name, escape_help(fam.help, om));
    out += fmt::format("# TYPE {} {}\n", name, type_name(fam.type));
    for (const auto& s : fam.samples) {
      out += fam.name;
      out += s.suffix;
      if (!s.labels.empty() || (s.base && !s.base->empty())) {
        out += '{';
        bool first = true;
        for (const Labels* part : {s.base.get(), &s.labels}) {
          if (!part) continue;
          for (const auto& [k, v] : *part) {
            if (!first) out += ',';
            first = false;
            out += k;
            out += "=\"";
            append_escaped_label_value(out, v);
            out += '"';
          }
        }
        out += '}';
      }
      out += ' ';
      out += format_value(s.value);
      out += '\n';
    }
  }
  if (om) out += "# EOF\n";
  return out;
}

}  // namespace netres::monitor
