// A job's tiles as a TileSource: TileWorker, with the input bytes each tile read counted.
#include "tile_source.hpp"

#include "tile_worker.hpp"

namespace tessera::run {

namespace {

/// The inputs the steps of `pass` read, as cells or by band, each once.
std::vector<size_t> inputs_read(const plan::Plan& plan, const plan::Pass& pass) {
  std::vector<bool> read(plan.inputs.size(), false);
  for (size_t s : pass.steps) {
    const plan::PlannedStep& step = plan.steps[s];
    if (step.reads_input_cells()) read[step.input] = true;
    for (size_t k : step.bands) read[plan.bands[k].input] = true;
  }
  std::vector<size_t> inputs;
  for (size_t i = 0; i < read.size(); ++i)
    if (read[i]) inputs.push_back(i);
  return inputs;
}

/// Bytes of the input cells tile `tile` reads: its window grown by the halo, inside the raster,
/// of each input in `inputs`.
int64_t tile_input_bytes(const plan::Plan& plan, const std::vector<size_t>& inputs, int64_t tile) {
  const Window inside =
      intersect(grow(plan.grid.owned(tile), plan.halo), whole(plan.grid.raster()));
  int64_t bytes = 0;
  for (size_t input : inputs)
    bytes += inside.cells() * static_cast<int64_t>(size_of(plan.inputs[input].type));
  return bytes;
}

class PlanTiles : public TileSource {
 public:
  PlanTiles(const plan::Plan& plan, const plan::Pass& pass)
      : plan_(plan), inputs_(inputs_read(plan, pass)), worker_(plan, pass) {}
  void process(int64_t tile, TileOutlet& out) override {
    worker_.process(tile, out);
    bytes_read_ += tile_input_bytes(plan_, inputs_, tile);
  }
  const PhaseTimes& times() const override { return worker_.times(); }
  int64_t bytes_read() const override { return bytes_read_; }

 private:
  const plan::Plan& plan_;
  std::vector<size_t> inputs_;
  TileWorker worker_;
  int64_t bytes_read_ = 0;
};

}  // namespace

std::unique_ptr<TileSource> plan_tiles(const plan::Plan& plan, const plan::Pass& pass) {
  return std::make_unique<PlanTiles>(plan, pass);
}

}  // namespace tessera::run
