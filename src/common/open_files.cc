// The open-file limit policy.
#include "common/open_files.h"

#include <sys/resource.h>

#include <algorithm>

#include "common/error.h"

namespace netres {

uint64_t raise_open_file_limit(uint64_t wanted) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) throw RuntimeError("cannot read the open file limit");
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < wanted) {
    rlimit want = lim;
    // RLIM_INFINITY compares above any wanted value, so an unlimited hard limit gives `wanted`
    // (which must stay finite: the kernel caps the soft limit at fs.nr_open).
    want.rlim_cur = std::min<rlim_t>(wanted, lim.rlim_max);
    if (setrlimit(RLIMIT_NOFILE, &want) == 0) lim = want;
  }
  return lim.rlim_cur == RLIM_INFINITY ? UINT64_MAX : static_cast<uint64_t>(lim.rlim_cur);
}

}  // namespace netres
