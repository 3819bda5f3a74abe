// Reading name lists from files and stdin.
#include "resolve/name_list.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include "common/error.h"
#include "common/text.h"
#include "resolve/dns_name.h"

namespace netres::resolve {

void check_input_name(std::string_view name, std::string_view where) {
  if (is_ip_literal(name)) return;
  check_name(name, where);
}

std::vector<std::string> read_names(std::istream& in, std::string_view source) {
  std::vector<std::string> names;
  for (auto& line : read_list_lines(in)) {
    check_input_name(line.text, fmt::format("{}:{}: ", source, line.number));
    names.push_back(std::move(line.text));
  }
  if (in.bad()) throw UsageError(fmt::format("cannot read names from {}: read error", source));
  return names;
}

std::vector<std::string> read_name_file(const std::string& path) {
  std::ifstream file;
  std::istream* in = open_list(path, file);
  if (!in)
    throw UsageError(fmt::format("cannot read names from '{}': {}", path, std::strerror(errno)));
  return read_names(*in, path == "-" ? std::string("<stdin>") : path);
}

}  // namespace netres::resolve
