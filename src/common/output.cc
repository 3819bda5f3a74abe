// Table and NDJSON writers.
#include "common/output.h"

#include <algorithm>

namespace netres {
namespace {

// Display width of UTF-8 text: counts code points, not bytes, so names with accents align.
size_t display_width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

}  // namespace

Table::Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

void Table::add_row(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

void Table::print(std::FILE* out) const {
  std::vector<size_t> width(columns_.size());
  for (size_t c = 0; c < columns_.size(); ++c) width[c] = display_width(columns_[c].header);
  for (const auto& row : rows_)
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], display_width(row[c]));

  std::string line;
  auto emit = [&](const std::vector<std::string>& cells) {
    line.clear();
    for (size_t c = 0; c < cells.size(); ++c) {
      size_t pad = width[c] - display_width(cells[c]);
      bool last = c + 1 == cells.size();
      if (c > 0) line += "  ";
      if (columns_[c].right) line.append(pad, ' ');
      line += cells[c];
      if (!columns_[c].right && !last) line.append(pad, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), out);
  };
  std::vector<std::string> header;
  for (const auto& col : columns_) header.push_back(col.header);
  emit(header);
  for (const auto& row : rows_) emit(row);
}

void NdjsonWriter::write(const nlohmann::json& object) {
  // Replace invalid UTF-8 (banners, DNS TXT data) rather than throwing mid-run.
  std::string line = object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), out_);
}

}  // namespace netres
