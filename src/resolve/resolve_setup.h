// What the resolve verb decides before any query: the flags' texts checked and turned into
// ResolveOptions, and the names gathered from arguments, a file or stdin. Kept out of the CLI so
// each rule (and its error wording) has one home and a unit test.
#pragma once

#include <string>
#include <vector>

#include "resolve/bulk_resolve.h"

namespace netres::resolve {

// DNS ids are 16 bits; leave room to pick them at random.
constexpr int kMaxConcurrency = 30000;

// The resolve flags as given on the command line.
struct ResolveFlags {
  std::vector<std::string> names;
  std::string file;
  std::vector<std::string> types;
  std::string servers;
  std::string timeout = "2s";
  int retries = 2;
  int concurrency = 1000;
  bool json = false;
  bool stats = false;
  std::string shard;    // --shard K/N: the K-th of N contiguous shares of the names
  std::string results;  // --results FILE
};

// -t (duplicates dropped, order kept), -s, --timeout, --retries (0-10) and -c (1-30000).
// Throws UsageError naming the flag.
ResolveOptions options_for(const ResolveFlags& f);

// The names to resolve: the arguments (each checked), then -f FILE's lines. With neither, stdin
// is read, unless it is a terminal (`stdin_is_terminal`): waiting silently there looks like a
// hang, so that is a UsageError saying what is expected. No names at all is a UsageError too.
std::vector<std::string> gather_names(const ResolveFlags& f, bool stdin_is_terminal);

}  // namespace netres::resolve
