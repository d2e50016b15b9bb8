// run_reduction: a StreamingPass whose one sink folds tiles (FoldSink) and merges on commit.
#include "reduction.hpp"

#include <algorithm>
#include <functional>
#include <memory>

#include "sink.hpp"
#include "stopwatch.hpp"
#include "tessera/par/agreement.hpp"
#include "tessera/par/gather.hpp"

namespace tessera::run {

namespace {

/// The sink of a reduction pass: encode() folds the tile's owned cells on its worker thread;
/// commit() gathers and merges the partials. Nothing is written, so nothing is held per tile.
class FoldSink : public Sink {
 public:
  FoldSink(const TileGrid& grid, Fold& fold) : grid_(grid), fold_(fold) {}
  void open(const SinkSetup& setup) override { fold_.start(setup.threads); }
  void encode(const TilePlace& place, int /*band*/, const void* cells) override {
    const Window owned = grid_.owned(place.tile);
    fold_.add(place.thread, cells, owned.width, owned.height, grid_.tile_width());
  }
  void deliver(const Batch& /*batch*/) override {}
  int64_t held_bytes_per_tile() const override { return 0; }
  SinkFigures figures() const override { return {}; }
  void commit() override {
    std::vector<std::byte> mine;
    par::agreed([&] { mine = fold_.rank_bytes(); });
    const std::vector<std::vector<std::byte>> ranks = par::all_gather_bytes(mine);
    par::agreed([&] { fold_.merge_ranks(ranks); });
  }
  void abandon() noexcept override {}

 private:
  TileGrid grid_;
  Fold& fold_;
};

}  // namespace

RankReport run_reduction(const TileGrid& grid, const RunOptions& options, const SourceFactory& make,
                         const std::vector<Fold*>& folds) {
  Sinks sinks;
  for (Fold* fold : folds) sinks.push_back(std::make_unique<FoldSink>(grid, *fold));
  const int threads = choose_threads(options.threads, options.ranks_on_node);
  StreamingPass pass(grid, threads, make, sinks);
  pass.open();
  Progress progress(grid.count(), grid.raster().cells(), false);
  pass.run(progress);
  const auto start = Clock::now();
  pass.commit();
  RankReport report = pass.report();
  report.communicate += seconds_since(start);
  return report;
}

namespace {

/// A Fold of one of the stats layer's sweeps (FirstSweep, LaterSweep): one per thread, merged
/// exactly, so in any order.
template <class Sweep>
class SweepFold : public Fold {
 public:
  explicit SweepFold(std::function<Sweep()> make) : make_(std::move(make)) {}
  void start(int threads) override { threads_.assign(static_cast<size_t>(threads), make_()); }
  void add(int thread, const void* cells, int64_t width, int64_t height,
           int64_t stride) override {
    threads_[static_cast<size_t>(thread)].add(
        {static_cast<const std::byte*>(cells), width, height, stride});
  }
  std::vector<std::byte> rank_bytes() const override {
    Sweep mine = make_();
    for (const Sweep& t : threads_) mine.merge(t);
    return mine.to_bytes();
  }
  void merge_ranks(const std::vector<std::vector<std::byte>>& ranks) override {
    Sweep all = make_();
    for (const auto& bytes : ranks) all.merge_bytes(bytes);
    threads_.assign(1, std::move(all));
  }
  const Sweep& result() const { return threads_.at(0); }

 private:
  std::function<Sweep()> make_;
  std::vector<Sweep> threads_;
};

/// Adds one pass's figures to those of the passes before it (peak RSS: the largest).
void add_report(RankReport& total, const RankReport& pass) {
  total.tiles += pass.tiles;
  total.read += pass.read;
  total.compute += pass.compute;
  total.encode += pass.encode;
  total.communicate += pass.communicate;
  total.write += pass.write;
  total.wait += pass.wait;
  total.bytes_read += pass.bytes_read;
  total.peak_rss_mb = std::max(total.peak_rss_mb, pass.peak_rss_mb);
}

/// One pass of a sweep per band; the merged sweeps, in band order.
template <class Sweep>
std::vector<Sweep> sweep_all(const TileGrid& grid, const RunOptions& options,
                             const SourceFactory& make, std::vector<std::function<Sweep()>> makers,
                             Reduction& out) {
  std::vector<std::unique_ptr<SweepFold<Sweep>>> folds;
  std::vector<Fold*> pointers;
  for (auto& maker : makers) {
    folds.push_back(std::make_unique<SweepFold<Sweep>>(std::move(maker)));
    pointers.push_back(folds.back().get());
  }
  add_report(out.report, run_reduction(grid, options, make, pointers));
  ++out.passes;
  std::vector<Sweep> results;
  for (const auto& fold : folds) results.push_back(fold->result());
  return results;
}

/// The histogram band `b` still needs a later pass for (none when made from the first pass).
std::optional<stats::Buckets> pending_buckets(const BandToReduce& band,
                                              const stats::FirstSweep& first,
                                              ReducedBandResult& result) {
  if (band.buckets) result.buckets = band.buckets;
  if (band.default_histogram && !band.buckets && result.summary.valid > 0)
    result.buckets = stats::default_buckets(band.kind.type, result.summary.minimum,
                                            result.summary.maximum);
  if (!result.buckets) return std::nullopt;
  if (stats::key_bits(band.kind.type) > 16) return result.buckets;
  result.histogram = stats::histogram_from_values(first, *result.buckets);
  return std::nullopt;
}

}  // namespace

Reduction reduce_bands(const TileGrid& grid, const RunOptions& options, const SourceFactory& make,
                       const std::vector<BandToReduce>& bands) {
  Reduction out;
  std::vector<std::function<stats::FirstSweep()>> first_makers;
  for (const BandToReduce& b : bands)
    first_makers.push_back([&b] { return stats::FirstSweep(b.kind, !b.percentiles.empty()); });
  const auto firsts = sweep_all(grid, options, make, std::move(first_makers), out);
  std::vector<std::optional<stats::Buckets>> pending;
  std::vector<stats::Selection> selections;
  for (size_t k = 0; k < bands.size(); ++k) {
    ReducedBandResult result;
    result.summary = stats::summarize(firsts[k]);
    pending.push_back(pending_buckets(bands[k], firsts[k], result));
    selections.emplace_back(firsts[k], bands[k].percentiles);
    out.bands.push_back(std::move(result));
  }
  auto more = [&] {
    for (size_t k = 0; k < bands.size(); ++k)
      if (pending[k] || !selections[k].done()) return true;
    return false;
  };
  while (more()) {
    std::vector<std::function<stats::LaterSweep()>> makers;
    for (size_t k = 0; k < bands.size(); ++k) {
      const bool refine = !selections[k].done();
      makers.push_back([kind = bands[k].kind, buckets = pending[k],
                        level = refine ? selections[k].level() : 0,
                        prefixes = refine ? selections[k].prefixes() : std::vector<uint64_t>{}] {
        return stats::LaterSweep(kind, buckets, level, prefixes);
      });
    }
    const auto laters = sweep_all(grid, options, make, std::move(makers), out);
    for (size_t k = 0; k < bands.size(); ++k) {
      if (pending[k]) out.bands[k].histogram = laters[k].histogram();
      pending[k].reset();
      if (!selections[k].done()) selections[k].refine(laters[k].digits());
    }
  }
  for (size_t k = 0; k < bands.size(); ++k) out.bands[k].percentiles = selections[k].values();
  return out;
}

}  // namespace tessera::run
