// Errors and exit codes shared by every verb. Bad input throws UsageError (exit 2), an
// environment problem throws RuntimeError (exit 3); both are caught once, in cli/main.cc.
#pragma once

#include <stdexcept>
#include <string>

namespace netres {

enum ExitCode : int {
  kExitOk = 0,       // all good
  kExitFailed = 1,   // ran fine, but something failed (a host unreachable, a threshold missed)
  kExitUsage = 2,    // bad usage or bad input file
  kExitRuntime = 3,  // runtime error (permission, missing interface, out of file descriptors)
};

// Bad flags, arguments or input files. The message is one user-facing line without the
// "netres: verb:" prefix, which main adds.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The environment failed us: permissions, resources, a library that refused to start.
class RuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace netres
