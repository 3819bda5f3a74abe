#include "resolve/resolve_setup.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "common/duration.h"
#include "common/error.h"
#include "resolve/dns_message.h"
#include "resolve/name_list.h"

namespace netres::resolve {
namespace {
const std::string kStdin = "-";  // read_name_file's name for stdin
}  // namespace

ResolveOptions options_for(const ResolveFlags& f) {
  ResolveOptions o;
  for (const std::string& text : f.types) {
    auto type = parse_query_type(text);
    if (!type)
      throw UsageError(
          fmt::format("bad --type '{}': expected A, AAAA, CNAME, MX, TXT, NS, PTR, SOA, SRV, CAA, "
                      "NAPTR, HTTPS, SVCB or TYPE<1-65535>",
                      text));
    if (std::find(o.types.begin(), o.types.end(), *type) == o.types.end()) o.types.push_back(*type);
  }
  o.resolver.servers = f.servers;
  o.resolver.timeout = parse_duration(f.timeout, "--timeout");
  if (f.retries < 0 || f.retries > 10) throw UsageError("bad --retries: expected 0-10");
  o.resolver.tries = f.retries + 1;
  if (f.concurrency < 1 || f.concurrency > kMaxConcurrency)
    throw UsageError(fmt::format("bad --concurrency: expected 1-{}", kMaxConcurrency));
  o.resolver.concurrency = f.concurrency;
  return o;
}

std::vector<std::string> gather_names(const ResolveFlags& f, bool stdin_is_terminal) {
  std::vector<std::string> names;
  for (const std::string& name : f.names) {
    check_input_name(name);
    names.push_back(name);
  }
  const bool from_stdin = f.file.empty() && names.empty();
  if (from_stdin && stdin_is_terminal)
    throw UsageError("no names: give them as arguments, with -f FILE, or on stdin");
  const std::string& file = from_stdin ? kStdin : f.file;
  if (!file.empty()) {
    std::vector<std::string> more = read_name_file(file);
    names.insert(names.end(), std::make_move_iterator(more.begin()),
                 std::make_move_iterator(more.end()));
  }
  if (names.empty()) throw UsageError("no names to resolve");
  return names;
}

}  // namespace netres::resolve
