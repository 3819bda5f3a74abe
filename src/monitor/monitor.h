// netres monitor: continuous probing on one event loop, exported over HTTP (/metrics, /probe,
// /-/healthy, /-/ready, /-/reload), reloaded on SIGHUP; or every check once (--once) with a table,
// NDJSON or Nagios plugin output. The CLI fills MonitorOptions and calls one of these.
#pragma once

#include <cstdio>
#include <string>

namespace netres::monitor {

enum class OnceFormat { kTable, kJson, kNagios };

struct MonitorOptions {
  std::string config_path;
  std::string listen = "127.0.0.1:9116";  // host:port or [v6]:port
  OnceFormat format = OnceFormat::kTable;
  // The pool that blocking libraries run on (libssh's handshake, iface captures): each holds a
  // thread for up to its timeout. DNS runs on the event loop, not here.
  unsigned pool_threads = 8;
  // exporter-toolkit's web config (TLS, basic auth, headers); empty: plain HTTP, no auth.
  std::string web_config_path;
};

// Runs every (target, check) once under the configured caps and prints the results; returns
// 0 when every probe succeeded, 1 otherwise. Nagios format: 0 OK, 2 CRITICAL, 3 UNKNOWN (a bad
// configuration is then UNKNOWN instead of a UsageError). Throws UsageError for a bad file.
int run_once(const MonitorOptions& options, std::FILE* out);

// Serves until SIGINT or SIGTERM; returns 0. Throws UsageError for a bad file or listen address,
// RuntimeError when the address cannot be bound.
int run_monitor(const MonitorOptions& options);

}  // namespace netres::monitor
