// What `netres capture` prints, as tcpdump does: the source line before the packets, one line
// per packet (summary, NDJSON or with a hex dump) and the counts at the end. The CLI only
// chooses between them.
#pragma once

#include <cstdio>
#include <string>

#include "capture/capture_session.h"
#include "capture/packet_text.h"
#include "capture/pcap_source.h"

namespace netres::capture {

struct PrintStyle {
  bool json = false;  // one JSON object per packet (no time, no hex dump)
  bool hex = false;   // -x: the bytes in hex and ASCII after the summary
  bool time = true;   // -t turns the time of day off
};

// One packet, newline included: the JSON object, or "[TIME ]SUMMARY" and the hex dump.
void append_packet(TextBuffer& out, const PacketView& view, Timestamp ts, PrintStyle style);

// "listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes" live,
// "reading from file f.pcap, link-type ..., snapshot length 65535" for a file.
std::string source_line(const PcapSource& source);

// "N packets captured", then live the kernel's counts (and the write queue's drops when
// `writing`), then "N packets written to FILE[ and N more files]" when files were written.
void print_counts(std::FILE* out, const CaptureResult& result, bool writing);

}  // namespace netres::capture
