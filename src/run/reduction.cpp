// run_reduction: a StreamingPass whose one sink folds tiles (FoldSink) and merges on commit.
#include "reduction.hpp"

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
                   Fold& fold) {
  Sinks sinks;
  sinks.push_back(std::make_unique<FoldSink>(grid, fold));
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

}  // namespace tessera::run
