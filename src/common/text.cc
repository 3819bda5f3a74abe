// Trimming, endpoint splitting and line lists.
#include "common/text.h"

#include <iostream>

namespace netres {

std::string_view trim(std::string_view s, std::string_view chars) {
  size_t b = s.find_first_not_of(chars);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(chars) - b + 1);
}

Endpoint split_endpoint(std::string_view text) {
  Endpoint e;
  e.host = text;
  if (!text.empty() && text.front() == '[') {
    e.bracketed = true;
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      e.error = Endpoint::Error::kUnclosedBracket;
      return e;
    }
    e.host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty()) return e;
    if (rest.front() != ':') {
      e.error = Endpoint::Error::kJunkAfterBracket;
      return e;
    }
    e.port = rest.substr(1);
    if (e.port.empty()) e.error = Endpoint::Error::kEmptyPort;
    return e;
  }
  size_t colon = text.find(':');
  // Two or more colons: a bare IPv6 address, which cannot carry a port without brackets.
  if (colon == std::string_view::npos || text.find(':', colon + 1) != std::string_view::npos)
    return e;
  e.host = text.substr(0, colon);
  e.port = text.substr(colon + 1);
  if (e.port.empty()) e.error = Endpoint::Error::kEmptyPort;
  return e;
}

std::optional<uint16_t> parse_port_number(std::string_view text) {
  if (text.empty()) return std::nullopt;
  unsigned value = 0;
  for (char c : text) {  // leading zeros are fine; the bound stops overflow
    if (c < '0' || c > '9' || value > 65535) return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value < 1 || value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

std::vector<ListLine> read_list_lines(std::istream& in) {
  std::vector<ListLine> out;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    std::string_view entry = line;
    if (size_t hash = entry.find('#'); hash != std::string_view::npos)
      entry = entry.substr(0, hash);
    entry = trim(entry, " \t\r\n");
    if (!entry.empty()) out.push_back({number, std::string(entry)});
  }
  return out;
}

std::istream* open_list(const std::string& path, std::ifstream& file) {
  if (path == "-") return &std::cin;
  file.open(path);
  return file ? &file : nullptr;
}

std::string bytes_to_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (unsigned char c : bytes) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xc0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3f));
    }
  }
  return out;
}

std::optional<std::string> utf8_to_bytes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
      continue;
    }
    // Only U+0080..U+00FF can come from bytes_to_utf8: lead byte 0xc2 or 0xc3.
    if ((c != 0xc2 && c != 0xc3) || i + 1 >= text.size()) return std::nullopt;
    auto next = static_cast<unsigned char>(text[++i]);
    if ((next & 0xc0) != 0x80) return std::nullopt;
    out += static_cast<char>(((c & 0x03) << 6) | (next & 0x3f));
  }
  return out;
}

}  // namespace netres
