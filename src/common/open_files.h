// The open-file limit policy shared by the verbs that hold many sockets (scan, load).
#pragma once

#include <cstdint>

namespace netres {

// Raises the soft RLIMIT_NOFILE towards `wanted` (never above the hard limit, never lowering it)
// and returns the soft limit now in force. Asking only for what the run needs, rather than
// always the hard limit, leaves child processes and the rest of the session the default they
// expect. Throws RuntimeError when the limit cannot be read.
uint64_t raise_open_file_limit(uint64_t wanted);

}  // namespace netres
