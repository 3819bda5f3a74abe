// What a scenario user decides while it runs, as pure functions the engine calls and tests can
// drive: its random choices, wait times, which class it is, how many users are alive when,
// request rendering, and the checks and extractions on a response.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/duration.h"
#include "common/shard.h"
#include "load/scenario.h"

namespace netres::load {

// xoshiro256** seeded through splitmix64 from (seed, stream): one independent, reproducible
// sequence per user.
class Prng {
 public:
  Prng(uint64_t seed, uint64_t stream);
  uint64_t next();
  double uniform();  // [0, 1)

 private:
  uint64_t s_[4];
};

// Index drawn in proportion to `weights` (all > 0).
size_t pick_weighted(const std::vector<double>& weights, Prng& rng);

// The class of each of `users` users (by index), in proportion to the weights: counts by largest
// remainder (every class gets one user when there are enough users), interleaved with smooth
// weighted round robin so the first users started are already a mix.
std::vector<unsigned> assign_user_classes(const std::vector<double>& weights, unsigned users);
// The same for the classes of `s` by their weights: what the engine runs and the report shows.
std::vector<unsigned> assign_user_classes(const Scenario& s, unsigned users);

// Which of the job's users shard `shard` runs, by index (`classes`: each user's class, as
// assign_user_classes() gives them; `class_count` classes). Of each class's n users, in index
// order, the shard gets Shard::portion(n), so the N shards' users of every class sum to n; they
// are striped (rank r of a class to shard r mod N + 1, the last n mod N ranks to the shards whose
// portion holds one more), so each shard's users are spread over the spawn order and the shards
// ramp up (and down, along the stages) together, their live users summing to the job's at every
// moment.
std::vector<bool> shard_users(const std::vector<unsigned>& classes, size_t class_count,
                              const Shard& shard);

// How long a user waits after a task that took `task_time`.
Nanos wait_after(const WaitTime& w, Prng& rng, Nanos task_time);

// Timer coalescing for users' waits. A user's wake-up time is rounded to the nearest multiple
// (on the steady clock) of a slot of 1, 2, 4 or 8 ms, the largest not over 1/100 of the wait;
// waits under 100 ms are not rounded. Users due in the same slot then wake together, so a
// thousand users cost tens of wake-ups a second instead of one per request, each wait moves by
// at most half a slot (0.5% of it) and, rounding to the nearest, the mean wait (and with it the
// request rate) is unchanged. The slots nest, so users with different waits still share them.
Nanos wake_slot(Nanos wait);
// `t` (nanoseconds on a clock) rounded to the nearest multiple of `slot` (itself when 0).
int64_t round_to_slot(int64_t t, Nanos slot);

// The users target of the stage in effect at `t` since the start (the last stage's after the
// end). Stages must not be empty.
unsigned stage_target_at(const std::vector<Stage>& stages, Nanos t);

// The live user count over time: users start at the spawn rate (user i at i/rate s into its
// stage) and stop (the newest first) at the same rate when a stage lowers the target.
class UserSchedule {
 public:
  struct Step {
    Nanos at{};          // since the start of the run
    unsigned users = 0;  // live users from `at` on
  };
  explicit UserSchedule(const Scenario& s);
  // The next change, in time order; nothing once no change happens before the run's end.
  std::optional<Step> next();

 private:
  std::vector<Stage> stages_;
  Nanos end_{};
  size_t stage_ = 0;
  Nanos stage_start_{};
  uint64_t step_ = 0;
  unsigned current_ = 0;
};

using Variables = std::vector<std::optional<std::string>>;

// The request bytes with the variables filled in (the cached bytes when there are none). On an
// unset variable returns "variable NAME is not set"; a value that would break the header
// section returns "variable NAME is not a valid header value".
std::string render_request(const Scenario& s, const ScenarioRequest& r, const Variables& vars,
                           std::string& wire);

struct ResponseView {
  int status = 0;
  std::string_view body;
  const std::vector<std::pair<std::string, std::string>>* headers = nullptr;
};

// Checks a response against the request's expectations and runs its extracts into `vars`.
// Returns the failure reason, or an empty string when the request succeeded.
std::string check_response(const ScenarioRequest& r, const ResponseView& response, Variables& vars);

// `path` ("data.items.0.id") in the JSON text; strings as they are, other values as JSON.
std::optional<std::string> extract_json(std::string_view body, const std::vector<std::string>& path,
                                        bool* not_json);
// The first capture group of the first match, else the whole match.
std::optional<std::string> extract_regex(std::string_view body, const std::regex& re);

}  // namespace netres::load
