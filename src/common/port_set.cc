// Port list parsing.
#include "common/port_set.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"
#include "common/services.h"

namespace netres {
namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A decimal number in a port position; values above 65535 come back as 65536 so the caller can
// report the range error with the user's own text.
unsigned port_number(std::string_view s) {
  if (s.size() > 5) return 65536;
  unsigned v = 0;
  for (char c : s) v = v * 10 + static_cast<unsigned>(c - '0');
  return std::min(v, 65536u);
}

}  // namespace

PortSet::PortSet(std::vector<uint16_t> ports) : ports_(std::move(ports)) {
  std::sort(ports_.begin(), ports_.end());
  ports_.erase(std::unique(ports_.begin(), ports_.end()), ports_.end());
}

PortSet PortSet::all() {
  std::vector<uint16_t> p(65535);
  for (unsigned i = 0; i < 65535; ++i) p[i] = static_cast<uint16_t>(i + 1);
  return PortSet(std::move(p));
}

bool PortSet::contains(uint16_t port) const {
  return std::binary_search(ports_.begin(), ports_.end(), port);
}

std::string PortSet::to_string() const {
  std::string out;
  for (size_t i = 0; i < ports_.size();) {
    size_t j = i;
    while (j + 1 < ports_.size() && ports_[j + 1] == ports_[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += j == i ? fmt::format("{}", ports_[i]) : fmt::format("{}-{}", ports_[i], ports_[j]);
    i = j + 1;
  }
  return out;
}

PortSet parse_port_set(std::string_view text, const ServiceTable& services) {
  if (text == "-") return PortSet::all();
  if (text.empty()) throw UsageError("bad port list '': empty");
  std::vector<uint16_t> ports;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(start, comma - start);
    start = comma + 1;
    if (item.empty()) {
      throw UsageError(fmt::format("bad port list '{}': empty item between commas", text));
    }
    size_t dash = item.find('-');
    if (dash == std::string_view::npos) {
      if (all_digits(item)) {
        unsigned p = port_number(item);
        if (p < 1 || p > 65535)
          throw UsageError(fmt::format("bad port '{}': ports are 1-65535", item));
        ports.push_back(static_cast<uint16_t>(p));
      } else if (auto p = services.port(item)) {
        ports.push_back(*p);
      } else {
        throw UsageError(fmt::format(
            "bad port '{}': not a number, and no TCP service of that name in /etc/services", item));
      }
      continue;
    }
    std::string_view lo_text = item.substr(0, dash), hi_text = item.substr(dash + 1);
    // "-1024" and "60000-" leave one end open, as nmap allows.
    if ((!lo_text.empty() && !all_digits(lo_text)) || (!hi_text.empty() && !all_digits(hi_text)) ||
        (lo_text.empty() && hi_text.empty())) {
      throw UsageError(fmt::format("bad port range '{}': write it as 8000-8100", item));
    }
    unsigned lo = lo_text.empty() ? 1 : port_number(lo_text);
    unsigned hi = hi_text.empty() ? 65535 : port_number(hi_text);
    if (lo < 1 || lo > 65535 || hi < 1 || hi > 65535)
      throw UsageError(fmt::format("bad port range '{}': ports are 1-65535", item));
    if (lo > hi) throw UsageError(fmt::format("bad port range '{}': start is above end", item));
    for (unsigned p = lo; p <= hi; ++p) ports.push_back(static_cast<uint16_t>(p));
  }
  return PortSet(std::move(ports));
}

}  // namespace netres
