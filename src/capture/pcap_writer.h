// PcapWriter: pcap or pcapng files (microsecond timestamps) with rotation by size or time.
// Written by hand rather than with pcap_dump so that a failed write (a full disk) can be cut back
// to the last complete record: whatever is on disk is always a valid capture.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "capture/packet_text.h"

namespace netres::capture {

enum class CaptureFileFormat {
  kPcap,    // classic pcap
  kPcapng,  // one Section Header Block, one Interface Description Block, Enhanced Packet Blocks
};

struct PcapWriterOptions {
  std::string path;  // may hold strftime patterns (UTC) when rotating by time
  int linktype = 1;
  int snaplen = 262144;
  uint64_t rotate_size = 0;                    // bytes per file; 0: no size limit
  std::chrono::nanoseconds rotate_interval{};  // 0: no time rotation
  bool packet_buffered = false;                // flush after every packet (like tcpdump -U)
  CaptureFileFormat format = CaptureFileFormat::kPcap;
  std::string interface_name{};  // pcapng: the interface block's if_name; empty: none
};

class PcapWriter {
 public:
  // Creates the first file. Throws RuntimeError if it cannot be created.
  explicit PcapWriter(PcapWriterOptions options);
  ~PcapWriter();  // close(), errors ignored
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // Appends one record, rotating first if the size or time limit says so. On a write error
  // (ENOSPC, EIO, ...) the file is cut back to its last complete record and closed, and
  // RuntimeError says how many packets it kept; later calls do nothing.
  void write(Timestamp ts, uint32_t wire_length, const uint8_t* data, uint32_t caplen);
  // Pushes buffered records to the file (throws like write()).
  void flush();
  // Flushes and closes the current file (throws like write()).
  void close();

  // Packets handed to write() that are in a file (or its buffer) and were not cut off.
  uint64_t packets_written() const { return packets_written_; }
  const std::vector<std::string>& files() const { return files_; }

  // "base", "base1", "base2", ... like tcpdump -C; strftime patterns expanded first.
  // pcapng for names ending in ".pcapng", else pcap.
  static CaptureFileFormat format_for_path(const std::string& path);

  static std::string file_name(const std::string& pattern, bool expand_time,
                               std::chrono::system_clock::time_point when, unsigned index);

 private:
  void open_next();
  void flush_buffer(std::span<const uint8_t> tail = {}, std::span<const uint8_t> trailer = {});
  [[noreturn]] void fail(int error);

  PcapWriterOptions options_;
  int fd_ = -1;
  bool failed_ = false;
  std::string current_path_;
  std::vector<uint8_t> buffer_;
  size_t header_size_ = 0;  // the file's header: pcap header, or pcapng SHB + IDB
  uint64_t file_size_ = 0;  // bytes in the file, buffered ones included
  uint64_t on_disk_ = 0;    // bytes known to be written
  uint64_t records_in_file_ = 0;
  uint64_t records_buffered_ = 0;
  uint64_t packets_written_ = 0;
  unsigned file_index_ = 0;  // overall for plain names, per period with strftime names
  std::string last_expanded_;
  std::chrono::steady_clock::time_point opened_at_{};
  std::vector<std::string> files_;
};

}  // namespace netres::capture
