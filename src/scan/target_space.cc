// Target parsing, exclusion and indexing.
#include "scan/target_space.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <set>

#include "common/error.h"
#include "common/text.h"

namespace netres::scan {
namespace {

std::string with_origin(const std::string& origin, const std::string& message) {
  return origin.empty() ? message : origin + ": " + message;
}

void check_size(uint128 hosts, const std::string& what, const std::string& origin) {
  if (hosts > kMaxHosts) {
    throw UsageError(with_origin(
        origin, fmt::format("{} is too large: {} addresses (the limit is {}, a /8 or an IPv6 "
                            "/104); split it into smaller blocks",
                            what, format_count(hosts), kMaxHosts)));
  }
}

// Parses one item into `ranges`, or records it as a hostname.
void parse_item(const TargetText& item, std::vector<AddressRange>& ranges,
                std::vector<const TargetText*>& names) {
  std::optional<AddressRange> range;
  try {
    range = parse_address_spec(item.text);
  } catch (const UsageError& e) {
    throw UsageError(with_origin(item.origin, e.what()));
  }
  if (range) {
    check_size(range->size(), fmt::format("target '{}'", item.text), item.origin);
    ranges.push_back(*range);
  } else if (looks_like_hostname(item.text)) {
    names.push_back(&item);
  } else {
    throw UsageError(with_origin(
        item.origin,
        fmt::format("bad target '{}': not an address, CIDR block, range or hostname", item.text)));
  }
}

}  // namespace

std::vector<TargetText> split_target_list(std::string_view arg, std::string_view origin) {
  std::vector<TargetText> out;
  size_t start = 0;
  while (start <= arg.size()) {
    size_t end = arg.find_first_of(", \t", start);
    if (end == std::string_view::npos) end = arg.size();
    if (end > start)
      out.push_back({std::string(arg.substr(start, end - start)), std::string(origin)});
    start = end + 1;
  }
  return out;
}

std::vector<TargetText> read_target_file(const std::string& path) {
  std::ifstream file;
  std::istream* in = open_list(path, file);
  if (!in)
    throw UsageError(fmt::format("cannot read target list '{}': {}", path, std::strerror(errno)));
  std::vector<TargetText> out;
  for (const auto& line : read_list_lines(*in)) {
    auto items = split_target_list(line.text, fmt::format("{}:{}", path, line.number));
    out.insert(out.end(), items.begin(), items.end());
  }
  if (in->bad()) throw UsageError(fmt::format("cannot read target list '{}': read error", path));
  return out;
}

TargetSpace::TargetSpace(std::vector<AddressRange> ranges, PortSet ports,
                         std::map<IpAddress, std::string> names)
    : ranges_(normalize_ranges(std::move(ranges))),
      ports_(std::move(ports)),
      names_(std::move(names)) {
  for (const auto& r : ranges_) {
    starts_.push_back(host_count_);
    uint128 size = r.size();
    host_count_ = size > kMaxHosts || host_count_ + size > kMaxHosts
                      ? kMaxHosts + 1
                      : host_count_ + static_cast<uint64_t>(size);
  }
}

IpAddress TargetSpace::host(uint64_t index) const {
  auto it = std::upper_bound(starts_.begin(), starts_.end(), index);
  size_t r = static_cast<size_t>(it - starts_.begin()) - 1;
  return ranges_[r].at(index - starts_[r]);
}

const std::string& TargetSpace::name_of(const IpAddress& a) const {
  static const std::string kNone;
  auto it = names_.find(a);
  return it == names_.end() ? kNone : it->second;
}

TargetSpaceBuild build_target_space(const std::vector<TargetText>& targets,
                                    const std::vector<TargetText>& excludes, PortSet ports,
                                    const NameResolver& resolve) {
  if (targets.empty())
    throw UsageError("no targets: give addresses, CIDR blocks, ranges, hostnames or -iL FILE");
  if (ports.empty()) throw UsageError("no ports to scan");
  std::vector<AddressRange> target_ranges, exclude_ranges;
  std::vector<const TargetText*> target_names, exclude_names;
  for (const auto& t : targets) parse_item(t, target_ranges, target_names);
  for (const auto& x : excludes) parse_item(x, exclude_ranges, exclude_names);

  TargetSpaceBuild build;
  std::map<IpAddress, std::string> labels;
  std::vector<std::string> lookup;
  std::set<std::string> seen;
  for (const auto* list : {&target_names, &exclude_names})
    for (const auto* t : *list)
      if (seen.insert(t->text).second) lookup.push_back(t->text);
  if (!lookup.empty()) {
    std::set<std::string> excluded_names;
    for (const auto* x : exclude_names) excluded_names.insert(x->text);
    std::set<std::string> targeted_names;
    for (const auto* t : target_names) targeted_names.insert(t->text);
    for (auto& answer : resolve(lookup)) {
      bool is_target = targeted_names.count(answer.name) > 0;
      if (excluded_names.count(answer.name)) {
        for (const auto& a : answer.addresses)
          exclude_ranges.push_back({a.family, a.value, a.value});
      }
      if (!is_target) continue;
      if (answer.addresses.empty()) {
        if (answer.error.empty()) answer.error = "no addresses";
        build.unresolved.push_back(std::move(answer));
        continue;
      }
      for (const auto& a : answer.addresses) {
        target_ranges.push_back({a.family, a.value, a.value});
        labels.emplace(a, answer.name);
      }
    }
  }

  auto before = normalize_ranges(target_ranges);
  uint128 before_count = 0;
  for (const auto& r : before) before_count += r.size();
  auto after = subtract_ranges(before, exclude_ranges);
  uint128 after_count = 0;
  for (const auto& r : after) after_count += r.size();
  if (after.empty()) {
    if (!excludes.empty() && before_count > 0) throw UsageError("no targets left after --exclude");
    // Every target was a hostname that failed: the caller reports them and exits 1.
    build.space = TargetSpace({}, std::move(ports), {});
    return build;
  }
  check_size(after_count, "the target space", "");
  build.excluded_hosts = static_cast<uint64_t>(before_count - after_count);
  build.space = TargetSpace(std::move(after), std::move(ports), std::move(labels));
  return build;
}

}  // namespace netres::scan
