// Myers diff with per-round snapshots of the furthest-reaching paths for backtracking, after
// trimming the common prefix and suffix (configs usually differ in a few lines).
#include "ssh/line_diff.h"

#include <fmt/format.h>

#include <algorithm>

namespace netres::ssh {

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    out.emplace_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

namespace {

// Myers on a[a0..a1) x b[b0..b1); appends ops. Returns false if more than max_edits needed.
bool myers(const std::vector<std::string>& a, size_t a0, size_t a1,
           const std::vector<std::string>& b, size_t b0, size_t b1, size_t max_edits,
           std::vector<DiffOp>& out) {
  const long n = static_cast<long>(a1 - a0), m = static_cast<long>(b1 - b0);
  const long max = std::min<long>(n + m, static_cast<long>(max_edits));
  const long offset = max + 1;
  std::vector<long> v(2 * max + 3, 0);
  std::vector<std::vector<long>> trace;  // v before round d, only the 2d+1 live diagonals
  long found = -1;
  for (long d = 0; d <= max; ++d) {
    trace.emplace_back(v.begin() + (offset - d), v.begin() + (offset + d + 1));
    for (long k = -d; k <= d; k += 2) {
      long x;
      if (k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]))
        x = v[offset + k + 1];  // down: insertion
      else
        x = v[offset + k - 1] + 1;  // right: deletion
      long y = x - k;
      while (x < n && y < m && a[a0 + x] == b[b0 + y]) ++x, ++y;
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
    if (found >= 0) break;
  }
  if (found < 0) return false;
  // Backtrack from (n, m) through the snapshots.
  std::vector<DiffOp> rev;
  long x = n, y = m;
  for (long d = found; d > 0; --d) {
    const auto& vd = trace[d];  // v as it was before round d: diagonals -(d-1)..(d-1) live
    auto at = [&](long k) { return vd[k + d]; };
    long k = x - y;
    long prev_k;
    if (k == -d || (k != d && at(k - 1) < at(k + 1)))
      prev_k = k + 1;
    else
      prev_k = k - 1;
    long prev_x = at(prev_k), prev_y = prev_x - prev_k;
    while (x > prev_x && y > prev_y) {
      --x, --y;
      rev.push_back({DiffOp::kEqual, a0 + x, b0 + y});
    }
    if (x == prev_x)
      rev.push_back({DiffOp::kInsert, a0 + x, b0 + prev_y}), y = prev_y;
    else
      rev.push_back({DiffOp::kDelete, a0 + prev_x, b0 + y}), x = prev_x;
  }
  while (x > 0 && y > 0) {
    --x, --y;
    rev.push_back({DiffOp::kEqual, a0 + x, b0 + y});
  }
  out.insert(out.end(), rev.rbegin(), rev.rend());
  return true;
}

}  // namespace

std::vector<DiffOp> diff_lines(const std::vector<std::string>& a, const std::vector<std::string>& b,
                               size_t max_edits) {
  std::vector<DiffOp> ops;
  size_t pre = 0;
  while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) ++pre;
  size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre &&
         a[a.size() - 1 - suf] == b[b.size() - 1 - suf])
    ++suf;
  for (size_t i = 0; i < pre; ++i) ops.push_back({DiffOp::kEqual, i, i});
  size_t a1 = a.size() - suf, b1 = b.size() - suf;
  if (!myers(a, pre, a1, b, pre, b1, max_edits, ops)) {
    for (size_t i = pre; i < a1; ++i) ops.push_back({DiffOp::kDelete, i, pre});
    for (size_t j = pre; j < b1; ++j) ops.push_back({DiffOp::kInsert, a1, j});
  }
  for (size_t i = 0; i < suf; ++i) ops.push_back({DiffOp::kEqual, a1 + i, b1 + i});
  return ops;
}

DiffStat diff_stat(const std::vector<DiffOp>& ops) {
  DiffStat s;
  for (const auto& op : ops) {
    if (op.kind == DiffOp::kInsert) ++s.added;
    if (op.kind == DiffOp::kDelete) ++s.removed;
  }
  return s;
}

namespace {

std::string range(size_t start, size_t count) {
  // GNU diff: a one-line range omits the count; an empty range names the line before it.
  if (count == 1) return fmt::format("{}", start + 1);
  if (count == 0) return fmt::format("{},0", start);
  return fmt::format("{},{}", start + 1, count);
}

}  // namespace

std::string unified_diff(const std::vector<std::string>& a, const std::vector<std::string>& b,
                         std::string_view from_label, std::string_view to_label, size_t context) {
  auto ops = diff_lines(a, b);
  std::vector<size_t> changes;
  for (size_t i = 0; i < ops.size(); ++i)
    if (ops[i].kind != DiffOp::kEqual) changes.push_back(i);
  if (changes.empty()) return "";
  std::string out = fmt::format("--- {}\n+++ {}\n", from_label, to_label);
  size_t c = 0;
  while (c < changes.size()) {
    size_t first = changes[c], last = changes[c];
    while (c + 1 < changes.size() && changes[c + 1] - last <= 2 * context + 1) last = changes[++c];
    ++c;
    size_t lo = first >= context ? first - context : 0;
    size_t hi = std::min(ops.size(), last + context + 1);
    size_t a_start = ops[lo].a, b_start = ops[lo].b, a_count = 0, b_count = 0;
    std::string body;
    for (size_t i = lo; i < hi; ++i) {
      const auto& op = ops[i];
      if (op.kind == DiffOp::kEqual) {
        body += " " + a[op.a] + "\n";
        ++a_count, ++b_count;
      } else if (op.kind == DiffOp::kDelete) {
        body += "-" + a[op.a] + "\n";
        ++a_count;
      } else {
        body += "+" + b[op.b] + "\n";
        ++b_count;
      }
    }
    out += fmt::format("@@ -{} +{} @@\n", range(a_start, a_count), range(b_start, b_count));
    out += body;
  }
  return out;
}

}  // namespace netres::ssh
