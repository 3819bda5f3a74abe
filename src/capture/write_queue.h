// QueuedPcapWriter: a PcapWriter on its own thread behind a bounded queue of packet buffers, so
// that a slow write (the page cache throttling us, a stalled disk) never stops the capture thread
// from draining the kernel ring. Live captures drop (and count) packets when the queue is full,
// rather than letting the kernel drop them unseen; files read offline wait instead.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "capture/pcap_writer.h"

namespace netres::capture {

struct WriteQueueOptions {
  // Bytes per buffer: a whole packet of the largest snaplen always fits (it is raised to fit).
  size_t buffer_size = 1 << 20;
  // The queue's bound: buffers are allocated as needed, never more than this many (>= 2).
  size_t max_buffers = 64;
  // true: write() waits for room instead of dropping (reading a file, where nothing is lost by
  // waiting).
  bool lossless = false;
};

class QueuedPcapWriter {
 public:
  // Creates the first file in the calling thread (errors as PcapWriter's), then starts the
  // writer thread with SIGINT and SIGTERM blocked, so they reach the capture loop.
  QueuedPcapWriter(PcapWriterOptions writer_options, WriteQueueOptions queue_options);
  ~QueuedPcapWriter();  // close(), errors ignored
  QueuedPcapWriter(const QueuedPcapWriter&) = delete;
  QueuedPcapWriter& operator=(const QueuedPcapWriter&) = delete;

  // Capture thread: copies the packet into the current buffer. When the buffer is full it goes to
  // the writer thread, and a free one is taken; when none is free the packet is dropped and
  // counted (or, lossless, the call waits). Once the writer thread has failed (a full disk),
  // throws its error.
  void write(Timestamp ts, uint32_t wire_length, const uint8_t* data, uint32_t caplen);
  // Hands the current buffer, if it holds anything, to the writer thread; the writer flushes the
  // file whenever it has caught up. Call it when the capture is quiet (once a second) and, for
  // -U, after every batch.
  void submit();
  // Throws the writer thread's error, if it failed.
  void check() const;
  // Submits what is left, waits until the writer thread has written all of it, closes the file.
  // Throws the writer's error (the file is then cut back to whole records, as PcapWriter does).
  void close();

  // Packets in the files (after close(); before, what the writer thread has handled so far is
  // not readable from here).
  uint64_t packets_written() const { return closed_ ? writer_.packets_written() : 0; }
  // Packets not written because the queue was full.
  uint64_t dropped() const { return dropped_; }
  const std::vector<std::string>& files() const { return writer_.files(); }
  // Most buffers in use at once (the queue's high-water mark), for tests and tuning.
  size_t peak_buffers() const;

 private:
  struct Buffer {
    std::unique_ptr<uint8_t[]> bytes;
    size_t used = 0;
  };

  void run();  // the writer thread
  bool take_free_buffer(std::unique_lock<std::mutex>& lock, bool wait);
  void write_buffer(const Buffer& buffer);

  PcapWriter writer_;
  WriteQueueOptions options_;
  std::unique_ptr<Buffer> current_;  // the capture thread's; null while the queue is full
  uint64_t dropped_ = 0;
  bool closed_ = false;

  mutable std::mutex mutex_;
  std::condition_variable work_ready_;    // writer thread waits: a buffer to write, or stop
  std::condition_variable buffer_freed_;  // capture thread waits (lossless or close)
  std::deque<std::unique_ptr<Buffer>> pending_;
  std::vector<std::unique_ptr<Buffer>> free_;
  size_t allocated_ = 0;
  bool stopping_ = false;
  std::exception_ptr error_;
  std::atomic<bool> failed_{false};
  std::thread thread_;
};

}  // namespace netres::capture
