// libFuzzer target for HttpResponseParser: response bytes are untrusted. The first input byte
// picks the read size, so the same stream is also parsed in small, uneven pieces; both parses
// must agree (split invariance), and the parser must never consume more than it was given.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "load/http_response_parser.h"

namespace {

struct Outcome {
  std::vector<int> codes;
  std::vector<uint64_t> bodies;
  bool error = false;
};

Outcome parse_stream(std::string_view bytes, size_t piece, bool head) {
  netres::load::HttpParserLimits limits;
  limits.max_header_bytes = 4096;
  limits.max_headers = 32;
  limits.max_chunk_line = 256;
  netres::load::HttpResponseParser parser(limits);
  Outcome out;
  parser.reset(head);
  size_t pos = 0;
  // Pipelined responses: each complete one restarts the parser on the remaining bytes.
  for (int responses = 0; responses < 64;) {
    if (pos >= bytes.size()) {
      auto s = parser.finish_eof();
      if (s == netres::load::HttpResponseParser::Status::kComplete) {
        out.codes.push_back(parser.status_code());
        out.bodies.push_back(parser.body_bytes());
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
      out.codes.push_back(parser.status_code());
      out.bodies.push_back(parser.body_bytes());
      if (parser.status_code() < 200 || parser.status_code() > 599) __builtin_trap();
      ++responses;
      parser.reset(head);
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
  std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  Outcome whole = parse_stream(bytes, bytes.size() + 1, head);
  Outcome split = parse_stream(bytes, piece, head);
  if (whole.codes != split.codes || whole.bodies != split.bodies || whole.error != split.error)
    __builtin_trap();
  return 0;
}
