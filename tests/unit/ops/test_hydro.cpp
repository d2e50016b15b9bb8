// fill, flowdir and flowacc: the tile-graph phases driven in one process over every tile size,
// against plain whole-raster definitions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "d8_tile.hpp"
#include "flats.hpp"
#include "raster_fixture.hpp"
#include "tessera/ops/d8.hpp"
#include "tessera/ops/fill.hpp"

namespace tessera::ops {
namespace {

using testing::Raster;

constexpr float kVoid = -9999.0f;

/// Terrain of uneven heights (pits, flats, ridges) from a fixed generator, with a few voids.
Raster<float> terrain(int64_t width, int64_t height, uint32_t seed, bool voids) {
  Raster<float> r;
  r.width = width;
  r.height = height;
  r.nodata = kVoid;
  uint32_t state = seed;
  for (int64_t i = 0; i < width * height; ++i) {
    state = state * 1664525u + 1013904223u;
    const int64_t x = i % width;
    const int64_t y = i / width;
    r.cells.push_back(static_cast<float>((state >> 24) % 7) + static_cast<float>(x % 5 + y % 3));
    if (voids && (state >> 8) % 29 == 0) r.cells.back() = kVoid;
  }
  return r;
}

/// TileIn of tile `t` of `grid` over `r`, read with `halo` (cells past the raster are NaN).
struct TileRead {
  std::vector<float> buffer;
  TileIn in;
};

TileRead read_tile(const Raster<float>& r, const TileGrid& grid, int64_t t, int64_t halo) {
  TileRead read;
  const Window owned = grid.owned(t);
  const Window g = grow(owned, halo);
  read.buffer.assign(static_cast<size_t>(g.cells()), std::numeric_limits<float>::quiet_NaN());
  for (int64_t y = 0; y < g.height; ++y)
    for (int64_t x = 0; x < g.width; ++x)
      if (whole(grid.raster()).contains(g.x + x, g.y + y))
        read.buffer[static_cast<size_t>(y * g.width + x)] =
            r.cells[static_cast<size_t>((g.y + y) * r.width + g.x + x)];
  read.in.raster = grid.raster();
  read.in.owned = owned;
  read.in.halo = halo;
  read.in.cells = ConstView<float>(read.buffer.data(), g.width, g.height);
  read.in.nodata = r.nodata;
  read.in.ewres = r.ewres;
  read.in.nsres = r.nsres;
  return read;
}

/// The op's result over the whole raster at `tile` x `tile` cells: phase 1 on every tile, the
/// solve, phase 2 on every tile, as the executor runs them (here in one process).
template <class Out>
std::vector<Out> run_graph(const TileGraphOp& op, const Raster<float>& r, int64_t tile) {
  const TileGrid grid(Extent{r.width, r.height}, tile, tile);
  std::vector<Bytes> summaries;
  for (int64_t t = 0; t < grid.count(); ++t)
    summaries.push_back(op.summarize(read_tile(r, grid, t, op.halo()).in, grid));
  const auto finish = op.with_solution(
      grid, std::make_shared<const Bytes>(op.solve(grid, summaries_of(summaries))));
  return testing::run_tiled<float, Out>(*finish, r, tile, tile).at(0);
}

std::shared_ptr<const TileGraphOp> bound_fill(const Raster<float>& r) {
  auto op = make_fill({});
  return std::dynamic_pointer_cast<const TileGraphOp>(
      op->for_source({PixelType::Float32, r.nodata, Extent{r.width, r.height}}));
}

/// Depression filling by its definition: outlets (edge cells, cells next to a void) keep their
/// height; every other cell is max(own height, lowest neighbour's level), repeated until stable.
std::vector<float> fill_by_definition(const Raster<float>& r) {
  const auto inside = [&](int64_t x, int64_t y) {
    return x >= 0 && y >= 0 && x < r.width && y < r.height;
  };
  const auto is_void = [&](int64_t x, int64_t y) { return r.cells[y * r.width + x] == kVoid; };
  std::vector<float> level(r.cells.size(), std::numeric_limits<float>::infinity());
  std::vector<bool> outlet(r.cells.size(), false);
  for (int64_t y = 0; y < r.height; ++y)
    for (int64_t x = 0; x < r.width; ++x) {
      const size_t c = y * r.width + x;
      if (is_void(x, y)) {
        level[c] = kVoid;
        continue;
      }
      bool out = x == 0 || y == 0 || x == r.width - 1 || y == r.height - 1;
      for (int k = 0; k < 8; ++k)
        out = out || (inside(x + kD8Dx[k], y + kD8Dy[k]) && is_void(x + kD8Dx[k], y + kD8Dy[k]));
      outlet[c] = out;
      if (out) level[c] = r.cells[c];
    }
  for (bool changed = true; changed;) {
    changed = false;
    for (int64_t y = 0; y < r.height; ++y)
      for (int64_t x = 0; x < r.width; ++x) {
        const size_t c = y * r.width + x;
        if (outlet[c] || is_void(x, y)) continue;
        float lowest = std::numeric_limits<float>::infinity();
        for (int k = 0; k < 8; ++k)
          lowest = std::min(lowest, level[(y + kD8Dy[k]) * r.width + x + kD8Dx[k]]);
        const float next = std::max(r.cells[c], lowest);
        if (next < level[c]) level[c] = next, changed = true;
      }
  }
  return level;
}

TEST(Fill, EqualsItsDefinitionAtEveryTileSize) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    const Raster<float> r = terrain(37, 29, seed, seed != 1);
    const auto want = fill_by_definition(r);
    const auto op = bound_fill(r);
    for (int64_t tile : {1, 2, 3, 5, 8, 16, 64})
      EXPECT_EQ(run_graph<float>(*op, r, tile), want) << "seed " << seed << " tile " << tile;
  }
}

