// The DNS message parser on crafted bytes: every record type, compression, hostile pointers,
// truncation, rcodes; plus the query builder and CNAME chain summaries.
#include "resolve/dns_message.h"

#include <gtest/gtest.h>

namespace netres::resolve {
namespace {

// Builds messages byte by byte so each test shows exactly what is on the wire.
struct Wire {
  std::vector<uint8_t> b;

  Wire(uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns = 0, uint16_t ar = 0) {
    u16(0x1234);
    u16(flags);
    u16(qd);
    u16(an);
    u16(ns);
    u16(ar);
  }
  Wire& u16(uint16_t v) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
    return *this;
  }
  Wire& u32(uint32_t v) {
    return u16(static_cast<uint16_t>(v >> 16)).u16(static_cast<uint16_t>(v));
  }
  Wire& raw(std::initializer_list<uint8_t> bytes) {
    b.insert(b.end(), bytes);
    return *this;
  }
  Wire& raw(const std::vector<uint8_t>& bytes) {
    b.insert(b.end(), bytes.begin(), bytes.end());
    return *this;
  }
  // Labels of a dotted name, terminated by the root unless `pointer` is given.
  Wire& name(std::string_view dotted, int pointer = -1) {
    size_t start = 0;
    while (!dotted.empty() && start < dotted.size()) {
      size_t dot = dotted.find('.', start);
      if (dot == std::string_view::npos) dot = dotted.size();
      b.push_back(static_cast<uint8_t>(dot - start));
      b.insert(b.end(), dotted.begin() + start, dotted.begin() + dot);
      start = dot + 1;
    }
    if (pointer >= 0)
      u16(static_cast<uint16_t>(0xc000 | pointer));
    else
      b.push_back(0);
    return *this;
  }
  Wire& question(std::string_view n, uint16_t type) { return name(n).u16(type).u16(1); }
  // Record header after the owner name: type, class IN, ttl, rdlength.
  Wire& rr(uint16_t type, uint32_t ttl, uint16_t rdlength) {
    return u16(type).u16(1).u32(ttl).u16(rdlength);
  }
  std::optional<DnsMessage> parse(std::string* error = nullptr) const {
    return parse_dns_message(b, error);
  }
};

constexpr uint16_t kResponse = 0x8180;  // QR, RD, RA, NOERROR
constexpr int kQname = 12;              // offset of the question name

TEST(ParseDnsMessage, HeaderFieldsAndRcodes) {
  for (int rcode : {0, 1, 2, 3, 4, 5, 9}) {
    Wire w(static_cast<uint16_t>(kResponse | 0x0400 | rcode), 1, 0);
    w.question("x.test", kTypeA);
    auto m = w.parse();
    ASSERT_TRUE(m) << rcode;
    EXPECT_EQ(m->id, 0x1234);
    EXPECT_TRUE(m->response);
    EXPECT_TRUE(m->authoritative);
    EXPECT_TRUE(m->recursion_desired);
    EXPECT_TRUE(m->recursion_available);
    EXPECT_FALSE(m->truncated);
    EXPECT_EQ(m->rcode, rcode);
    ASSERT_EQ(m->questions.size(), 1u);
    EXPECT_EQ(m->questions[0].name, "x.test");
    EXPECT_EQ(m->questions[0].type, kTypeA);
  }
  EXPECT_EQ(rcode_name(0), "NOERROR");
  EXPECT_EQ(rcode_name(2), "SERVFAIL");
  EXPECT_EQ(rcode_name(3), "NXDOMAIN");
  EXPECT_EQ(rcode_name(5), "REFUSED");
  EXPECT_EQ(rcode_name(15), "RCODE15");
}

TEST(ParseDnsMessage, EveryRecordType) {
  Wire w(kResponse, 1, 8, 1, 0);
  w.question("www.test", kTypeA);
  w.name("", kQname).rr(kTypeA, 300, 4).raw({10, 1, 2, 3});
  w.name("v6", kQname)
      .rr(kTypeAaaa, 60, 16)
      .raw({0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5});
  w.name("", kQname).rr(kTypeCname, 5, 6).name("web", kQname + 4);  // web.test
  w.name("", kQname).rr(kTypeMx, 7, 9).u16(10).name("mail", kQname + 4);
  w.name("", kQname)
      .rr(kTypeTxt, 8, 15)
      .raw({5, 'h', 'e', 'l', 'l', 'o', 0, 7, 'a', '"', 'b', '\\', 'c', ' ', 0x01});
  w.name("", kQname).rr(kTypeNs, 9, 6).name("ns1", kQname + 4);
  w.name("", kQname).rr(kTypePtr, 10, 2).name("", kQname);
  w.name("", kQname).rr(99, 11, 3).raw({0xde, 0xad, 0x01});
  w.name("test").rr(98, 12, 0);  // authority, empty rdata of an unknown type
  std::string error;
  auto m = w.parse(&error);
  ASSERT_TRUE(m) << error;
  ASSERT_EQ(m->answers.size(), 8u);
  auto at = [&](size_t i) { return m->answers[i]; };
  EXPECT_EQ(at(0).name, "www.test");
  EXPECT_EQ(at(0).data, "10.1.2.3");
  EXPECT_EQ(at(0).ttl, 300u);
  EXPECT_EQ(at(0).klass, 1);
  EXPECT_EQ(at(1).name, "v6.www.test");
  EXPECT_EQ(at(1).data, "fd00::5");
  EXPECT_EQ(at(2).data, "web.test");
  EXPECT_EQ(at(3).data, "10 mail.test");
  EXPECT_EQ(at(4).data, R"("hello" "" "a\"b\\c \001")");
  EXPECT_EQ(at(5).data, "ns1.test");
  EXPECT_EQ(at(6).data, "www.test");
  EXPECT_EQ(at(7).type, 99);
  EXPECT_EQ(at(7).data, "\\# 3 DEAD01");
  ASSERT_EQ(m->authority.size(), 1u);
  EXPECT_EQ(m->authority[0].type, 98);
  EXPECT_EQ(m->authority[0].data, "\\# 0");
}

TEST(ParseDnsMessage, LabelEscapesAndRoot) {
  Wire w(kResponse, 1, 1);
  w.raw({3, 'a', '.', 'b', 2, ' ', '\\', 0}).u16(kTypeA).u16(1);
  w.raw({0}).rr(kTypeNs, 1, 1).raw({0});  // the root owns a record pointing at the root
  std::string error;
  auto m = w.parse(&error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->questions[0].name, "a\\.b.\\032\\\\");
  EXPECT_EQ(m->answers[0].name, ".");
  EXPECT_EQ(m->answers[0].data, ".");
}

TEST(ParseDnsMessage, CompressionChainsBackwards) {
  // "c.b.test" is written as label 'c' + pointer to "b.test", itself 'b' + pointer to "test".
  Wire w(kResponse, 1, 2);
  w.question("test", kTypeA);                              // name at 12: 4 test 0
  w.name("b", kQname).rr(kTypeA, 1, 4).raw({1, 1, 1, 1});  // owner "b.test" at 22
  w.name("c", 22).rr(kTypeA, 1, 4).raw({2, 2, 2, 2});
  std::string error;
  auto m = w.parse(&error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->answers[0].name, "b.test");
  EXPECT_EQ(m->answers[1].name, "c.b.test");
}

TEST(ParseDnsMessage, RejectsHostilePointers) {
  std::string error;
  {  // a pointer to itself
    Wire w(kResponse, 1, 0);
    w.u16(0xc000 | kQname).u16(1).u16(1);
    EXPECT_FALSE(w.parse(&error));
    EXPECT_NE(error.find("does not point backwards"), std::string::npos) << error;
  }
  {  // a forward pointer
    Wire w(kResponse, 1, 0);
    w.u16(0xc000 | 40).u16(1).u16(1);
    w.b.resize(60, 0);
    EXPECT_FALSE(w.parse(&error));
  }
  {  // two names pointing at each other: 12 -> 20 is forward, so rejected at once
    Wire w(kResponse, 2, 0);
    w.raw({1, 'a'}).u16(0xc000 | 20).u16(1).u16(1);  // 12..19
    w.raw({1, 'b'}).u16(0xc000 | 12).u16(1).u16(1);  // 20..27
    EXPECT_FALSE(w.parse(&error));
  }
  {  // a loop formed through labels: the pointer targets the start of its own run
    Wire w(kResponse, 1, 0);
    w.raw({1, 'a'}).u16(0xc000 | kQname).u16(1).u16(1);
    EXPECT_FALSE(w.parse(&error));
  }
  {  // a pointer cut in half at the end of the message
    Wire w(kResponse, 1, 0);
    w.raw({0xc0});
    EXPECT_FALSE(w.parse(&error));
    EXPECT_NE(error.find("truncated compression pointer"), std::string::npos) << error;
  }
  {  // reserved label types 01 and 10
    for (uint8_t bad : {0x40, 0x80}) {
      Wire w(kResponse, 1, 0);
      w.raw({bad, 'a', 0}).u16(1).u16(1);
      EXPECT_FALSE(w.parse(&error));
      EXPECT_NE(error.find("unsupported label type"), std::string::npos);
    }
  }
}

TEST(ParseDnsMessage, RejectsOverlongNames) {
  // Five 63-byte labels: 5 * 64 + 1 = 321 wire bytes > 255.
  Wire w(kResponse, 1, 0);
  for (int i = 0; i < 5; ++i) {
    w.b.push_back(63);
    w.b.insert(w.b.end(), 63, 'x');
  }
  w.raw({0}).u16(1).u16(1);
  std::string error;
  EXPECT_FALSE(w.parse(&error));
  EXPECT_NE(error.find("longer than 255"), std::string::npos) << error;
}

TEST(ParseDnsMessage, EveryTruncationFailsCleanly) {
  Wire w(kResponse, 1, 3);
  w.question("www.test", kTypeA);
  w.name("", kQname).rr(kTypeCname, 5, 6).name("web", kQname + 4);
  w.name("web", kQname + 4).rr(kTypeA, 300, 4).raw({10, 1, 2, 3});
  w.name("", kQname).rr(kTypeTxt, 8, 4).raw({3, 'a', 'b', 'c'});
  ASSERT_TRUE(w.parse());
  for (size_t len = 0; len < w.b.size(); ++len) {
    std::vector<uint8_t> cut(w.b.begin(), w.b.begin() + len);
    EXPECT_FALSE(parse_dns_message(cut)) << "prefix of " << len << " bytes";
  }
}

TEST(ParseDnsMessage, RejectsBadRdata) {
  std::string error;
  {  // A with 5 bytes
    Wire w(kResponse, 0, 1);
    w.name("a").rr(kTypeA, 1, 5).raw({1, 2, 3, 4, 5});
    EXPECT_FALSE(w.parse(&error));
    EXPECT_NE(error.find("wrong length"), std::string::npos);
  }
  {  // AAAA with 4
    Wire w(kResponse, 0, 1);
    w.name("a").rr(kTypeAaaa, 1, 4).raw({1, 2, 3, 4});
    EXPECT_FALSE(w.parse(&error));
  }
  {  // a CNAME whose name stops before its rdata ends
    Wire w(kResponse, 0, 1);
    w.name("a").rr(kTypeCname, 1, 4).raw({1, 'b', 0, 0});
    EXPECT_FALSE(w.parse(&error));
    EXPECT_NE(error.find("does not fill"), std::string::npos);
  }
  {  // a CNAME whose name runs beyond its rdata
    Wire w(kResponse, 0, 1);
    w.name("a").rr(kTypeCname, 1, 2).raw({1, 'b', 0});
    EXPECT_FALSE(w.parse(&error));
  }
  {  // an MX too short for its preference
    Wire w(kResponse, 0, 1);
    w.name("a").rr(kTypeMx, 1, 2).u16(10);
    EXPECT_FALSE(w.parse(&error));
  }
  {  // a TXT string longer than the record
    Wire w(kResponse, 0, 1);
    w.name("a").rr(kTypeTxt, 1, 3).raw({5, 'a', 'b'});
    EXPECT_FALSE(w.parse(&error));
  }
  {  // an empty TXT record
    Wire w(kResponse, 0, 1);
    w.name("a").rr(kTypeTxt, 1, 0);
    EXPECT_FALSE(w.parse(&error));
  }
  {  // rdlength beyond the message
    Wire w(kResponse, 0, 1);
    w.name("a").rr(kTypeA, 1, 40).raw({1, 2, 3, 4});
    EXPECT_FALSE(w.parse(&error));
    EXPECT_NE(error.find("runs past the end"), std::string::npos);
  }
}

TEST(ParseDnsMessage, HugeCountsOnTinyMessages) {
  Wire w(kResponse, 0xffff, 0xffff, 0xffff, 0xffff);
  EXPECT_FALSE(w.parse());
  EXPECT_FALSE(parse_dns_message(std::vector<uint8_t>(11, 0)));
}

TEST(BuildDnsQuery, Bytes) {
  auto q = build_dns_query("Ab.test.", kTypeMx, 0xbeef);
  std::vector<uint8_t> want = {0xbe, 0xef, 0x01, 0x00, 0,   1,   0,   0, 0, 0,  0, 0, 2,
                               'A',  'b',  4,    't',  'e', 's', 't', 0, 0, 15, 0, 1};
  EXPECT_EQ(q, want);
  EXPECT_TRUE(build_dns_query("bad..name", kTypeA, 1).empty());
  auto parsed = parse_dns_message(q);
  ASSERT_TRUE(parsed);
  EXPECT_FALSE(parsed->response);
  EXPECT_EQ(parsed->questions[0].name, "Ab.test");
}

TEST(QueryType, Parse) {
  EXPECT_EQ(parse_query_type("aaaa"), kTypeAaaa);
  EXPECT_EQ(parse_query_type("Mx"), kTypeMx);
  EXPECT_EQ(parse_query_type("PTR"), kTypePtr);
  EXPECT_EQ(parse_query_type("soa"), kTypeSoa);
  EXPECT_EQ(parse_query_type("SRV"), kTypeSrv);
  EXPECT_EQ(parse_query_type("caa"), kTypeCaa);
  EXPECT_EQ(parse_query_type("NAPTR"), kTypeNaptr);
  EXPECT_EQ(parse_query_type("https"), kTypeHttps);
  EXPECT_EQ(parse_query_type("SVCB"), kTypeSvcb);
  EXPECT_EQ(parse_query_type("TYPE65400"), 65400);
  EXPECT_EQ(parse_query_type("type1"), kTypeA);
  EXPECT_FALSE(parse_query_type("TYPE0"));
  EXPECT_FALSE(parse_query_type("TYPE41"));  // OPT is not a question
  EXPECT_FALSE(parse_query_type("TYPE65536"));
  EXPECT_FALSE(parse_query_type("TYPE"));
  EXPECT_FALSE(parse_query_type("TYPE1x"));
  EXPECT_FALSE(parse_query_type("ANY"));
  EXPECT_FALSE(parse_query_type(""));
  EXPECT_EQ(type_name(1234), "TYPE1234");
  EXPECT_EQ(type_name(kTypeCaa), "CAA");
}

std::vector<uint8_t> from_hex(std::string_view hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

// Replies captured from unbound 1.17 (serving these records as local-data), and what
// `dig +short` (BIND 9.18) printed for the same reply, trailing dots of names dropped.
TEST(ParseDnsMessage, RealRepliesRenderAsDigShowsThem) {
  struct Case {
    const char* hex;
    std::vector<std::string> dig;
  };
  const Case cases[] = {
      {"42428580000100010000000004746573740000060001c00c000600010000012c0027036e7331c00c0a686f73"
       "746d6173746572c00c78a3f17500000e100000038400093a800000012c",
       {"ns1.test hostmaster.test 2024010101 3600 900 604800 300"}},
      {"424285800001000100000000045f736970045f74637004746573740000210001c00c002100010000012c0010"
       "000a003c13c403736970047465737400",
       {"10 60 5060 sip.test"}},
      {"42428580000100020000000004746573740001010001c00c010100010000012c001e8005696f6465666d6169"
       "6c746f3a736563406578616d706c652e74657374c00c010100010000012c0016000569737375656c65747365"
       "6e63727970742e6f7267",
       {"128 iodef \"mailto:sec@example.test\"", "0 issue \"letsencrypt.org\""}},
      {"424285800001000100000000056e6170747204746573740000230001c00c002300010000012c002c0064000a"
       "0155074532552b7369701c215e2e2a24217369703a696e666f406578616d706c652e746573742100",
       {R"(100 10 "U" "E2U+sip" "!^.*$!sip:info@example.test!" .)"}},
      {"4242858000010001000000000373766304746573740000410001c00c004100010000012c002f000100000100"
       "060268320268330003000220fb000400040a01020300060010fd000000000000000000000000000005",
       {R"(1 . alpn="h2,h3" port=8443 ipv4hint=10.1.2.3 ipv6hint=fd00::5)"}},
      {"424285800001000100000000047376633204746573740000400001c00c004000010000012c002a0002037376"
       "63047465737400000000020001000100030268320002000000050003000102ff3500026869",
       {R"(2 svc.test mandatory=alpn alpn="h2" no-default-alpn ech=AAEC key65333="hi")"}},
      {"4242858000010001000000000472617732047465737400ff790001c00cff7900010000012c00280001020304"
       "05060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627",
       {R"(\# 40 000102030405060708090A0B0C0D0E0F101112131415161718191A1B 1C1D1E1F2021222324252627)"}},
      {"4242858000010001000000000374787404746573740000100001c00c001000010000012c001d116120227175"
       "6f7465642220737472696e670a73656d693b636f6c6f6e",
       {R"("a \"quoted\" string" "semi;colon")"}},
  };
  for (const Case& c : cases) {
    std::vector<uint8_t> bytes = from_hex(c.hex);
    std::string error;
    auto m = parse_dns_message(bytes, &error);
    ASSERT_TRUE(m) << c.hex << ": " << error;
    std::vector<std::string> got;
    for (const DnsRecord& rec : m->answers) got.push_back(rec.data);
    EXPECT_EQ(got, c.dig) << c.hex;
    // Every strict prefix is a clean failure, never a crash or a misread.
    for (size_t n = 0; n < bytes.size(); ++n)
      EXPECT_FALSE(parse_dns_message(std::span(bytes.data(), n))) << c.hex << " cut at " << n;
  }
}

TEST(ParseDnsMessage, MalformedNewTypesAreRejected) {
  struct Case {
    uint16_t type;
    std::vector<uint8_t> rdata;
  };
  const Case cases[] = {
      {kTypeSrv, {0, 1, 0, 2}},                     // no port, no target
      {kTypeSoa, {0, 0, 0, 0, 0, 1}},               // two roots, short numbers
      {kTypeCaa, {0, 9, 'i', 's'}},                 // tag longer than the record
      {kTypeCaa, {0, 2, 'i', '!'}},                 // tag not alphanumeric
      {kTypeNaptr, {0, 1, 0, 2, 5, 'U'}},           // flags string cut
      {kTypeSvcb, {0, 1, 0, 0, 3, 0, 3}},           // port param cut
      {kTypeHttps, {0, 1, 0, 0, 4, 0, 3, 0, 1}},    // ipv4hint of 3 bytes
      {kTypeHttps, {0, 1, 0, 0, 1, 0, 2, 5, 'h'}},  // alpn id runs past its value
      {kTypeSvcb, {0, 1, 0, 0, 2, 0, 1, 0}},        // no-default-alpn with a value
  };
  for (const Case& c : cases) {
    Wire w(kResponse, 1, 1);
    w.question("x.test", c.type);
    w.name("", kQname).rr(c.type, 1, static_cast<uint16_t>(c.rdata.size())).raw(c.rdata);
    std::string error;
    EXPECT_FALSE(w.parse(&error)) << c.type;
    EXPECT_FALSE(error.empty());
  }
}

DnsRecord record(std::string name, uint16_t type, uint32_t ttl, std::string data) {
  return {std::move(name), type, 1, ttl, std::move(data)};
}

TEST(SummarizeAnswers, FollowsChainToRecords) {
  DnsMessage m;
  m.answers = {
      record("www.test", kTypeCname, 100, "web.test"),
      record("WEB.test", kTypeCname, 50, "app.test"), record("app.test", kTypeA, 300, "10.1.2.3"),
      record("app.test", kTypeA, 20, "10.1.2.4"), record("other.test", kTypeA, 1, "10.9.9.9")};
  auto s = summarize_answers(m, "www.test", kTypeA);
  EXPECT_EQ(s.cname_chain, (std::vector<std::string>{"web.test", "app.test"}));
  ASSERT_EQ(s.records.size(), 2u);
  EXPECT_EQ(s.records[0].data, "10.1.2.3");
  EXPECT_EQ(s.records[1].data, "10.1.2.4");
  EXPECT_EQ(s.min_ttl, 20u);

  // Asking for the CNAME itself does not follow it.
  auto c = summarize_answers(m, "www.test", kTypeCname);
  EXPECT_TRUE(c.cname_chain.empty());
  ASSERT_EQ(c.records.size(), 1u);
  EXPECT_EQ(c.records[0].data, "web.test");
}

TEST(SummarizeAnswers, StopsOnLoopsAndNodata) {
  DnsMessage m;
  m.answers = {record("a.test", kTypeCname, 1, "b.test"),
               record("b.test", kTypeCname, 1, "a.test")};
  auto s = summarize_answers(m, "a.test", kTypeA);
  EXPECT_EQ(s.cname_chain, std::vector<std::string>{"b.test"});
  EXPECT_TRUE(s.records.empty());
  DnsMessage empty;
  auto e = summarize_answers(empty, "a.test", kTypeA);
  EXPECT_TRUE(e.records.empty());
  EXPECT_FALSE(e.min_ttl);
}

}  // namespace
}  // namespace netres::resolve
