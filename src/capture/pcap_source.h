// PcapSource: one libpcap handle, live (an interface) or offline (a pcap / pcapng file), with
// its BPF filter, errors turned into UsageError / RuntimeError with user-facing messages.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

struct pcap;
struct pcap_pkthdr;

namespace netres::capture {

struct LiveOptions {
  std::string interface;  // "eth0", "any", "lo"; empty picks default_interface()
  int snaplen = 262144;   // tcpdump's default
  bool promiscuous = true;
  uint64_t buffer_size = 0;  // kernel buffer in bytes; 0 keeps libpcap's default
  bool immediate = false;    // deliver each packet at once instead of batching
  int timeout_ms = 100;      // how long a dispatch may wait, so callers can check the clock
};

// What pcap_stats reports for a live capture.
struct PcapStats {
  uint64_t received = 0;           // received by filter
  uint64_t dropped_kernel = 0;     // no room in the buffer
  uint64_t dropped_interface = 0;  // dropped by the network interface or its driver
};

// Receives the packets of PcapSource::dispatch. Must not throw: it runs inside libpcap's C loop.
class PacketHandler {
 public:
  virtual ~PacketHandler() = default;
  virtual void on_packet(const pcap_pkthdr& header, const uint8_t* bytes) = 0;
};

class PcapSource {
 public:
  // Throws RuntimeError for a missing interface, missing permission (naming CAP_NET_RAW) or
  // any other refusal of the system.
  static PcapSource open_live(const LiveOptions& options);
  // Throws UsageError for a missing, unreadable or not-a-capture file.
  static PcapSource open_file(const std::string& path);

  PcapSource(PcapSource&& other) noexcept;
  PcapSource& operator=(PcapSource&& other) noexcept;
  PcapSource(const PcapSource&) = delete;
  PcapSource& operator=(const PcapSource&) = delete;
  ~PcapSource();

  // Compiles a tcpdump-syntax filter for this handle's link type and installs it. Throws
  // UsageError with libpcap's message if it does not compile.
  void set_filter(const std::string& expression);

  // Hands up to `max_packets` packets (<= 0: what is buffered, or the whole file) to `handler`.
  // Returns how many; 0 means a timeout (live) or the end of the file (see at_end()), and
  // after break_loop() the call returns early. Throws UsageError for a corrupt file and
  // RuntimeError for a failing interface.
  int dispatch(int max_packets, PacketHandler& handler);
  bool at_end() const { return at_end_; }

  // Live sources are non-blocking: this waits until packets may be ready, `timeout_ms` passes
  // or a signal arrives, whichever is first. Our own poll, because how long a blocking
  // pcap_dispatch waits on a quiet interface differs between libpcap's capture modes.
  void wait(int timeout_ms);

  // Makes a running or the next dispatch() return. Safe to call from a signal handler.
  void break_loop();

  // Kernel statistics; empty for files.
  std::optional<PcapStats> stats() const;

  bool is_live() const { return live_; }
  const std::string& name() const { return name_; }
  int linktype() const;
  // "EN10MB (Ethernet)", as tcpdump prints it.
  std::string linktype_description() const;
  int snaplen() const;
  pcap* handle() const { return handle_; }

 private:
  PcapSource(pcap* handle, std::string name, bool live);
  pcap* handle_ = nullptr;
  std::string name_;
  bool live_ = false;
  bool at_end_ = false;
};

// The interface tcpdump would pick: the first one pcap_findalldevs lists that is up and not
// loopback (pseudo-devices such as "any" or "nflog" excluded). Throws RuntimeError if none.
std::string default_interface();

}  // namespace netres::capture