TEST(Fill, EqualsItsDefinitionOnHeightsOfEverySignAndScale) {
  // Heights from -5000 to 6000 with fractions, so that the flood's queue orders keys across many
  // of its upper and lower lists, and negative ones.
  Raster<float> r = terrain(41, 33, 5, true);
  uint32_t state = 11;
  for (float& z : r.cells) {
    state = state * 1664525u + 1013904223u;
    if (z != kVoid) z = (z - 6.0f) * 917.25f + static_cast<float>(state >> 8) / 16777216.0f;
  }
  const auto want = fill_by_definition(r);
  const auto op = bound_fill(r);
  for (int64_t tile : {3, 8, 64})
    EXPECT_EQ(run_graph<float>(*op, r, tile), want) << "tile " << tile;
}

TEST(Fill, RaisesAPitToItsLowestRim) {
  Raster<float> r = terrain(9, 9, 4, false);
  for (float& z : r.cells) z = 10;
  r.at(4, 4) = 1;
  r.at(4, 3) = 5;
  r.at(3, 3) = 7;
  const auto out = run_graph<float>(*bound_fill(r), r, 4);
  EXPECT_EQ(out[4 * 9 + 4], 10.0f);
  EXPECT_EQ(out[3 * 9 + 4], 10.0f);
  EXPECT_EQ(out[0], 10.0f);
}

TEST(Fill, RefusesNanWithoutANodataValue) {
  Raster<float> r = terrain(8, 8, 5, false);
  r.nodata.reset();
  r.at(3, 2) = std::numeric_limits<float>::quiet_NaN();
  const TileGrid grid(Extent{8, 8}, 8, 8);
  try {
    bound_fill(r)->summarize(read_tile(r, grid, 0, 1).in, grid);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "fill: the DEM has voids (NaN at cell 3, 2) but no nodata value; give it one "
                 "(gdal_edit.py -a_nodata VALUE)");
  }
}

