// Http2Client against a real nghttp2 server session in memory: the request as the server sees
// it, responses (body, trailers, 1xx, large bodies), and each way a stream can fail.
#include "monitor/http2_client.h"

#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <cstring>
#include <functional>
#include <map>
#include <string>

#include "monitor/config.h"
#include "monitor/config_test_util.h"

namespace netres::monitor {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

// A server session that calls `on_request` once the request (headers and body) is in.
class Server {
 public:
  std::function<void(Server&, int32_t stream)> on_request;
  std::multimap<std::string, std::string> request;  // header fields, pseudo ones too
  std::string request_body;
  nghttp2_session* session = nullptr;

  Server() {
    nghttp2_session_callbacks* cbs;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_header_callback(
        cbs, [](nghttp2_session*, const nghttp2_frame*, const uint8_t* n, size_t nl,
                const uint8_t* v, size_t vl, uint8_t, void* u) {
          static_cast<Server*>(u)->request.emplace(
              std::string(reinterpret_cast<const char*>(n), nl),
              std::string(reinterpret_cast<const char*>(v), vl));
          return 0;
        });
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
        cbs, [](nghttp2_session*, uint8_t, int32_t, const uint8_t* d, size_t l, void* u) {
          static_cast<Server*>(u)->request_body.append(reinterpret_cast<const char*>(d), l);
          return 0;
        });
    nghttp2_session_callbacks_set_on_frame_recv_callback(
        cbs, [](nghttp2_session*, const nghttp2_frame* f, void* u) {
          auto* s = static_cast<Server*>(u);
          if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
              (f->hd.flags & NGHTTP2_FLAG_END_STREAM) && s->on_request)
            s->on_request(*s, f->hd.stream_id);
          return 0;
        });
    nghttp2_session_server_new(&session, cbs, this);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~Server() { nghttp2_session_del(session); }

  // Headers (":status" first) and optionally a body and trailers.
  void respond(int32_t stream, const Fields& head, const std::string& body = "",
               const Fields& trailers = {}) {
    body_ = body;
    sent_ = 0;
    auto nva = to_nv(head);
    nghttp2_data_provider prd{};
    prd.read_callback = [](nghttp2_session* s, int32_t, uint8_t* buf, size_t len, uint32_t* flags,
                           nghttp2_data_source*, void* u) -> ssize_t {
      auto* self = static_cast<Server*>(u);
      size_t n = std::min(len, self->body_.size() - self->sent_);
      std::memcpy(buf, self->body_.data() + self->sent_, n);
      self->sent_ += n;
      if (self->sent_ == self->body_.size()) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        if (!self->trailers_.empty()) {
          auto tv = to_nv(self->trailers_);
          nghttp2_submit_trailer(s, 1, tv.data(), tv.size());
          *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        }
      }
      return static_cast<ssize_t>(n);
    };
    trailers_ = trailers;
    nghttp2_submit_response(session, stream, nva.data(), nva.size(),
                            body.empty() && trailers.empty() ? nullptr : &prd);
  }
  void headers_only(int32_t stream, const Fields& head, bool end_stream) {
    auto nva = to_nv(head);
    nghttp2_submit_headers(session, end_stream ? NGHTTP2_FLAG_END_STREAM : NGHTTP2_FLAG_NONE,
                           stream, nullptr, nva.data(), nva.size(), nullptr);
  }

 private:
  static std::vector<nghttp2_nv> to_nv(const Fields& f) {
    std::vector<nghttp2_nv> out;
    for (const auto& [k, v] : f)
      out.push_back(
          {(uint8_t*)k.data(), (uint8_t*)v.data(), k.size(), v.size(), NGHTTP2_NV_FLAG_NONE});
    return out;
  }
  std::string body_;
  size_t sent_ = 0;
  Fields trailers_;
};

// Moves bytes both ways until the client is finished or neither side has anything to say.
void pump(Http2Client& client, Server& server, bool close_at_end = false) {
  for (int i = 0; i < 1000 && !client.finished(); ++i) {
    std::string out = client.take_output();
    if (!out.empty())
      nghttp2_session_mem_recv(server.session, (const uint8_t*)out.data(), out.size());
    std::string in;
    const uint8_t* data;
    ssize_t n;
    while ((n = nghttp2_session_mem_send(server.session, &data)) > 0)
      in.append((const char*)data, n);
    if (!in.empty()) client.feed(in);
    if (out.empty() && in.empty()) break;
  }
  if (close_at_end && !client.finished()) client.connection_closed();
}

Http2Request get(std::string path = "/") {
  Http2Request r;
  r.authority = "example.test:8443";
  r.path = std::move(path);
  return r;
}

std::string first(const Server& s, const std::string& name) {
  auto it = s.request.find(name);
  return it == s.request.end() ? "<missing>" : it->second;
}

