// Flag groups that several verbs declare the same way, so their names, help and checks agree.
#pragma once

#include <CLI/CLI.hpp>

#include "capture/capture_setup.h"

namespace netres::cli {

// capture and bandwidth: -i, -r, -c, --duration, -p, -B and the trailing tcpdump filter.
// `many_files`: -r may be repeated (bandwidth reads several files into one table).
inline void add_capture_source_flags(CLI::App* sub, capture::SourceFlags& f,
                                     bool many_files = false) {
  sub->add_option("-i,--interface", f.interface,
                  "interface to capture on (default: the first up, non-loopback one; 'any')");
  if (many_files) {
    // One value per -r, so the trailing filter words stay the filter.
    sub->add_option("-r,--read", f.read_files,
                    "read packets from a pcap or pcapng file; repeat -r to read several in order")
        ->allow_extra_args(false);
  } else {
    sub->add_option("-r,--read", f.read_file, "read packets from a pcap or pcapng file");
  }
  sub->add_option("-c,--count", f.count, "stop after this many packets");
  sub->add_option("--duration", f.duration, "stop after this long, e.g. 30s");
  sub->add_flag("-p,--no-promisc", f.no_promisc, "do not put the interface in promiscuous mode");
  sub->add_option("-B,--buffer-size", f.buffer_size, "kernel capture buffer, e.g. 4M");
  sub->add_option("filter", f.filter_words, "filter expression in tcpdump (pcap-filter) syntax");
}

}  // namespace netres::cli
