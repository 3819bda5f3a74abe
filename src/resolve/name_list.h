// Name lists as users give them: one name or address per line, blank lines and '#' comments
// skipped, each entry checked so a bad one is reported with its file and line.
#pragma once

#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace netres::resolve {

// Accepts an IP literal (it will get a PTR lookup) or a valid hostname; throws UsageError
// "<where>bad name 'x': why" otherwise.
void check_input_name(std::string_view name, std::string_view where = {});

// Reads and checks names from `in`; `source` names it in errors ("names.txt" -> "names.txt:3: ").
std::vector<std::string> read_names(std::istream& in, std::string_view source);

// The same for a file, "-" meaning stdin. Throws UsageError if the file cannot be read.
std::vector<std::string> read_name_file(const std::string& path);

}  // namespace netres::resolve
