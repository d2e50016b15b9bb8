// A job's tiles as a TileSource: TileWorker, with the input bytes each tile read counted.
#include "tile_source.hpp"

#include "tile_worker.hpp"

namespace tessera::run {

namespace {

/// Bytes of the input cells tile `tile` reads: its window grown by the halo, inside the raster.
int64_t tile_input_bytes(const plan::Plan& plan, int64_t tile) {
  const Window inside =
      intersect(grow(plan.grid.owned(tile), plan.halo), whole(plan.grid.raster()));
  int64_t bytes = 0;
  for (const auto& input : plan.inputs)
    bytes += inside.cells() * static_cast<int64_t>(size_of(input.type));
  return bytes;
}

class PlanTiles : public TileSource {
 public:
  PlanTiles(const plan::Plan& plan, const plan::Pass& pass) : plan_(plan), worker_(plan, pass) {}
  void process(int64_t tile, TileOutlet& out) override {
    worker_.process(tile, out);
    bytes_read_ += tile_input_bytes(plan_, tile);
  }
  const PhaseTimes& times() const override { return worker_.times(); }
  int64_t bytes_read() const override { return bytes_read_; }

 private:
  const plan::Plan& plan_;
  TileWorker worker_;
  int64_t bytes_read_ = 0;
};

}  // namespace

std::unique_ptr<TileSource> plan_tiles(const plan::Plan& plan, const plan::Pass& pass) {
  return std::make_unique<PlanTiles>(plan, pass);
}

}  // namespace tessera::run
