// The monitor's runtime: a generation of jobs per loaded configuration (one coroutine per
// target x check, each sleeping to its spread slot plus jitter, then taking a gate slot), the
// probe store, the HTTP endpoints on cpp-httplib's threads, and reloads that swap generations.
#include "monitor/monitor.h"

#include <fmt/format.h>
#include <httplib.h>
#include <malloc.h>
#include <sys/socket.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <atomic>
#include <csignal>
#include <future>
#include <iostream>
#include <set>
#include <thread>

#include "common/error.h"
#include "common/output.h"
#include "common/text.h"
#include "monitor/probe_store.h"
#include "monitor/probe_util.h"
#include "monitor/schedule.h"
#include "monitor/status_page.h"
#include "monitor/web_endpoint.h"

namespace netres::monitor {

namespace {

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// One loaded configuration's jobs. A reload marks it dead and wakes its sleepers; probes in
// flight finish, and the store drops results of pairs no longer configured.
struct Generation {
  std::shared_ptr<const MonitorConfig> config;
  ConcurrencyGate gate;
  bool alive = true;
  std::set<asio::steady_timer*> sleepers;
  std::map<uint64_t, asio::steady_timer*> waiters;
  uint64_t next_waiter = 1;
  Generation(std::shared_ptr<const MonitorConfig> c)
      : config(std::move(c)), gate(config->concurrency, config->per_target) {}
};

class Runtime {
 public:
  explicit Runtime(const MonitorOptions& o)
      : options_(o), pool_(o.pool_threads), ctx_(io_, pool_) {}
  ~Runtime() { pool_.join(); }

  asio::io_context& io() { return io_; }
  ProbeStore& store() { return store_; }

  // Starts a generation for `config` (on the loop's thread).
  void start(std::shared_ptr<const MonitorConfig> config) {
    if (gen_) {
      gen_->alive = false;
      for (auto* t : gen_->sleepers) t->cancel();
      for (auto& [id, t] : gen_->waiters) t->cancel();
    }
    store_.configure(*config);
    {
      std::lock_guard lock(config_mu_);
      config_ = config;
    }
    gen_ = std::make_shared<Generation>(config);
    size_t index = 0;
    for (const auto& t : config->targets) {
      for (const auto& c : t.checks)
        asio::co_spawn(io_, job(gen_, index, t, config->checks.at(c)), asio::detached);
      ++index;
    }
  }

  // Loads the file again; on failure keeps the running configuration and returns why.
  std::string reload() {
    try {
      auto config =
          std::make_shared<const MonitorConfig>(load_monitor_config(options_.config_path));
      // The web config is loaded before anything is swapped: a bad one keeps both files' running
      // versions, as a bad monitor file does.
      std::function<void()> install_web = prepare_web ? prepare_web() : nullptr;
      start(std::move(config));
      if (install_web) install_web();
      store_.set_reload_status(true, unix_now());
      std::fprintf(stderr, "netres: monitor: loaded %s: %zu targets\n",
                   options_.config_path.c_str(), config_snapshot()->targets.size());
      return {};
    } catch (const std::exception& e) {
      store_.set_reload_status(false, 0);
      std::fprintf(stderr,
                   "netres: monitor: reload refused, keeping the running configuration: %s\n",
                   e.what());
      return e.what();
    }
  }

  // Set when the endpoint has a web config: loads it again and returns its installer.
  std::function<std::function<void()>()> prepare_web;

  std::shared_ptr<const MonitorConfig> config_snapshot() {
    std::lock_guard lock(config_mu_);
    return config_;
  }

  // Runs every pair once (no schedule) and returns when all are done.
  void run_all_once(std::shared_ptr<const MonitorConfig> config) {
    store_.configure(*config);
    gen_ = std::make_shared<Generation>(config);
    size_t index = 0;
    for (const auto& t : config->targets) {
      for (const auto& c : t.checks)
        asio::co_spawn(io_, probe_once(gen_, index, t, config->checks.at(c)), asio::detached);
      ++index;
    }
    io_.run();
  }

  // A probe for /probe, from an HTTP thread: runs on the loop, waits for the result.
  ProbeResult probe_now(const CheckSpec& check, const std::string& target, Nanos timeout) {
    auto fut = asio::co_spawn(io_, run_probe(ctx_, check, target, timeout), asio::use_future);
    return fut.get();
  }

