// ProbeStore: results to families, names and help texts as blackbox_exporter has them.
#include "monitor/probe_store.h"

#include <algorithm>
#include <chrono>

namespace netres::monitor {

const std::vector<double>& duration_buckets() {
  static const std::vector<double> b{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                     0.25,  0.5,    1,     2.5,  5,     10};
  return b;
}

const std::vector<double>& rtt_buckets() {
  static const std::vector<double> b{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                     0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};
  return b;
}

const std::vector<double>& start_delay_buckets() {
  static const std::vector<double> b{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                     0.05,   0.1,     0.25,   0.5,   1,      2.5,   10};
  return b;
}

namespace {

void count_into(const std::vector<double>& bounds, std::vector<uint64_t>& buckets, double v) {
  if (buckets.empty()) buckets.assign(bounds.size() + 1, 0);
  ++buckets[static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), v) -
                                bounds.begin())];
}

struct Help {
  std::string_view name, help;
};
// The order families are written in; names not listed follow alphabetically.
constexpr Help kHelp[] = {
    {"probe_success", "Displays whether or not the probe was a success"},
    {"probe_duration_seconds", "Returns how long the probe took to complete in seconds"},
    {"probe_dns_lookup_time_seconds", "Returns the time taken for probe dns lookup in seconds"},
    {"probe_ip_protocol", "Specifies whether probe ip protocol is IP4 or IP6"},
    {"probe_http_status_code", "Response HTTP status code"},
    {"probe_http_duration_seconds", "Duration of http request by phase, summed over all redirects"},
    {"probe_http_content_length", "Length of http content response"},
    {"probe_http_uncompressed_body_length", "Length of uncompressed response body"},
    {"probe_http_redirects", "The number of redirects"},
    {"probe_http_ssl", "Indicates if SSL was used for the final redirect"},
    {"probe_http_version", "Returns the version of HTTP of the probe response"},
    {"probe_failed_due_to_regex", "Indicates if probe failed due to regex"},
    {"probe_ssl_earliest_cert_expiry", "Returns last SSL chain expiry in unixtime"},
    {"probe_ssl_last_chain_expiry_timestamp_seconds", "Returns last SSL chain expiry in timestamp"},
    {"probe_tls_version_info", "Returns the TLS version used or NaN when unknown"},
    {"probe_tls_cipher_info", "Returns the TLS cipher negotiated during handshake"},
    {"probe_dns_duration_seconds", "Duration of DNS request by phase"},
    {"probe_dns_answer_rrs", "Returns number of entries in the answer resource record list"},
    {"probe_dns_authority_rrs", "Returns number of entries in the authority resource record list"},
    {"probe_dns_additional_rrs",
     "Returns number of entries in the additional resource record list"},
    {"probe_dns_query_succeeded", "Displays whether or not the query was executed successfully"},
    {"probe_dns_serial", "Returns the serial number of the zone"},
    {"netres_probe_dns_rcode_info", "The response code of the DNS reply"},
    {"netres_probe_ssl_leaf_cert_expiry",
     "Expiry of the server's own (leaf) certificate in unixtime"},
    {"netres_probe_ssl_verified",
     "Whether the certificate chain verified against the trusted CAs and the name (1) or not (0)"},
    {"netres_probe_tcp_connect_seconds", "Time to establish the TCP connection"},
    {"netres_probe_tls_handshake_seconds", "Time of the TLS handshake"},
    {"netres_probe_starttls_seconds",
     "Time of the STARTTLS dialogue, from the connection to the server's go-ahead"},
    {"netres_ssh_handshake_seconds",
     "Time of the TCP connect, SSH banner exchange and key exchange together"},
    {"netres_ssh_hostkey_ok",
     "Whether the server's host key is the one known_hosts records (1) or not (0)"},
    {"netres_ssh_info", "The SSH server's banner, host key type and SHA256 fingerprint"},
    {"probe_icmp_duration_seconds", "Duration of icmp request by phase"},
    {"probe_icmp_reply_hop_limit", "Replied packet hop limit (TTL for ipv4)"},
    {"netres_icmp_loss_ratio", "Share of the burst's echo requests that got no reply (0-1)"},
    {"netres_icmp_packets_sent", "Echo requests sent in the last burst"},
    {"netres_icmp_packets_received", "Echo replies received in the last burst"},
    {"netres_icmp_rtt_min_seconds", "Shortest round trip of the last burst"},
    {"netres_icmp_rtt_median_seconds", "Median round trip of the last burst"},
    {"netres_icmp_rtt_max_seconds", "Longest round trip of the last burst"},
    {"netres_config_drift",
     "Whether the running configuration differs from the last backup (1) or not (0)"},
    {"netres_config_backup_timestamp_seconds",
     "When the last backup was written, the configuration as last recorded, in unixtime"},
    {"netres_probe_failure_info",
     "Present with value 1 while the last probe failed, labelled with the failure reason"},
    // iface: node_exporter's netdev collector's names and help texts.
    {"node_network_receive_bytes", "Network device statistic receive_bytes."},
    {"node_network_transmit_bytes", "Network device statistic transmit_bytes."},
    {"node_network_receive_packets", "Network device statistic receive_packets."},
    {"node_network_transmit_packets", "Network device statistic transmit_packets."},
    {"node_network_receive_errs", "Network device statistic receive_errs."},
    {"node_network_transmit_errs", "Network device statistic transmit_errs."},
    {"node_network_receive_drop", "Network device statistic receive_drop."},
    {"node_network_transmit_drop", "Network device statistic transmit_drop."},
    {"node_network_up", "Value is 1 if operstate is 'up', 0 otherwise."},
    {"node_network_info", "Non-numeric data from /sys/class/net/<iface>, value is always 1."},
    {"node_network_speed_bytes", "Network device property: speed_bytes"},
    {"node_network_receive_fifo", "Network device statistic receive_fifo."},
    {"node_network_receive_frame", "Network device statistic receive_frame."},
    {"node_network_receive_compressed", "Network device statistic receive_compressed."},
    {"node_network_receive_multicast", "Network device statistic receive_multicast."},
    {"node_network_transmit_fifo", "Network device statistic transmit_fifo."},
    {"node_network_transmit_colls", "Network device statistic transmit_colls."},
    {"node_network_transmit_carrier", "Network device statistic transmit_carrier."},
    {"node_network_transmit_compressed", "Network device statistic transmit_compressed."},
    {"node_network_carrier", "Network device property: carrier"},
    {"node_network_mtu_bytes", "Network device property: mtu_bytes"},
    {"netres_iface_receive_bytes_per_second", "Bytes received per second since the last probe"},
    {"netres_iface_transmit_bytes_per_second", "Bytes sent per second since the last probe"},
    {"netres_iface_utilisation_ratio",
     "Bytes per second since the last probe over the link speed, by direction"},
};

