// The tile worker through a whole pass: a job's steps (one-input ops, a fused chain with
// margins, calc over an input and a step) on a real DEM give the same raster whatever the tile
// size and the threads: tiles of 16 and 48 against one tile holding the whole raster.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "pass_fixture.hpp"
#include "tessera/job/job_spec.hpp"
#include "tessera/par/environment.hpp"
#include "tile_source.hpp"

namespace tessera::run::test {
namespace {

const std::string dem = std::string(TESSERA_TEST_DATA) + "/chiprofiler_dem.tif";  // 558 x 897

/// A job of every kind of step the worker fuses, its outputs named by `prefix`, cut in tiles of
/// `tile`.
std::string job_text(const std::string& prefix, int64_t tile) {
  return "[input.dem]\npath = \"" + dem + "\"\n" + R"(
[[step]]
id = "hs"
op = "hillshade"
in = "dem"
[[step]]
id = "smooth"
op = "focal.mean"
in = "dem"
radius = 2
[[step]]
id = "slope"
op = "slope"
in = "smooth"
compute_edges = true
[[step]]
id = "steep"
op = "calc"
expr = "slope > 30"
type = "uint8"
[[step]]
id = "relief"
op = "calc"
expr = "dem - smooth"
[[step]]
id = "aspect"
op = "aspect"
in = "dem"
[[step]]
id = "tri"
op = "TRI"
in = "hs"
[[output]]
from = "hs"
path = ")" +
         prefix + R"(hs.tif"
[[output]]
from = ["slope", "aspect"]
path = ")" +
         prefix + R"(pair.tif"
[[output]]
from = ["relief"]
path = ")" +
         prefix + R"(relief.tif"
[[output]]
from = ["steep"]
path = ")" +
         prefix + R"(steep.tif"
[[output]]
from = ["tri"]
path = ")" +
         prefix + R"(tri.h5"
[run]
tile = )" +
         std::to_string(tile) + "\n";
}

/// Band `band` of the memory file of `spec`, stitched into the whole raster's cells (bytes).
std::vector<std::byte> stitched(const OutputSpec& spec, const MemoryStore& store, int band) {
  const TileGrid grid(spec.size, spec.tile_width, spec.tile_height);
  const size_t cell = size_of(spec.type);
  std::vector<std::byte> raster(static_cast<size_t>(spec.size.cells()) * cell);
  for (int64_t t = 0; t < grid.count(); ++t) {
    const Window owned = grid.owned(t);
    const std::vector<std::byte>& tile = store.tiles.at({t, band});
    for (int64_t y = 0; y < owned.height; ++y)
      std::memcpy(
          raster.data() + static_cast<size_t>((owned.y + y) * spec.size.width + owned.x) * cell,
          tile.data() + static_cast<size_t>(y * spec.tile_width) * cell,
          static_cast<size_t>(owned.width) * cell);
  }
  return raster;
}

/// Every band of every output of the job cut in tiles of `tile`, run at `threads` threads into
/// memory sinks, stitched (rank 0; empty elsewhere).
std::vector<std::vector<std::byte>> run_job(int64_t tile, int threads) {
  const std::string prefix = "worker-" + std::to_string(tile) + "-" + std::to_string(threads);
  const plan::Plan plan = prepare(job::parse_job_text(job_text(prefix, tile), "job.toml", "/tmp"));
  EXPECT_EQ(plan.passes.size(), 1u);  // every op streams
  const plan::Pass& pass = plan.passes.at(0);
  EXPECT_EQ(pass.outputs.size(), plan.outputs.size());
  Sinks sinks;
  for (size_t o : pass.outputs) sinks.push_back(memory_sink(plan.outputs[o].spec));
  RunOptions options;
  options.quiet = true;
  options.threads = threads;
  options.ranks_on_node = par::world_size();
  run_streaming(
      plan.grid, options, [&] { return plan_tiles(plan, pass); }, sinks);
  std::vector<std::vector<std::byte>> bands;
  for (const auto& output : plan.outputs) {
    const MemoryStore* store = memory_store(output.spec.path);
    if (par::world_rank() != 0) continue;
    EXPECT_TRUE(store != nullptr && store->committed) << output.spec.path;
    if (store == nullptr) continue;
    for (int band = 0; band < output.spec.bands; ++band)
      bands.push_back(stitched(output.spec, *store, band));
  }
  clear_memory_stores();
  return bands;
}

TEST(TileWorker, AnyTileSizeAndThreadsGiveTheWholeRastersCells) {
  const auto whole = run_job(912, 1);  // one tile: 912 is the side rounded up to 16
  if (par::world_rank() == 0) {
    ASSERT_EQ(whole.size(), 6u);
  }
  for (const auto& [tile, threads] : {std::pair{16, 2}, std::pair{48, 1}, std::pair{48, 2}}) {
    const auto tiled = run_job(tile, threads);
    ASSERT_EQ(tiled.size(), whole.size());
    for (size_t b = 0; b < whole.size(); ++b)
      EXPECT_TRUE(tiled[b] == whole[b])
          << "band " << b << " at tile " << tile << " x " << threads << " threads";
  }
}

}  // namespace
}  // namespace tessera::run::test
