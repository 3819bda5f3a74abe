// Output writers shared by every verb: aligned tables for people, NDJSON for programs.
// Results go to stdout; progress, warnings and logs go to stderr (see terminal.h).
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace netres {

// An aligned text table. Columns are left aligned unless marked right aligned (numbers).
class Table {
 public:
  struct Column {
    std::string header;
    bool right = false;
  };
  explicit Table(std::vector<Column> columns);

  void add_row(std::vector<std::string> cells);
  size_t rows() const { return rows_.size(); }
  // Prints the header and rows, two spaces between columns, no trailing blanks.
  void print(std::FILE* out) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// One JSON object per line. Field names are stable and documented in docs/<verb>.md.
class NdjsonWriter {
 public:
  explicit NdjsonWriter(std::FILE* out) : out_(out) {}
  void write(const nlohmann::json& object);
  void flush() { std::fflush(out_); }

 private:
  std::FILE* out_;
};

}  // namespace netres