TEST(Http2Client, RequestAsTheServerSeesIt) {
  Server server;
  server.on_request = [](Server& s, int32_t id) { s.respond(id, {{":status", "204"}}); };
  Http2Request req = get("/health?x=1");
  req.method = "POST";
  req.body = "ping";
  req.headers = {{"X-Probe", "yes"}, {"Connection", "close"}, {"Host", "virtual.test"}};
  Http2Client client(req);
  pump(client, server);
  ASSERT_TRUE(client.complete()) << client.reason() << ": " << client.detail();
  EXPECT_EQ(client.status(), 204);
  EXPECT_EQ(first(server, ":method"), "POST");
  EXPECT_EQ(first(server, ":scheme"), "https");
  EXPECT_EQ(first(server, ":path"), "/health?x=1");
  EXPECT_EQ(first(server, ":authority"), "virtual.test");  // the configured Host header
  EXPECT_EQ(first(server, "x-probe"), "yes");              // lower-cased
  EXPECT_EQ(first(server, "user-agent"), "netres-monitor");
  EXPECT_EQ(first(server, "accept"), "*/*");
  EXPECT_EQ(first(server, "content-length"), "4");
  EXPECT_EQ(server.request.count("connection"), 0u);  // forbidden in HTTP/2
  EXPECT_EQ(server.request.count("host"), 0u);
  EXPECT_EQ(server.request_body, "ping");
}

TEST(Http2Client, StatusHeadersBodyAndStart) {
  Server server;
  server.on_request = [](Server& s, int32_t id) {
    s.respond(id, {{":status", "200"}, {"content-type", "text/html"}, {"content-length", "11"}},
              "hello world");
  };
  Http2Client client(get());
  EXPECT_FALSE(client.response_started());
  pump(client, server);
  ASSERT_TRUE(client.complete()) << client.detail();
  EXPECT_TRUE(client.response_started());
  EXPECT_EQ(client.status(), 200);
  EXPECT_EQ(client.body(), "hello world");
  EXPECT_EQ(client.body_bytes(), 11u);
  Fields want{{"content-type", "text/html"}, {"content-length", "11"}};
  EXPECT_EQ(client.headers(), want);
}

TEST(Http2Client, LargeBodyIsCountedAndCappedWithWindowUpdates) {
  Server server;
  std::string big(300 * 1000, 'x');
  server.on_request = [&](Server& s, int32_t id) { s.respond(id, {{":status", "200"}}, big); };
  Http2Client client(get(), 100 * 1000);
  pump(client, server);
  ASSERT_TRUE(client.complete()) << client.detail();
  EXPECT_EQ(client.body_bytes(), big.size());
  EXPECT_EQ(client.body().size(), 100u * 1000);
}

TEST(Http2Client, HeadHasNoBodyWhateverItsLength) {
  Server server;
  server.on_request = [](Server& s, int32_t id) {
    s.headers_only(id, {{":status", "200"}, {"content-length", "100"}}, true);
  };
  Http2Request req = get();
  req.method = "HEAD";
  Http2Client client(req);
  pump(client, server);
  ASSERT_TRUE(client.complete()) << client.reason() << ": " << client.detail();
  EXPECT_EQ(client.body_bytes(), 0u);
}

TEST(Http2Client, TrailersAreNotHeaders) {
  Server server;
  server.on_request = [](Server& s, int32_t id) {
    s.respond(id, {{":status", "200"}, {"a", "1"}}, "body", {{"grpc-status", "0"}});
  };
  Http2Client client(get());
  pump(client, server);
  ASSERT_TRUE(client.complete()) << client.detail();
  Fields want{{"a", "1"}};
  EXPECT_EQ(client.headers(), want);
  EXPECT_EQ(client.body(), "body");
}

TEST(Http2Client, InformationalResponseThenFinal) {
  Server server;
  server.on_request = [](Server& s, int32_t id) {
    s.headers_only(id, {{":status", "103"}, {"link", "</a.css>"}}, false);
    s.respond(id, {{":status", "302"}, {"location", "/next"}});
  };
  Http2Client client(get());
  pump(client, server);
  ASSERT_TRUE(client.complete()) << client.detail();
  EXPECT_EQ(client.status(), 302);
  Fields want{{"location", "/next"}};
  EXPECT_EQ(client.headers(), want);
}

TEST(Http2Client, RstStreamIsHttp2Reset) {
  Server server;
  server.on_request = [](Server& s, int32_t id) {
    nghttp2_submit_rst_stream(s.session, NGHTTP2_FLAG_NONE, id, NGHTTP2_REFUSED_STREAM);
  };
  Http2Client client(get());
  pump(client, server);
  EXPECT_FALSE(client.complete());
  EXPECT_EQ(client.reason(), "http2_reset");
  EXPECT_NE(client.detail().find("REFUSED_STREAM"), std::string::npos) << client.detail();
}

