#include "capture/capture_output.h"

#include <fmt/format.h>

namespace netres::capture {

void append_packet(TextBuffer& out, const PacketView& view, Timestamp ts, PrintStyle style) {
  if (style.json) {
    append_json(out, view, ts);
  } else {
    if (style.time) {
      append_time(out, ts);
      out.push_back(' ');
    }
    append_summary(out, view);
  }
  out.push_back('\n');
  if (style.hex && !style.json) append_hex_dump(out, view.bytes);
}

std::string source_line(const PcapSource& source) {
  if (source.is_live())
    return fmt::format("listening on {}, link-type {}, snapshot length {} bytes", source.name(),
                       source.linktype_description(), source.snaplen());
  return fmt::format("reading from file {}, link-type {}, snapshot length {}", source.name(),
                     source.linktype_description(), source.snaplen());
}

void print_counts(std::FILE* out, const CaptureResult& result, bool writing) {
  fmt::print(out, "{} packets captured\n", result.captured);
  if (result.stats) {
    fmt::print(out, "{} packets received by filter\n", result.stats->received);
    fmt::print(out, "{} packets dropped by kernel\n", result.stats->dropped_kernel);
    fmt::print(out, "{} packets dropped by interface\n", result.stats->dropped_interface);
    // The writer thread's queue was full (the disk slower than the link): like the kernel's
    // drops, counted rather than hidden.
    if (writing) fmt::print(out, "{} packets dropped by write queue\n", result.dropped_write_queue);
  }
  if (!result.files.empty()) {
    fmt::print(
        out, "{} packets written to {}{}\n", result.written, result.files.front(),
        result.files.size() > 1 ? fmt::format(" and {} more files", result.files.size() - 1) : "");
  }
}

}  // namespace netres::capture
