// libFuzzer target for HttpResponseParser: response bytes are untrusted. The first input byte
// picks the read size, so the same stream is also parsed in small, uneven pieces; both parses
// must agree (split invariance), and the parser must never consume more than it was given. With
// capture on (another bit of the first byte), the kept bodies and headers must agree too, and a
// kept body is exactly the first max_captured_body bytes counted.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "load/http_response_parser.h"

namespace {

struct Outcome {
  std::vector<int> codes;
  std::vector<uint64_t> bodies;
  std::vector<std::string> captured;
  std::vector<size_t> header_counts;
  bool error = false;
};

void keep(Outcome& out, const netres::load::HttpResponseParser& parser, bool capture, size_t cap) {
  out.codes.push_back(parser.status_code());
  out.bodies.push_back(parser.body_bytes());
  out.captured.push_back(parser.body());
  out.header_counts.push_back(parser.headers().size());
  if (!capture && (!parser.body().empty() || !parser.headers().empty())) __builtin_trap();
  if (capture && parser.body().size() != std::min<uint64_t>(parser.body_bytes(), cap))
    __builtin_trap();
}

Outcome parse_stream(std::string_view bytes, size_t piece, bool head, bool capture) {
  netres::load::HttpParserLimits limits;
  limits.max_header_bytes = 4096;
  limits.max_headers = 32;
  limits.max_chunk_line = 256;
  limits.max_captured_body = 64;
  netres::load::HttpResponseParser parser(limits);
  Outcome out;
  parser.reset(head, capture);
  size_t pos = 0;
  // Pipelined responses: each complete one restarts the parser on the remaining bytes.
  for (int responses = 0; responses < 64;) {
    if (pos >= bytes.size()) {
      auto s = parser.finish_eof();
      if (s == netres::load::HttpResponseParser::Status::kComplete) {
        keep(out, parser, capture, limits.max_captured_body);
      } else if (parser.started()) {
        out.error = true;
      }
      break;
    }
    std::string_view chunk = bytes.substr(pos, piece);
    size_t used = 0;
    auto s = parser.feed(chunk, used);
    if (used > chunk.size()) __builtin_trap();
    pos += used;
    if (s == netres::load::HttpResponseParser::Status::kError) {
      out.error = true;
      break;
    }
    if (s == netres::load::HttpResponseParser::Status::kComplete) {
      keep(out, parser, capture, limits.max_captured_body);
      if (parser.status_code() < 200 || parser.status_code() > 599) __builtin_trap();
      ++responses;
      parser.reset(head, capture);
      continue;
    }
    if (used != chunk.size()) __builtin_trap();  // need-more must have eaten everything
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  size_t piece = 1 + (data[0] & 0x0f);
  bool head = (data[0] & 0x10) != 0;
  bool capture = (data[0] & 0x20) != 0;
  std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  Outcome whole = parse_stream(bytes, bytes.size() + 1, head, capture);
  Outcome split = parse_stream(bytes, piece, head, capture);
  if (whole.codes != split.codes || whole.bodies != split.bodies || whole.error != split.error ||
      whole.captured != split.captured || whole.header_counts != split.header_counts)
    __builtin_trap();
  return 0;
}