Family& family_for(std::map<std::string, Family>& m, const std::string& name, MetricType t) {
  auto it = m.find(name);
  if (it != m.end()) return it->second;
  Family f;
  f.name = name;
  f.help = std::string(metric_help(name));
  if (f.help.empty()) f.help = name;
  f.type = t;
  return m.emplace(name, std::move(f)).first->second;
}

std::vector<Family> ordered(std::map<std::string, Family>& m) {
  std::vector<Family> out;
  for (const auto& h : kHelp) {
    auto it = m.find(std::string(h.name));
    if (it != m.end()) {
      out.push_back(std::move(it->second));
      m.erase(it);
    }
  }
  for (auto& [name, f] : m) out.push_back(std::move(f));
  return out;
}

// `base`: the series' labels (null for /probe's), shared by its samples rather than copied.
void add_result(std::map<std::string, Family>& m, const std::shared_ptr<const Labels>& base,
                const ProbeResult& r) {
  family_for(m, "probe_success", MetricType::kGauge).add(base, {}, r.success ? 1 : 0);
  family_for(m, "probe_duration_seconds", MetricType::kGauge).add(base, {}, r.duration);
  for (const auto& pm : r.metrics) family_for(m, pm.name, pm.type).add(base, pm.labels, pm.value);
  if (!r.success)
    family_for(m, "netres_probe_failure_info", MetricType::kGauge)
        .add(base, {{"reason", r.reason}}, 1);
}

}  // namespace

