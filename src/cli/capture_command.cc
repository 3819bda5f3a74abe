// netres capture: flags -> CaptureOptions -> CaptureSession -> packet lines on stdout, counts on
// stderr (tcpdump's flags where tcpdump has one).
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "capture/capture_session.h"
#include "capture/packet_text.h"
#include "cli/commands.h"
#include "common/duration.h"
#include "common/error.h"
#include "common/size.h"
#include "common/terminal.h"

namespace netres::cli {
namespace {

struct CaptureFlags {
  std::string interface;
  std::string read_file;
  std::vector<std::string> filter_words;
  uint64_t count = 0;
  std::string duration;
  int snaplen = 0;
  bool no_promisc = false;
  std::string buffer_size;
  bool immediate = false;
  std::string write_file;
  std::string file_size;
  std::string rotate;
  bool packet_buffered = false;
  bool pcapng = false;
  std::string write_queue;
  bool print = false;
  bool json = false;
  bool hex = false;
  bool no_time = false;
  std::string user;
};

capture::CaptureOptions to_options(const CaptureFlags& f) {
  capture::CaptureOptions o;
  if (!f.read_file.empty() && !f.interface.empty())
    throw UsageError("-r and -i exclude each other: read a file or capture live");
  o.read_file = f.read_file;
  o.live.interface = f.interface;
  for (const auto& word : f.filter_words) o.filter += (o.filter.empty() ? "" : " ") + word;
  o.count = f.count;
  if (!f.duration.empty()) o.duration = parse_duration(f.duration, "--duration");
  if (f.snaplen < 0 || f.snaplen > 262144) throw UsageError("-s: snaplen must be 0-262144");
  o.live.snaplen = f.snaplen == 0 ? 262144 : f.snaplen;
  o.live.promiscuous = !f.no_promisc;
  if (!f.buffer_size.empty()) o.live.buffer_size = parse_size(f.buffer_size, "-B");
  o.live.immediate = f.immediate;
  o.drop_user = f.user;
  o.write_path = f.write_file;
  if ((!f.file_size.empty() || !f.rotate.empty()) && f.write_file.empty())
    throw UsageError("-C and -G rotate the -w file: give -w too");
  if (!f.file_size.empty()) {
    o.rotate_size = parse_size(f.file_size, "-C");
    if (o.rotate_size < 1024) throw UsageError("-C: files must be at least 1k");
  }
  if (!f.rotate.empty()) o.rotate_interval = parse_duration(f.rotate, "-G");
  o.packet_buffered = f.packet_buffered;
  if (f.pcapng && f.write_file.empty())
    throw UsageError("--pcapng is a format for -w: give -w too");
  if (!f.write_queue.empty()) {
    if (f.write_file.empty()) throw UsageError("--write-queue is memory for -w: give -w too");
    o.write_queue_size = parse_size(f.write_queue, "--write-queue");
    if (o.write_queue_size < (2u << 20)) throw UsageError("--write-queue: at least 2M");
  }
  o.write_format = f.pcapng ? capture::CaptureFileFormat::kPcapng
                            : capture::PcapWriter::format_for_path(f.write_file);
  return o;
}

int run_capture(const CaptureFlags& flags) {
  capture::CaptureOptions options = to_options(flags);
  bool printing = flags.write_file.empty() || flags.print || flags.json || flags.hex;
  capture::CaptureSession session(options);
  const auto& source = session.source();
  if (source.is_live()) {
    fmt::print(stderr, "listening on {}, link-type {}, snapshot length {} bytes\n", source.name(),
               source.linktype_description(), source.snaplen());
    // Live lines should show up as packets arrive, even through a pipe.
    std::setvbuf(stdout, nullptr, _IOLBF, 1 << 16);
  } else {
    fmt::print(stderr, "reading from file {}, link-type {}, snapshot length {}\n", source.name(),
               source.linktype_description(), source.snaplen());
    std::setvbuf(stdout, nullptr, _IOFBF, 1 << 16);
  }
  std::fflush(stderr);

  capture::TextBuffer line;
  capture::PacketCallback on_packet;
  if (printing) {
    on_packet = [&](const capture::PacketView& view, capture::Timestamp ts) {
      line.clear();
      if (flags.json) {
        capture::append_json(line, view, ts);
      } else {
        if (!flags.no_time) {
          capture::append_time(line, ts);
          line.push_back(' ');
        }
        capture::append_summary(line, view);
      }
      line.push_back('\n');
      if (flags.hex && !flags.json) capture::append_hex_dump(line, view.bytes);
      std::fwrite(line.data(), 1, line.size(), stdout);
    };
  }
  capture::CaptureResult result = session.run(on_packet);
  std::fflush(stdout);

  fmt::print(stderr, "{} packets captured\n", result.captured);
  if (result.stats) {
    fmt::print(stderr, "{} packets received by filter\n", result.stats->received);
    fmt::print(stderr, "{} packets dropped by kernel\n", result.stats->dropped_kernel);
    fmt::print(stderr, "{} packets dropped by interface\n", result.stats->dropped_interface);
    // The writer thread's queue was full (the disk slower than the link): like the kernel's
    // drops, counted rather than hidden.
    if (!flags.write_file.empty())
      fmt::print(stderr, "{} packets dropped by write queue\n", result.dropped_write_queue);
  }
  if (!result.files.empty()) {
    fmt::print(
        stderr, "{} packets written to {}{}\n", result.written, result.files.front(),
        result.files.size() > 1 ? fmt::format(" and {} more files", result.files.size() - 1) : "");
  }
  if (result.error) std::rethrow_exception(result.error);
  return kExitOk;
}

}  // namespace

void add_capture_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<CaptureFlags>();
  auto* sub = app.add_subcommand(
      "capture",
      "Capture packets live or read a pcap/pcapng file; print one line per packet, NDJSON, or "
      "write pcap or pcapng files. A trailing tcpdump-syntax filter selects packets.");
  sub->add_option("-i,--interface", flags->interface,
                  "interface to capture on (default: the first up, non-loopback one; 'any')");
  sub->add_option("-r,--read", flags->read_file, "read packets from a pcap or pcapng file");
  sub->add_option("-c,--count", flags->count, "stop after this many packets");
  sub->add_option("--duration", flags->duration, "stop after this long, e.g. 30s");
  sub->add_option("-s,--snaplen", flags->snaplen, "bytes to keep per packet (default 262144)");
  sub->add_flag("-p,--no-promisc", flags->no_promisc,
                "do not put the interface in promiscuous mode");
  sub->add_option("-B,--buffer-size", flags->buffer_size, "kernel capture buffer, e.g. 4M");
  sub->add_flag("--immediate", flags->immediate, "deliver packets at once instead of in batches");
  sub->add_option("-w,--write", flags->write_file,
                  "write packets to this pcap file, pcapng if it ends in .pcapng (nothing is "
                  "printed unless --print)");
  sub->add_option(
      "-C,--file-size", flags->file_size,
      "with -w: start a new file (name1, name2, ...) when this size is reached, e.g. 10M");
  sub->add_option("-G,--rotate", flags->rotate,
                  "with -w: start a new file this often, e.g. 60s (strftime patterns in the name "
                  "are expanded, UTC)");
  sub->add_flag("-U,--packet-buffered", flags->packet_buffered,
                "with -w: flush the file after every packet");
  sub->add_flag("--pcapng", flags->pcapng, "with -w: write pcapng whatever the file's name");
  sub->add_option("--write-queue", flags->write_queue,
                  "with -w: memory for packets waiting for the disk; live, packets are dropped "
                  "and counted when it is full (default 64M, or twice -B if more)");
  sub->add_flag("--print", flags->print, "with -w: print packets too");
  sub->add_flag("--json", flags->json, "print one JSON object per packet (see docs/capture.md)");
  sub->add_flag("-x,--hex", flags->hex, "print each packet's bytes in hex and ASCII");
  sub->add_flag("-t,--no-time", flags->no_time, "do not print timestamps");
  sub->add_option("-Z,--user", flags->user, "drop privileges to this user once the device is open");
  sub->add_option("filter", flags->filter_words,
                  "filter expression in tcpdump (pcap-filter) syntax");
  sub->final_callback([&action, flags] { action = [flags] { return run_capture(*flags); }; });
}

}  // namespace netres::cli
