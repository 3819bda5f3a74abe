// What the terminal allows: progress only when stderr is a terminal, colour unless NO_COLOR.
// Also the one-line "netres: verb: message" warnings every verb prints to stderr.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

namespace netres {

bool stderr_is_terminal();
bool stdout_is_terminal();
// True when stdout is a terminal and NO_COLOR is unset or empty (https://no-color.org).
bool use_color();
// stderr's terminal width in columns, read at every call (it can be resized); 0 when unknown.
size_t stderr_columns();

// "netres: <verb>: <message>" on stderr.
void warn(std::string_view verb, std::string_view message);

// A single status line on stderr, redrawn at most ten times a second, and only when stderr
// is a terminal; otherwise every call is a no-op, so logs and pipes stay clean.
class Progress {
 public:
  Progress();
  ~Progress();
  bool enabled() const { return enabled_; }
  // Redraws the line if at least 100 ms passed since the last draw (or `force`).
  void update(std::string_view line, bool force = false);
  // Clears the line so what follows starts on a clean row.
  void clear();

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace netres
