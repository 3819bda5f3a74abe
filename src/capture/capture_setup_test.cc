// capture's and bandwidth's flag checks, their wording, and the options they produce.
#include "capture/capture_setup.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>

#include "common/error.h"
#include "common/test_util.h"

namespace netres::capture {
namespace {

using test_util::usage_error;

TEST(SourceFlags, FileOrInterfaceFilterAndLimits) {
  SourceFlags f;
  f.read_file = "in.pcap";
  f.filter_words = {"tcp", "port", "80"};
  f.count = 5;
  f.duration = "2s";
  f.no_promisc = true;
  f.buffer_size = "4M";
  CaptureOptions o;
  apply_source_flags(f, o);
  EXPECT_EQ(o.read_file, "in.pcap");
  EXPECT_EQ(o.filter, "tcp port 80");
  EXPECT_EQ(o.count, 5u);
  EXPECT_EQ(o.duration, std::chrono::seconds(2));
  EXPECT_FALSE(o.live.promiscuous);
  EXPECT_EQ(o.live.buffer_size, 4u << 20);
  f.interface = "lo";
  EXPECT_EQ(usage_error([&] { apply_source_flags(f, o); }),
            "-r and -i exclude each other: read a file or capture live");
}

TEST(CaptureOptionsFor, Defaults) {
  CaptureOptions o = options_for(CaptureFlags{});
  EXPECT_EQ(o.live.snaplen, 262144);
  EXPECT_TRUE(o.live.promiscuous);
  EXPECT_EQ(o.filter, "");
  EXPECT_EQ(o.write_path, "");
  EXPECT_EQ(o.write_queue_size, 0u);
}

TEST(CaptureOptionsFor, WritingFlagsNeedW) {
  CaptureFlags f;
  f.file_size = "10M";
  EXPECT_EQ(usage_error([&] { options_for(f); }), "-C and -G rotate the -w file: give -w too");
  f = {};
  f.rotate = "60s";
  EXPECT_EQ(usage_error([&] { options_for(f); }), "-C and -G rotate the -w file: give -w too");
  f = {};
  f.pcapng = true;
  EXPECT_EQ(usage_error([&] { options_for(f); }), "--pcapng is a format for -w: give -w too");
  f = {};
  f.write_queue = "8M";
  EXPECT_EQ(usage_error([&] { options_for(f); }), "--write-queue is memory for -w: give -w too");
}

TEST(CaptureOptionsFor, Bounds) {
  CaptureFlags f;
  f.snaplen = 262145;
  EXPECT_EQ(usage_error([&] { options_for(f); }), "-s: snaplen must be 0-262144");
  f.snaplen = -1;
  EXPECT_EQ(usage_error([&] { options_for(f); }), "-s: snaplen must be 0-262144");
  f.snaplen = 96;
  EXPECT_EQ(options_for(f).live.snaplen, 96);
  f = {};
  f.write_file = "out.pcap";
  f.file_size = "1000";
  EXPECT_EQ(usage_error([&] { options_for(f); }), "-C: files must be at least 1k");
  f.file_size = "1k";
  EXPECT_EQ(options_for(f).rotate_size, 1024u);
  f.write_queue = "1M";
  EXPECT_EQ(usage_error([&] { options_for(f); }), "--write-queue: at least 2M");
  f.write_queue = "2M";
  EXPECT_EQ(options_for(f).write_queue_size, 2u << 20);
}

TEST(CaptureOptionsFor, FileFormatFromFlagOrName) {
  CaptureFlags f;
  f.write_file = "out.pcap";
  f.rotate = "60s";
  f.packet_buffered = true;
  f.user = "nobody";
  CaptureOptions o = options_for(f);
  EXPECT_EQ(o.write_format, CaptureFileFormat::kPcap);
  EXPECT_EQ(o.rotate_interval, std::chrono::seconds(60));
  EXPECT_TRUE(o.packet_buffered);
  EXPECT_EQ(o.drop_user, "nobody");
  f.pcapng = true;
  EXPECT_EQ(options_for(f).write_format, CaptureFileFormat::kPcapng);
  f.pcapng = false;
  f.write_file = "out.pcapng";
  EXPECT_EQ(options_for(f).write_format, CaptureFileFormat::kPcapng);
}

TEST(CaptureFlags, PrintsUnlessOnlyWriting) {
  CaptureFlags f;
  EXPECT_TRUE(prints_packets(f));
  f.write_file = "out.pcap";
  EXPECT_FALSE(prints_packets(f));
  f.hex = true;
  EXPECT_TRUE(prints_packets(f));
  f.hex = false;
  f.json = true;
  EXPECT_TRUE(prints_packets(f));
  f.json = false;
  f.print = true;
  EXPECT_TRUE(prints_packets(f));
}

TEST(BandwidthSetup, LiveDefaults) {
  BandwidthSetup s = setup_for(BandwidthFlags{});
  EXPECT_TRUE(s.live);
  EXPECT_EQ(s.capture.live.snaplen, 256);
  EXPECT_EQ(s.stats.by, Aggregation::kFlow);
  EXPECT_TRUE(s.stats.keep_history);
  EXPECT_EQ(s.stats.max_entries, 100000u);
  EXPECT_EQ(s.interval, std::chrono::seconds(1));
  EXPECT_EQ(s.top, 10u);
}

TEST(BandwidthSetup, AFileKeepsEveryRowUnlessBounded) {
  BandwidthFlags f;
  f.source.read_file = "in.pcap";
  f.by = "port";
  BandwidthSetup s = setup_for(f);
  EXPECT_FALSE(s.live);
  EXPECT_FALSE(s.stats.keep_history);
  EXPECT_EQ(s.stats.by, Aggregation::kPort);
  EXPECT_EQ(s.stats.max_entries, FlowTable::kUnbounded);
  EXPECT_EQ(s.top, 0u);
  f.max_flows = 50;
  f.max_flows_given = true;
  f.top = 3;
  f.top_given = true;
  s = setup_for(f);
  EXPECT_EQ(s.stats.max_entries, 50u);
  EXPECT_EQ(s.top, 3u);
}

TEST(BandwidthSetup, BadValuesNameTheFlag) {
  EXPECT_EQ(parse_aggregation("host"), Aggregation::kHost);
  EXPECT_EQ(parse_aggregation("proto"), Aggregation::kProto);
  BandwidthFlags f;
  f.by = "bytes";
  EXPECT_EQ(usage_error([&] { setup_for(f); }),
            "--by: unknown view 'bytes': use flow, host, port or proto");
  f = {};
  f.interval = "50ms";
  EXPECT_EQ(usage_error([&] { setup_for(f); }), "--interval must be at least 100ms");
  f.interval = "100ms";
  EXPECT_EQ(setup_for(f).interval, std::chrono::milliseconds(100));
  f = {};
  f.top = 0;
  EXPECT_EQ(usage_error([&] { setup_for(f); }), "--top must be at least 1");
  f = {};
  f.max_flows = 0;
  EXPECT_EQ(usage_error([&] { setup_for(f); }), "--max-flows must be 1-100000000");
}

}  // namespace
}  // namespace netres::capture
