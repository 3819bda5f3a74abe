// A strict pre-read of an OpenSSH client config. libssh's parser skips what it does not
// understand; OpenSSH refuses such a file, and so do we, before any host is contacted.
#pragma once

#include <string>
#include <string_view>

namespace netres::ssh {

// Throws UsageError "file:line: message" for unknown keywords, missing arguments, bad ports,
// unbalanced quotes. A missing file is fine when `required` is false (the default config).
void check_ssh_config_text(std::string_view text, std::string_view file);
void check_ssh_config_file(const std::string& path, bool required);

}  // namespace netres::ssh
