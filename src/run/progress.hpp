// Rank 0's progress display: a bar on a terminal, a plain line every few seconds in a log.
#pragma once

#include <chrono>
#include <cstdint>

namespace tessera::run {

/// Shows how many of `total` tiles are done, with throughput and the time left. On a terminal
/// (stderr is a tty) it redraws one line with '\r' at most 5 times a second; otherwise it prints
/// a line every TESSERA_PROGRESS_SECONDS seconds (5 when unset), as a Slurm log wants.
class Progress {
 public:
  /// A disabled display prints nothing (quiet runs, ranks other than 0).
  Progress(int64_t total_tiles, int64_t total_cells, bool enabled);
  /// Ends a bar left unfinished (a failed run), so that the error starts on its own line.
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  /// Notes that `done` tiles are finished; draws when a redraw is due. Cheap when not.
  void update(int64_t done);
  /// Ends the bar's line on a terminal, once every tile is done.
  void finish();

 private:
  using Clock = std::chrono::steady_clock;
  void draw(int64_t done);

  int64_t total_;
  int64_t cells_;
  bool enabled_;
  bool terminal_;
  double interval_;
  bool drawn_ = false;
  Clock::time_point start_;
  Clock::time_point last_;
};

}  // namespace tessera::run
