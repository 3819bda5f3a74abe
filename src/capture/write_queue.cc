// The capture thread copies each packet, with a small header, into the current buffer and hands
// full buffers over under a mutex: one lock per buffer (about 15 whole 64 kB TCP segments, or
// 10,000 small packets), never one per packet. The writer thread turns the records into pcap or
// pcapng with PcapWriter, which keeps every guarantee it had (whole records, rotation, cut back
// on a failed write).
#include "capture/write_queue.h"

#include <signal.h>

#include <algorithm>
#include <cstring>

namespace netres::capture {
namespace {

// What the capture thread stores in front of each packet; records are 8-byte aligned.
struct RecordHeader {
  int64_t seconds;
  uint32_t micros;
  uint32_t wire_length;
  uint32_t caplen;
  uint32_t unused;
};
static_assert(sizeof(RecordHeader) == 24);

constexpr size_t align8(size_t n) { return (n + 7) & ~size_t{7}; }
constexpr size_t record_size(uint32_t caplen) { return sizeof(RecordHeader) + align8(caplen); }

}  // namespace

QueuedPcapWriter::QueuedPcapWriter(PcapWriterOptions writer_options,
                                   WriteQueueOptions queue_options)
    : writer_(std::move(writer_options)), options_(queue_options) {
  // The largest record the snaplen allows must fit in one buffer. (writer_options was moved
  // from, but a move leaves its int members as they were.)
  const size_t largest = record_size(static_cast<uint32_t>(std::max(writer_options.snaplen, 0)));
  if (options_.buffer_size < largest) options_.buffer_size = largest;
  if (options_.max_buffers < 2) options_.max_buffers = 2;
  // Signals belong to the capture loop (its handler breaks libpcap's loop and wakes its poll):
  // the writer thread inherits a mask that blocks them.
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  thread_ = std::thread([this] { run(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

QueuedPcapWriter::~QueuedPcapWriter() {
  try {
    close();
  } catch (...) {
    // Reported by whoever called write() or close() before; nothing more to do here.
  }
  if (thread_.joinable()) {  // close() threw before joining: cannot happen, but never leak it
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    work_ready_.notify_all();
    thread_.join();
  }
}

bool QueuedPcapWriter::take_free_buffer(std::unique_lock<std::mutex>& lock, bool wait) {
  for (;;) {
    if (failed_.load()) return false;
    if (!free_.empty()) {
      current_ = std::move(free_.back());
      free_.pop_back();
      return true;
    }
    if (allocated_ < options_.max_buffers) {
      ++allocated_;
      lock.unlock();
      auto buffer = std::make_unique<Buffer>();
      buffer->bytes = std::make_unique_for_overwrite<uint8_t[]>(options_.buffer_size);
      current_ = std::move(buffer);
      lock.lock();
      return true;
    }
    if (!wait) return false;
    buffer_freed_.wait(lock, [this] { return !free_.empty() || failed_.load(); });
  }
}

void QueuedPcapWriter::write(Timestamp ts, uint32_t wire_length, const uint8_t* data,
                             uint32_t caplen) {
  if (failed_.load(std::memory_order_relaxed)) check();
  // libpcap keeps caplen within the snaplen the buffers were sized for; never overrun anyway.
  if (record_size(caplen) > options_.buffer_size)
    caplen = static_cast<uint32_t>((options_.buffer_size - sizeof(RecordHeader)) & ~size_t{7});
  const size_t size = record_size(caplen);
  if (current_ && current_->used + size > options_.buffer_size) submit();
  if (!current_) {
    std::unique_lock lock(mutex_);
    if (!take_free_buffer(lock, options_.lossless)) {
      lock.unlock();
      check();  // a failed writer is reported, not counted as a drop
      ++dropped_;
      return;
    }
  }
  uint8_t* at = current_->bytes.get() + current_->used;
  const RecordHeader header{ts.seconds, ts.micros, wire_length, caplen, 0};
  std::memcpy(at, &header, sizeof header);
  std::memcpy(at + sizeof header, data, caplen);
  current_->used += size;
}

void QueuedPcapWriter::submit() {
  if (!current_ || current_->used == 0) return;
  {
    std::lock_guard lock(mutex_);
    pending_.push_back(std::move(current_));
  }
  work_ready_.notify_one();
}

void QueuedPcapWriter::check() const {
  if (!failed_.load()) return;
  std::lock_guard lock(mutex_);
  std::rethrow_exception(error_);
}

void QueuedPcapWriter::close() {
  if (closed_) return;
  submit();
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  if (thread_.joinable()) thread_.join();
  closed_ = true;
  current_.reset();
  if (error_) std::rethrow_exception(error_);
  writer_.close();
}

size_t QueuedPcapWriter::peak_buffers() const {
  std::lock_guard lock(mutex_);
  return allocated_;
}

void QueuedPcapWriter::write_buffer(const Buffer& buffer) {
  const uint8_t* at = buffer.bytes.get();
  const uint8_t* end = at + buffer.used;
  while (at < end) {
    RecordHeader header;
    std::memcpy(&header, at, sizeof header);
    writer_.write({header.seconds, header.micros}, header.wire_length, at + sizeof header,
                  header.caplen);
    at += record_size(header.caplen);
  }
}

void QueuedPcapWriter::run() {
  for (;;) {
    std::unique_ptr<Buffer> buffer;
    {
      std::unique_lock lock(mutex_);
      work_ready_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping, and everything is written
      buffer = std::move(pending_.front());
      pending_.pop_front();
    }
    if (!failed_.load()) {
      try {
        write_buffer(*buffer);
        bool caught_up;
        {
          std::lock_guard lock(mutex_);
          caught_up = pending_.empty();
        }
        // Keep the file current whenever the disk has caught up with the capture.
        if (caught_up) writer_.flush();
      } catch (...) {
        std::lock_guard lock(mutex_);
        error_ = std::current_exception();
        failed_.store(true);
      }
    }
    // After a failure the rest is discarded: buffers go back so that nobody waits for them.
    buffer->used = 0;
    {
      std::lock_guard lock(mutex_);
      free_.push_back(std::move(buffer));
    }
    buffer_freed_.notify_all();
  }
}

}  // namespace netres::capture
