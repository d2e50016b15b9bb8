// The one interface through which a pass hands its tiles to an output, whatever its format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <vector>

#include "courier.hpp"

namespace tessera::run {

/// The order a pass computes its tiles in: position p is tile `tiles[p]`, or tile p when
/// `tiles` is empty (row-major).
struct TileOrder {
  std::vector<int64_t> tiles;
  /// Whether `tiles` holds blocks of 4 x 4 tiles row of blocks by row of blocks (block_rows()),
  /// rather than Z order over the whole grid (z_order()).
  bool block_rows = false;
  int64_t tile(int64_t position) const {
    return tiles.empty() ? position : tiles[static_cast<size_t>(position)];
  }
};

/// Tiles at positions [first, first + count) of the pass's order that one rank claimed and
/// computed together, but those an interrupted run left done (`done`, by tile), which were not
/// computed again.
struct Batch {
  int64_t first = 0;
  int64_t count = 0;
  const TileOrder* order = nullptr;
  const std::vector<bool>* done = nullptr;

  /// The tile at place `i` of the batch.
  int64_t tile(int64_t i) const { return order ? order->tile(first + i) : first + i; }
  /// Whether the batch's tile at place `i` (from 0) was left out, done before.
  bool skips(int64_t i) const { return done && (*done)[static_cast<size_t>(tile(i))]; }
};

/// Where a band-tile comes from: its tile, its place in the batch being computed (from 0) and
/// the worker thread computing it (from 0).
struct TilePlace {
  int64_t tile = 0;
  int64_t slot = 0;
  int thread = 0;
};

/// What a pass tells its sinks when it opens them.
struct SinkSetup {
  int threads = 1;                   ///< worker threads on this rank, numbered from 0
  int64_t batch_slots = 1;           ///< the most tiles in one batch
  Courier* courier = nullptr;        ///< carries band-tiles to rank 0, for sinks written there
  const TileOrder* order = nullptr;  ///< the order tiles are claimed and computed in
  int64_t temporary_id = 0;          ///< names the output's temporary file (io::temporary_path)
  /// This sink's journal records from the interrupted runs this one continues (every rank has
  /// every rank's), or null when the run starts from the beginning (journal.hpp).
  const std::vector<Bytes>* resume = nullptr;
};

/// What a sink spent writing, for the run report (the pass times its main-thread calls).
struct SinkFigures {
  double thread_write_seconds = 0;     ///< writing from worker threads (inside encode), summed
  int64_t bytes_written = 0;           ///< tile bytes this rank wrote to the output
  double other_encode_seconds = 0;     ///< encoding outside encode() (overview tiles), summed
  double receiver_encode_seconds = 0;  ///< encoding inside the courier's hand-over (rank 0)
  double thread_compute_seconds = 0;   ///< computing inside encode() (overviews), summed
};

/// One output of a pass. The pass calls, on every rank, in this order: open(); encode() for each
/// band-tile its threads compute; deliver() on the main thread after each batch (and
/// write_round() for a lock-step sink), with checkpoint() now and then; then commit(), or
/// abandon() after a failure, or checkpoint() and suspend() after a stop. open(), commit(),
/// abandon() and suspend() are collective: every rank calls them for every sink in the same
/// order, and each either returns on every rank or throws the same error on every rank.
///
/// The journal (journal.hpp) is kept in one place: the pass writes what checkpoint() returns
/// and gives it back, the next run, as SinkSetup::resume; what the records mean is the sink's
/// alone. A sink that journals nothing (the defaults) is simply made again from the start and
/// given every tile, which the others take again without harm.
class Sink {
 public:
  virtual ~Sink() = default;

  /// Creates the output under a temporary name. Throws tessera::Error, on every rank.
  virtual void open(const SinkSetup& setup) = 0;
  /// Worker thread `place.thread`: band `band` of tile `place.tile` is `cells`, a full
  /// tile_width x tile_height tile of the output's type, row-major, cells past the raster's
  /// edge set to nodata (or 0). Threads call it at once for different places.
  virtual void encode(const TilePlace& place, int band, const void* cells) = 0;
  /// Main thread, after `batch` was computed: passes its band-tiles on.
  virtual void deliver(const Batch& batch) = 0;

  /// Whether the sink wants tiles claimed in aligned square blocks (TileOrder::tiles in Z
  /// order), so that the tiles beneath an overview tile are mostly computed together.
  virtual bool wants_blocks() const { return false; }
  /// Whether the blocks may come row of blocks by row of blocks (block_rows()) rather than in
  /// Z order; they do when every sink that wants blocks says so.
  virtual bool takes_block_rows() const { return false; }
  /// Whether every rank must write each batch together (write_round()).
  virtual bool lockstep() const { return false; }
  /// Main thread, lock-step sinks only, on every rank: round `round` of the collective writes
  /// of `batch` (a rank with fewer tiles, or `give_nothing` after a failure, joins empty).
  /// Returns the failure of this rank's part, after joining every write of the round.
  virtual std::exception_ptr write_round(const Batch& /*batch*/, int64_t /*round*/,
                                         bool /*give_nothing*/) {
    return nullptr;
  }

  /// Bytes it holds for each tile between encode() and deliver() (or the round that writes it):
  /// what bounds the tiles a thread may take at once.
  virtual int64_t held_bytes_per_tile() const = 0;
  /// Tiles written to the output so far, where this rank knows it (for progress).
  virtual std::optional<int64_t> tiles_written() const { return std::nullopt; }
  virtual SinkFigures figures() const = 0;

  /// Finishes the output and puts it at its path. Collective.
  virtual void commit() = 0;
  /// Gives the output up: nothing is left at its path or under its temporary name. Collective.
  virtual void abandon() noexcept = 0;

  /// After open() with SinkSetup::resume: by tile, which tiles the output holds (every band,
  /// durably) from the runs before; the pass does not compute those again. Every rank returns
  /// the same. A tile delivered again although held must be taken and left as it is.
  virtual std::vector<bool> resumed_tiles(int64_t tiles) const {
    return std::vector<bool>(static_cast<size_t>(tiles), false);
  }
  /// Main thread, this rank alone: makes what this rank delivered or wrote durable (fsync), then
  /// returns the records the journal keeps of it (none when nothing is new). Only what is durable
  /// may be said: a record written before its bytes are on disk could claim a tile a crash lost.
  virtual std::vector<Bytes> checkpoint() { return {}; }
  /// After a stop and a last checkpoint(): keeps the output at its temporary name for the run
  /// that resumes it. Collective. The default gives it up (abandon()): nothing was journalled.
  virtual void suspend() noexcept { abandon(); }
};

using Sinks = std::vector<std::unique_ptr<Sink>>;

/// Where one thread puts the band-tiles it computes: sink `output` of the pass, timed as
/// encoding. Not shared between threads.
class TileOutlet {
 public:
  TileOutlet(const Sinks& sinks, int thread) : sinks_(&sinks), place_{0, 0, thread} {}
  /// The tile the next put() calls belong to.
  void start(int64_t tile, int64_t slot) {
    place_.tile = tile;
    place_.slot = slot;
  }
  /// Band `band` of output `output` of the current tile, as Sink::encode() takes it.
  void put(size_t output, int band, const void* cells);
  /// Seconds spent in the sinks' encode(), writing included.
  double seconds() const { return seconds_; }

 private:
  const Sinks* sinks_;
  TilePlace place_;
  double seconds_ = 0;
};

}  // namespace tessera::run
