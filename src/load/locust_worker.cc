// The locust worker's session: the DEALER socket and its monitor, the message loop (spawn, stop,
// quit, reconnect, ack, master heartbeats), the heartbeat thread, the 3-second reports, and one
// LoadEngine run (under a UserControl) per spawn..stop of the master.
#include "load/locust_worker.h"

#include <fmt/format.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <zmq.hpp>

#include "common/error.h"
#include "common/output.h"
#include "common/results_file.h"
#include "common/text.h"
#include "load/load_report.h"
#include "load/load_results.h"
#include "load/load_setup.h"
#include "load/locust_protocol.h"
#include "load/locust_stats.h"

namespace netres::load {
namespace {

namespace lp = locust;
using Clock = std::chrono::steady_clock;

std::string default_node_id() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "netres");
  std::random_device rd;
  std::string id = std::string(host) + "_";
  for (int i = 0; i < 4; ++i) id += fmt::format("{:08x}", rd());
  return id;
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// This process's CPU use since the last sample, in percent of one core (as psutil's
// cpu_percent, which locust's workers report), and its resident memory.
class ProcessMeter {
 public:
  ProcessMeter() { sample(); }
  double sample() {
    const double cpu = cpu_seconds();
    const auto now = Clock::now();
    const double wall = std::chrono::duration<double>(now - last_at_).count();
    double percent = wall > 0 ? (cpu - last_cpu_) / wall * 100.0 : 0.0;
    last_cpu_ = cpu;
    last_at_ = now;
    return percent < 0 ? 0 : percent;
  }
  static uint64_t rss_bytes() {
    std::ifstream f("/proc/self/statm");
    uint64_t size = 0, resident = 0;
    f >> size >> resident;
    return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  }

 private:
  static double cpu_seconds() {
    std::ifstream f("/proc/self/stat");
    std::string line;
    std::getline(f, line);
    // Fields after the command's closing parenthesis: state is field 3, utime 14, stime 15.
    auto close = line.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    uint64_t utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
      if (i == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  double last_cpu_ = 0;
  Clock::time_point last_at_;
};

// One spawn..stop of the master: a LoadEngine on its own thread under a UserControl.
struct ActiveRun {
  std::shared_ptr<UserControl> control;
  std::atomic<bool> stop{false};
  std::atomic<bool> finished{false};
  std::thread thread;
  LoadResult result;
  std::exception_ptr error;
  std::map<std::string, unsigned> targets, peak;
};

class Session {
 public:
  explicit Session(LocustWorkerOptions& o) : o_(o), scenario_(*o.load.scenario) {
    if (o_.node_id.empty()) o_.node_id = default_node_id();
    for (const auto& c : scenario_.classes) idle_counts_[c.name] = 0;
  }

  LocustWorkerOutcome run() {
    open_socket();
    heartbeat_thread_ = std::thread([this] { heartbeat_loop(); });
    try {
      loop();
    } catch (...) {
      shutdown();
      throw;
    }
    shutdown();
    return std::move(outcome_);
  }

 private:
  void log(std::string_view line) {
    if (o_.log) o_.log(line);
  }
  void log_once(const std::string& key, std::string_view line) {
    if (logged_.insert(key).second) log(line);
  }

  std::string endpoint() const {
    const bool v6 = o_.master_host.find(':') != std::string::npos;
    return v6 ? fmt::format("tcp://[{}]:{}", o_.master_host, o_.master_port)
              : fmt::format("tcp://{}:{}", o_.master_host, o_.master_port);
  }

  void open_socket() {
    std::lock_guard lock(socket_mutex_);
    if (dealer_) {
      monitor_.reset();
      dealer_->close();
    }
    dealer_ = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::dealer);
    dealer_->set(zmq::sockopt::routing_id, o_.node_id);
    dealer_->set(zmq::sockopt::linger, 1000);  // queued final stats still go out on close
    dealer_->set(zmq::sockopt::tcp_keepalive, 1);
    dealer_->set(zmq::sockopt::tcp_keepalive_idle, 30);
    dealer_->set(zmq::sockopt::ipv6, 1);
    // The monitor says when the TCP connection to the master drops and comes back: a master of
    // locust 2.12 sends nothing while a test runs, so this is how its going away is seen.
    const std::string monitor_address =
        fmt::format("inproc://netres-locust-monitor-{}", ++sockets_);
    if (zmq_socket_monitor(dealer_->handle(), monitor_address.c_str(),
                           ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED) != 0)
      throw RuntimeError(fmt::format("locust: zmq_socket_monitor: {}", zmq_strerror(zmq_errno())));
    monitor_ = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::pair);
    monitor_->connect(monitor_address);
    try {
      dealer_->connect(endpoint());
    } catch (const zmq::error_t& e) {
      throw UsageError(fmt::format("bad --locust-master '{}': {}", endpoint(), e.what()));
    }
    disconnected_since_.reset();
  }

