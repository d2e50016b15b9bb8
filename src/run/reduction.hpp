// The reduction pass: tiles streamed as in a streaming pass, each folded into its thread's
// partial result instead of written; the partials merged across threads and ranks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "pass.hpp"
#include "tessera/core/geometry.hpp"
#include "tessera/core/raster_info.hpp"
#include "tessera/plan/plan.hpp"
#include "tessera/run/executor.hpp"
#include "tessera/run/report.hpp"
#include "tessera/stats/band_stats.hpp"

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

/// Runs a reduction pass over `grid`: `make`'s sources put band 0 of output k of each tile,
/// which folds[k] takes. Collective; on return every rank's folds hold the merged results, on
/// failure every rank throws the same tessera::Error. Returns this rank's figures of the pass.
RankReport run_reduction(const TileGrid& grid, const RunOptions& options, const SourceFactory& make,
                         const std::vector<Fold*>& folds);

/// A thread's source of the cells of `bands` (their path, band and type), unconverted: band k
/// of each tile as output k, its owned cells in a full tile of rows tile_width() cells apart.
std::unique_ptr<TileSource> band_tiles(std::vector<RasterInfo> bands, const TileGrid& grid);

/// For each output, the bands (indices into a band list) it gets as its bands 0, 1, ...
using BandLayout = std::vector<std::vector<size_t>>;

/// The same with output j getting the bands layout[j] (a band may go to several outputs, or
/// to none and still be read).
std::unique_ptr<TileSource> band_tiles(std::vector<RasterInfo> bands, const TileGrid& grid,
                                       BandLayout layout);

/// One band a reduction computes the exact statistics of (stats::FirstSweep and its sequels).
struct BandToReduce {
  stats::BandKind kind;
  std::vector<double> percentiles;        ///< each from 0 to 100
  std::optional<stats::Buckets> buckets;  ///< a histogram over these buckets
  bool default_histogram = false;         ///< a histogram over GDAL's default buckets
};

struct ReducedBandResult {
  stats::Summary summary;
  std::vector<double> percentiles;  ///< in the order asked for
  std::optional<stats::Buckets> buckets;
  std::vector<int64_t> histogram;
};

struct Reduction {
  std::vector<ReducedBandResult> bands;
  int passes = 0;     ///< reduction passes run
  RankReport report;  ///< this rank's figures, summed over the passes (peak RSS: the largest)
};

/// Exact statistics of `bands`, whose cells `make`'s sources put as output k for band k: a first
/// pass (counts, extremes, exact sums, the keys' first digit), then as many passes as the
/// histograms and the percentiles' digits need. Collective; every rank returns the same result.
Reduction reduce_bands(const TileGrid& grid, const RunOptions& options, const SourceFactory& make,
                       const std::vector<BandToReduce>& bands);

/// Runs the plan's reduction pass `pass`: the exact statistics of every band of pass.reduced,
/// in that order (input bands, stage files among them, read from their files; step bands
/// computed by the pass's steps, which need `plan`'s steps bound to the statistics of the
/// reductions before). Collective.
std::vector<ReducedBandResult> reduce_plan(const plan::Plan& plan, const plan::Pass& pass,
                                           const RunOptions& options);

/// reduce_plan's results as bytes, for the journal, and back: the same numbers, bit for bit.
std::vector<std::byte> results_to_bytes(const std::vector<ReducedBandResult>& results);
std::vector<ReducedBandResult> results_from_bytes(const std::vector<std::byte>& bytes);

/// The statistics of plan.reduced's bands known so far, in that order (the reduction passes that
/// ran gave theirs; the others are nullopt).
using KnownStatistics = std::vector<std::optional<ReducedBandResult>>;

/// The plan with every step whose statistics are all in `results` given them
/// (Op::with_statistics); the other steps as they are in `plan`, which has none given.
plan::Plan with_statistics(const plan::Plan& plan, const KnownStatistics& results);

}  // namespace tessera::run
