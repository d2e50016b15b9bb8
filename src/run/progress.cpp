// Rank 0's progress display: tiles done, cells per second and the time left, on stderr.
#include "progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <fmt/core.h>

namespace tessera::run {

namespace {

constexpr double terminal_interval = 0.2;
constexpr double log_interval = 5.0;
constexpr int bar_width = 30;

double log_seconds() {
  const char* env = std::getenv("TESSERA_PROGRESS_SECONDS");
  if (env == nullptr) return log_interval;
  const double value = std::atof(env);
  return value > 0 ? value : log_interval;
}

std::string duration(double seconds) {
  const auto s = static_cast<int64_t>(seconds + 0.5);
  if (s < 60) return fmt::format("{} s", s);
  if (s < 3600) return fmt::format("{}:{:02} min", s / 60, s % 60);
  return fmt::format("{}:{:02} h", s / 3600, s / 60 % 60);
}

}  // namespace

Progress::Progress(int64_t total_tiles, int64_t total_cells, bool enabled)
    : total_(std::max<int64_t>(1, total_tiles)),
      cells_(total_cells),
      enabled_(enabled),
      terminal_(isatty(fileno(stderr)) != 0),
      interval_(terminal_ ? terminal_interval : log_seconds()),
      start_(Clock::now()),
      last_(start_) {}

void Progress::update(int64_t done) {
  if (!enabled_) return;
  const auto now = Clock::now();
  if (std::chrono::duration<double>(now - last_).count() < interval_) return;
  last_ = now;
  draw(std::min(done, total_));
}

void Progress::draw(int64_t done) {
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  const double fraction = static_cast<double>(done) / static_cast<double>(total_);
  const double rate = elapsed > 0 ? fraction * static_cast<double>(cells_) / elapsed / 1e6 : 0;
  const std::string eta = fraction > 0 ? duration(elapsed / fraction - elapsed) : "?";
  const std::string text = fmt::format("{}/{} tiles {:3.0f}%, {:.1f} Mcells/s, ETA {}", done,
                                       total_, fraction * 100, rate, eta);
  if (!terminal_) {
    fmt::print(stderr, "tessera: {}\n", text);
    return;
  }
  const auto filled = static_cast<int>(fraction * bar_width);
  fmt::print(stderr, "\r[{}{}] {}  ", std::string(static_cast<size_t>(filled), '#'),
             std::string(static_cast<size_t>(bar_width - filled), '.'), text);
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::finish() {
  if (!enabled_ || !terminal_ || !drawn_) return;
  draw(total_);
  fmt::print(stderr, "\n");
  drawn_ = false;
}

Progress::~Progress() {
  if (drawn_) std::fputc('\n', stderr);
}

}  // namespace tessera::run