std::string_view metric_help(std::string_view name) {
  for (const auto& h : kHelp)
    if (h.name == name) return h.help;
  return {};
}

std::vector<Family> probe_families(const ProbeResult& r) {
  std::map<std::string, Family> m;
  add_result(m, nullptr, r);
  std::vector<Family> out = ordered(m);
  if (!r.rtts.empty()) {  // this burst alone, as /probe has no history
    std::vector<uint64_t> buckets;
    double sum = 0;
    for (double v : r.rtts) {
      count_into(rtt_buckets(), buckets, v);
      sum += v;
    }
    Family h{"netres_icmp_rtt_seconds", "Round trips of echo replies", MetricType::kHistogram};
    h.add_histogram({}, rtt_buckets(), buckets, sum);
    out.push_back(std::move(h));
  }
  return out;
}

void ProbeStore::configure(const MonitorConfig& config) {
  std::lock_guard lock(mu_);
  std::map<std::pair<std::string, std::string>, Series> next;
  size_t order = 0;
  for (const auto& t : config.targets) {
    for (const auto& c : t.checks) {
      auto key = std::make_pair(t.name, c);
      Series s;
      if (auto it = series_.find(key); it != series_.end()) s = std::move(it->second);
      s.labels = {{"target", t.name}, {"check", c}};
      s.labels.insert(s.labels.end(), t.labels.begin(), t.labels.end());
      s.kind = std::string(kind_name(config.checks.at(c).kind));
      s.order = order++;
      if (s.buckets.empty()) s.buckets.assign(duration_buckets().size() + 1, 0);
      next.emplace(std::move(key), std::move(s));
    }
  }
  series_ = std::move(next);
  targets_ = config.targets.size();
}

void ProbeStore::record(const std::string& target, const std::string& check, ProbeResult r) {
  std::lock_guard lock(mu_);
  auto it = series_.find({target, check});
  if (it == series_.end()) return;  // removed by a reload while the probe ran
  Series& s = it->second;
  ++s.probes;
  if (!r.success) ++s.failures[r.reason];
  const auto& b = duration_buckets();
  size_t i = static_cast<size_t>(std::lower_bound(b.begin(), b.end(), r.duration) - b.begin());
  ++s.buckets[i];
  s.sum += r.duration;
  for (double v : r.rtts) {
    count_into(rtt_buckets(), s.rtt_buckets, v);
    s.rtt_sum += v;
  }
  if (s.history.size() >= kHistory) s.history.erase(s.history.begin());
  s.history.push_back(r.success ? static_cast<float>(r.duration) : -1.0f);
  if (!r.success) s.last_failure = r.reason + ": " + r.detail;
  s.last_unix =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  s.last = std::move(r);  // moved, not copied: a probe's dozen metrics are a dozen allocations
}

void ProbeStore::set_reload_status(bool ok, double unix_time) {
  std::lock_guard lock(mu_);
  reload_ok_ = ok;
  if (ok) reload_time_ = unix_time;
}

void ProbeStore::set_in_flight(size_t n) {
  std::lock_guard lock(mu_);
  in_flight_ = n;
}

void ProbeStore::record_start_delay(double seconds) {
  std::lock_guard lock(mu_);
  count_into(start_delay_buckets(), start_delay_buckets_, std::max(seconds, 0.0));
  start_delay_sum_ += std::max(seconds, 0.0);
}

void ProbeStore::count_skipped_rounds(uint64_t n) {
  std::lock_guard lock(mu_);
  skipped_rounds_ += n;
}

