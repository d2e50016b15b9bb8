// Kernel-only throughput: every terrain op and two calc expressions on one 512 x 512 tile with its
// halo, through Op::run as the tile worker calls it, one core, beside memcpy of the same bytes.
// Run: bash tests/bench/bench_kernels.sh (or build/src/bench_kernels, any Google Benchmark flag).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "tessera/core/geometry.hpp"
#include "tessera/core/pixel_type.hpp"
#include "tessera/core/raster_view.hpp"
#include "tessera/core/tile_buffer.hpp"
#include "tessera/ops/op.hpp"
#include "tessera/ops/terrain_noise.hpp"

namespace {

using tessera::ConstView;
using tessera::PixelType;
using tessera::TileBuffer;
using tessera::View;
using tessera::Window;
namespace ops = tessera::ops;

/// The tile: 512 x 512 owned cells well inside a 4096 x 4096 raster, so its halo holds data.
constexpr tessera::Extent kRaster{4096, 4096};
constexpr Window kOwned{1024, 1024, 512, 512};
constexpr int64_t kCells = kOwned.width * kOwned.height;
constexpr double kCellSize = 30.0;  // metres, as tessera generate's default --cell
constexpr float kDemNodata = -9999.0f;
constexpr uint16_t kBandNodata = 65535;

/// Whether raster cell (x, y) is nodata: a 32 x 32 void inside the tile and one cell in 997.
bool is_void(int64_t x, int64_t y) {
  const int64_t vx = x - kOwned.x - 200;
  const int64_t vy = y - kOwned.y - 100;
  if (vx >= 0 && vx < 32 && vy >= 0 && vy < 32) return true;
  return (x * 7919 + y * 104729) % 997 == 0;
}

/// The cells of `w` as tessera generate writes them (seed, zmin, zmax), nodata where is_void().
template <class T>
std::vector<T> terrain_cells(Window w, const ops::TerrainParams& p, T nodata) {
  std::vector<T> cells(static_cast<size_t>(w.cells()));
  std::vector<double> row(static_cast<size_t>(w.width));
  for (int64_t y = 0; y < w.height; ++y) {
    ops::terrain_row(p, w.x, w.y + y, row);
    for (int64_t x = 0; x < w.width; ++x) {
      T& cell = cells[static_cast<size_t>(y * w.width + x)];
      if (is_void(w.x + x, w.y + y))
        cell = nodata;
      else if constexpr (std::is_integral_v<T>)
        cell = static_cast<T>(std::lround(row[size_t(x)]));
      else
        cell = static_cast<T>(row[size_t(x)]);
    }
  }
  return cells;
}

/// A Float32 mountain DEM over the tile grown by `halo`, built once per halo: `tessera generate
/// --coarse 8 --octaves 8 --zmax 3000 --cell 30` (on this tile 900..2500 m, slopes 14 degrees on
/// average, up to 48; 1.3% of the cells nodata or next to it).
const std::vector<float>& dem(int64_t halo) {
  static std::map<int64_t, std::vector<float>> cache;
  auto& cells = cache[halo];
  const ops::TerrainParams mountains{.coarse_shift = 8, .octaves = 8, .zmax = 3000};
  if (cells.empty()) cells = terrain_cells(grow(kOwned, halo), mountains, kDemNodata);
  return cells;
}

/// Landsat-like UInt16 reflectances over the tile (calc reads no halo), NIR 7000..16000 and red
/// 6000..12000, both nodata 65535 in the DEM's voids.
const std::vector<uint16_t>& band(int which) {
  static const std::vector<uint16_t> nir = terrain_cells(
      kOwned, ops::TerrainParams{.seed = 7, .zmin = 7000, .zmax = 16000}, kBandNodata);
  static const std::vector<uint16_t> red = terrain_cells(
      kOwned, ops::TerrainParams{.seed = 8, .zmin = 6000, .zmax = 12000}, kBandNodata);
  return which == 0 ? nir : red;
}

/// The TileIn the tile worker hands a one-input op reading a Float32 DEM.
ops::TileIn dem_tile_in(int64_t halo) {
  const Window grown = grow(kOwned, halo);
  ops::TileIn in;
  in.raster = kRaster;
  in.owned = kOwned;
  in.halo = halo;
  in.cells = ConstView<float>(dem(halo).data(), grown.width, grown.height);
  in.nodata = kDemNodata;
  in.source_type = PixelType::Float32;
  in.ewres = kCellSize;
  in.nsres = -kCellSize;
  return in;
}

/// The TileIn of a calc step reading bands A and B (UInt16, nodata 65535).
ops::TileIn calc_tile_in() {
  ops::TileIn in;
  in.raster = kRaster;
  in.owned = kOwned;
  for (int b = 0; b < 2; ++b) {
    const auto* bytes = reinterpret_cast<const std::byte*>(band(b).data());
    in.bands.push_back({PixelType::UInt16,
                        ConstView<std::byte>(bytes, kOwned.width * 2, kOwned.height),
                        double(kBandNodata)});
  }
  return in;
}

/// Output tile buffers for `op`, allocated and touched once, and the TileOut viewing them.
struct OutTile {
  std::vector<TileBuffer> planes;
  ops::TileOut views;
  int64_t bytes = 0;

