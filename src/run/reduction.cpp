// run_reduction: a StreamingPass whose one sink folds tiles (FoldSink) and merges on commit.
#include "reduction.hpp"

#include "journal.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>

#include "sink.hpp"
#include "stopwatch.hpp"
#include "tessera/io/raster_source.hpp"
#include "tessera/par/agreement.hpp"
#include "tessera/par/gather.hpp"
#include "tile_source.hpp"

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
  void add(int thread, const void* cells, int64_t width, int64_t height, int64_t stride) override {
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
  add_figures(out.report, run_reduction(grid, options, make, pointers));
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
  if (band.default_histogram && !band.buckets && result.summary.valid > 0) {
    const stats::Buckets buckets =
        stats::default_buckets(band.kind.type, result.summary.minimum, result.summary.maximum);
    // As GDAL: none when its range is empty (every valid cell holds one value) or not finite.
    if (buckets.min < buckets.max && std::isfinite(buckets.min) && std::isfinite(buckets.max))
      result.buckets = buckets;
  }
  if (!result.buckets) return std::nullopt;
  if (stats::key_bits(band.kind.type) > 16) return result.buckets;
  result.histogram = stats::histogram_from_values(first, *result.buckets);
  return std::nullopt;
}

}  // namespace

namespace {

/// One thread's readers of whole bands' tiles: output first_output + j gets the bands
/// layout[j] as its bands 0, 1, ... (in that order, on the thread that read them).
class BandTiles : public TileSource {
 public:
  BandTiles(std::vector<RasterInfo> bands, const TileGrid& grid, size_t first_output,
            BandLayout layout)
      : bands_(std::move(bands)),
        grid_(grid),
        first_output_(first_output),
        layout_(std::move(layout)) {
    for (const RasterInfo& band : bands_) {
      readers_.emplace_back(band.path, band.band);
      cells_.emplace_back(static_cast<size_t>(grid.tile_width() * grid.tile_height()) *
                          size_of(band.type));
    }
  }
  void process(int64_t tile, TileOutlet& out) override {
    const Window owned = grid_.owned(tile);
    for (size_t k = 0; k < bands_.size(); ++k) {
      const auto size = static_cast<int64_t>(size_of(bands_[k].type));
      Timed timed(times_.read);
      readers_[k].read(owned, bands_[k].type,
                       View<std::byte>(cells_[k].data(), owned.width * size, owned.height,
                                       grid_.tile_width() * size));
      bytes_read_ += owned.cells() * size;
    }
    for (size_t j = 0; j < layout_.size(); ++j)
      for (size_t b = 0; b < layout_[j].size(); ++b)
        out.put(first_output_ + j, static_cast<int>(b), cells_.at(layout_[j][b]).data());
  }
  const PhaseTimes& times() const override { return times_; }
  int64_t bytes_read() const override { return bytes_read_; }

 private:
  std::vector<RasterInfo> bands_;
  TileGrid grid_;
  size_t first_output_;
  BandLayout layout_;
  std::vector<io::RasterReader> readers_;
  std::vector<std::vector<std::byte>> cells_;
  PhaseTimes times_;
  int64_t bytes_read_ = 0;
};

/// Each band as an output of its own: output k is band k.
BandLayout one_band_each(size_t bands) {
  BandLayout layout;
  for (size_t k = 0; k < bands; ++k) layout.push_back({k});
  return layout;
}

/// The steps of a reduction pass, then the input bands it reduces: steps' bands as outputs 0..,
/// then the inputs' after them.
class ReductionTiles : public TileSource {
 public:
  ReductionTiles(const plan::Plan& plan, const plan::Pass& pass, std::vector<RasterInfo> inputs)
      : steps_(pass.outputs.empty() ? nullptr : plan_tiles(plan, pass)),
        inputs_(inputs, plan.grid, pass.outputs.size(), one_band_each(inputs.size())) {}
  void process(int64_t tile, TileOutlet& out) override {
    if (steps_) steps_->process(tile, out);
    inputs_.process(tile, out);
  }
  const PhaseTimes& times() const override {
    combined_ = inputs_.times();
    if (steps_) {
      combined_.read += steps_->times().read;
      combined_.compute += steps_->times().compute;
    }
    return combined_;
  }
  int64_t bytes_read() const override {
    return inputs_.bytes_read() + (steps_ ? steps_->bytes_read() : 0);
  }

 private:
  std::unique_ptr<TileSource> steps_;
  BandTiles inputs_;
  mutable PhaseTimes combined_;
};

}  // namespace

std::unique_ptr<TileSource> band_tiles(std::vector<RasterInfo> bands, const TileGrid& grid) {
  const size_t count = bands.size();
  return std::make_unique<BandTiles>(std::move(bands), grid, 0, one_band_each(count));
}

