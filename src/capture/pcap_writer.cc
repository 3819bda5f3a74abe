// pcap and pcapng writing with a record-aligned buffer: a short write is undone back to the last
// whole record with ftruncate, so readers (tcpdump -r) never meet a torn record.
#include "capture/pcap_writer.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string_view>

#include "common/error.h"

namespace netres::capture {
namespace {

constexpr size_t kBufferSize = 256 * 1024;
constexpr size_t kDirectWriteSize = 16 * 1024;  // records this large skip the buffer
constexpr size_t kPcapHeaderSize = 24;
constexpr size_t kPcapRecordHeaderSize = 16;
// pcapng Enhanced Packet Block: type, length, interface, timestamp (2), captured and original
// length before the data; the data padded to 32 bits and the length again after it.
constexpr size_t kEpbHeaderSize = 28;
constexpr size_t kEpbTrailerSize = 4;
constexpr uint32_t kShbType = 0x0a0d0d0a;
constexpr uint32_t kIdbType = 1;
constexpr uint32_t kEpbType = 6;

void put_le32(std::vector<uint8_t>& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_le32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void put_le16(std::vector<uint8_t>& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}
// A pcapng option: code, length, value padded to 32 bits.
void put_option(std::vector<uint8_t>& b, uint16_t code, std::string_view value) {
  put_le16(b, code);
  put_le16(b, static_cast<uint16_t>(value.size()));
  b.insert(b.end(), value.begin(), value.end());
  b.resize(b.size() + (4 - value.size() % 4) % 4, 0);
}

// Closes a pcapng block that starts at `start` in `b`: end of options, then its length at
// both ends.
void end_block(std::vector<uint8_t>& b, size_t start, bool has_options) {
  if (has_options) put_option(b, 0, {});
  uint32_t length = static_cast<uint32_t>(b.size() - start + 4);
  put_le32(b, length);
  put_le32(b.data() + start + 4, length);
}

uint32_t get_le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

}  // namespace

CaptureFileFormat PcapWriter::format_for_path(const std::string& path) {
  return path.ends_with(".pcapng") ? CaptureFileFormat::kPcapng : CaptureFileFormat::kPcap;
}

std::string PcapWriter::file_name(const std::string& pattern, bool expand_time,
                                  std::chrono::system_clock::time_point when, unsigned index) {
  std::string base = pattern;
  if (expand_time && pattern.find('%') != std::string::npos) {
    std::time_t t = std::chrono::system_clock::to_time_t(when);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[4096];
    size_t n = std::strftime(buf, sizeof buf, pattern.c_str(), &tm);
    if (n > 0) base.assign(buf, n);
  }
  return index == 0 ? base : base + std::to_string(index);
}

PcapWriter::PcapWriter(PcapWriterOptions options) : options_(std::move(options)) {
  buffer_.reserve(kBufferSize);
  open_next();
}

PcapWriter::~PcapWriter() {
  try {
    close();
  } catch (...) {
    // Already reported by whoever called write() or close() before; nothing more to do here.
  }
}

void PcapWriter::open_next() {
  bool time_names =
      options_.rotate_interval.count() > 0 && options_.path.find('%') != std::string::npos;
  auto now = std::chrono::system_clock::now();
  if (time_names) {
    // Numbering restarts in every period, as the strftime part already tells periods apart.
    std::string expanded = file_name(options_.path, true, now, 0);
    if (expanded != last_expanded_) {
      last_expanded_ = expanded;
      file_index_ = 0;
    }
  }
  current_path_ = file_name(options_.path, time_names, now, file_index_);
  ++file_index_;
  fd_ = ::open(current_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw RuntimeError(fmt::format("cannot create '{}': {}", current_path_, std::strerror(errno)));
  files_.push_back(current_path_);
  opened_at_ = std::chrono::steady_clock::now();
  file_size_ = on_disk_ = 0;
  records_in_file_ = records_buffered_ = 0;
  buffer_.clear();
  if (options_.format == CaptureFileFormat::kPcapng) {
    // Section Header Block (our byte order, length unknown), then the one interface.
    put_le32(buffer_, kShbType);
    put_le32(buffer_, 0);  // length, set by end_block
    put_le32(buffer_, 0x1a2b3c4d);
    put_le16(buffer_, 1);
    put_le16(buffer_, 0);
    put_le32(buffer_, 0xffffffff);  // section length -1: not given
    put_le32(buffer_, 0xffffffff);
    put_option(buffer_, 4, "netres");  // shb_userappl
    end_block(buffer_, 0, true);
    size_t idb = buffer_.size();
    put_le32(buffer_, kIdbType);
    put_le32(buffer_, 0);
    put_le16(buffer_, static_cast<uint16_t>(options_.linktype));
    put_le16(buffer_, 0);
    put_le32(buffer_, static_cast<uint32_t>(options_.snaplen));
    if (!options_.interface_name.empty()) put_option(buffer_, 2, options_.interface_name);
    put_option(buffer_, 9, std::string_view("\x06", 1));  // if_tsresol: microseconds
    end_block(buffer_, idb, true);
  } else {
    put_le32(buffer_, 0xa1b2c3d4);  // microsecond timestamps, our byte order (little endian)
    put_le16(buffer_, 2);
    put_le16(buffer_, 4);
    put_le32(buffer_, 0);  // thiszone
    put_le32(buffer_, 0);  // sigfigs
    put_le32(buffer_, static_cast<uint32_t>(options_.snaplen));
    put_le32(buffer_, static_cast<uint32_t>(options_.linktype));
  }
  header_size_ = file_size_ = buffer_.size();
  // Write the header at once: a file that exists should be readable even before any packet.
  flush_buffer();
}

void PcapWriter::write(Timestamp ts, uint32_t wire_length, const uint8_t* data, uint32_t caplen) {
  if (failed_ || fd_ < 0) return;
  const bool pcapng = options_.format == CaptureFileFormat::kPcapng;
  const uint32_t padding = pcapng ? (4 - caplen % 4) % 4 : 0;
  const uint64_t record =
      pcapng ? kEpbHeaderSize + caplen + padding + kEpbTrailerSize : kPcapRecordHeaderSize + caplen;
  bool rotate = false;
  if (records_in_file_ > 0) {
    if (options_.rotate_size > 0 && file_size_ + record > options_.rotate_size) rotate = true;
    if (options_.rotate_interval.count() > 0 &&
        std::chrono::steady_clock::now() - opened_at_ >= options_.rotate_interval)
      rotate = true;
  }
  if (rotate) {
    close();
    open_next();
  }
  // A large packet (a GSO segment of 64k) is not copied into the buffer: it goes to the file
  // straight from the caller's memory, behind what is buffered, in one writev.
  bool direct = caplen >= kDirectWriteSize;
  if (!direct && buffer_.size() + record > kBufferSize) flush_buffer();
  uint8_t header[kEpbHeaderSize];
  size_t header_size;
  uint8_t trailer[3 + kEpbTrailerSize] = {};  // padding, then the block length again
  size_t trailer_size = 0;
  if (pcapng) {
    uint64_t micros = static_cast<uint64_t>(ts.seconds) * 1'000'000 + ts.micros;
    put_le32(header, kEpbType);
    put_le32(header + 4, static_cast<uint32_t>(record));
    put_le32(header + 8, 0);  // interface 0, the only one
    put_le32(header + 12, static_cast<uint32_t>(micros >> 32));
    put_le32(header + 16, static_cast<uint32_t>(micros));
    put_le32(header + 20, caplen);
    put_le32(header + 24, wire_length);
    header_size = kEpbHeaderSize;
    put_le32(trailer + padding, static_cast<uint32_t>(record));
    trailer_size = padding + kEpbTrailerSize;
  } else {
    put_le32(header, static_cast<uint32_t>(ts.seconds));
    put_le32(header + 4, ts.micros);
    put_le32(header + 8, caplen);
    put_le32(header + 12, wire_length);
    header_size = kPcapRecordHeaderSize;
  }
  buffer_.insert(buffer_.end(), header, header + header_size);
  if (!direct) {
    buffer_.insert(buffer_.end(), data, data + caplen);
    buffer_.insert(buffer_.end(), trailer, trailer + trailer_size);
  }
  file_size_ += record;
  ++records_in_file_;
  ++records_buffered_;
  ++packets_written_;
  if (direct) {
    flush_buffer({data, caplen}, {trailer, trailer_size});
  } else if (options_.packet_buffered || buffer_.size() >= kBufferSize) {
    flush_buffer();
  }
}

void PcapWriter::flush() {
  if (!failed_ && fd_ >= 0) flush_buffer();
}

void PcapWriter::close() {
  if (fd_ < 0) return;
  if (!failed_) flush_buffer();
  ::close(fd_);
  fd_ = -1;
}

void PcapWriter::flush_buffer(std::span<const uint8_t> tail, std::span<const uint8_t> trailer) {
  // Writes buffer_, then `tail` and `trailer`: the data and the end of the last record, whose
  // header ends buffer_.
  const std::span<const uint8_t> pieces[] = {buffer_, tail, trailer};
  size_t done = 0;
  const size_t total = buffer_.size() + tail.size() + trailer.size();
  while (done < total) {
    iovec iov[3];
    int count = 0;
    size_t skip = done;
    for (auto piece : pieces) {
      if (skip >= piece.size()) {
        skip -= piece.size();
        continue;
      }
      iov[count++] = {const_cast<uint8_t*>(piece.data()) + skip, piece.size() - skip};
      skip = 0;
    }
    ssize_t n = ::writev(fd_, iov, count);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int error = n < 0 ? errno : ENOSPC;
      on_disk_ += done;
      // Keep the records that made it whole; `done` counts bytes of this buffer on disk. The
      // buffer starts at a record boundary, or with the file header when the file is new.
      size_t keep = 0;
      uint64_t kept_records = 0;
      size_t pos = 0;
      if (on_disk_ - done == 0) {
        pos = header_size_;  // the header is in this buffer
        if (done < header_size_) {
          if (::ftruncate(fd_, 0) != 0) {
            // Nothing better to do: report the original error.
          }
          packets_written_ -= records_buffered_;
          fail(error);
        }
        keep = pos;
      }
      // A record's header is always in buffer_; only the last one's data may be in `tail`.
      const bool pcapng = options_.format == CaptureFileFormat::kPcapng;
      const size_t record_header = pcapng ? kEpbHeaderSize : kPcapRecordHeaderSize;
      while (pos + record_header <= buffer_.size()) {
        const uint8_t* h = buffer_.data() + pos;
        size_t end = pos + (pcapng ? get_le32(h + 4) : kPcapRecordHeaderSize + get_le32(h + 8));
        if (end > done) break;
        keep = end;
        pos = end;
        ++kept_records;
      }
      uint64_t file_end = on_disk_ - done + keep;
      if (::ftruncate(fd_, static_cast<off_t>(file_end)) != 0) {
        // Nothing better to do: report the original error.
      }
      packets_written_ -= records_buffered_ - kept_records;
      fail(error);
    }
    done += static_cast<size_t>(n);
  }
  on_disk_ += done;
  buffer_.clear();
  records_buffered_ = 0;
}

void PcapWriter::fail(int error) {
  failed_ = true;
  buffer_.clear();
  ::close(fd_);
  fd_ = -1;
  throw RuntimeError(fmt::format("writing '{}': {}; the {} packets written so far are kept",
                                 current_path_, std::strerror(error), packets_written_));
}

}  // namespace netres::capture