  explicit OutTile(const ops::Op& op)
      : planes(static_cast<size_t>(op.output_bands()),
               TileBuffer(op.output_type(), kOwned.width, kOwned.height)) {
    for (auto& plane : planes) {
      views.bands.push_back(plane.view());
      bytes += plane.bytes().width() * plane.bytes().height();
    }
  }
};

/// Cells per second (items), bytes read and written per second, and seconds per cell.
void count(benchmark::State& state, int64_t bytes_in, int64_t bytes_out, int64_t cells = kCells) {
  state.SetItemsProcessed(state.iterations() * cells);
  state.SetBytesProcessed(state.iterations() * (bytes_in + bytes_out));
  state.counters["time/cell"] = benchmark::Counter(
      double(cells), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

/// The bytes run() reads: the bands of a calc step, or the 4-byte cells of the grown tile.
int64_t input_bytes(const ops::TileIn& in) {
  if (in.bands.empty()) return grow(in.owned, in.halo).cells() * 4;
  int64_t bytes = 0;
  for (const auto& b : in.bands) bytes += b.bytes.width() * b.bytes.height();
  return bytes;
}

/// One op's run() on the tile, as TileWorker::run_steps calls it.
void run_op(benchmark::State& state, const ops::Op& op) {
  const ops::TileIn in = op.band_inputs().empty() ? dem_tile_in(op.halo()) : calc_tile_in();
  OutTile out(op);
  op.run(in, out.views);
  for (auto _ : state) {
    op.run(in, out.views);
    benchmark::DoNotOptimize(out.views.bands.front().bytes().data());
    benchmark::ClobberMemory();
  }
  count(state, input_bytes(in), out.bytes);
}

/// memcpy of `from`: the speed of a kernel that only read and wrote that many bytes.
void copy_bytes(benchmark::State& state, std::span<const std::byte> from) {
  std::vector<std::byte> to(from.size());
  for (auto _ : state) {
    std::memcpy(to.data(), from.data(), from.size());
    benchmark::DoNotOptimize(to.data());
    benchmark::ClobberMemory();
  }
  count(state, int64_t(from.size()), int64_t(from.size()));
}

/// memcpy of 64 MiB of Float32 cells, twice the last-level cache: main memory's copy speed, what
/// a tile that had left the cache would be read and written at.
void copy_memory(benchmark::State& state) {
  constexpr int64_t cells = int64_t(16) << 20;
  const std::vector<float> from(static_cast<size_t>(cells), 1.0f);
  std::vector<float> to(static_cast<size_t>(cells));
  for (auto _ : state) {
    std::memcpy(to.data(), from.data(), size_t(cells) * 4);
    benchmark::DoNotOptimize(to.data());
    benchmark::ClobberMemory();
  }
  count(state, cells * 4, cells * 4, cells);
}

/// The owned rows of the Float32 DEM tile (halo 1) into a Float32 output tile: a tile's input
/// bytes to its output bytes, the least any Float32 terrain kernel must move.
void copy_owned_rows(benchmark::State& state) {
  const ops::TileIn in = dem_tile_in(1);
  const auto cells = std::get<ConstView<float>>(in.cells);
  std::vector<float> to(static_cast<size_t>(kCells));
  for (auto _ : state) {
    for (int64_t y = 0; y < kOwned.height; ++y)
      std::memcpy(&to[size_t(y * kOwned.width)], cells.row(y + 1) + 1, size_t(kOwned.width) * 4);
    benchmark::DoNotOptimize(to.data());
    benchmark::ClobberMemory();
  }
  count(state, kCells * 4, kCells * 4);
}

struct Case {
  std::string name;
  std::string op;
  ops::Options options;
};

/// A hypsometric palette over the DEM's 0..3000 m, with nodata transparent black.
std::string write_color_file() {
  const auto path = std::filesystem::temp_directory_path() /
                    ("tessera_bench_kernels_" + std::to_string(getpid()) + ".txt");
  std::ofstream(path) << "nv 0 0 0 0\n0 46 154 88\n500 251 255 128\n1200 224 108 31\n"
                         "1900 200 55 55\n2500 215 244 244\n3000 255 255 255\n";
  return path.string();
}

/// Each terrain mode as `tessera dem` runs it with gdaldem's defaults and the flags named: every
/// flag that changes a mode's arithmetic.
std::vector<Case> terrain_cases(const std::string& color_file) {
  using ops::OptionValue;
  const auto text = [](const char* v) { return OptionValue(std::string(v)); };
  const auto yes = OptionValue(true);
  const auto colors = [&](ops::Options more) {
    more.emplace("color_file", OptionValue(color_file));
    return more;
  };
  return {
      {"hillshade", "hillshade", {}},
      {"hillshade/combined", "hillshade", {{"combined", yes}}},
      {"hillshade/multidirectional", "hillshade", {{"multidirectional", yes}}},
      {"hillshade/igor", "hillshade", {{"igor", yes}}},
      {"hillshade/ZevenbergenThorne", "hillshade", {{"alg", text("ZevenbergenThorne")}}},
      {"slope/degrees", "slope", {}},
      {"slope/percent", "slope", {{"units", text("percent")}}},
      {"slope/ZevenbergenThorne", "slope", {{"alg", text("ZevenbergenThorne")}}},
      {"aspect", "aspect", {}},
      {"aspect/trigonometric", "aspect", {{"trigonometric", yes}}},
      {"aspect/zero_for_flat", "aspect", {{"zero_for_flat", yes}}},
      {"aspect/ZevenbergenThorne", "aspect", {{"alg", text("ZevenbergenThorne")}}},
      {"TRI", "TRI", {}},
      {"TRI/Wilson", "TRI", {{"alg", text("Wilson")}}},
      {"TPI", "TPI", {}},
      {"roughness", "roughness", {}},
      {"color-relief", "color-relief", colors({})},
      {"color-relief/alpha", "color-relief", colors({{"alpha", yes}})},
      {"color-relief/exact_color_entry", "color-relief", colors({{"exact_color_entry", yes}})},
      {"color-relief/nearest_color_entry", "color-relief", colors({{"nearest_color_entry", yes}})},
  };
}

/// NDVI and a conditional over UInt16 bands A (NIR) and B (red), written as Float32.
std::vector<Case> calc_cases() {
  using ops::OptionValue;
  const auto calc = [](const char* expr) {
    return ops::Options{{"expr", OptionValue(std::string(expr))},
                        {"type", OptionValue(std::string("float32"))}};
  };
  return {{"calc/ndvi", "calc", calc("(A-B)/(A+B)")},
          {"calc/where", "calc", calc("where(A > 11000, A - B, B * 2)")}};
}

/// Registers every op case; the ops live until the end of the program.
void register_ops() {
  static std::vector<std::unique_ptr<ops::Op>> built;
  const std::string color_file = write_color_file();
  auto cases = terrain_cases(color_file);
  for (auto& c : calc_cases()) cases.push_back(std::move(c));
  for (const Case& c : cases) {
    const ops::Op& op = *built.emplace_back(ops::make_op(c.op, c.options, {"A", "B"}));
    benchmark::RegisterBenchmark(c.name.c_str(), run_op, std::cref(op));
  }
  std::filesystem::remove(color_file);
}

void register_copies() {
  const auto& dem1 = dem(1);
  benchmark::RegisterBenchmark("memcpy/dem_tile", copy_bytes,
                               std::as_bytes(std::span<const float>(dem1)));
  benchmark::RegisterBenchmark("copy/owned_rows_float32", copy_owned_rows);
  static std::vector<uint16_t> both;
  both = band(0);
  both.insert(both.end(), band(1).begin(), band(1).end());
  benchmark::RegisterBenchmark("memcpy/calc_bands", copy_bytes,
                               std::as_bytes(std::span<const uint16_t>(both)));
  benchmark::RegisterBenchmark("memcpy/64MiB_main_memory", copy_memory);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  try {
    register_copies();
    register_ops();
    benchmark::RunSpecifiedBenchmarks();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_kernels: %s\n", e.what());
    return 1;
  }
  benchmark::Shutdown();
  return 0;
}