TEST(Perimeter, IndexAndCountAgree) {
  for (auto [w, h] : {std::pair{1, 1}, {1, 6}, {6, 1}, {2, 2}, {5, 3}, {7, 9}}) {
    std::vector<int> seen(static_cast<size_t>(perimeter_count(w, h)), 0);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const int64_t p = perimeter_index(x, y, w, h);
        const bool edge = x == 0 || y == 0 || x == w - 1 || y == h - 1;
        ASSERT_EQ(p >= 0, edge) << w << "x" << h << " at " << x << "," << y;
        if (p >= 0) ++seen.at(static_cast<size_t>(p));
      }
    for (int n : seen) EXPECT_EQ(n, 1) << w << "x" << h;
  }
}

/// flowdir of `r` at `tile` x `tile` cells (options: `encoding`).
std::vector<int16_t> flowdir_of(const Raster<float>& r, int64_t tile, const Options& options = {}) {
  const std::shared_ptr<const Op> op = make_flowdir(options);
  return testing::run_graph<float, int16_t>(dynamic_cast<const TileGraphOp&>(*op), r, tile);
}

TEST(FlowDir, SteepestDescentInBothEncodings) {
  Raster<float> r = terrain(5, 5, 6, false);
  for (int64_t y = 0; y < 5; ++y)
    for (int64_t x = 0; x < 5; ++x) r.at(x, y) = static_cast<float>(10 * (5 - x) + y);  // east
  r.at(2, 2) = 100;
  r.at(3, 1) = -100;  // the steepest from (2, 2) is north-east
  const auto taudem = flowdir_of(r, 5);
  const auto esri = flowdir_of(r, 5, {{"encoding", "esri"}});
  EXPECT_EQ(taudem[2 * 5 + 2], 2);
  EXPECT_EQ(esri[2 * 5 + 2], 128);
  EXPECT_EQ(taudem[3 * 5 + 1], 1);  // east
  EXPECT_EQ(esri[3 * 5 + 1], 1);
  EXPECT_EQ(taudem[0], -32768);  // the edge drains off the raster
}

TEST(FlowDir, AFlatDrainsToItsOutletAndAwayFromHigherTerrain) {
  // A 5 x 3 flat at 5 walled at 10, whose outlet is the edge cell (0, 2), also at 5.
  Raster<float> r = terrain(7, 5, 6, false);
  for (float& z : r.cells) z = 10;
  for (int64_t y = 1; y <= 3; ++y)
    for (int64_t x = 1; x <= 5; ++x) r.at(x, y) = 5;
  r.at(0, 2) = 5;
  for (int64_t tile : {1, 2, 3, 7}) {
    const auto p = flowdir_of(r, tile);
    EXPECT_EQ(p[2 * 7 + 1], 5) << tile;  // beside the outlet: into it (west)
    EXPECT_EQ(p[1 * 7 + 1], 6) << tile;  // south-west, the outlet
    EXPECT_EQ(p[3 * 7 + 1], 4) << tile;  // north-west
    // 2 low - high: (2, 2) is 2 * 2 - 1, its west neighbour 2 * 1 - 0 (beside the wall).
    EXPECT_EQ(p[2 * 7 + 2], 5) << tile;
    for (int64_t y = 1; y <= 3; ++y)
      for (int64_t x = 1; x <= 5; ++x) EXPECT_NE(p[y * 7 + x], 0) << x << "," << y;
  }
}

/// Whether every valid cell's flow, followed along TauDEM codes `p`, leaves the raster or
/// reaches a nodata cell (no code 0, no cycle).
bool every_cell_drains(const std::vector<int16_t>& p, int64_t w, int64_t h) {
  for (int64_t c = 0; c < w * h; ++c) {
    int64_t at = c;
    for (int64_t steps = 0; p[at] != -32768; ++steps) {
      if (p[at] == 0 || steps > w * h) return false;
      const int64_t x = at % w + kD8Dx[p[at] - 1];
      const int64_t y = at / w + kD8Dy[p[at] - 1];
      if (x < 0 || y < 0 || x >= w || y >= h) break;
      at = y * w + x;
    }
  }
  return true;
}

