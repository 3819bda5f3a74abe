// HttpResponseParser: framing (length, chunked, close), pipelining, every split point, limits
// and malformed input.
#include "load/http_response_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace netres::load {
namespace {

using Status = HttpResponseParser::Status;

struct Parsed {
  Status status = Status::kNeedMore;
  int code = 0;
  bool keep_alive = false;
  uint64_t body = 0;
  size_t consumed = 0;
  std::string error;
};

// Feeds `bytes` in pieces cut at `cuts`, stopping at the first complete response or error.
Parsed parse_pieces(const std::string& bytes, const std::vector<size_t>& cuts, bool eof = false,
                    HttpParserLimits limits = {}, bool head = false) {
  HttpResponseParser p(limits);
  p.reset(head);
  Parsed r;
  size_t from = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(bytes.size());
  for (size_t end : ends) {
    while (from < end) {
      size_t used = 0;
      r.status = p.feed(std::string_view(bytes).substr(from, end - from), used);
      from += used;
      if (r.status != Status::kNeedMore) break;
      if (used == 0) break;
    }
    if (r.status != Status::kNeedMore) break;
  }
  if (r.status == Status::kNeedMore && eof) r.status = p.finish_eof();
  r.code = p.status_code();
  r.keep_alive = p.keep_alive();
  r.body = p.body_bytes();
  r.consumed = from;
  r.error = p.error();
  return r;
}

Parsed parse(const std::string& bytes, bool eof = false, HttpParserLimits limits = {}) {
  return parse_pieces(bytes, {}, eof, limits);
}

const std::string kLength =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
const std::string kChunked =
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5;name=value;x=\"q\"\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n"
    "0\r\nX-Trailer: yes\r\nX-Other: 1\r\n\r\n";

TEST(HttpResponseParser, ContentLength) {
  Parsed r = parse(kLength);
  EXPECT_EQ(r.status, Status::kComplete);
  EXPECT_EQ(r.code, 200);
  EXPECT_TRUE(r.keep_alive);
  EXPECT_EQ(r.body, 5u);
  EXPECT_EQ(r.consumed, kLength.size());
}

TEST(HttpResponseParser, ChunkedWithExtensionsAndTrailers) {
  Parsed r = parse(kChunked);
  EXPECT_EQ(r.status, Status::kComplete) << r.error;
  EXPECT_EQ(r.body, 31u);
  EXPECT_EQ(r.consumed, kChunked.size());
  EXPECT_TRUE(r.keep_alive);
}

TEST(HttpResponseParser, EverySplitPointGivesTheSameResult) {
  for (const std::string& msg : {kLength, kChunked}) {
    Parsed whole = parse(msg);
    for (size_t cut = 0; cut <= msg.size(); ++cut) {
      Parsed r = parse_pieces(msg, {cut});
      EXPECT_EQ(r.status, Status::kComplete) << cut;
      EXPECT_EQ(r.body, whole.body) << cut;
      EXPECT_EQ(r.consumed, msg.size()) << cut;
    }
    // And one byte at a time.
    std::vector<size_t> cuts;
    for (size_t i = 1; i < msg.size(); ++i) cuts.push_back(i);
    Parsed r = parse_pieces(msg, cuts);
    EXPECT_EQ(r.status, Status::kComplete);
    EXPECT_EQ(r.body, whole.body);
  }
}

TEST(HttpResponseParser, PipelinedResponsesStopAtTheBoundary) {
  std::string two = kLength + kChunked;
  HttpResponseParser p;
  size_t used = 0;
  ASSERT_EQ(p.feed(two, used), Status::kComplete);
  EXPECT_EQ(used, kLength.size());
  p.reset();
  size_t used2 = 0;
  ASSERT_EQ(p.feed(std::string_view(two).substr(used), used2), Status::kComplete);
  EXPECT_EQ(used + used2, two.size());
}

// An HTTP/2-only server's answer to an HTTP/1.1 request: its SETTINGS frame (and a GOAWAY).
TEST(HttpResponseParser, Http2FramesAreNamed) {
  const std::string settings("\0\0\0\x04\0\0\0\0\0", 9);
  const std::string goaway =
      std::string("\0\0\x08\x07\0\0\0\0\0", 9) + std::string(7, '\0') + "\x01";
  for (const std::string& answer : {settings + goaway, goaway}) {
    HttpResponseParser p;
    size_t used = 0;
    ASSERT_EQ(p.feed(answer, used), Status::kError);
    EXPECT_NE(p.error().find("HTTP/2 frames"), std::string::npos) << p.error();
  }
  HttpResponseParser p;
  size_t used = 0;
  ASSERT_EQ(p.feed(std::string("\0\x01garbage\r\n", 11), used), Status::kError);
  EXPECT_EQ(p.error(), "binary data where the status line should be");
}

TEST(HttpResponseParser, BodyUntilClose) {
  Parsed r = parse("HTTP/1.1 200 OK\r\n\r\nsome body", true);
  EXPECT_EQ(r.status, Status::kComplete);
  EXPECT_EQ(r.body, 9u);
  EXPECT_FALSE(r.keep_alive);
}

TEST(HttpResponseParser, KeepAliveRules) {
  EXPECT_FALSE(
      parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").keep_alive);
  EXPECT_FALSE(parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive);
  EXPECT_TRUE(
      parse("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n").keep_alive);
  EXPECT_TRUE(
      parse("HTTP/1.1 200 OK\r\nconnection: upgrade, x\r\ncontent-length: 0\r\n\r\n").keep_alive);
}

TEST(HttpResponseParser, NoBodyResponses) {
  EXPECT_EQ(parse("HTTP/1.1 204 No Content\r\n\r\n").status, Status::kComplete);
  EXPECT_EQ(parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n").status,
            Status::kComplete);
  Parsed head = parse_pieces("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", {}, false, {}, true);
  EXPECT_EQ(head.status, Status::kComplete);
  EXPECT_EQ(head.body, 0u);
}

TEST(HttpResponseParser, InterimResponsesAreSkipped) {
  Parsed r =
      parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_EQ(r.status, Status::kComplete);
  EXPECT_EQ(r.code, 201);
  EXPECT_EQ(r.body, 2u);
}

TEST(HttpResponseParser, BareLineFeedsAndReasonlessStatus) {
  Parsed r = parse("HTTP/1.1 404\nContent-Length: 1\n\nx");
  EXPECT_EQ(r.status, Status::kComplete);
  EXPECT_EQ(r.code, 404);
}

TEST(HttpResponseParser, Malformed) {
  for (const char* bad : {
           "garbage\r\n\r\n",
           "HTTP/2 200 OK\r\n\r\n",
           "HTTP/1.1 20 OK\r\n\r\n",
           "HTTP/1.1 600 Nope\r\n\r\n",
           "HTTP/1.1 200OK\r\n\r\n",
           "HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
           "HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
           "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
           "HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
           "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad trailer\r\n\r\n",
           "HTTP/1.1 101 Switching Protocols\r\n\r\n",
       }) {
    Parsed r = parse(bad);
    EXPECT_EQ(r.status, Status::kError) << bad;
    EXPECT_FALSE(r.error.empty()) << bad;
  }
}

TEST(HttpResponseParser, AgreeingDuplicateLengthsAreFine) {
  Parsed r = parse("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_EQ(r.status, Status::kComplete);
}

TEST(HttpResponseParser, ChunkedOverridesLengthAndDropsKeepAlive) {
  Parsed r = parse(
      "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
      "2\r\nok\r\n0\r\n\r\n");
  EXPECT_EQ(r.status, Status::kComplete);
  EXPECT_EQ(r.body, 2u);
  EXPECT_FALSE(r.keep_alive);
}

TEST(HttpResponseParser, TruncatedAtEof) {
  Parsed none = parse("", true);
  EXPECT_EQ(none.status, Status::kError);
  EXPECT_EQ(none.error, "connection closed before response");
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-", true).error, "connection closed in headers");
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true).error,
            "connection closed mid-body");
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", true).error,
            "connection closed mid-body");
}

