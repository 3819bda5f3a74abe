// known_hosts matching: patterns, negation, hashed names, markers, duplicate-free learning.
#include "ssh/known_hosts.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace netres::ssh {
namespace {

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& text) {
    path = (std::filesystem::temp_directory_path() /
            ("netres-kh-" + std::to_string(::getpid()) + "-" + std::to_string(counter++)))
               .string();
    std::ofstream(path) << text;
  }
  ~TempFile() { std::filesystem::remove(path); }
  static inline int counter = 0;
};

TEST(KnownHosts, Names) {
  EXPECT_EQ(known_hosts_name("10.0.0.1", 22), "10.0.0.1");
  EXPECT_EQ(known_hosts_name("127.0.0.1", 2201), "[127.0.0.1]:2201");
}

TEST(KnownHosts, Patterns) {
  EXPECT_TRUE(known_hosts_field_matches("a,b,[127.0.0.1]:2201", "[127.0.0.1]:2201"));
  EXPECT_TRUE(known_hosts_field_matches("*.lab,!bad.lab", "r1.LAB"));
  EXPECT_FALSE(known_hosts_field_matches("*.lab,!bad.lab", "bad.lab"));
  EXPECT_FALSE(known_hosts_field_matches("[127.0.0.1]:2201", "127.0.0.1"));
  std::string hashed = hash_known_hosts_name("[h]:22");
  EXPECT_TRUE(hashed.starts_with("|1|"));
  EXPECT_TRUE(known_hosts_field_matches(hashed, "[h]:22"));
  EXPECT_FALSE(known_hosts_field_matches(hashed, "[h]:23"));
  EXPECT_FALSE(known_hosts_field_matches("|1|garbage", "h"));
}

TEST(KnownHosts, Check) {
  TempFile a("# comment\n\nother ssh-ed25519 AAAA\n[h]:2201 ssh-ed25519 OLD\n");
  TempFile b("h2,[h]:2201 ssh-ed25519 NEW\n@revoked * ssh-ed25519 BAD\nbroken\n");
  auto r = check_known_hosts({a.path, b.path}, "[h]:2201", "ssh-ed25519", "NEW");
  EXPECT_EQ(r.kind, KnownHostsCheck::kOk);  // one matching key is enough
  r = check_known_hosts({a.path}, "[h]:2201", "ssh-ed25519", "NEW");
  EXPECT_EQ(r.kind, KnownHostsCheck::kChanged);
  EXPECT_EQ(r.file, a.path);
  EXPECT_EQ(r.line, 4u);
  EXPECT_EQ(r.entry_host, "[h]:2201");
  r = check_known_hosts({a.path}, "[h]:2201", "ssh-rsa", "X");
  EXPECT_EQ(r.kind, KnownHostsCheck::kOtherType);
  EXPECT_EQ(check_known_hosts({a.path, "/nonexistent"}, "nobody", "ssh-rsa", "X").kind,
            KnownHostsCheck::kUnknown);
  EXPECT_EQ(check_known_hosts({b.path}, "anything", "ssh-ed25519", "BAD").kind,
            KnownHostsCheck::kRevoked);
  EXPECT_EQ(known_key_types({a.path, b.path}, "[h]:2201"), std::vector<std::string>{"ssh-ed25519"});
}

TEST(KnownHosts, LearnOnceUnderParallelWriters) {
  TempFile f("");
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i)
    threads.emplace_back([&] { learn_host_key(f.path, "[h]:2201", "ssh-ed25519", "K", false); });
  for (auto& t : threads) t.join();
  std::ifstream in(f.path);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), "[h]:2201 ssh-ed25519 K\n");
  EXPECT_EQ(learn_host_key(f.path, "[h]:2201", "ssh-ed25519", "L", false).kind,
            KnownHostsCheck::kChanged);
}

}  // namespace
}  // namespace netres::ssh