  void send(const lp::Message& m) {
    const std::string bytes = lp::encode(m);
    std::lock_guard lock(socket_mutex_);
    // Never blocks: a DEALER queues up to its high-water mark while the master is away, and
    // drops beyond it, as locust's own workers (NOBLOCK sends) do.
    (void)dealer_->send(zmq::buffer(bytes), zmq::send_flags::dontwait);
  }

  void heartbeat_loop() {
    ProcessMeter meter;
    std::unique_lock lock(heartbeat_mutex_);
    while (!heartbeat_stop_) {
      heartbeat_cv_.wait_for(lock, o_.heartbeat_interval);
      if (heartbeat_stop_) break;
      const double cpu = meter.sample();
      const auto message = lp::heartbeat(o_.node_id, state_.load(), cpu, ProcessMeter::rss_bytes());
      heartbeat_waiting_ = true;
      send(message);
      heartbeat_waiting_ = false;
    }
  }

  // Receives what is there within `timeout` (frames from the master and monitor events).
  void poll_once(std::chrono::milliseconds timeout, std::vector<std::string>& frames) {
    {
      std::lock_guard lock(socket_mutex_);
      zmq::pollitem_t items[] = {{dealer_->handle(), 0, ZMQ_POLLIN, 0},
                                 {monitor_->handle(), 0, ZMQ_POLLIN, 0}};
      zmq::poll(items, 2, timeout);
      for (int i = 0; i < 1000; ++i) {  // bounded: the rest waits for the next turn
        zmq::message_t msg;
        if (!dealer_->recv(msg, zmq::recv_flags::dontwait)) break;
        frames.push_back(msg.to_string());
        // A DEALER may get a multi-part message from a non-locust peer: the extra parts are
        // dropped, so each frame is judged alone.
        while (msg.more() && dealer_->recv(msg, zmq::recv_flags::dontwait)) {
        }
      }
      for (int i = 0; i < 100; ++i) {
        zmq::message_t event, address;
        if (!monitor_->recv(event, zmq::recv_flags::dontwait)) break;
        if (event.more()) (void)monitor_->recv(address, zmq::recv_flags::dontwait);
        if (event.size() < 2) continue;
        uint16_t id;
        std::memcpy(&id, event.data(), sizeof id);
        if (id == ZMQ_EVENT_DISCONNECTED) {
          if (!disconnected_since_) disconnected_since_ = Clock::now();
        } else if (id == ZMQ_EVENT_CONNECTED) {
          if (disconnected_since_) reconnected_ = true;
          disconnected_since_.reset();
        }
      }
    }
    // Lets the heartbeat thread in when it waits for the socket (a mutex is not fair).
    for (int i = 0; i < 50 && heartbeat_waiting_; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

  void loop() {
    const auto started = Clock::now();
    send(lp::client_ready(o_.node_id));
    auto ready_sent = started;
    auto next_report = started + o_.report_interval;
    log(fmt::format("locust: joining the master at {}:{} as {}", o_.master_host, o_.master_port,
                    o_.node_id));
    std::vector<std::string> frames;
    while (!done_) {
      frames.clear();
      // 100 ms: the master's messages still take effect at once (poll wakes on them); only the
      // timers (reports, timeouts) wait up to that long, and an idle worker wakes 10 times a
      // second.
      poll_once(std::chrono::milliseconds(100), frames);
      for (const auto& f : frames) {
        if (done_) break;
        lp::Message m;
        try {
          m = lp::decode(f);
        } catch (const lp::ProtocolError& e) {
          log_once("bad:" + std::string(e.what()),
                   fmt::format("locust: ignoring a message that is not locust's ({})", e.what()));
          continue;
        }
        handle(m);
      }
      if (done_) break;
      const auto now = Clock::now();
      if (reconnected_) {
        // The connection came back: a master that restarted does not know this worker (and a
        // 2.12 master ignores heartbeats from unknown workers), so say ready again.
        reconnected_ = false;
        log("locust: the connection to the master is back; sending client_ready");
        send(lp::client_ready(o_.node_id));
      }
      if (run_ && run_->finished && run_->error) {  // the engine failed (e.g. no such host)
        std::exception_ptr error = run_->error;
        end_run();
        send(lp::quit(o_.node_id));
        std::rethrow_exception(error);
      }
      if (o_.interrupted && o_.interrupted->load()) {
        log("locust: interrupted: stopping the users and leaving the master");
        end_run();
        send(lp::quit(o_.node_id));
        outcome_.end = LocustWorkerOutcome::End::kInterrupted;
        break;
      }
      if (!acked_) {
        if (now - started > o_.master_timeout)
          throw RuntimeError(fmt::format("no answer from the locust master at {}:{} within {}",
                                         o_.master_host, o_.master_port,
                                         format_duration(o_.master_timeout)));
        if (now - ready_sent > std::chrono::seconds(5)) {  // locust's CONNECT_TIMEOUT
          send(lp::client_ready(o_.node_id));
          ready_sent = now;
        }
      } else {
        std::string lost;
        if (disconnected_since_ && now - *disconnected_since_ > o_.master_timeout)
          lost = fmt::format("the connection to the master has been down for {}",
                             format_duration(o_.master_timeout));
        else if (last_master_heartbeat_ && now - *last_master_heartbeat_ > o_.master_timeout)
          lost = fmt::format("no heartbeat from the master for {}",
                             format_duration(o_.master_timeout));
        if (!lost.empty()) {
          log("locust: master lost: " + lost + "; stopping the users");
          end_run();
          outcome_.end = LocustWorkerOutcome::End::kMasterLost;
          outcome_.detail = lost;
          break;
        }
      }
      // As locust's workers, reports start once the master has acknowledged us (a master
      // that does not know the node logs each one as unrecognized).
      if (acked_ && now >= next_report) {
        send_report();
        next_report = now + o_.report_interval;
      }
    }
  }

  void handle(const lp::Message& m) {
    if (m.type == "ack") {
      acked_ = true;
      std::string index;
      if (const lp::Value* i = m.data.find("index"); i && i->is_int())
        index = fmt::format(" (worker index {})", i->as_int());
      log(fmt::format("locust: the master acknowledged{}", index));
    } else if (m.type == "spawn") {
      on_spawn(m.data);
    } else if (m.type == "stop") {
      on_stop();
    } else if (m.type == "quit") {
      log("locust: the master said quit");
      end_run();
      done_ = true;
    } else if (m.type == "reconnect") {
      log("locust: the master asked for a reconnect");
      open_socket();
      send(lp::client_ready(o_.node_id));
    } else if (m.type == "heartbeat") {
      last_master_heartbeat_ = Clock::now();
    } else {
      log_once("type:" + m.type,
               fmt::format("locust: ignoring messages of type '{}' (logged once)", m.type));
    }
  }

  void on_spawn(const lp::Value& data) {
    send(lp::spawning(o_.node_id));
    lp::SpawnCommand c;
    try {
      c = lp::parse_spawn(data);
    } catch (const lp::ProtocolError& e) {
      log_once("spawn:" + std::string(e.what()),
               fmt::format("locust: ignoring a spawn message: {}", e.what()));
      return;
    }
    if (c.timestamp <= last_spawn_timestamp_) {
      log("locust: ignoring a spawn message older than the last one");
      return;
    }
    last_spawn_timestamp_ = c.timestamp;
    const std::string ours = fmt::format("{}://{}", scenario_.host->tls ? "https" : "http",
                                         scenario_.host->host_header());
    if (!c.host.empty() && c.host != ours && c.host != ours + "/")
      log_once(
          "host:" + c.host,
          fmt::format("locust: the master's host {} is not used: requests go to {}", c.host, ours));
    std::vector<unsigned> per_class(scenario_.classes.size(), 0);
    std::map<std::string, unsigned> targets = idle_counts_;
    for (const auto& [name, n] : c.user_classes_count) {
      auto it = std::find_if(scenario_.classes.begin(), scenario_.classes.end(),
                             [&](const UserClass& u) { return u.name == name; });
      if (it == scenario_.classes.end()) {
        log_once("class:" + name,
                 fmt::format("locust: the master asks for users of class '{}', which the "
                             "scenario does not have: none are started",
                             name));
        continue;
      }
      per_class[it - scenario_.classes.begin()] = n;
      targets[name] = n;
    }
    state_ = "spawning";
    if (!run_) start_run();
    run_->control->set(per_class);
    run_->targets = targets;
    for (const auto& [name, n] : targets) run_->peak[name] = std::max(run_->peak[name], n);
    unsigned total = 0;
    for (unsigned n : per_class) total += n;
    log(fmt::format("locust: {} users", total));
    send(lp::spawning_complete(o_.node_id, targets));
    state_ = "running";
  }

  void on_stop() {
    log("locust: the master said stop");
    state_ = "stopped";
    end_run();
    send(lp::client_stopped(o_.node_id));
    send(lp::client_ready(o_.node_id));
    state_ = "ready";
  }

  void start_run() {
    run_ = std::make_unique<ActiveRun>();
    run_->control = std::make_shared<UserControl>(scenario_.classes.size());
    LoadOptions lo = o_.load;
    lo.control = run_->control;
    lo.observer = &collector_;
    lo.stop_requested = &run_->stop;
    lo.duration = std::chrono::hours(24 * 366);  // until the master says stop
    lo.keep_seconds = !o_.results_path.empty();
    ActiveRun* r = run_.get();
    r->thread = std::thread([r, lo = std::move(lo)]() mutable {
      try {
        r->result = LoadEngine(std::move(lo)).run(nullptr);
      } catch (...) {
        r->error = std::current_exception();
      }
      r->finished = true;
    });
  }

  // Stops the run's users (requests in flight finish, within the drain), then sends the final
  // stats and the exact histograms. The heartbeat thread keeps going meanwhile.
  void end_run() {
    if (!run_) return;
    run_->stop = true;
    run_->thread.join();
    send_report();
    if (!run_->error) {
      ++runs_;
      send(lp::Message{std::string(lp::kHistogramsMessage),
                       lp::histograms_report(run_->result.stats, runs_), o_.node_id});
      outcome_.runs.push_back({std::move(run_->result), run_->peak});
      if (!o_.results_path.empty()) write_results(outcome_.runs.back());
    }
    run_.reset();
  }

  void write_results(const LocustWorkerRun& r) {
    LoadOptions lo = o_.load;
    lo.connections = 0;
    for (const auto& [name, n] : r.peak_users) lo.connections += n;
    lo.duration = r.result.elapsed;
    RunDescription run = describe_scenario_run(scenario_, lo, o_.scenario_path);
    for (auto& share : run.user_classes) {
      auto it = r.peak_users.find(share.name);
      share.users = it == r.peak_users.end() ? 0 : it->second;
    }
    nlohmann::json job = scenario_job(scenario_, o_.scenario_bytes, lo, {});
    job["mode"] = "locust-worker";
    job["node_id"] = o_.node_id;
    write_results_file(
        o_.results_path,
        ResultsFile{kLoadVerb, Shard{}, std::move(job), results_data(run, r.result), {}});
  }

  void send_report() {
    const double now = unix_now();
    lp::Value data = collector_.take_report(last_report_ ? last_report_ : now);
    last_report_ = now;
    const auto& counts = run_ ? run_->targets : idle_counts_;
    unsigned total = 0;
    for (const auto& [name, n] : counts) total += n;
    data.as_map().emplace_back(lp::Value("user_classes_count"), lp::class_counts(counts));
    data.as_map().emplace_back(lp::Value("user_count"), lp::Value(total));
    send(lp::Message{"stats", std::move(data), o_.node_id});
  }

  void shutdown() {
    if (run_) {
      run_->stop = true;
      run_->thread.join();
      run_.reset();
    }
    {
      std::lock_guard lock(heartbeat_mutex_);
      heartbeat_stop_ = true;
    }
    heartbeat_cv_.notify_all();
    if (heartbeat_thread_.joinable()) heartbeat_thread_.join();
    std::lock_guard lock(socket_mutex_);
    monitor_.reset();
    if (dealer_) dealer_->close();  // lingers up to 1 s for what is queued
  }

  LocustWorkerOptions& o_;
  const Scenario& scenario_;
  zmq::context_t ctx_;
  std::mutex socket_mutex_;
  std::unique_ptr<zmq::socket_t> dealer_, monitor_;
  unsigned sockets_ = 0;
  std::atomic<bool> heartbeat_waiting_{false};
  std::mutex heartbeat_mutex_;
  std::condition_variable heartbeat_cv_;
  bool heartbeat_stop_ = false;
  std::thread heartbeat_thread_;
  std::atomic<const char*> state_{"ready"};
  bool acked_ = false;
  bool done_ = false;
  bool reconnected_ = false;  // the TCP connection dropped and came back
  double last_spawn_timestamp_ = 0;
  double last_report_ = 0;
  unsigned runs_ = 0;
  std::optional<Clock::time_point> disconnected_since_, last_master_heartbeat_;
  std::set<std::string> logged_;
  std::map<std::string, unsigned> idle_counts_;
  lp::StatsCollector collector_;
  std::unique_ptr<ActiveRun> run_;
  LocustWorkerOutcome outcome_;
};

}  // namespace

void parse_locust_master(const std::string& text, LocustWorkerOptions& o) {
  Endpoint e = split_endpoint(text);
  if (e.error != Endpoint::Error::kNone || e.host.empty())
    throw UsageError(fmt::format("bad --locust-master '{}': HOST[:PORT] expected", text));
  o.master_host = std::string(e.host);
  o.master_port = 5557;
  if (!e.port.empty()) {
    auto port = parse_port_number(e.port);
    if (!port) throw UsageError(fmt::format("bad --locust-master '{}': ports are 1-65535", text));
    o.master_port = *port;
  }
}

void print_locust_worker_runs(std::FILE* out, const LocustWorkerOutcome& outcome, bool json) {
  for (const auto& r : outcome.runs) {
    if (!json) {
      print_tables(out, r.result, false);
      continue;
    }
    unsigned peak = 0;
    for (const auto& [name, n] : r.peak_users) peak += n;
    RunDescription run;
    run.mode = "locust-worker";
    nlohmann::json j = to_json(run, r.result, {});
    j["mode"] = "locust-worker";
    j["users"] = peak;
    j["user_classes"] = r.peak_users;
    NdjsonWriter(out).write(j);
  }
  std::fflush(out);
}

LocustWorkerOutcome run_locust_worker(LocustWorkerOptions options) {
  if (!options.load.scenario) throw UsageError("--locust-master needs a scenario file");
  Session session(options);
  return session.run();
}

}  // namespace netres::load
