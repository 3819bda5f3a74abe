// PcapWriter files read back through libpcap (PcapSource), rotation by size, and naming.
#include "capture/pcap_writer.h"

#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "capture/pcap_file_test_util.h"
#include "capture/pcap_source.h"

namespace netres::capture {
namespace {

class Collect : public PacketHandler {
 public:
  void on_packet(const pcap_pkthdr& h, const uint8_t* bytes) override {
    lengths.push_back(h.caplen);
    wire.push_back(h.len);
    seconds.push_back(h.ts.tv_sec);
    first_bytes.push_back(h.caplen ? bytes[0] : 0);
    last_bytes.push_back(h.caplen ? bytes[h.caplen - 1] : 0);
  }
  std::vector<uint32_t> lengths, wire, first_bytes, last_bytes;
  std::vector<long> seconds;
};

Collect read_all(const std::string& path) { return test_util::read_back<Collect>(path); }

std::string temp_dir() { return test_util::process_temp_dir("netres-writer-test-"); }

TEST(PcapWriter, WritesRecordsLibpcapReads) {
  std::string path = temp_dir() + "/one.pcap";
  {
    PcapWriter w({path, 1, 65535});
    uint8_t data[100];
    for (int i = 0; i < 100; ++i) data[i] = static_cast<uint8_t>(i);
    for (uint32_t i = 0; i < 10; ++i) {
      data[0] = static_cast<uint8_t>(i);
      w.write({1700000000 + i, 5}, 1000, data, 60 + i);
    }
    EXPECT_EQ(w.packets_written(), 10u);
  }
  Collect c = read_all(path);
  ASSERT_EQ(c.lengths.size(), 10u);
  EXPECT_EQ(c.lengths[3], 63u);
  EXPECT_EQ(c.wire[3], 1000u);
  EXPECT_EQ(c.first_bytes[9], 9u);
  EXPECT_EQ(c.seconds[2], 1700000002);
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

class PcapWriterFormats : public ::testing::TestWithParam<CaptureFileFormat> {
 protected:
  PcapWriterOptions options(const std::string& path) {
    PcapWriterOptions o{path, 1, 262144};
    o.format = GetParam();
    o.interface_name = "veth0";
    return o;
  }
};

INSTANTIATE_TEST_SUITE_P(PcapAndPcapng, PcapWriterFormats,
                         ::testing::Values(CaptureFileFormat::kPcap, CaptureFileFormat::kPcapng));

TEST(PcapWriter, FormatFromFileName) {
  EXPECT_EQ(PcapWriter::format_for_path("a.pcapng"), CaptureFileFormat::kPcapng);
  EXPECT_EQ(PcapWriter::format_for_path("/tmp/x-%H.pcapng"), CaptureFileFormat::kPcapng);
  EXPECT_EQ(PcapWriter::format_for_path("a.pcap"), CaptureFileFormat::kPcap);
  EXPECT_EQ(PcapWriter::format_for_path("a"), CaptureFileFormat::kPcap);
}

TEST(PcapWriter, PcapngBlocks) {
  // SHB, then one IDB with the link type and snaplen, then one EPB per packet (data padded).
  std::string path = temp_dir() + "/blocks.pcapng";
  {
    PcapWriterOptions o{path, 113, 96};
    o.format = CaptureFileFormat::kPcapng;
    o.interface_name = "any";
    PcapWriter w(o);
    uint8_t data[5] = {1, 2, 3, 4, 5};
    w.write({1700000000, 123456}, 60, data, 5);
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  ASSERT_NE(f, nullptr);
  std::vector<uint8_t> b(4096);
  b.resize(std::fread(b.data(), 1, b.size(), f));
  std::fclose(f);
  auto le32 = [&](size_t at) {
    return static_cast<uint32_t>(b[at] | b[at + 1] << 8 | b[at + 2] << 16 | b[at + 3] << 24);
  };
  ASSERT_GE(b.size(), 12u);
  EXPECT_EQ(le32(0), 0x0a0d0d0au);
  EXPECT_EQ(le32(8), 0x1a2b3c4du);
  size_t shb = le32(4);
  EXPECT_EQ(le32(shb - 4), shb);
  EXPECT_EQ(le32(shb), 1u);  // IDB
  EXPECT_EQ(b[shb + 8] | b[shb + 9] << 8, 113);
  EXPECT_EQ(le32(shb + 12), 96u);
  size_t idb = le32(shb + 4);
  size_t epb = shb + idb;
  EXPECT_EQ(le32(epb), 6u);
  EXPECT_EQ(le32(epb + 4), 28u + 8 + 4);  // 5 bytes padded to 8
  uint64_t micros = static_cast<uint64_t>(le32(epb + 12)) << 32 | le32(epb + 16);
  EXPECT_EQ(micros, 1700000000'123456u);
  EXPECT_EQ(le32(epb + 20), 5u);
  EXPECT_EQ(le32(epb + 24), 60u);
  EXPECT_EQ(b.size(), epb + 40);
  EXPECT_EQ(le32(epb + 36), 40u);
  PcapSource s = PcapSource::open_file(path);
  EXPECT_EQ(s.linktype(), 113);
  EXPECT_EQ(s.snaplen(), 96);
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST_P(PcapWriterFormats, LargeRecordsBetweenSmallOnes) {
  // Records of 16k and more are written from the caller's memory behind the buffered ones.
  std::string path = temp_dir() + "/large.cap";
  std::vector<uint8_t> data(65535);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  const uint32_t sizes[] = {60, 65535, 16384, 16383, 100, 65535, 65535, 1, 16385, 2};
  {
    PcapWriter w(options(path));
    uint32_t i = 0;
    for (uint32_t size : sizes) {
      data[0] = static_cast<uint8_t>(i);
      w.write({1700000000 + i++, 0}, size, data.data(), size);
    }
    EXPECT_EQ(w.packets_written(), std::size(sizes));
  }
  Collect c = read_all(path);
  ASSERT_EQ(c.lengths.size(), std::size(sizes));
  for (size_t i = 0; i < std::size(sizes); ++i) {
    EXPECT_EQ(c.lengths[i], sizes[i]);
    EXPECT_EQ(c.seconds[i], static_cast<long>(1700000000 + i));
    EXPECT_EQ(c.first_bytes[i], i);
    if (sizes[i] > 1) {
      EXPECT_EQ(c.last_bytes[i], static_cast<uint8_t>((sizes[i] - 1) * 7));
    }
  }
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST_P(PcapWriterFormats, FileSizeLimitKeepsCompleteRecords) {
  // RLIMIT_FSIZE makes a write stop short and then fail (EFBIG), like a full disk: the file must
  // be cut back to whole records, as many as packets_written() says, small and large alike.
  std::string path = temp_dir() + "/limit.cap";
  std::vector<uint8_t> data(65535, 0xab);
  uint64_t written = 0;
  bool threw = false;
  {
    test_util::FileSizeLimit limit(300000);
    ASSERT_TRUE(limit.ok());
    PcapWriter w(options(path));
    try {
      for (uint32_t i = 0; i < 100; ++i) w.write({1, i}, 1, data.data(), i % 3 ? 1000 : 40000);
      w.close();
    } catch (const std::exception&) {
      threw = true;
    }
    written = w.packets_written();
  }
  EXPECT_TRUE(threw);
  EXPECT_GT(written, 0u);
  EXPECT_LE(std::filesystem::file_size(path), 300000u);
  EXPECT_EQ(read_all(path).lengths.size(), written);
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST_P(PcapWriterFormats, RotatesBySize) {
  std::string path = temp_dir() + "/rot.cap";
  std::vector<std::string> files;
  {
    PcapWriterOptions o = options(path);
    o.rotate_size = 2048;
    PcapWriter w(o);
    uint8_t data[200] = {};
    for (int i = 0; i < 50; ++i) w.write({1, 0}, 200, data, 200);
    w.close();
    files = w.files();
  }
  ASSERT_GT(files.size(), 4u);
  EXPECT_EQ(files[0], path);
  EXPECT_EQ(files[1], path + "1");
  size_t total = 0;
  for (const auto& f : files) {
    EXPECT_LE(std::filesystem::file_size(f), 2048u) << f;
    total += read_all(f).lengths.size();
  }
  EXPECT_EQ(total, 50u);
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST(PcapWriter, RotatesByTime) {
  std::string path = temp_dir() + "/timed.pcap";
  std::vector<std::string> files;
  {
    PcapWriterOptions o{path, 1, 65535};
    o.rotate_interval = std::chrono::milliseconds(30);
    PcapWriter w(o);
    uint8_t data[60] = {};
    w.write({1, 0}, 60, data, 60);
    w.write({1, 1}, 60, data, 60);
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    w.write({2, 0}, 60, data, 60);
    w.close();
    files = w.files();
  }
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(read_all(files[0]).lengths.size(), 2u);
  EXPECT_EQ(read_all(files[1]).lengths.size(), 1u);
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST(PcapWriter, FileNames) {
  auto when = std::chrono::system_clock::from_time_t(1700000401);
  EXPECT_EQ(PcapWriter::file_name("cap-%H%M%S.pcap", true, when, 0), "cap-222001.pcap");
  EXPECT_EQ(PcapWriter::file_name("cap-%H.pcap", true, when, 2), "cap-22.pcap2");
  EXPECT_EQ(PcapWriter::file_name("cap.pcap", false, when, 3), "cap.pcap3");
}

TEST(PcapWriter, FullDiskKeepsCompleteRecords) {
  // /dev/full fails every write with ENOSPC: the error must name it and not crash.
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP();
  EXPECT_THROW(PcapWriter({"/dev/full", 1, 65535}), std::runtime_error);
}

}  // namespace
}  // namespace netres::capture