std::vector<Family> ProbeStore::families() const {
  std::lock_guard lock(mu_);
  std::vector<const Series*> list;
  for (const auto& [k, s] : series_) list.push_back(&s);
  std::sort(list.begin(), list.end(),
            [](const Series* a, const Series* b) { return a->order < b->order; });
  // Each series' labels once, shared by all of its samples.
  std::vector<std::shared_ptr<const Labels>> base;
  base.reserve(list.size());
  for (const Series* s : list) base.push_back(std::make_shared<const Labels>(s->labels));
  std::map<std::string, Family> m;
  for (size_t i = 0; i < list.size(); ++i)
    if (list[i]->last) add_result(m, base[i], *list[i]->last);
  std::vector<Family> out = ordered(m);
  Family failures{"netres_probe_failures", "Probes that failed, by reason", MetricType::kCounter};
  Family probes{"netres_probes", "Probes run", MetricType::kCounter};
  Family hist{"netres_probe_duration_seconds", "Probe durations", MetricType::kHistogram};
  Family rtt{"netres_icmp_rtt_seconds", "Round trips of echo replies", MetricType::kHistogram};
  for (size_t i = 0; i < list.size(); ++i) {
    const Series* s = list[i];
    if (s->probes == 0) continue;
    probes.add(base[i], {}, static_cast<double>(s->probes));
    for (const auto& [reason, n] : s->failures)
      failures.add(base[i], {{"reason", reason}}, static_cast<double>(n));
    hist.add_histogram_shared(base[i], duration_buckets(), s->buckets, s->sum);
    if (s->kind == "icmp") {
      std::vector<uint64_t> empty(rtt_buckets().size() + 1, 0);
      rtt.add_histogram_shared(base[i], rtt_buckets(),
                               s->rtt_buckets.empty() ? empty : s->rtt_buckets, s->rtt_sum);
    }
  }
  out.push_back(std::move(failures));
  out.push_back(std::move(probes));
  out.push_back(std::move(hist));
  out.push_back(std::move(rtt));
  Family targets{"netres_monitor_targets", "Targets in the running configuration",
                 MetricType::kGauge};
  targets.add({}, static_cast<double>(targets_));
  Family reload{"netres_monitor_config_last_reload_successful",
                "Whether the last configuration reload succeeded", MetricType::kGauge};
  reload.add({}, reload_ok_ ? 1 : 0);
  Family reload_time{"netres_monitor_config_last_reload_success_timestamp_seconds",
                     "When the configuration was last loaded successfully", MetricType::kGauge};
  reload_time.add({}, reload_time_);
  Family flight{"netres_monitor_probes_in_flight", "Probes running now", MetricType::kGauge};
  flight.add({}, static_cast<double>(in_flight_));
  Family delay{"netres_monitor_probe_start_delay_seconds",
               "How long after its scheduled slot each probe started", MetricType::kHistogram};
  std::vector<uint64_t> no_delays(start_delay_buckets().size() + 1, 0);
  delay.add_histogram({}, start_delay_buckets(),
                      start_delay_buckets_.empty() ? no_delays : start_delay_buckets_,
                      start_delay_sum_);
  Family skipped{"netres_monitor_skipped_rounds",
                 "Rounds not probed because the previous probe of the pair still ran",
                 MetricType::kCounter};
  skipped.add({}, static_cast<double>(skipped_rounds_));
  out.push_back(std::move(targets));
  out.push_back(std::move(reload));
  out.push_back(std::move(reload_time));
  out.push_back(std::move(flight));
  out.push_back(std::move(delay));
  out.push_back(std::move(skipped));
  return out;
}

std::vector<ProbeStore::Row> ProbeStore::rows() const {
  std::lock_guard lock(mu_);
  std::vector<Row> out(series_.size());
  for (const auto& [k, s] : series_)
    out[s.order] = Row{k.first, k.second, s.kind, s.last, s.history, s.last_failure, s.last_unix};
  return out;
}

}  // namespace netres::monitor