TEST(HttpResponseParser, Limits) {
  HttpParserLimits small;
  small.max_header_bytes = 64;
  small.max_headers = 3;
  small.max_chunk_line = 16;
  std::string big_header = "HTTP/1.1 200 OK\r\nX: " + std::string(100, 'a') + "\r\n\r\n";
  EXPECT_EQ(parse(big_header, false, small).error, "header section too large");
  // Without a line break at all: the limit still holds.
  EXPECT_EQ(parse(std::string(1000, 'a'), false, small).status, Status::kError);
  std::string many = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
  EXPECT_EQ(parse(many, false, small).error, "too many header fields");
  std::string long_ext =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" + std::string(40, 'e') + "\r\n";
  EXPECT_EQ(parse(long_ext, false, small).error, "chunk size line too long");
  std::string trailers = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" +
                         std::string("T: ") + std::string(100, 't') + "\r\n\r\n";
  EXPECT_EQ(parse(trailers, false, small).error, "trailers too large");
  // Exactly at the limit is accepted.
  HttpParserLimits exact;
  std::string fits = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  exact.max_header_bytes = fits.size();
  EXPECT_EQ(parse(fits, false, exact).status, Status::kComplete);
}

TEST(HttpResponseParser, ErrorIsSticky) {
  HttpResponseParser p;
  size_t used = 0;
  EXPECT_EQ(p.feed("junk\r\n", used), Status::kError);
  EXPECT_EQ(p.feed(kLength, used), Status::kError);
  p.reset();
  EXPECT_EQ(p.feed(kLength, used), Status::kComplete);
}

}  // namespace
}  // namespace netres::load
