// A whole streaming pass without a job: synthetic or terrain tiles into memory and file sinks, in
// process at one rank and under mpirun at 2 and 3 ranks, with failures injected in a tile, in
// encode and in commit: every rank gets the same error, no rank hangs, nothing is left.
#include <gdal.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "pass_fixture.hpp"
#include "sinks.hpp"
#include "tessera/core/error.hpp"
#include "tessera/par/agreement.hpp"
#include "tessera/par/environment.hpp"
#include "tessera/run/generate.hpp"
#include "tile_source.hpp"

namespace tessera::run::test {
namespace {

const Extent raster{100, 70};  // 7 x 5 tiles of 16: ragged on both edges
constexpr int64_t tile = 16;

RunOptions quiet_options(int threads) {
  RunOptions options;
  options.quiet = true;
  options.threads = threads;
  options.ranks_on_node = par::world_size();
  return options;
}

/// Runs a pass of synthetic tiles for `specs` into `sinks`.
void run_pass(const std::vector<OutputSpec>& specs, Sinks& sinks, int threads,
              int64_t failing_tile = -1) {
  const TileGrid grid(specs.front().size, specs.front().tile_width, specs.front().tile_height);
  run_streaming(
      grid, quiet_options(threads), [&] { return synthetic_tiles(specs, failing_tile); }, sinks);
}

/// The message of the tessera::Error `run` throws; "no error" when it returns.
std::string error_of(const std::function<void()>& run) {
  try {
    run();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

std::vector<std::byte> bytes_of(const std::vector<float>& cells) {
  std::vector<std::byte> bytes(cells.size() * sizeof(float));
  std::memcpy(bytes.data(), cells.data(), bytes.size());
  return bytes;
}

/// Rank 0's memory file at `path`, expected committed; nullptr on the other ranks, which are
/// expected to have none.
const MemoryStore* root_store(const std::string& path) {
  const MemoryStore* store = memory_store(path);
  if (par::world_rank() != 0) {
    EXPECT_EQ(store, nullptr);
    return nullptr;
  }
  EXPECT_NE(store, nullptr);
  if (store != nullptr) {
    EXPECT_TRUE(store->committed);
  }
  return store;
}

/// On rank 0: the memory file of `spec` is committed and holds every band-tile once, written in
/// tile order then band order, each the source's cells. Elsewhere: no memory file.
void expect_every_band_tile(const OutputSpec& spec) {
  const MemoryStore* store = root_store(spec.path);
  if (store == nullptr) return;
  const TileGrid grid(spec.size, spec.tile_width, spec.tile_height);
  std::vector<std::pair<int64_t, int>> order;
  for (int64_t t = 0; t < grid.count(); ++t)
    for (int b = 0; b < spec.bands; ++b) {
      order.emplace_back(t, b);
      EXPECT_EQ(store->tiles.at({t, b}), bytes_of(synthetic_cells(spec, t, b)))
          << "tile " << t << " band " << b;
    }
  EXPECT_EQ(store->order, order);
}

/// Counts the buffers the threads of a pass made and freed.
std::atomic<int> buffers_made{0};
std::atomic<int> buffers_freed{0};

/// What an op keeps from one tile to the next on its thread (a thread_local, made once).
struct ThreadBuffer {
  ThreadBuffer() : bytes(1 << 20) { ++buffers_made; }
  ~ThreadBuffer() { ++buffers_freed; }
  std::vector<std::byte> bytes;
};

/// Synthetic tiles whose every thread keeps a ThreadBuffer, as ops keep their working arrays.
class BufferedTiles : public TileSource {
 public:
  explicit BufferedTiles(const std::vector<OutputSpec>& specs) : tiles_(synthetic_tiles(specs)) {}
  void process(int64_t tile, TileOutlet& out) override {
    thread_local ThreadBuffer buffer;
    buffer.bytes[static_cast<size_t>(tile) % buffer.bytes.size()] = std::byte{1};
    tiles_->process(tile, out);
  }
  const PhaseTimes& times() const override { return tiles_->times(); }
  int64_t bytes_read() const override { return 0; }

 private:
  std::unique_ptr<TileSource> tiles_;
};

// What the threads of a pass keep from tile to tile goes when the pass ends, so that the passes
// of a job do not each leave their buffers held (tessera plan counts one pass's at a time).
TEST(StreamingPass, WhatItsThreadsKeptGoesWithThePass) {
  SharedDir dir;
  const std::vector<OutputSpec> specs{float_spec(dir.file("a"), raster, tile, 1)};
  for (int threads : {1, 2}) {
    buffers_made = 0;
    buffers_freed = 0;
    Sinks sinks;
    sinks.push_back(memory_sink(specs[0]));
    run_streaming(
        TileGrid(raster, tile, tile), quiet_options(threads),
        [&] { return std::make_unique<BufferedTiles>(specs); }, sinks);
    // An OpenMP team's other threads end on their own once told to, just after the pass.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (buffers_freed.load() < buffers_made.load() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_GE(buffers_made.load(), 1) << threads << " thread(s)";
    EXPECT_EQ(buffers_freed.load(), buffers_made.load()) << threads << " thread(s)";
    expect_every_band_tile(specs[0]);
    clear_memory_stores();
  }
}

TEST(StreamingPass, EveryBandTileReachesEachSinkOnceInOrder) {
  SharedDir dir;
  const std::vector<OutputSpec> specs{float_spec(dir.file("a"), raster, tile, 1),
                                      float_spec(dir.file("b"), raster, tile, 3)};
  for (int threads : {1, 2}) {
    Sinks sinks;
    for (const auto& spec : specs) sinks.push_back(memory_sink(spec));
    run_pass(specs, sinks, threads);
    for (const auto& spec : specs) expect_every_band_tile(spec);
    clear_memory_stores();
  }
}

TEST(StreamingPass, TerrainTilesReachTheSinkAsOneThreadMakesThem) {
  SharedDir dir;
  GenerateSpec generate;
  generate.path = dir.file("terrain.tif");
  generate.size = {90, 50};
  generate.creation_options = {"BLOCKXSIZE=32", "BLOCKYSIZE=32"};
  const plan::Plan plan = generate_plan(generate);
  Sinks sinks;
  sinks.push_back(memory_sink(plan.outputs[0].spec));
  run_streaming(
      plan.grid, quiet_options(2), [&] { return terrain_tiles(plan, generate.terrain); }, sinks);
  // The reference: each tile made again here by one source alone, caught by a capture sink.
  const MemoryStore* store = root_store(generate.path);
  if (store == nullptr) return;
  Sinks capture;
  capture.push_back(std::make_unique<CaptureSink>(plan.outputs[0].spec));
  TileOutlet outlet(capture, 0);
  const auto source = terrain_tiles(plan, generate.terrain);
  for (int64_t t = plan.grid.count() - 1; t >= 0; --t) {  // any order gives the same tiles
    outlet.start(t, 0);
    source->process(t, outlet);
  }
  const auto& reference = static_cast<const CaptureSink&>(*capture[0]).tiles();
  EXPECT_EQ(store->tiles, reference);
  EXPECT_EQ(static_cast<int64_t>(store->order.size()), plan.grid.count());
  clear_memory_stores();
}

/// Specs of one output of each file sink: uncompressed GeoTIFF (in place on one node),
/// DEFLATE GeoTIFF (ordered), uncompressed HDF5 (parallel, lock-step) and DEFLATE HDF5 (chunks
/// sent to rank 0), two bands each.
std::vector<OutputSpec> file_specs(const SharedDir& dir) {
  std::vector<OutputSpec> specs;
  for (const char* name : {"plain.tif", "deflate.tif", "plain.h5", "deflate.h5", "cog.tif"}) {
    specs.push_back(float_spec(dir.file(name), raster, tile, 2));
    if (!std::string(name).starts_with("plain"))
      specs.back().options.compression = Compression::Deflate;
  }
  specs.back().format = OutputFormat::Cog;  // 3 overview levels; its pass claims in Z order
  return specs;
}

/// GDAL's reading of band `band` (from 1) of `path`, whole, as Float32.
std::vector<float> gdal_band(const std::string& path, int band) {
  GDALAllRegister();
  const std::string name =
      path.ends_with(".h5") ? "NETCDF:\"" + path + "\":band_" + std::to_string(band) : path;
  GDALDatasetH dataset = GDALOpen(name.c_str(), GA_ReadOnly);
  if (dataset == nullptr) return {};
  GDALRasterBandH h = GDALGetRasterBand(dataset, path.ends_with(".h5") ? 1 : band);
  std::vector<float> cells(static_cast<size_t>(raster.cells()));
  const CPLErr err =
      GDALRasterIO(h, GF_Read, 0, 0, static_cast<int>(raster.width),
                   static_cast<int>(raster.height), cells.data(), static_cast<int>(raster.width),
                   static_cast<int>(raster.height), GDT_Float32, 0, 0);
  GDALClose(dataset);
  return err == CE_None ? cells : std::vector<float>{};
}

/// Band `band` (from 0) of the whole raster as the synthetic source makes it.
std::vector<float> synthetic_band(const OutputSpec& spec, int band) {
  const TileGrid grid(spec.size, spec.tile_width, spec.tile_height);
  std::vector<float> cells(static_cast<size_t>(spec.size.cells()));
  for (int64_t t = 0; t < grid.count(); ++t) {
    const Window owned = grid.owned(t);
    const auto made = synthetic_cells(spec, t, band);
    for (int64_t y = 0; y < owned.height; ++y)
      for (int64_t x = 0; x < owned.width; ++x)
        cells[static_cast<size_t>((owned.y + y) * spec.size.width + owned.x + x)] =
            made[static_cast<size_t>(y * spec.tile_width + x)];
  }
  return cells;
}

/// On one node an uncompressed GeoTIFF is written in place; across nodes it goes to rank 0.
TEST(StreamingPass, EveryFileSinkHoldsEveryCell) {
  for (bool one_node : {true, false}) {
    SharedDir dir;
    const auto specs = file_specs(dir);
    Sinks sinks = output_sinks(specs, one_node);
    run_pass(specs, sinks, 2);
    if (par::world_rank() != 0) continue;
    for (const auto& spec : specs)
      for (int band = 1; band <= spec.bands; ++band)
        EXPECT_EQ(gdal_band(spec.path, band), synthetic_band(spec, band - 1))
            << spec.path << " band " << band << (one_node ? " on one node" : " across nodes");
    EXPECT_EQ(dir.entries(), (std::vector<std::string>{"cog.tif", "deflate.h5", "deflate.tif",
                                                       "plain.h5", "plain.tif"}));
  }
}

/// Every rank: a failed pass throws `message` on every rank, and leaves no file (not even a
/// temporary one) and no memory store.
void expect_failure_leaves_nothing(const SharedDir& dir, Sinks& sinks,
                                   const std::vector<OutputSpec>& specs, int64_t failing_tile,
                                   const std::string& message) {
  EXPECT_EQ(error_of([&] { run_pass(specs, sinks, 2, failing_tile); }), message);
  EXPECT_EQ(memory_store(specs.front().path), nullptr);
  par::barrier();
  EXPECT_EQ(dir.entries(), std::vector<std::string>{});
  clear_memory_stores();
}

/// The memory output first, then one output of each file sink.
std::vector<OutputSpec> memory_and_files(const SharedDir& dir) {
  std::vector<OutputSpec> specs{float_spec(dir.file("memory"), raster, tile, 1)};
  for (const auto& spec : file_specs(dir)) specs.push_back(spec);
  return specs;
}

Sinks file_sinks_after(std::unique_ptr<Sink> first, const std::vector<OutputSpec>& specs) {
  Sinks sinks;
  sinks.push_back(std::move(first));
  const std::vector<OutputSpec> files(specs.begin() + 1, specs.end());
  for (auto& sink : output_sinks(files, true)) sinks.push_back(std::move(sink));
  return sinks;
}

TEST(StreamingPass, AFailedTileStopsEveryRankAndLeavesNothing) {
  SharedDir dir;
  const auto specs = memory_and_files(dir);
  for (int64_t failing : {int64_t{0}, int64_t{17}, int64_t{34}}) {
    Sinks sinks = file_sinks_after(memory_sink(specs[0]), specs);
    expect_failure_leaves_nothing(dir, sinks, specs, failing,
                                  "injected failure in tile " + std::to_string(failing));
  }
}

TEST(StreamingPass, AFailedEncodeStopsEveryRankAndLeavesNothing) {
  SharedDir dir;
  const auto specs = memory_and_files(dir);
  Sinks sinks = file_sinks_after(failing_encode(memory_sink(specs[0]), 9), specs);
  expect_failure_leaves_nothing(dir, sinks, specs, -1, "injected failure in encode of tile 9");
}

TEST(StreamingPass, AFailedCommitStopsEveryRankAndLeavesNothing) {
  SharedDir dir;
  const auto specs = memory_and_files(dir);
  fail_commit_of(specs[0].path);
  Sinks sinks = file_sinks_after(memory_sink(specs[0]), specs);
  expect_failure_leaves_nothing(dir, sinks, specs, -1,
                                "injected failure in commit of " + specs[0].path);
}

}  // namespace
}  // namespace tessera::run::test
