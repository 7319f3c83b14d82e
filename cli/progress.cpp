#include "cli/progress.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "cli/output.hpp"

namespace lockbox::cli {
namespace {
constexpr std::size_t kBarWidth = 30;
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);
}  // namespace

Progress::Progress(std::string label, std::size_t total)
    : Progress(std::move(label), total, stderr_is_terminal()) {}

Progress::Progress(std::string label, std::size_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled),
      started_(std::chrono::steady_clock::now()) {}

Progress::~Progress() {
  finish();
}

void Progress::update(std::size_t done) {
  if (!enabled_) return;
  done_ = std::min(done, total_);
  const int percent = total_ == 0 ? 100 : static_cast<int>(done_ * 100 / total_);
  const auto now = std::chrono::steady_clock::now();
  if (percent == last_percent_ && now - last_draw_ < kRedrawInterval) return;
  last_percent_ = percent;
  last_draw_ = now;
  draw();
}

void Progress::phase(std::string label, std::size_t total) {
  label_ = std::move(label);
  total_ = total;
  done_ = 0;
  last_percent_ = -1;
  started_ = std::chrono::steady_clock::now();
  update(0);
}

void Progress::draw() {
  if (total_ == 0) {  // a phase without a measurable ratio
    write_stderr(fmt::format("\r\x1b[2K{} ...", label_));
    drawn_ = true;
    return;
  }
  const std::size_t filled = total_ == 0 ? kBarWidth : done_ * kBarWidth / total_;
  std::string line = fmt::format("\r\x1b[2K{} [{}{}] {}/{}", label_, std::string(filled, '#'),
                                 std::string(kBarWidth - filled, '.'), done_, total_);
  // Rate and time left, once there is something to extrapolate from.
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  if (done_ > 0 && elapsed >= 0.2) {
    const double rate = static_cast<double>(done_) / elapsed;
    line += fmt::format("  {:.0f}/s  ETA {:.0f}s", rate, static_cast<double>(total_ - done_) / rate);
  }
  write_stderr(line);
  drawn_ = true;
}

void Progress::finish() {
  if (!enabled_ || !drawn_) return;
  write_stderr("\r\x1b[2K");
  drawn_ = false;
}

}  // namespace lockbox::cli
