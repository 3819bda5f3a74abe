// hosts(5) lookups: what the C library answers for a name before asking DNS. netres's resolver
// talks only to DNS servers; callers that resolve configured hostnames (the monitor) look here
// first so `localhost` and local overrides work as users expect.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace netres::resolve {

// The addresses of `name` in a hosts file's text: every line whose host names (compared as DNS
// names: ASCII case-insensitive, a trailing dot ignored) include it, IPv4 before IPv6, each
// once, in file order. Comments (#) and lines without a valid address are skipped.
std::vector<std::string> hosts_file_addresses(std::string_view text, std::string_view name);

// The text of a hosts file (at most 1 MiB), or empty when it cannot be read.
std::string read_hosts_file(const std::string& path = "/etc/hosts");

}  // namespace netres::resolve
