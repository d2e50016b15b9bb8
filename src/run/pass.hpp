// The streaming pass: every rank claims tiles, its threads compute them and hand them to sinks.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <vector>

#include "batch_thread.hpp"
#include "courier.hpp"
#include "journal.hpp"
#include "progress.hpp"
#include "sink.hpp"
#include "tessera/par/tile_counter.hpp"
#include "tessera/plan/plan.hpp"
#include "tessera/run/report.hpp"

namespace tessera::run {

/// Seconds one thread spent reading and computing.
struct PhaseTimes {
  double read = 0;
  double compute = 0;
};

/// One thread's producer of tiles: a job's steps over its inputs, or a generator with no input.
/// Never shared between threads.
class TileSource {
 public:
  virtual ~TileSource() = default;
  /// Computes tile `tile` and puts every band of every output into `out`. Throws
  /// tessera::Error on failure.
  virtual void process(int64_t tile, TileOutlet& out) = 0;
  virtual const PhaseTimes& times() const = 0;
  /// Input bytes read so far (cells read, at the inputs' pixel size).
  virtual int64_t bytes_read() const = 0;
};

/// Makes one TileSource per thread.
using SourceFactory = std::function<std::unique_ptr<TileSource>()>;

/// The most tiles one thread takes from a claim: plan::tiles_per_run, fewer when the bytes the
/// sinks hold per tile until the batch is delivered would pass plan::run_bytes_per_thread.
int64_t longest_run(int64_t held_bytes_per_tile);

/// The tiles of `grid` in Z order (Morton order of their column and row): every aligned block of
/// 2^k x 2^k tiles is a run of neighbouring positions, the tiles past the grid left out.
TileOrder z_order(const TileGrid& grid);
/// The tiles of `grid` in aligned blocks of 4 x 4, the blocks row by row (of blocks), the tiles
/// of a block in Z order, the tiles past the grid left out: each row of tiles is complete once
/// its row of blocks is.
TileOrder block_rows(const TileGrid& grid);

/// Where a pass keeps its sinks' records: pass `pass` of the run's journal.
struct PassJournal {
  Journal* journal = nullptr;
  size_t pass = 0;
};

/// One rank's run of a streaming pass over `grid`'s tiles into `sinks` (one per output, in the
/// order the sources put them). Only the main thread calls MPI; the pass knows no format.
///
/// With a journal, the pass gives each sink its records from the runs before, computes only the
/// tiles not every sink holds, journals what the sinks make durable every
/// journal->checkpoint_seconds(), and on a stop signal (io::StopScope) ends early on every rank,
/// journals the rest and keeps the outputs (Sink::suspend). Without one, a stop gives them up.
/// Either way every rank then throws tessera::Stopped.
class StreamingPass {
 public:
  StreamingPass(const TileGrid& grid, int threads, const SourceFactory& make, Sinks& sinks,
                PassJournal journal = {});

  /// Collective: opens every sink; on failure, those opened are abandoned and every rank throws.
  void open();
  /// Collective: processes tiles until none are left, some rank failed or a stop signal came;
  /// every rank then throws the same error (the sinks abandoned; in a run that resumes a stopped
  /// one, suspended as a kill leaves them, their journalled tiles kept for the next resume),
  /// throws tessera::Stopped (the sinks suspended or abandoned) or returns with every tile
  /// delivered.
  void run(Progress& progress);
  /// Tiles an interrupted run left done, which this one does not compute.
  int64_t resumed() const { return resumed_; }
  /// Collective: commits every sink; on failure, the sinks not yet committed are abandoned.
  void commit();
  /// This rank's figures for the run report.
  RankReport report() const;

 private:
  struct MainTimes {
    double communicate = 0;
    double write = 0;
    double wait = 0;
  };

  std::exception_ptr stream(par::TileCounter& counter);
  void resume_tiles();
  void checkpoint();
  void maybe_checkpoint();
  void stop();
  void give_up() noexcept;
  Batch next_batch(par::TileCounter& counter);
  int64_t round_up(int64_t tiles) const;
  void process_batch(const Batch& batch);
  bool write_rounds(const Batch& batch);
  void note_progress();
  void abandon_from(size_t first) noexcept;

  TileGrid grid_;
  int threads_;
  Sinks& sinks_;
  size_t opened_ = 0;
  bool lockstep_ = false;
  /// Tiles claimed in blocks (Z order, or rows of blocks) go 4 x 4 at a time, so that a claim
  /// holds whole overview tiles of the first two levels.
  static constexpr int64_t kBlockTiles = 16;

  int64_t run_;  // the most tiles a thread takes from one claim
  TileOrder order_;
  int64_t claim_unit_ = 1;  // every claim is a multiple of it
  Courier courier_;
  std::vector<std::unique_ptr<TileSource>> sources_;  // per thread
  std::vector<TileOutlet> outlets_;                   // per thread
  std::unique_ptr<BatchThread> batch_thread_;         // computes the batches, until run() ends
  std::exception_ptr failure_;
  int64_t tiles_ = 0;
  int64_t claimed_ = 0;  // tiles claimed by all ranks, as of this rank's last claim
  MainTimes main_;
  Progress* progress_ = nullptr;
  PassJournal journal_;
  std::vector<bool> done_;  // by tile: held by every sink from the runs before
  int64_t resumed_ = 0;
  std::chrono::steady_clock::time_point last_checkpoint_;
};

}  // namespace tessera::run
