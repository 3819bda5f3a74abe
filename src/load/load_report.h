// Reports of a load run: locust-shaped tables for people, one JSON object for programs, and
// the --fail-if verdicts.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "load/load_engine.h"
#include "load/threshold.h"

namespace netres::load {

struct ThresholdVerdict {
  Threshold threshold;
  double value = 0;  // seconds for latencies; meaningless when `measured` is false
  bool failed = false;
  // False when there was nothing to compare: a latency threshold without a single response,
  // a fail_ratio without a single request. Such a threshold fails: a gate must not pass a
  // service that never answered. `why` then says what was missing.
  bool measured = true;
  std::string why;
  uint64_t samples = 0;  // the responses (latencies) or requests (rps, fail_ratio) it is over
};

// Judged on all requests together (the "Aggregated" row).
std::vector<ThresholdVerdict> judge(const std::vector<Threshold>& thresholds,
                                    const LoadResult& result);

// Whether the run fails (exit 1): with --fail-if thresholds, when one of `verdicts` failed;
// without any, when a request failed.
bool run_failed(const std::vector<Threshold>& thresholds,
                const std::vector<ThresholdVerdict>& verdicts, const LoadResult& result);

struct RunDescription {
  std::string url;  // scenario mode: the host
  std::string method;
  unsigned connections = 0;
  unsigned threads = 0;
  double duration_s = 0;
  double rate = 0;  // 0: closed model
  unsigned pipeline = 1;
  std::string mode = "quick";  // or "scenario"
  // Scenario mode only.
  struct UserClassShare {
    std::string name;
    double weight = 1;
    unsigned users = 0;  // of the peak user count
  };
  std::string scenario{};  // the file
  std::string host{};
  unsigned users = 0;     // peak users
  double spawn_rate = 0;  // 0: all at once (or the stages' own rates)
  std::vector<UserClassShare> user_classes{};
  struct StageShape {
    double end_s = 0;  // seconds from the start at which the stage ends
    unsigned users = 0;
    double spawn_rate = 0;
  };
  std::vector<StageShape> stages{};
};

void print_tables(std::FILE* out, const LoadResult& result, bool open_model);
void print_verdicts(std::FILE* out, const std::vector<ThresholdVerdict>& verdicts);
nlohmann::json to_json(const RunDescription& run, const LoadResult& result,
                       const std::vector<ThresholdVerdict>& verdicts);
// "12s/60s  20345 req/s  0 fails  p50 1.20ms  p99 5.31ms" (and "  40 users" in scenario mode):
// the live line, cut to `width` columns (0: no limit) so a narrow terminal does not wrap it into
// a stack of lines.
std::string live_line(const SecondSample& s, double total_s, bool scenario, size_t width = 0);
// The unit a threshold's value is in ("ms", "req/s", "ratio").
const char* threshold_unit(const Threshold& t);

}  // namespace netres::load
