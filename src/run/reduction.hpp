// The reduction pass: tiles streamed as in a streaming pass, each folded into its thread's
// partial result instead of written; the partials merged across threads and ranks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "pass.hpp"
#include "tessera/core/geometry.hpp"
#include "tessera/run/executor.hpp"

namespace tessera::run {

/// What a reduction computes. Each worker thread folds the tiles it computes into its own
/// partial; after the pass, every rank's partial (its threads' merged) is gathered to every rank
/// and merged in rank order. Merging must be exact (integer arithmetic, counts, minima), so that
/// the result is the same bits whatever the ranks, threads and tile size.
class Fold {
 public:
  virtual ~Fold() = default;
  /// Makes one empty partial per worker thread.
  virtual void start(int threads) = 0;
  /// Worker thread `thread`: the owned cells of one tile, `width` x `height` cells of the band's
  /// type, rows `stride` cells apart. Threads call it at once, each on its own partial.
  virtual void add(int thread, const void* cells, int64_t width, int64_t height,
                   int64_t stride) = 0;
  /// This rank's partial, its threads' merged, as bytes.
  virtual std::vector<std::byte> rank_bytes() const = 0;
  /// Replaces the partials with the merge of every rank's bytes (rank order).
  virtual void merge_ranks(const std::vector<std::vector<std::byte>>& ranks) = 0;
};

/// Runs a reduction pass over `grid`: `make`'s sources put band 0 of output 0 of each tile,
/// which `fold` takes. Collective; on return every rank's `fold` holds the merged result, on
/// failure every rank throws the same tessera::Error. Returns this rank's figures of the pass.
RankReport run_reduction(const TileGrid& grid, const RunOptions& options, const SourceFactory& make,
                   Fold& fold);

}  // namespace tessera::run