TEST(FlowDir, FlatsOfAFilledDemDrainTheSameAtEveryTileSize) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    const Raster<float> dem = terrain(37, 29, seed, seed != 1);
    Raster<float> filled = dem;
    filled.cells = run_graph<float>(*bound_fill(dem), dem, 64);
    const auto want = flowdir_of(filled, 64);
    EXPECT_TRUE(every_cell_drains(want, 37, 29)) << seed;
    for (int64_t tile : {1, 2, 3, 5, 8, 16})
      EXPECT_EQ(flowdir_of(filled, tile), want) << "seed " << seed << " tile " << tile;
  }
}

TEST(FlowDir, ALakeAcrossTilesWithIslandsAndHolesDrains) {
  // A lake at 3 over most of 40 x 30 cells, walled at 9, with islands, a void and one outlet
  // on the south edge; the flats of the lake cross every tile.
  Raster<float> r = terrain(40, 30, 4, false);
  for (int64_t y = 0; y < 30; ++y)
    for (int64_t x = 0; x < 40; ++x) {
      const bool wall = x < 2 || y < 2 || x > 37 || y > 27;
      const bool island = (x % 11 == 5 && y % 7 > 1) || (y == 14 && x > 8 && x < 30);
      r.at(x, y) = wall || island ? 9.0f : 3.0f;
    }
  r.at(20, 28) = 3;
  r.at(20, 29) = 3;
  r.at(30, 20) = kVoid;
  const auto want = flowdir_of(r, 64);
  EXPECT_TRUE(every_cell_drains(want, 40, 30));
  for (int64_t tile : {1, 2, 3, 4, 7, 16}) EXPECT_EQ(flowdir_of(r, tile), want) << "tile " << tile;
}

TEST(FlowDir, AWideLakeWithIslandsDrainsTheSameAtTilesOfManyPerimeterCells) {
  // A lake at 3 over 260 x 190 cells with scattered islands and a winding wall, one outlet on
  // the west edge: at tiles of 70 and 130 cells its pieces have up to 516 perimeter cells, so
  // phase 1 searches from them in several batches, and long runs of equal steps.
  const int64_t w = 260;
  const int64_t h = 190;
  Raster<float> r = terrain(w, h, 4, false);
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      const bool wall = x == 0 || y == 0 || x == w - 1 || y == h - 1;
      const bool island = (x * 7 + y * 13) % 97 == 0 || (x % 53 == 20 && y % 90 > 8) ||
                          (y == 120 && x > 30 && x < 240);
      r.at(x, y) = wall || island ? 9.0f : 3.0f;
    }
  r.at(0, 77) = 3;
  const auto want = flowdir_of(r, 260);
  EXPECT_TRUE(every_cell_drains(want, w, h));
  for (int64_t tile : {70, 130}) EXPECT_EQ(flowdir_of(r, tile), want) << "tile " << tile;
}

/// Lakes at two heights over `w` x `h` cells, with islands scattered at `density` in 1000,
/// diagonal and straight walls, a few voids and an outlet on the west edge: pieces of many
/// shapes in every tile, beside pieces of another height.
Raster<float> lakes(int64_t w, int64_t h, uint32_t seed, int density) {
  Raster<float> r = terrain(w, h, seed, false);
  uint32_t state = seed;
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      state = state * 1664525u + 1013904223u;
      const bool edge = x == 0 || y == 0 || x == w - 1 || y == h - 1;
      const bool island = static_cast<int>((state >> 12) % 1000) < density;
      const bool wall =
          (x + y == 40 && y % 9 != 0) || (x - y == 7 && x % 13 > 2) || (x == 50 && y % 23 > 3);
      float z = (x / 17 + y / 11) % 3 == 0 ? 4.0f : 3.0f;
      if (island || wall) z = 9;
      if ((state >> 20) % 211 == 0) z = kVoid;
      r.at(x, y) = edge ? 9.0f : z;
    }
  r.at(0, h / 2) = 3;
  return r;
}

