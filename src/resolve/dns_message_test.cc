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
  w.name("test").rr(kTypeSoa, 12, 0);  // authority, empty rdata rendered generically
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
  EXPECT_EQ(at(7).data, "\\# 3 dead01");
  ASSERT_EQ(m->authority.size(), 1u);
  EXPECT_EQ(m->authority[0].type, kTypeSoa);
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
  EXPECT_FALSE(parse_query_type("SOA"));
  EXPECT_FALSE(parse_query_type(""));
  EXPECT_EQ(type_name(1234), "TYPE1234");
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
