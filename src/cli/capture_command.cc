// netres capture: flags -> CaptureOptions -> CaptureSession -> packet lines on stdout, counts on
// stderr (tcpdump's flags where tcpdump has one).
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "capture/capture_output.h"
#include "capture/capture_session.h"
#include "capture/capture_setup.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "common/error.h"

namespace netres::cli {
namespace {

int run_capture(const capture::CaptureFlags& flags) {
  capture::CaptureSession session(capture::options_for(flags));
  fmt::print(stderr, "{}\n", capture::source_line(session.source()));
  // Live lines should show up as packets arrive, even through a pipe.
  std::setvbuf(stdout, nullptr, session.source().is_live() ? _IOLBF : _IOFBF, 1 << 16);
  std::fflush(stderr);

  capture::TextBuffer line;
  capture::PacketCallback on_packet;
  if (capture::prints_packets(flags)) {
    const capture::PrintStyle style{flags.json, flags.hex, !flags.no_time};
    on_packet = [&line, style](const capture::PacketView& view, capture::Timestamp ts) {
      line.clear();
      capture::append_packet(line, view, ts, style);
      std::fwrite(line.data(), 1, line.size(), stdout);
    };
  }
  capture::CaptureResult result = session.run(on_packet);
  std::fflush(stdout);
  capture::print_counts(stderr, result, !flags.write_file.empty());
  if (result.error) std::rethrow_exception(result.error);
  return kExitOk;
}

}  // namespace

void add_capture_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<capture::CaptureFlags>();
  auto* sub = app.add_subcommand(
      "capture",
      "Capture packets live or read a pcap/pcapng file; print one line per packet, NDJSON, or "
      "write pcap or pcapng files. A trailing tcpdump-syntax filter selects packets.");
  add_capture_source_flags(sub, flags->source);
  sub->add_option("-s,--snaplen", flags->snaplen, "bytes to keep per packet (default 262144)");
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
  sub->final_callback([&action, flags] { action = [flags] { return run_capture(*flags); }; });
}

}  // namespace netres::cli