 private:
  asio::awaitable<bool> acquire(std::shared_ptr<Generation> gen, size_t target) {
    if (gen->gate.try_acquire(target)) co_return true;
    uint64_t id = gen->next_waiter++;
    gen->gate.wait(id, target);
    asio::steady_timer t(io_, asio::steady_timer::time_point::max());
    gen->waiters[id] = &t;
    std::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    gen->waiters.erase(id);
    if (!gen->alive) {
      if (!gen->gate.forget(id)) release(gen, target);
      co_return false;
    }
    co_return true;  // release() granted the slot and woke us
  }

  void release(const std::shared_ptr<Generation>& gen, size_t target) {
    for (uint64_t id : gen->gate.release(target)) {
      auto it = gen->waiters.find(id);
      if (it != gen->waiters.end()) it->second->cancel();
    }
    store_.set_in_flight(gen->gate.in_flight());
  }

  asio::awaitable<void> probe_once(std::shared_ptr<Generation> gen, size_t index,
                                   const TargetSpec& t, const CheckSpec& c) {
    if (!co_await acquire(gen, index)) co_return;
    ProbeResult r = co_await run_probe(ctx_, c, t.address, gen->config->timeout_for(t, c));
    store_.record(t.name, c.name, std::move(r));
    release(gen, index);
  }

  asio::awaitable<void> job(std::shared_ptr<Generation> gen, size_t index, const TargetSpec& t,
                            const CheckSpec& c) {
    using namespace std::chrono;
    asio::steady_timer timer(io_);
    gen->sleepers.insert(&timer);
    const Nanos interval = t.interval;
    const Nanos offset = spread_offset(t.name + '\n' + c.name, interval);
    uint64_t rng = std::hash<std::string>{}(t.name + c.name) | 1;
    Nanos slot = next_slot(duration_cast<Nanos>(Clock::now().time_since_epoch()), interval, offset);
    while (gen->alive) {
      const Nanos due = slot + round_jitter(rng, t.jitter);
      timer.expires_at(Clock::time_point(duration_cast<Clock::duration>(due)));
      std::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (!gen->alive) break;
      if (!co_await acquire(gen, index)) break;
      store_.set_in_flight(gen->gate.in_flight());
      store_.record_start_delay(
          to_seconds(duration_cast<Nanos>(Clock::now().time_since_epoch()) - due));
      ProbeResult r = co_await run_probe(ctx_, c, t.address, gen->config->timeout_for(t, c));
      if (gen->alive) store_.record(t.name, c.name, std::move(r));
      release(gen, index);
      // The next slot strictly after this one; rounds a slow probe overran are skipped.
      Nanos now = duration_cast<Nanos>(Clock::now().time_since_epoch());
      Nanos next = next_slot(std::max(now, slot + Nanos{1}), interval, offset);
      if (interval > Nanos{0} && next - slot > interval)
        store_.count_skipped_rounds(static_cast<uint64_t>((next - slot) / interval - 1));
      slot = next;
    }
    gen->sleepers.erase(&timer);
  }

