// Hostname validation, reverse names and wire encoding.
#include "resolve/dns_name.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include "common/error.h"

namespace netres::resolve {
namespace {

bool is_name_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Printable characters as themselves, the rest as \xNN, so the message stays on one line.
std::string show_char(unsigned char c) {
  if (c > 0x20 && c < 0x7f) return fmt::format("'{}'", static_cast<char>(c));
  if (c == ' ') return "' ' (space)";
  return fmt::format("\\x{:02x}", c);
}

std::string_view strip_trailing_dot(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name;
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

std::string name_problem(std::string_view name) {
  if (name.empty()) return "empty name";
  std::string_view body = strip_trailing_dot(name);
  if (body.empty()) return "empty name (the root '.' is not a hostname)";
  if (body.size() > kMaxNameLength)
    return fmt::format("name is {} bytes, over the {} byte limit", body.size(), kMaxNameLength);
  size_t start = 0;
  while (start <= body.size()) {
    size_t dot = body.find('.', start);
    if (dot == std::string_view::npos) dot = body.size();
    std::string_view label = body.substr(start, dot - start);
    if (label.empty()) return "empty label";
    if (label.size() > kMaxLabelLength)
      return fmt::format("label '{}...' is {} bytes, over the {} byte limit", label.substr(0, 16),
                         label.size(), kMaxLabelLength);
    for (unsigned char c : label)
      if (!is_name_char(c)) return "bad character " + show_char(c);
    if (label.front() == '-' || label.back() == '-')
      return fmt::format("label '{}' starts or ends with '-'", label);
    start = dot + 1;
  }
  return {};
}

void check_name(std::string_view name, std::string_view where) {
  std::string problem = name_problem(name);
  if (problem.empty()) return;
  // Cap what we echo: a 10 kB junk line should still give a one-line, readable message.
  std::string shown(name.substr(0, 80));
  for (char& c : shown)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  if (name.size() > 80) shown += "...";
  throw UsageError(fmt::format("{}bad name '{}': {}", where, shown, problem));
}

bool is_ip_literal(std::string_view text) {
  if (text.empty() || text.size() > 45) return false;
  std::string s(text);
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

std::optional<std::string> reverse_name(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  std::string s(text);
  unsigned char b[16];
  if (inet_pton(AF_INET, s.c_str(), b) == 1)
    return fmt::format("{}.{}.{}.{}.in-addr.arpa", b[3], b[2], b[1], b[0]);
  if (inet_pton(AF_INET6, s.c_str(), b) == 1) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(72);
    for (int i = 15; i >= 0; --i) {
      out += kHex[b[i] & 0x0f];
      out += '.';
      out += kHex[b[i] >> 4];
      out += '.';
    }
    out += "ip6.arpa";
    return out;
  }
  return std::nullopt;
}

bool encode_name(std::string_view name, std::vector<uint8_t>& out) {
  if (!name_problem(name).empty()) return false;
  std::string_view body = strip_trailing_dot(name);
  size_t start = 0;
  while (start <= body.size()) {
    size_t dot = body.find('.', start);
    if (dot == std::string_view::npos) dot = body.size();
    out.push_back(static_cast<uint8_t>(dot - start));
    out.insert(out.end(), body.begin() + start, body.begin() + dot);
    start = dot + 1;
  }
  out.push_back(0);
  return true;
}

bool same_name(std::string_view a, std::string_view b) {
  a = strip_trailing_dot(a);
  b = strip_trailing_dot(b);
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

}  // namespace netres::resolve
