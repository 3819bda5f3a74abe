// Small text vocabulary shared by every parser: trimming, "[host]:port" endpoints and line-list
// files ('#' comments, '-' for stdin). Each verb keeps its own error wording; these helpers only
// split, so they report what went wrong and leave the sentence to the caller.
#pragma once

#include <cstdint>
#include <fstream>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netres {

// Blanks as they appear in hand-written files: space, tab and the '\r' of CRLF files.
inline constexpr std::string_view kBlanks = " \t\r";

// `s` without leading and trailing characters from `chars`.
std::string_view trim(std::string_view s, std::string_view chars = kBlanks);

// The parts of "host", "host:port", "[v6]" or "[v6]:port". A bare text with two or more ':' is
// an IPv6 address without a port (a port then needs brackets).
struct Endpoint {
  enum class Error {
    kNone,
    kUnclosedBracket,   // "[::1" — no ']'
    kJunkAfterBracket,  // "[::1]x" — something other than ":port" after ']'
    kEmptyPort,         // "host:" or "[::1]:"
  };
  std::string_view host;
  std::string_view port;   // the digits as written; empty when no port was given
  bool bracketed = false;  // written as "[...]"
  Error error = Error::kNone;
};
Endpoint split_endpoint(std::string_view text);

// A port number 1-65535 written in plain decimal digits; nullopt otherwise.
std::optional<uint16_t> parse_port_number(std::string_view text);

// One entry of a line list, with its 1-based line number for error messages.
struct ListLine {
  size_t number = 0;
  std::string text;
};

// The entries of a line list: everything from '#' on is a comment, blanks around an entry are
// dropped and empty lines skipped. Callers check `in.bad()` for a read error afterwards.
std::vector<ListLine> read_list_lines(std::istream& in);

// The stream a list path names: std::cin for "-", else `file` opened on `path`; nullptr when
// the file cannot be opened (errno tells why).
std::istream* open_list(const std::string& path, std::ifstream& file);

// Raw bytes (a banner, a command's output) as valid UTF-8 for JSON files, byte for byte
// reversible: each byte becomes the code point of the same value (as Latin-1 would read it).
std::string bytes_to_utf8(std::string_view bytes);
// The reverse; nullopt when `text` is not UTF-8 or holds a code point above U+00FF.
std::optional<std::string> utf8_to_bytes(std::string_view text);

}  // namespace netres