TEST(FlowDir, SummariesEqualThoseThatSearchEveryPairLevelByLevel) {
  // Phase 1 gives a pair of perimeter cells Chebyshev's distance without a search where a
  // straight path inside its piece shows it, and searches the others with capped 16-bit
  // distances (level by level where a target is at the cap): its summaries must equal, byte
  // for byte, those that search from every perimeter cell level by level, and the directions
  // those of a single tile.
  const FlatSearch every_pair{false, 0};
  const FlatSearch ways[] = {{}, {true, 0}, {false, 32766}, {true, 3}, {false, 9}};
  int tiles_with_flats = 0;
  for (const int density : {0, 20, 150, 400}) {
    const Raster<float> r = lakes(97, 83, 7 + static_cast<uint32_t>(density), density);
    for (int64_t tile : {3, 5, 8, 13, 32, 47, 83}) {
      const TileGrid grid(Extent{r.width, r.height}, tile, tile);
      for (int64_t t = 0; t < grid.count(); ++t) {
        const TileRead read = read_tile(r, grid, t, 2);
        FlatTile ft;
        analyse_tile(read.in, ft);
        const Bytes want = flats_summary(ft, every_pair);
        for (const FlatSearch& how : ways) {
          analyse_tile(read.in, ft);
          ASSERT_EQ(flats_summary(ft, how), want)
              << "density " << density << " tile " << tile << " #" << t << " straight "
              << how.straight_paths << " cap " << how.lane_cap;
        }
        tiles_with_flats += ft.flat_cells > 0 ? 1 : 0;
      }
    }
    const auto want = flowdir_of(r, 97);
    for (int64_t tile : {4, 13, 32}) EXPECT_EQ(flowdir_of(r, tile), want) << tile;
  }
  EXPECT_GT(tiles_with_flats, 1000);
}

/// Contributing area by its definition: every valid cell adds 1 to each cell of its path.
std::vector<float> area_by_definition(const std::vector<int16_t>& dirs, int64_t w, int64_t h) {
  std::vector<float> area(dirs.size(), 0);
  for (int64_t c = 0; c < w * h; ++c) {
    if (dirs[c] == -32768) {
      area[c] = -1;
      continue;
    }
    for (int64_t at = c;;) {
      area[at] += 1;
      const int k = dirs[at] - 1;
      if (k < 0 || dirs[at] == -32768) break;
      const int64_t x = at % w + kD8Dx[k];
      const int64_t y = at / w + kD8Dy[k];
      if (x < 0 || y < 0 || x >= w || y >= h || dirs[y * w + x] == -32768) break;
      at = y * w + x;
    }
  }
  return area;
}

TEST(FlowAcc, EqualsItsDefinitionAtEveryTileSize) {
  for (uint32_t seed : {7u, 8u}) {
    const Raster<float> dem = terrain(31, 23, seed, true);
    const auto fel = run_graph<float>(*bound_fill(dem), dem, 64);
    Raster<float> filled = dem;
    filled.cells = fel;
    const auto dirs = flowdir_of(filled, 64);
    Raster<float> p = dem;
    p.nodata = -32768;
    p.cells.assign(dirs.begin(), dirs.end());
    const auto want = area_by_definition(dirs, p.width, p.height);
    const auto op =
        std::dynamic_pointer_cast<const TileGraphOp>(std::shared_ptr<const Op>(make_flowacc({})));
    for (int64_t tile : {1, 2, 3, 4, 7, 64})
      EXPECT_EQ(run_graph<float>(*op, p, tile), want) << "seed " << seed << " tile " << tile;
  }
}

