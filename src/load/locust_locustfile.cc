// The emitted locustfile: a fixed Python text with the class table filled in.
#include "load/locust_locustfile.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "load/locust_stats.h"

namespace netres::load {
namespace {

// A Python literal for a weight: an int when whole (locust's own classes use ints).
std::string python_number(double w) {
  if (w == std::floor(w) && w < 1e15) return fmt::format("{}", static_cast<int64_t>(w));
  return fmt::format("{}", w);
}

// JSON string literals are Python string literals too (nlohmann escapes with \", \\, \uXXXX).
std::string python_string(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

constexpr const char* kTemplate =
    R"PY(# Written by `netres load {scenario} --emit-locustfile`: the master's side of a locust run
# whose workers are netres, e.g.
#   locust -f THIS_FILE --master --master-bind-host 127.0.0.1 --headless --expect-workers 2 \
#       -u 100 -r 10 -t 1m --csv out --netres-percentiles percentiles.json
#   netres load {scenario} --locust-master 127.0.0.1:5557     (on each worker machine)
# The user classes below carry the scenario's names and weights, so the master splits users as
# the scenario does; they run nothing on the master (the workers run the scenario's tasks).
# netres workers also send their exact HDR latency histograms after each run (message
# "{message}"); the handler below merges the latest run of every worker exactly and writes the
# percentiles (milliseconds) to --netres-percentiles, while the master's own tables and CSV keep
# locust's rounded response times.
import json
import math
import os

from locust import User, constant, events
from locust.runners import MasterRunner

NETRES_CLASSES = [
{classes}]
PERCENTILES = [50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100]


def _idle(user):
    pass


for _name, _weight in NETRES_CLASSES:
    # Any text can name a class this way (locust keys classes by these names).
    globals()[_name] = type(_name, (User,), {{
        "weight": _weight, "tasks": [_idle], "wait_time": constant(1), "__module__": __name__}})


@events.init_command_line_parser.add_listener
def _netres_arguments(parser):
    parser.add_argument("--netres-percentiles", default="netres_percentiles.json",
                        help="Where to write the exact percentiles merged from netres workers")


_latest = {{}}  # node id -> the histograms of its latest run


def _merge(histograms):
    count, total_sum, low, high, buckets = 0, 0.0, None, 0, {{}}
    for h in histograms:
        if not h["count"]:
            continue
        count += h["count"]
        total_sum += h["sum"]
        low = h["min"] if low is None else min(low, h["min"])
        high = max(high, h["max"])
        for upper, n in h["buckets"]:
            buckets[upper] = buckets.get(upper, 0) + n
    out = {{"count": count}}
    if not count:
        return out
    # As netres's HdrHistogram::value_at_percentile: the first bucket holding the rank-th value.
    ordered = sorted(buckets.items())
    for p in PERCENTILES:
        rank = min(max(math.ceil(p / 100.0 * count), 1), count)
        seen, value = 0, high
        for upper, n in ordered:
            seen += n
            if seen >= rank:
                value = min(max(upper, low), high)
                break
        out["p%s" % p] = value / 1000.0
    out["min"] = low / 1000.0
    out["max"] = high / 1000.0
    out["avg"] = total_sum / count / 1000.0
    return out


def _write(environment):
    rows = {{}}
    for report in _latest.values():
        for h in report["names"]:
            rows.setdefault((h["method"], h["name"]), []).append(h)
    result = {{
        "unit": "ms",
        "workers": len(_latest),
        "requests": [dict(method=m, name=n, **_merge(hs)) for (m, n), hs in sorted(rows.items())],
        "total": _merge([r["total"] for r in _latest.values()]),
    }}
    path = environment.parsed_options.netres_percentiles
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def _on_histograms(environment, msg, **kwargs):
    _latest[msg.node_id] = msg.data
    _write(environment)


@events.init.add_listener
def _netres_init(environment, **kwargs):
    if isinstance(environment.runner, MasterRunner):
        environment.runner.register_message("{message}", _on_histograms)
)PY";

}  // namespace

std::string locustfile_text(const Scenario& s, const std::string& scenario_path) {
  std::string classes;
  for (const auto& c : s.classes)
    classes += fmt::format("    ({}, {}),\n", python_string(c.name), python_number(c.weight));
  std::string path = scenario_path;
  for (char& ch : path)
    if (ch == '\n' || ch == '\r') ch = ' ';  // it sits in a comment line
  return fmt::format(kTemplate, fmt::arg("scenario", path), fmt::arg("classes", classes),
                     fmt::arg("message", locust::kHistogramsMessage));
}

}  // namespace netres::load
