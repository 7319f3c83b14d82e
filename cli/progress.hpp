#pragma once
// Progress: a one-line progress bar on stderr, with the rate and the time left, drawn only when stderr is a terminal (never in a
// pipe, a log file or CI). Redraws are throttled (at most every 100 ms, or when the percentage
// changes), so updating it for each of 100,000 items costs nothing noticeable.
// Thread-safety: none.

#include <chrono>
#include <cstddef>
#include <string>

namespace lockbox::cli {

class Progress {
 public:
  // `enabled` defaults to "stderr is a terminal"; tests pass false/true explicitly.
  Progress(std::string label, std::size_t total);
  Progress(std::string label, std::size_t total, bool enabled);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Sets the number of items done (clamped to total) and redraws when due.
  void update(std::size_t done);
  // Starts a new phase with its own label and total; total 0 shows only "label ...".
  void phase(std::string label, std::size_t total);
  // Erases the bar (idempotent).
  void finish();

  [[nodiscard]] bool enabled() const { return enabled_; }

 private:
  void draw();

  std::string label_;
  std::size_t total_ = 0;
  std::size_t done_ = 0;
  bool enabled_ = false;
  bool drawn_ = false;
  int last_percent_ = -1;
  std::chrono::steady_clock::time_point last_draw_{};
  std::chrono::steady_clock::time_point started_;  // of the current phase, for rate and ETA
};

}  // namespace lockbox::cli
