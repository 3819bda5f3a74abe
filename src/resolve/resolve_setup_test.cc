// The resolve flags' checks and wording, and where names come from.
#include "resolve/resolve_setup.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "common/test_util.h"
#include "resolve/dns_message.h"

namespace netres::resolve {
namespace {

using test_util::usage_error;

TEST(ResolveOptionsFor, Defaults) {
  ResolveOptions o = options_for(ResolveFlags{});
  EXPECT_TRUE(o.types.empty());  // A and AAAA
  EXPECT_EQ(o.resolver.timeout, std::chrono::seconds(2));
  EXPECT_EQ(o.resolver.tries, 3);
  EXPECT_EQ(o.resolver.concurrency, 1000);
  EXPECT_EQ(o.resolver.servers, "");
}

TEST(ResolveOptionsFor, TypesKeepOrderWithoutDuplicates) {
  ResolveFlags f;
  f.types = {"MX", "a", "TYPE65", "MX"};
  f.servers = "127.0.0.1:53";
  EXPECT_EQ(options_for(f).types, (std::vector<uint16_t>{15, 1, 65}));
  EXPECT_EQ(options_for(f).resolver.servers, "127.0.0.1:53");
}

TEST(ResolveOptionsFor, BadValuesNameTheFlag) {
  ResolveFlags f;
  f.types = {"BOGUS"};
  EXPECT_EQ(usage_error([&] { options_for(f); }),
            "bad --type 'BOGUS': expected A, AAAA, CNAME, MX, TXT, NS, PTR, SOA, SRV, CAA, NAPTR, "
            "HTTPS, SVCB or TYPE<1-65535>");
  f = {};
  f.retries = 11;
  EXPECT_EQ(usage_error([&] { options_for(f); }), "bad --retries: expected 0-10");
  f.retries = -1;
  EXPECT_EQ(usage_error([&] { options_for(f); }), "bad --retries: expected 0-10");
  f = {};
  f.retries = 0;
  EXPECT_EQ(options_for(f).resolver.tries, 1);
  f.concurrency = 0;
  EXPECT_EQ(usage_error([&] { options_for(f); }), "bad --concurrency: expected 1-30000");
  f.concurrency = kMaxConcurrency + 1;
  EXPECT_EQ(usage_error([&] { options_for(f); }), "bad --concurrency: expected 1-30000");
  f.concurrency = kMaxConcurrency;
  EXPECT_EQ(options_for(f).resolver.concurrency, kMaxConcurrency);
  f = {};
  f.timeout = "soon";
  EXPECT_NE(usage_error([&] { options_for(f); }).find("--timeout"), std::string::npos);
}

TEST(GatherNames, ArgumentsThenFile) {
  auto path = std::filesystem::temp_directory_path() / "netres_resolve_setup_test.txt";
  std::ofstream(path) << "# names\nb.test\n\nc.test\n";
  ResolveFlags f;
  f.names = {"a.test", "10.0.0.1"};
  f.file = path.string();
  EXPECT_EQ(gather_names(f, true),
            (std::vector<std::string>{"a.test", "10.0.0.1", "b.test", "c.test"}));
  std::filesystem::remove(path);
}

TEST(GatherNames, ArgumentsAloneDoNotReadStdin) {
  ResolveFlags f;
  f.names = {"a.test"};
  EXPECT_EQ(gather_names(f, false), (std::vector<std::string>{"a.test"}));
}

TEST(GatherNames, BadArgumentIsUsageError) {
  ResolveFlags f;
  f.names = {"bad..name"};
  EXPECT_THROW(gather_names(f, false), UsageError);
}

TEST(GatherNames, NothingOnATerminalSaysWhatIsExpected) {
  EXPECT_EQ(usage_error([] { gather_names(ResolveFlags{}, true); }),
            "no names: give them as arguments, with -f FILE, or on stdin");
}

TEST(GatherNames, AnEmptyFileIsNoNames) {
  auto path = std::filesystem::temp_directory_path() / "netres_resolve_setup_empty.txt";
  std::ofstream(path) << "# nothing\n";
  ResolveFlags f;
  f.file = path.string();
  EXPECT_EQ(usage_error([&] { gather_names(f, true); }), "no names to resolve");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace netres::resolve
