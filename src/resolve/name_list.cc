// Reading name lists from files and stdin.
#include "resolve/name_list.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include "common/error.h"
#include "resolve/dns_name.h"

namespace netres::resolve {

void check_input_name(std::string_view name, std::string_view where) {
  if (is_ip_literal(name)) return;
  check_name(name, where);
}

std::vector<std::string> read_names(std::istream& in, std::string_view source) {
  std::vector<std::string> names;
  std::string line;
  size_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    std::string_view entry = line;
    if (size_t hash = entry.find('#'); hash != std::string_view::npos)
      entry = entry.substr(0, hash);
    auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!entry.empty() && is_space(entry.front())) entry.remove_prefix(1);
    while (!entry.empty() && is_space(entry.back())) entry.remove_suffix(1);
    if (entry.empty()) continue;
    check_input_name(entry, fmt::format("{}:{}: ", source, line_number));
    names.emplace_back(entry);
  }
  if (in.bad()) throw UsageError(fmt::format("cannot read names from {}: read error", source));
  return names;
}

std::vector<std::string> read_name_file(const std::string& path) {
  if (path == "-") return read_names(std::cin, "<stdin>");
  std::ifstream file(path);
  if (!file)
    throw UsageError(fmt::format("cannot read names from '{}': {}", path, std::strerror(errno)));
  return read_names(file, path);
}

}  // namespace netres::resolve