std::unique_ptr<TileSource> band_tiles(std::vector<RasterInfo> bands, const TileGrid& grid,
                                       BandLayout layout) {
  return std::make_unique<BandTiles>(std::move(bands), grid, 0, std::move(layout));
}

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

namespace {

/// What reduce_plan reduces: the steps' bands (as outputs of a copy of the plan) and the inputs'.
struct ReductionSetup {
  plan::Plan plan;  // the plan with one output per step band reduced
  plan::Pass pass;  // the reduction pass with those outputs
  std::vector<RasterInfo> inputs;
  std::vector<size_t> order;  // index into pass.reduced of each band, steps' first
  std::vector<BandToReduce> bands;
};

ReductionSetup setup_reduction(const plan::Plan& plan, const plan::Pass& pass) {
  ReductionSetup r{plan, pass, {}, {}, {}};
  r.plan.outputs.clear();
  r.pass.outputs.clear();
  for (size_t i = 0; i < pass.reduced.size(); ++i) {
    const plan::ReducedBand& band = plan.reduced.at(pass.reduced[i]);
    if (band.kind != plan::BandSource::Kind::Step) continue;
    r.pass.outputs.push_back(r.plan.outputs.size());
    r.plan.outputs.push_back({OutputSpec{}, {band.index}});
    r.order.push_back(i);
  }
  for (size_t i = 0; i < pass.reduced.size(); ++i) {
    const plan::ReducedBand& band = plan.reduced.at(pass.reduced[i]);
    if (band.kind != plan::BandSource::Kind::Input) continue;
    RasterInfo info = plan.inputs[band.index];
    info.band = band.band;
    info.type = band.type;
    r.inputs.push_back(std::move(info));
    r.order.push_back(i);
  }
  for (size_t i : r.order) {
    const plan::ReducedBand& band = plan.reduced[pass.reduced[i]];
    r.bands.push_back({{band.type, band.nodata}, band.percentiles, std::nullopt, false});
  }
  return r;
}

double statistic(const ops::StatisticRef& ref, const plan::ReducedBand& band,
                 const ReducedBandResult& result) {
  using K = ops::StatisticRef::Kind;
  switch (ref.kind) {
    case K::Mean:
      return result.summary.mean;
    case K::Std:
      return result.summary.stddev;
    case K::Min:
      return result.summary.minimum;
    case K::Max:
      return result.summary.maximum;
    case K::Percentile:
      break;
  }
  const auto at = std::find(band.percentiles.begin(), band.percentiles.end(), ref.percentile);
  return result.percentiles.at(static_cast<size_t>(at - band.percentiles.begin()));
}

}  // namespace

std::vector<ReducedBandResult> reduce_plan(const plan::Plan& plan, const plan::Pass& pass,
                                           const RunOptions& options) {
  const ReductionSetup r = setup_reduction(plan, pass);
  Reduction reduction = reduce_bands(
      plan.grid, options,
      [&] { return std::make_unique<ReductionTiles>(r.plan, r.pass, r.inputs); }, r.bands);
  std::vector<ReducedBandResult> results(pass.reduced.size());
  for (size_t i = 0; i < r.order.size(); ++i) results[r.order[i]] = std::move(reduction.bands[i]);
  return results;
}

std::vector<std::byte> results_to_bytes(const std::vector<ReducedBandResult>& results) {
  RecordWriter w;
  w.put(static_cast<int64_t>(results.size()));
  for (const ReducedBandResult& r : results) {
    w.put(r.summary).put_all(r.percentiles).put(r.buckets.has_value());
    w.put(r.buckets.value_or(stats::Buckets{})).put_all(r.histogram);
  }
  return w.take();
}

std::vector<ReducedBandResult> results_from_bytes(const std::vector<std::byte>& bytes) {
  RecordReader r(bytes);
  std::vector<ReducedBandResult> results(static_cast<size_t>(r.get<int64_t>()));
  for (ReducedBandResult& result : results) {
    result.summary = r.get<stats::Summary>();
    result.percentiles = r.get_all<double>();
    const bool has_buckets = r.get<bool>();
    const auto buckets = r.get<stats::Buckets>();
    if (has_buckets) result.buckets = buckets;
    result.histogram = r.get_all<int64_t>();
  }
  return results;
}

plan::Plan with_statistics(const plan::Plan& plan, const KnownStatistics& results) {
  plan::Plan bound = plan;
  for (plan::PlannedStep& step : bound.steps) {
    const bool known = std::all_of(step.statistics.begin(), step.statistics.end(),
                                   [&](size_t k) { return results.at(k).has_value(); });
    if (step.statistics.empty() || !known) continue;
    const auto refs = step.impl->statistics();
    std::vector<double> values;
    for (size_t i = 0; i < refs.size(); ++i) {
      const size_t k = step.statistics.at(i);
      values.push_back(statistic(refs[i], plan.reduced[k], *results[k]));
    }
    step.impl = step.impl->with_statistics(values);
  }
  return bound;
}

}  // namespace tessera::run
