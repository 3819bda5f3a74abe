// netres monitor: flags -> MonitorOptions -> run_monitor() (serve /metrics until stopped) or
// run_once() (--once: every check once, a table, NDJSON or Nagios output, and the exit code).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli/commands.h"
#include "common/error.h"
#include "monitor/monitor.h"

namespace netres::cli {

void add_monitor_command(CLI::App& app, Action& action) {
  struct Flags {
    std::string config;
    std::string listen = "127.0.0.1:9116";
    bool once = false;
    bool json = false;
    std::string format = "table";
    std::string web_config;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "monitor",
      "Probe targets continuously (tcp, dns, http/https checks from a YAML file) and export "
      "Prometheus metrics (/metrics, /probe); --once runs every check once");
  cmd->add_option("-c,--config", flags->config, "monitor configuration (YAML)")->required();
  cmd->add_option("--listen", flags->listen, "address for /metrics, /probe, /-/reload")
      ->capture_default_str();
  cmd->add_option("--web-config", flags->web_config,
                  "TLS and basic auth for the endpoint: exporter-toolkit's web config file "
                  "(also NETRES_MONITOR_WEB_CONFIG)");
  cmd->add_flag("--once", flags->once, "run every check once, print the results and exit");
  cmd->add_flag("--json", flags->json, "with --once: NDJSON, one object per probe");
  cmd->add_option("--format", flags->format, "with --once: table, json or nagios")
      ->check(CLI::IsMember({"table", "json", "nagios"}))
      ->capture_default_str();
  cmd->final_callback([flags, &action] {
    action = [flags]() -> int {
      monitor::MonitorOptions o;
      o.config_path = flags->config;
      o.listen = flags->listen;
      if (flags->json || flags->format == "json")
        o.format = monitor::OnceFormat::kJson;
      else if (flags->format == "nagios")
        o.format = monitor::OnceFormat::kNagios;
      if (!flags->once) {
        if (flags->json || flags->format != "table")
          throw UsageError("--json and --format go with --once");
        // The environment's file, unless the flag names one; a path, never a secret itself.
        o.web_config_path = flags->web_config;
        if (const char* env = std::getenv("NETRES_MONITOR_WEB_CONFIG");
            o.web_config_path.empty() && env)
          o.web_config_path = env;
        return monitor::run_monitor(o);
      }
      if (!flags->web_config.empty()) throw UsageError("--web-config does not go with --once");
      int code = monitor::run_once(o, stdout);
      std::fflush(stdout);
      return code;
    };
  });
}

}  // namespace netres::cli
