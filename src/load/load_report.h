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
  double value = 0;  // seconds for latencies
  bool failed = false;
};

// Judged on all requests together (the "Aggregated" row).
std::vector<ThresholdVerdict> judge(const std::vector<Threshold>& thresholds,
                                    const LoadResult& result);

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
};

void print_tables(std::FILE* out, const LoadResult& result, bool open_model);
void print_verdicts(std::FILE* out, const std::vector<ThresholdVerdict>& verdicts);
nlohmann::json to_json(const RunDescription& run, const LoadResult& result,
                       const std::vector<ThresholdVerdict>& verdicts);
// "12.0s  20345 req/s  0 fails  p50 1.20ms  p99 5.31ms": the live line.
std::string live_line(const SecondSample& s);

}  // namespace netres::load