TEST(Http2Client, GoawayBeforeTheStreamIsHttp2Goaway) {
  Server server;
  server.on_request = [](Server& s, int32_t) {
    nghttp2_submit_goaway(s.session, NGHTTP2_FLAG_NONE, 0, NGHTTP2_ENHANCE_YOUR_CALM, nullptr, 0);
  };
  Http2Client client(get());
  pump(client, server);
  EXPECT_EQ(client.reason(), "http2_goaway");
  EXPECT_NE(client.detail().find("ENHANCE_YOUR_CALM"), std::string::npos) << client.detail();
}

TEST(Http2Client, GracefulGoawayStillGetsTheResponse) {
  Server server;
  server.on_request = [](Server& s, int32_t id) {
    nghttp2_submit_goaway(s.session, NGHTTP2_FLAG_NONE, id, NGHTTP2_NO_ERROR, nullptr, 0);
    s.respond(id, {{":status", "200"}}, "ok");
  };
  Http2Client client(get());
  pump(client, server);
  ASSERT_TRUE(client.complete()) << client.detail();
  EXPECT_EQ(client.body(), "ok");
}

TEST(Http2Client, ClosedMidResponseIsEofOrGoaway) {
  {
    Server server;
    server.on_request = [](Server& s, int32_t id) {
      s.headers_only(id, {{":status", "200"}}, false);
    };
    Http2Client client(get());
    pump(client, server, true);
    EXPECT_EQ(client.reason(), "eof");
    EXPECT_TRUE(client.response_started());
  }
  {
    Server server;
    server.on_request = [](Server& s, int32_t id) {
      nghttp2_submit_goaway(s.session, NGHTTP2_FLAG_NONE, id, NGHTTP2_NO_ERROR, nullptr, 0);
    };
    Http2Client client(get());
    pump(client, server, true);
    EXPECT_EQ(client.reason(), "http2_goaway");
  }
}

TEST(Http2Client, HttpOneAnswerIsProtocol) {
  Http2Client client(get());
  client.take_output();
  client.feed("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
  client.take_output();  // nghttp2 answers with GOAWAY: that is when the failure is known
  EXPECT_TRUE(client.finished());
  EXPECT_EQ(client.reason(), "protocol") << client.detail();
  EXPECT_FALSE(client.feed("more"));
}

TEST(Http2Client, MalformedResponseIsProtocol) {
  Server server;
  // No :status: nghttp2 resets the stream itself.
  server.on_request = [](Server& s, int32_t id) { s.headers_only(id, {{"x", "1"}}, true); };
  Http2Client client(get());
  pump(client, server);
  EXPECT_EQ(client.reason(), "protocol") << client.detail();
}

TEST(Http2Client, TooManyHeadersIsProtocol) {
  Server server;
  Fields head{{":status", "200"}};
  for (int i = 0; i < 200; ++i) head.emplace_back("h" + std::to_string(i), "v");
  server.on_request = [&](Server& s, int32_t id) { s.respond(id, head); };
  Http2Client client(get());
  pump(client, server);
  EXPECT_EQ(client.reason(), "protocol") << client.detail();
}

// The check's HTTP/2 keys: enable_http2 (default on, as blackbox_exporter's) and the version
// spelled as blackbox_exporter compares it.
TEST(Http2Config, EnableHttp2AndVersion) {
  const std::string head = "checks:\n  w: {kind: http, ";
  const std::string tail = "}\ntargets:\n  - {address: https://127.0.0.1/, checks: [w]}\n";
  MonitorConfig on = parse_monitor_config(head + "valid_http_versions: [HTTP/2.0]" + tail, "m");
  EXPECT_TRUE(on.checks.at("w").enable_http2);
  EXPECT_EQ(on.checks.at("w").valid_http_versions, std::vector<std::string>{"HTTP/2.0"});
  MonitorConfig off = parse_monitor_config(head + "enable_http2: false" + tail, "m");
  EXPECT_FALSE(off.checks.at("w").enable_http2);
  EXPECT_EQ(config_error_of(head + "valid_http_versions: [HTTP/2]" + tail),
            "bad.yaml:2:40: unknown HTTP version 'HTTP/2' (HTTP/1.0, HTTP/1.1, HTTP/2.0)");
  EXPECT_NE(config_error_of(head + "enable_http2: maybe" + tail).find("enable_http2"),
            std::string::npos);
  EXPECT_TRUE(parse_monitor_config(head + "http2_prior_knowledge: true" + tail, "m")
                  .checks.at("w")
                  .http2_prior_knowledge);
  EXPECT_NE(config_error_of(head + "enable_http2: false, http2_prior_knowledge: true" + tail)
                .find("http2_prior_knowledge needs enable_http2"),
            std::string::npos);
}

}  // namespace
}  // namespace netres::monitor
