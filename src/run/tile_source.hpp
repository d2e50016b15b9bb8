// What the streaming pass asks of each thread: the encoded band-tiles of a tile, however made.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "tessera/plan/plan.hpp"
#include "tessera/run/executor.hpp"
#include "tile_worker.hpp"

namespace tessera::run {

/// One thread's producer of tiles: a job's steps over its inputs, or a generator with no input.
/// Never shared between threads.
class TileSource {
 public:
  virtual ~TileSource() = default;
  /// Puts band-tile `slot` of tile `tile` into `out` for every slot, as TileWorker::process does.
  virtual void process(int64_t tile, BandTiles& out) = 0;
  virtual const PhaseTimes& times() const = 0;
  /// Input bytes read so far (cells read, at the inputs' pixel size).
  virtual int64_t bytes_read() const = 0;
};

/// Makes one TileSource per thread.
using SourceFactory = std::function<std::unique_ptr<TileSource>()>;

/// The sources that run the plan's steps over its inputs (TileWorker).
std::unique_ptr<TileSource> plan_tiles(const plan::Plan& plan);

/// Runs the streaming pass of `plan` with tiles made by `make`'s sources. Collective; see
/// execute().
void execute_sources(const plan::Plan& plan, const RunOptions& options, const SourceFactory& make);

}  // namespace tessera::run
