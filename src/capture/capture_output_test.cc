// capture's packet lines, source line and end counts, byte for byte.
#include "capture/capture_output.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "capture/packet_builder_test.h"
#include "common/test_util.h"

namespace netres::capture {
namespace {

using namespace testing;  // NOLINT: the builders

const Packet kSyn =
    ethernet(0x0800, ipv4({10, 0, 0, 9}, {10, 0, 0, 2}, 6, tcp(40000, 80, 1, 0, 0x02, 1000)));
constexpr Timestamp kTs{1700000401, 123456};

std::string line(PrintStyle style) {
  PacketView v;
  decode_packet(linktype::kEthernet, kSyn, 0, v);
  TextBuffer out;
  append_packet(out, v, kTs, style);
  return fmt::to_string(out);
}

std::string summary_only() {
  PacketView v;
  decode_packet(linktype::kEthernet, kSyn, 0, v);
  TextBuffer out;
  append_summary(out, v);
  return fmt::to_string(out);
}

using test_util::printed;

TEST(CapturePacketLine, TimeThenSummary) {
  EXPECT_EQ(line({}), "22:20:01.123456 " + summary_only() + "\n");
  EXPECT_EQ(line({.time = false}), summary_only() + "\n");
}

TEST(CapturePacketLine, HexDumpAfterTheSummary) {
  std::string text = line({.hex = true, .time = false});
  EXPECT_EQ(text.rfind(summary_only() + "\n\t0x0000:  ", 0), 0u);
  EXPECT_EQ(text.back(), '\n');
}

TEST(CapturePacketLine, JsonAloneEvenWithHex) {
  std::string text = line({.json = true, .hex = true});
  ASSERT_EQ(text.back(), '\n');
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
  EXPECT_NO_THROW(nlohmann::json::parse(text));
}

TEST(CaptureSourceLine, FileAsTcpdumpSaysIt) {
  auto path = std::filesystem::temp_directory_path() / "netres_capture_output_test.pcap";
  {
    // A pcap header alone: magic, version 2.4, zone, sigfigs, snaplen 65535, Ethernet.
    const unsigned char header[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2,    0,    4, 0, 0, 0, 0, 0,
                                      0,    0,    0,    0,    0xff, 0xff, 0, 0, 1, 0, 0, 0};
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(header), 24);
  }
  PcapSource source = PcapSource::open_file(path.string());
  EXPECT_EQ(source_line(source), "reading from file " + path.string() +
                                     ", link-type EN10MB (Ethernet), snapshot length 65535");
  std::filesystem::remove(path);
}

TEST(CaptureCounts, FileRun) {
  CaptureResult r;
  r.captured = 3;
  EXPECT_EQ(printed([&](std::FILE* f) { print_counts(f, r, false); }), "3 packets captured\n");
  r.written = 3;
  r.files = {"a.pcap"};
  EXPECT_EQ(printed([&](std::FILE* f) { print_counts(f, r, true); }),
            "3 packets captured\n3 packets written to a.pcap\n");
  r.files = {"a.pcap1", "a.pcap2", "a.pcap3"};
  EXPECT_EQ(printed([&](std::FILE* f) { print_counts(f, r, true); }),
            "3 packets captured\n3 packets written to a.pcap1 and 2 more files\n");
}

TEST(CaptureCounts, LiveRunHasTheKernelsCounts) {
  CaptureResult r;
  r.captured = 10;
  r.stats = PcapStats{12, 1, 2};
  r.dropped_write_queue = 4;
  const std::string kernel =
      "10 packets captured\n12 packets received by filter\n1 packets dropped by kernel\n"
      "2 packets dropped by interface\n";
  EXPECT_EQ(printed([&](std::FILE* f) { print_counts(f, r, false); }), kernel);
  EXPECT_EQ(printed([&](std::FILE* f) { print_counts(f, r, true); }),
            kernel + "4 packets dropped by write queue\n");
}

}  // namespace
}  // namespace netres::capture
