// Scenario decisions: PRNG, weighted choices, class assignment, wait times, the user schedule,
// and the response checks with their extractions.
#include "load/scenario_runtime.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <strings.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>

#include "load/virtual_user.h"

namespace netres::load {
namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

Nanos seconds(double s) {
  if (!(s > 0)) return Nanos{0};
  if (s > 1e9) s = 1e9;  // far beyond any run
  return std::chrono::duration_cast<Nanos>(std::chrono::duration<double>(s));
}

constexpr Nanos kForever = Nanos::max() / 4;

}  // namespace

Prng::Prng(uint64_t seed, uint64_t stream) {
  uint64_t x = seed ^ splitmix64(stream);
  for (auto& s : s_) s = splitmix64(x);
}

uint64_t Prng::next() {
  uint64_t result = rotl(s_[1] * 5, 7) * 9;
  uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Prng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

size_t pick_weighted(const std::vector<double>& weights, Prng& rng) {
  double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  double x = rng.uniform() * total;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (x < weights[i]) return i;
    x -= weights[i];
  }
  return weights.size() - 1;  // rounding at the top end
}

std::vector<unsigned> assign_user_classes(const std::vector<double>& weights, unsigned users) {
  const size_t n = weights.size();
  std::vector<unsigned> out;
  if (n == 0 || users == 0) return out;
  double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  // Counts by largest remainder of the proportional shares.
  std::vector<unsigned> counts(n, 0);
  std::vector<std::pair<double, size_t>> remainders;
  unsigned given = 0;
  for (size_t i = 0; i < n; ++i) {
    double share = static_cast<double>(users) * weights[i] / total;
    counts[i] = std::min(users - given, static_cast<unsigned>(std::floor(share)));
    given += counts[i];
    remainders.push_back({share - std::floor(share), i});
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t k = 0; given < users; k = (k + 1) % n, ++given) ++counts[remainders[k].second];
  // Every class gets a user when there are enough (as locust): from the biggest class.
  if (users >= n)
    for (size_t i = 0; i < n; ++i)
      if (counts[i] == 0) {
        --*std::max_element(counts.begin(), counts.end());
        counts[i] = 1;
      }
  // Smooth weighted round robin over the counts: 3:1 gives a, a, b, a, a, a, b, a ...
  std::vector<int64_t> current(n, 0);
  for (unsigned u = 0; u < users; ++u) {
    size_t best = 0;
    for (size_t i = 0; i < n; ++i) {
      current[i] += counts[i];
      if (current[i] > current[best]) best = i;
    }
    current[best] -= users;
    out.push_back(static_cast<unsigned>(best));
  }
  return out;
}

std::vector<unsigned> assign_user_classes(const Scenario& s, unsigned users) {
  std::vector<double> weights;
  for (const auto& c : s.classes) weights.push_back(c.weight);
  return assign_user_classes(weights, users);
}

std::vector<bool> shard_users(const std::vector<unsigned>& classes, size_t class_count,
                              const Shard& shard) {
  std::vector<uint64_t> total(class_count, 0);
  for (unsigned c : classes) ++total[c];
  // Per class: the ranks in whole blocks of N go round robin; the last n mod N ranks go, in
  // order, to the shards whose portion of n mod N is 1 (those holding one more user).
  const uint64_t n_shards = shard.count;
  std::vector<uint64_t> rank(class_count, 0);
  std::vector<bool> mine(classes.size(), false);
  for (size_t i = 0; i < classes.size(); ++i) {
    const unsigned c = classes[i];
    const uint64_t r = rank[c]++;
    const uint64_t whole = total[c] / n_shards * n_shards;
    if (r < whole) {
      mine[i] = shard.owns(r);
    } else {
      const uint64_t rest = total[c] - whole, j = r - whole;  // j-th of the last `rest`
      // This shard's extra user, if it has one, is the one numbered begin_of(rest) among them.
      mine[i] = shard.portion(rest) == 1 && shard.begin_of(rest) == j;
    }
  }
  return mine;
}

Nanos wait_after(const WaitTime& w, Prng& rng, Nanos task_time) {
  switch (w.kind) {
    case WaitTime::Kind::kNone:
      return Nanos{0};
    case WaitTime::Kind::kConstant:
      return seconds(w.a);
    case WaitTime::Kind::kBetween:
      return seconds(w.a + (w.b - w.a) * rng.uniform());
    case WaitTime::Kind::kConstantPacing: {
      Nanos left = seconds(w.a) - task_time;
      return left.count() > 0 ? left : Nanos{0};
    }
  }
  return Nanos{0};
}

Nanos wake_slot(Nanos wait) {
  for (int ms : {8, 4, 2, 1}) {
    const Nanos slot = std::chrono::milliseconds(ms);
    if (slot * 100 <= wait) return slot;
  }
  return Nanos{0};
}

int64_t round_to_slot(int64_t t, Nanos slot) {
  const int64_t g = slot.count();
  if (g <= 0) return t;
  int64_t down = t - ((t % g) + g) % g;  // floor, negative t included
  return t - down >= g - (t - down) ? down + g : down;
}

