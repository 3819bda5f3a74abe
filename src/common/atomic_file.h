// Files that are either wholly old or wholly new: temp file in the same directory, fsync,
// rename, fsync of the directory. Used for ssh results and backups, load reports.
#pragma once

#include <string>
#include <string_view>

namespace netres {

// Throws RuntimeError with the path and errno text on failure; never leaves the temp file.
void write_file_atomically(const std::string& path, std::string_view data);

// mkdir -p with mode 0755; throws RuntimeError.
void make_directories(const std::string& path);

// A host name made safe as one path component ('/' and leading dots replaced).
std::string safe_file_name(std::string_view name);

}  // namespace netres
