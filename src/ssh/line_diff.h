// Line diffs for configuration backups: Myers' O(ND) shortest edit script and GNU-style
// unified output (context 3 by default).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace netres::ssh {

struct DiffOp {
  enum Kind { kEqual, kDelete, kInsert };
  Kind kind;
  size_t a;  // index into the old lines (kEqual, kDelete)
  size_t b;  // index into the new lines (kEqual, kInsert)
};

// Splits on '\n'; a trailing newline does not make an extra empty line.
std::vector<std::string> split_lines(std::string_view text);

// A shortest edit script from `a` to `b`. Past `max_edits` differences it gives up on
// minimality and replaces the differing middle wholesale (still a correct script).
std::vector<DiffOp> diff_lines(const std::vector<std::string>& a, const std::vector<std::string>& b,
                               size_t max_edits = 4000);

// Unified diff ("--- from", "+++ to", "@@ -l,n +l,n @@" hunks); empty when equal.
std::string unified_diff(const std::vector<std::string>& a, const std::vector<std::string>& b,
                         std::string_view from_label, std::string_view to_label,
                         size_t context = 3);

struct DiffStat {
  size_t added = 0;
  size_t removed = 0;
};
DiffStat diff_stat(const std::vector<DiffOp>& ops);

}  // namespace netres::ssh