unsigned stage_target_at(const std::vector<Stage>& stages, Nanos t) {
  Nanos end{};
  for (const auto& s : stages) {
    end += s.duration;
    if (t < end) return s.users;
  }
  return stages.back().users;
}

UserSchedule::UserSchedule(const Scenario& s) : end_(s.effective_run_time()) {
  if (s.stages.empty())
    stages_.push_back({kForever, s.users, s.spawn_rate});
  else
    stages_ = s.stages;
}

std::optional<UserSchedule::Step> UserSchedule::next() {
  while (stage_ < stages_.size()) {
    const Stage& st = stages_[stage_];
    const bool last = stage_ + 1 == stages_.size();
    const Nanos stage_end = last ? kForever : stage_start_ + st.duration;
    if (current_ != st.users) {
      Nanos at = stage_start_;
      if (st.spawn_rate > 0) at += seconds(static_cast<double>(step_) / st.spawn_rate);
      if (at >= end_) return std::nullopt;
      if (at < stage_end) {
        if (st.spawn_rate > 0)
          current_ = current_ < st.users ? current_ + 1 : current_ - 1;
        else
          current_ = st.users;
        ++step_;
        return Step{at, current_};
      }
    }
    if (last) return std::nullopt;
    stage_start_ = stage_end;
    ++stage_;
    step_ = 0;
  }
  return std::nullopt;
}

std::string render_request(const Scenario& s, const ScenarioRequest& r, const Variables& vars,
                           std::string& wire) {
  if (r.constant) {
    wire = r.wire;
    return {};
  }
  auto unset = [&](int var) { return fmt::format("variable {} is not set", s.variables[var]); };
  std::string target;
  if (int miss = r.target.render(vars, target); miss >= 0) return unset(miss);
  if (target.empty() || target[0] != '/') return "path does not start with '/'";
  std::vector<std::pair<std::string, std::string>> headers;
  headers.reserve(r.headers.size());
  for (const auto& [name, t] : r.headers) {
    std::string value;
    if (int miss = t.render(vars, value); miss >= 0) return unset(miss);
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      for (const auto& p : t.pieces)
        if (p.var >= 0 &&
            vars[p.var]->find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
          return fmt::format("variable {} is not a valid header value", s.variables[p.var]);
    }
    headers.emplace_back(name, std::move(value));
  }
  std::string body;
  if (int miss = r.body.render(vars, body); miss >= 0) return unset(miss);
  wire = build_request(s.host_header, r.method, target, headers, body);
  return {};
}

std::optional<std::string> extract_json(std::string_view body, const std::vector<std::string>& path,
                                        bool* not_json) {
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded()) {
    if (not_json) *not_json = true;
    return std::nullopt;
  }
  const nlohmann::json* at = &doc;
  for (const auto& part : path) {
    if (at->is_object()) {
      auto it = at->find(part);
      if (it == at->end()) return std::nullopt;
      at = &*it;
    } else if (at->is_array()) {
      if (part.empty() || part.size() > 9 ||
          part.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
      size_t i = std::stoul(part);
      if (i >= at->size()) return std::nullopt;
      at = &(*at)[i];
    } else {
      return std::nullopt;
    }
  }
  if (at->is_string()) return at->get<std::string>();
  return at->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<std::string> extract_regex(std::string_view body, const std::regex& re) {
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_search(body.begin(), body.end(), m, re)) return std::nullopt;
  if (m.size() > 1 && m[1].matched) return m[1].str();
  return m[0].str();
}

std::string check_response(const ScenarioRequest& r, const ResponseView& response,
                           Variables& vars) {
  const int status = response.status;
  if (!r.expect_status.empty()) {
    if (std::find(r.expect_status.begin(), r.expect_status.end(), status) == r.expect_status.end())
      return fmt::format("expected status {}, got {}", fmt::join(r.expect_status, " or "), status);
  } else if (status >= 400) {
    return fmt::format("HTTP {}", status);
  }
  if (r.expect_contains && response.body.find(*r.expect_contains) == std::string_view::npos)
    return fmt::format("body does not contain '{}'", *r.expect_contains);
  for (const auto& e : r.extracts) {
    std::optional<std::string> value;
    switch (e.kind) {
      case Extract::Kind::kJson: {
        bool not_json = false;
        value = extract_json(response.body, e.json_path, &not_json);
        if (not_json) return fmt::format("extract {}: response is not JSON", e.variable);
        if (!value) return fmt::format("extract {}: no JSON field '{}'", e.variable, e.source);
        break;
      }
      case Extract::Kind::kRegex:
        value = extract_regex(response.body, *e.regex);
        if (!value) return fmt::format("extract {}: no regex match", e.variable);
        break;
      case Extract::Kind::kHeader:
        if (response.headers)
          for (const auto& [k, v] : *response.headers)
            if (strcasecmp(k.c_str(), e.source.c_str()) == 0) {
              value = v;
              break;
            }
        if (!value) return fmt::format("extract {}: no header '{}'", e.variable, e.source);
        break;
    }
    if (static_cast<size_t>(e.var) >= vars.size()) vars.resize(e.var + 1);
    vars[e.var] = std::move(value);
  }
  return {};
}

}  // namespace netres::load