TEST(FlowAcc, RefusesACycleAcrossTiles) {
  Raster<float> p = terrain(6, 6, 9, false);
  p.nodata = -32768;
  for (float& d : p.cells) d = 7;  // south
  p.at(2, 2) = 1;                  // east, into (3, 2)
  p.at(3, 2) = 5;                  // west, back into (2, 2)
  const auto op =
      std::dynamic_pointer_cast<const TileGraphOp>(std::shared_ptr<const Op>(make_flowacc({})));
  EXPECT_THROW(run_graph<float>(*op, p, 3), Error);
  EXPECT_THROW(run_graph<float>(*op, p, 6), Error);
}

/// The message flowacc (or watershed) gives for the directions `cells` (3 x 1, no halo needed
/// in one 3 x 1 tile): empty when it takes them.
template <class T>
std::string directions_refusal(const std::shared_ptr<const Op>& op, std::vector<T> cells,
                               std::optional<double> nodata) {
  const auto graph = std::dynamic_pointer_cast<const TileGraphOp>(op);
  const TileGrid grid(Extent{3, 1}, 3, 1);
  std::vector<T> buffer(15, static_cast<T>(nodata.value_or(0)));  // 5 x 3 with a halo of 1
  std::copy(cells.begin(), cells.end(), buffer.begin() + 6);
  TileIn in;
  in.raster = grid.raster();
  in.owned = grid.owned(0);
  in.halo = 1;
  in.nodata = nodata;
  in.cells = ConstView<T>(buffer.data(), 5, 3);
  try {
    graph->summarize(in, grid);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A NaN in directions without a nodata value was taken as a void; fill refuses it in a DEM.
TEST(Directions, NanWithoutANodataValueIsRefusedNamingTheCell) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (const char* name : {"flowacc", "watershed"}) {
    const std::shared_ptr<const Op> op = make_op(name, {});
    EXPECT_EQ(directions_refusal<float>(op, {1, nan, 1}, std::nullopt),
              std::string(name) +
                  ": cell 1, 0 holds NaN, which is not a D8 code, and the directions have no "
                  "nodata value to make it a void; give them one (gdal_edit.py -a_nodata VALUE)");
    EXPECT_EQ(directions_refusal<float>(op, {1, nan, 1}, -32768.0), "") << name;
    EXPECT_EQ(directions_refusal<float>(op, {1, nan, 1}, nan), "") << name;
  }
}

// Directions of Int32, UInt32 and Float64 were read as Float32: 1 + 1e-12 was taken as 1 and
// 2147483647 named as 2.14748365e+09.
TEST(Directions, WideTypesAreReadExactly) {
  for (const char* name : {"flowacc", "watershed"}) {
    const std::shared_ptr<const Op> op = make_op(name, {});
    EXPECT_EQ(op->input_cells(PixelType::Float64), CellType::Float64);
    EXPECT_EQ(op->input_cells(PixelType::Int32), CellType::Float64);
    EXPECT_EQ(op->input_cells(PixelType::UInt32), CellType::Float64);
    EXPECT_EQ(op->input_cells(PixelType::Float32), CellType::Float32);
    EXPECT_EQ(op->input_cells(PixelType::Int16), CellType::Int32);
    EXPECT_EQ(directions_refusal<double>(op, {1, 1 + 1e-12, 1}, std::nullopt),
              std::string(name) +
                  ": cell 1, 0 holds 1.000000000001, which is not a D8 code of the taudem (1-8) "
                  "encoding, 0 or the raster's nodata");
    EXPECT_EQ(directions_refusal<double>(op, {1, 2147483647.0, 1}, std::nullopt),
              std::string(name) +
                  ": cell 1, 0 holds 2147483647, which is not a D8 code of the taudem (1-8) "
                  "encoding, 0 or the raster's nodata");
  }
  EXPECT_EQ(cell_text(9), "9");
  EXPECT_EQ(cell_text(2.5), "2.5");
  EXPECT_EQ(cell_text(static_cast<float>(0.1)), "0.100000001");
  EXPECT_EQ(cell_text(0.1), "0.1");
}

}  // namespace
}  // namespace tessera::ops