  MonitorOptions options_;
  asio::io_context io_;
  asio::thread_pool pool_;
  ProbeContext ctx_;
  ProbeStore store_;
  std::shared_ptr<Generation> gen_;
  std::mutex config_mu_;
  std::shared_ptr<const MonitorConfig> config_;
};

std::string json_escape_free(const std::string& s) { return s; }

void print_nagios(const std::vector<ProbeStore::Row>& rows, std::FILE* out, int& code) {
  size_t failed = 0;
  std::string failures, perf;
  for (const auto& row : rows) {
    const ProbeResult& r = *row.result;
    if (!r.success) {
      ++failed;
      failures += fmt::format("{}{}/{}: {} ({})", failures.empty() ? "" : ", ", row.target,
                              row.check, r.reason, r.detail);
    }
    // Perfdata labels are quoted; a quote inside is doubled, as the plugin guidelines say.
    std::string label = row.target + "/" + row.check;
    std::string quoted;
    for (char ch : label) quoted += ch == '\'' ? std::string("''") : std::string(1, ch);
    perf += fmt::format("{}'{}'={:.6f}s;;;0", perf.empty() ? "" : " ", quoted, r.duration);
  }
  code = failed ? 2 : 0;
  if (failed)
    std::fprintf(out, "CRITICAL - %zu of %zu checks failed: %s | %s\n", failed, rows.size(),
                 failures.c_str(), perf.c_str());
  else
    std::fprintf(out, "OK - %zu checks passed | %s\n", rows.size(), perf.c_str());
}

}  // namespace

int run_once(const MonitorOptions& options, std::FILE* out) {
  std::shared_ptr<const MonitorConfig> config;
  try {
    config = std::make_shared<const MonitorConfig>(load_monitor_config(options.config_path));
  } catch (const UsageError& e) {
    if (options.format != OnceFormat::kNagios) throw;
    std::fprintf(out, "UNKNOWN - %s\n", e.what());
    return 3;
  }
  Runtime rt(options);
  rt.run_all_once(config);
  auto rows = rt.store().rows();
  bool all_ok = true;
  for (const auto& row : rows) all_ok &= row.result && row.result->success;
  if (options.format == OnceFormat::kNagios) {
    int code = 0;
    print_nagios(rows, out, code);
    return code;
  }
  if (options.format == OnceFormat::kJson) {
    NdjsonWriter w(out);
    for (const auto& row : rows) {
      const ProbeResult& r = *row.result;
      nlohmann::json j{{"target", row.target},    {"check", row.check}, {"kind", row.kind},
                       {"success", r.success},    {"reason", r.reason}, {"detail", r.detail},
                       {"duration_s", r.duration}};
      nlohmann::json metrics = nlohmann::json::object();
      for (const auto& m : r.metrics) {
        std::string key = m.name + (m.type == MetricType::kCounter ? "_total" : "");
        // One brace pair for all labels: name{a="1",b="2"}.
        for (size_t i = 0; i < m.labels.size(); ++i)
          key += fmt::format("{}{}=\"{}\"{}", i == 0 ? "{" : ",", m.labels[i].first,
                             m.labels[i].second, i + 1 == m.labels.size() ? "}" : "");
        metrics[key] = m.value;
      }
      j["metrics"] = std::move(metrics);
      w.write(j);
    }
    w.flush();
  } else {
    Table table({{"TARGET"}, {"CHECK"}, {"KIND"}, {"RESULT"}, {"TIME", true}, {"DETAIL"}});
    for (const auto& row : rows) {
      const ProbeResult& r = *row.result;
      table.add_row({row.target, row.check, row.kind, r.success ? "ok" : r.reason,
                     format_duration(std::chrono::duration_cast<Nanos>(
                         std::chrono::duration<double>(r.duration))),
                     r.success ? "" : r.detail});
    }
    table.print(out);
  }
  return all_ok ? 0 : 1;
}

namespace {
std::atomic<httplib::Server*> g_server{nullptr};
}  // namespace

int run_monitor(const MonitorOptions& options) {
  Endpoint ep = split_endpoint(options.listen);
  auto port = parse_port_number(ep.port);
  if (ep.error != Endpoint::Error::kNone || ep.host.empty() || !port)
    throw UsageError(fmt::format("bad --listen '{}' (host:port or [v6]:port)", options.listen));
  WebEndpoint web(options.web_config_path);
  // A scrape's text (2 MB for 1000 targets) always in its own mapping, given back when freed:
  // with glibc's default, the threshold rises to the size of the first such block freed, and
  // later ones stay in the serving thread's arena, whose top malloc_trim does not shrink.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  Runtime rt(options);
  rt.start(std::make_shared<const MonitorConfig>(load_monitor_config(options.config_path)));
  rt.store().set_reload_status(true, unix_now());
  if (!options.web_config_path.empty()) rt.prepare_web = [&web] { return web.prepare_reload(); };

  std::unique_ptr<httplib::Server> server_owner = web.make_server();
  httplib::Server& server = *server_owner;
  server.Get("/metrics", [&rt](const httplib::Request& req, httplib::Response& res) {
    auto format = negotiate_format(req.get_header_value("Accept"));
    // A scrape of 1000 targets builds several MB of families and a 2 MB text, on whichever of
    // cpp-httplib's 8 threads took the request; glibc keeps freed memory in that thread's own
    // arena, so every thread came to hold a scrape's worth (25 of the 45 MiB resident with 1000
    // targets, docs/benchmarks.md). Giving the freed pages back after each scrape costs well
    // under a millisecond; the body is moved into the response, not copied.
    std::string body = render(rt.store().families(), format);
    malloc_trim(0);
    res.body = std::move(body);
    res.set_header("Content-Type", std::string(content_type(format)));
  });
  server.Get("/probe", [&rt](const httplib::Request& req, httplib::Response& res) {
    auto config = rt.config_snapshot();
    std::string target = req.get_param_value("target");
    std::string module = req.get_param_value("module");
    if (target.empty()) {
      res.status = 400;
      res.set_content("Target parameter is missing\n", "text/plain");
      return;
    }
    auto it = config->checks.find(module);
    if (it == config->checks.end()) {
      res.status = 400;
      res.set_content(fmt::format("Unknown module \"{}\"\n", module), "text/plain");
      return;
    }
    const CheckSpec& check = it->second;
    if (check.kind == CheckKind::kHttp && !target.starts_with("http://") &&
        !target.starts_with("https://"))
      target = "http://" + target;  // as blackbox_exporter does
    Nanos timeout = check.timeout.value_or(config->timeout);
    // Prometheus says how long it waits; answer a little before that.
    if (auto s = req.get_header_value("X-Prometheus-Scrape-Timeout-Seconds"); !s.empty()) {
      double secs = std::atof(s.c_str()) - 0.5;
      if (secs > 0)
        timeout = std::min(timeout,
                           std::chrono::duration_cast<Nanos>(std::chrono::duration<double>(secs)));
    }
    ProbeResult r;
    try {
      r = rt.probe_now(check, target, timeout);
    } catch (const std::exception& e) {
      res.status = 400;
      res.set_content(fmt::format("{}\n", e.what()), "text/plain");
      return;
    }
    auto format = negotiate_format(req.get_header_value("Accept"));
    res.set_content(render(probe_families(r), format), std::string(content_type(format)));
  });
  server.Get("/", [&rt, &options](const httplib::Request&, httplib::Response& res) {
    res.set_content(render_status_page(rt.store().rows(), unix_now(), options.config_path),
                    "text/html; charset=utf-8");
  });
  server.Get("/-/healthy", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("Healthy.\n", "text/plain");
  });
  server.Get("/-/ready", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("Ready.\n", "text/plain");
  });
  // Before routing: cpp-httplib answers 400 to a POST without Content-Length (`curl -X POST`,
  // what people type) before a route handler would run.
  server.set_pre_routing_handler([&rt, &web](const httplib::Request& req, httplib::Response& res) {
    // Every path needs the credentials when users are configured (/-/healthy too, as
    // exporter-toolkit).
    if (!web.admit(req, res)) return httplib::Server::HandlerResponse::Handled;
    if (req.path != "/-/reload") return httplib::Server::HandlerResponse::Unhandled;
    if (req.method != "POST" && req.method != "PUT") {
      res.status = 405;
      res.set_content("This endpoint requires a POST request.\n", "text/plain");
      return httplib::Server::HandlerResponse::Handled;
    }
    std::promise<std::string> done;
    auto fut = done.get_future();
    asio::post(rt.io(), [&rt, &done] { done.set_value(rt.reload()); });
    std::string error = fut.get();
    if (error.empty()) {
      res.set_content("Reloaded.\n", "text/plain");
    } else {
      res.status = 500;
      res.set_content(fmt::format("failed to reload config: {}\n", error), "text/plain");
    }
    return httplib::Server::HandlerResponse::Handled;
  });
  server.set_post_routing_handler(
      [&web](const httplib::Request&, httplib::Response& res) { web.add_headers(res); });
  // cpp-httplib's default options add SO_REUSEPORT: a second monitor on the same port would then
  // share it silently (and answer half the scrapes) instead of failing to start.
  server.set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  std::string host(ep.host);
  if (!server.bind_to_port(host, *port))
    throw RuntimeError(fmt::format("cannot listen on {}: {}", options.listen,
                                   std::strerror(errno ? errno : EADDRINUSE)));
  std::thread http([&server] { server.listen_after_bind(); });

  asio::signal_set hup(rt.io(), SIGHUP);
  std::function<void()> wait_hup = [&] {
    hup.async_wait([&](std::error_code ec, int) {
      if (ec) return;
      rt.reload();
      wait_hup();
    });
  };
  wait_hup();
  asio::signal_set stop(rt.io(), SIGINT, SIGTERM);
  stop.async_wait([&](std::error_code, int) {
    server.stop();
    rt.io().stop();
  });
  std::fprintf(stderr, "netres: monitor: listening on %s://%s/metrics\n",
               web.tls() ? "https" : "http", options.listen.c_str());
  auto guard = asio::make_work_guard(rt.io());
  rt.io().run();
  server.stop();
  http.join();
  return 0;
}

}  // namespace netres::monitor
