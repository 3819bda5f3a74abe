// Where passwords and passphrases come from: an environment variable or a no-echo prompt on
// the controlling terminal. Never argv, never logs.
#pragma once

#include <string>

namespace netres::ssh {

// The variable's value, or empty when unset.
std::string secret_from_env(const char* name);
// Prompts on /dev/tty with echo off. Throws UsageError when there is no terminal.
std::string prompt_secret(const std::string& prompt);

}  // namespace netres::ssh
