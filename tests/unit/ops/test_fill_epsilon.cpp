// fill_epsilon: the tile-graph phases driven in one process at tiles of 2 to 64 cells, against
// the least strictly draining surface by plain serial Dijkstra on keys (docs/hydrology.md), with
// the bound along tessera's own flow directions of the filled surface, and a looser one.
#include <gtest/gtest.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <queue>
#include <string>
#include <thread>

#include "allocation_count.hpp"
#include "fill_epsilon_search.hpp"
#include "raster_fixture.hpp"
#include "tessera/ops/d8.hpp"
#include "tessera/ops/fill.hpp"
#include "tessera/ops/fill_epsilon.hpp"

namespace tessera::ops {
namespace {

using testing::Raster;

constexpr float kVoid = -9999.0f;
const float kNaN = std::numeric_limits<float>::quiet_NaN();

int64_t key_of(float v) {
  const auto bits = std::bit_cast<uint32_t>(v);
  const int64_t magnitude = bits & 0x7FFFFFFFu;
  return (bits >> 31) != 0 ? -magnitude : magnitude;
}

float value_of(int64_t key) {
  return std::bit_cast<float>(key < 0 ? 0x80000000u | static_cast<uint32_t>(-key)
                                      : static_cast<uint32_t>(key));
}

bool is_void(const Raster<float>& r, int64_t x, int64_t y) {
  if (x < 0 || y < 0 || x >= r.width || y >= r.height) return true;
  const float v = r.cells[static_cast<size_t>(y * r.width + x)];
  return std::isnan(v) || (r.nodata && v == static_cast<float>(*r.nodata));
}

bool is_outlet(const Raster<float>& r, int64_t x, int64_t y) {
  for (int k = 0; k < 8; ++k)
    if (is_void(r, x + kD8Dx[k], y + kD8Dy[k])) return true;
  return false;
}

/// The least surface's keys by the definition: Dijkstra from the outlets at their keys, each
/// step max(K, key + 1) (voids: 0).
std::vector<int64_t> least_surface(const Raster<float>& f) {
  std::vector<int64_t> best(f.cells.size(), std::numeric_limits<int64_t>::max());
  using Entry = std::pair<int64_t, int64_t>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> queue;
  for (int64_t y = 0; y < f.height; ++y)
    for (int64_t x = 0; x < f.width; ++x)
      if (!is_void(f, x, y) && is_outlet(f, x, y)) {
        const auto i = static_cast<size_t>(y * f.width + x);
        best[i] = key_of(f.cells[i]);
        queue.emplace(best[i], y * f.width + x);
      }
  while (!queue.empty()) {
    const auto [v, c] = queue.top();
    queue.pop();
    if (v > best[static_cast<size_t>(c)]) continue;
    for (int k = 0; k < 8; ++k) {
      const int64_t x = c % f.width + kD8Dx[k];
      const int64_t y = c / f.width + kD8Dy[k];
      if (is_void(f, x, y)) continue;
      const auto n = static_cast<size_t>(y * f.width + x);
      const int64_t a = std::max(key_of(f.cells[n]), v + 1);
      if (a < best[n]) best[n] = a, queue.emplace(a, y * f.width + x);
    }
  }
  for (size_t i = 0; i < best.size(); ++i)
    if (is_void(f, static_cast<int64_t>(i) % f.width, static_cast<int64_t>(i) / f.width))
      best[i] = 0;
  return best;
}

template <class Out>
std::vector<Out> run_graph_op(const Op& any, const Raster<float>& r, int64_t tile) {
  const auto& op = dynamic_cast<const TileGraphOp&>(any);
  return testing::run_graph<float, Out>(op, r, tile);
}

/// fill's surface of `dem` (tessera's fill, equal to TauDEM's pitremove in other tests).
Raster<float> filled(const Raster<float>& dem) {
  const auto op =
      make_fill({})->for_source({PixelType::Float32, dem.nodata, {dem.width, dem.height}});
  Raster<float> f = dem;
  f.cells = run_graph_op<float>(*op, dem, 16);
  return f;
}

/// The bound along flowdir's directions of `f`: U = max(K, U(next) + 1), K where the flow
/// leaves the raster; plus, with `loose`, each cell's steps to that end (a bound still).
Raster<float> bound_of(const Raster<float>& f, bool loose = false) {
  const auto dirs = run_graph_op<int16_t>(*make_flowdir({}), f, 16);
  std::vector<int64_t> u(f.cells.size(), -1), steps(f.cells.size(), 0);
  const std::function<int64_t(int64_t)> follow = [&](int64_t c) -> int64_t {
    auto& v = u[static_cast<size_t>(c)];
    if (v >= 0) return v;
    const int code = dirs[static_cast<size_t>(c)];
    const int64_t k = key_of(f.cells[static_cast<size_t>(c)]);
    if (code < 1 || code > 8) return v = k;
    const int64_t next = (c / f.width + kD8Dy[code - 1]) * f.width + c % f.width + kD8Dx[code - 1];
    const int64_t after = follow(next);
    steps[static_cast<size_t>(c)] = steps[static_cast<size_t>(next)] + 1;
    return v = std::max(k, after + 1);
  };
  Raster<float> b = f;  // voids NaN: any finite value may be a bound's
  b.nodata = kNaN;
  for (int64_t c = 0; c < f.width * f.height; ++c) {
    const auto i = static_cast<size_t>(c);
    if (is_void(f, c % f.width, c / f.width)) {
      b.cells[i] = kNaN;
      continue;
    }
    const int64_t key = follow(c) + (loose ? steps[i] : 0);
    b.cells[i] = key >= 0x7F800000 ? INFINITY : value_of(key);
  }
  return b;
}

/// A tile of fill_epsilon's input as the executor hands it over: `f`'s cells and `u` as the op's
/// band, with the op's halo.
struct TileRead {
  std::vector<float> cells, band;
  TileIn in;
};

std::unique_ptr<TileRead> read_tile(const Raster<float>& f, const Raster<float>& u,
                                    const TileGrid& grid, int64_t halo, int64_t t) {
  auto r = std::make_unique<TileRead>();
  const Window g = grow(grid.owned(t), halo);
  r->cells.assign(static_cast<size_t>(g.cells()), kNaN);
  r->band.assign(static_cast<size_t>(g.cells()), kNaN);
  for (int64_t y = 0; y < g.height; ++y)
    for (int64_t x = 0; x < g.width; ++x)
      if (whole(grid.raster()).contains(g.x + x, g.y + y)) {
        const auto from = static_cast<size_t>((g.y + y) * f.width + g.x + x);
        r->cells[static_cast<size_t>(y * g.width + x)] = f.cells[from];
        r->band[static_cast<size_t>(y * g.width + x)] = u.cells[from];
      }
  r->in.raster = grid.raster();
  r->in.owned = grid.owned(t);
  r->in.halo = halo;
  r->in.cells = ConstView<float>(r->cells.data(), g.width, g.height);
  r->in.nodata = f.nodata;
  r->in.bands.push_back({PixelType::Float32,
                         ConstView<std::byte>(reinterpret_cast<const std::byte*>(r->band.data()),
                                              g.width * 4, g.height),
                         u.nodata});
  return r;
}

std::shared_ptr<const TileGraphOp> epsilon_op(const Raster<float>& f) {
  const auto made = make_fill_epsilon({{"bound", std::string("u")}});
  return std::dynamic_pointer_cast<const TileGraphOp>(
      made->for_source({PixelType::Float32, f.nodata, {f.width, f.height}}));
}

/// fill_epsilon of `f` with bound `u` at `tile` x `tile` cells, the phases as the executor runs
/// them; `u` goes to the op as its band, with the same halo.
std::vector<float> epsilon(const Raster<float>& f, const Raster<float>& u, int64_t tile) {
  const auto op = epsilon_op(f);
  const TileGrid grid(Extent{f.width, f.height}, tile, tile);
  std::vector<Bytes> summaries;
  for (int64_t t = 0; t < grid.count(); ++t)
    summaries.push_back(op->summarize(read_tile(f, u, grid, op->halo(), t)->in, grid));
  const auto finish = op->with_solution(
      grid, std::make_shared<const Bytes>(op->solve(grid, summaries_of(summaries))));
  std::vector<float> out(f.cells.size(), 12345.0f);
  for (int64_t t = 0; t < grid.count(); ++t) {
    const auto r = read_tile(f, u, grid, op->halo(), t);
    const Window w = grid.owned(t);
    TileOut o;
    o.bands.emplace_back(View<float>(out.data() + w.y * f.width + w.x, w.width, w.height, f.width));
    finish->run(r->in, o);
  }
  return out;
}

std::vector<int64_t> keys_of(const Raster<float>& f, const std::vector<float>& out) {
  std::vector<int64_t> keys(out.size());
  for (size_t i = 0; i < out.size(); ++i)
    keys[i] = is_void(f, static_cast<int64_t>(i) % f.width, static_cast<int64_t>(i) / f.width)
                  ? 0
                  : key_of(out[i]);
  return keys;
}

/// The op at every tile size of `tiles` gives the least surface's keys, the same bits at each,
/// and the nodata value at the voids; returns the keys.
std::vector<int64_t> expect_least(const Raster<float>& f, const Raster<float>& u,
                                  std::initializer_list<int64_t> tiles, const std::string& what) {
  const auto want = least_surface(f);
  std::vector<float> first;
  for (int64_t tile : tiles) {
    const auto got = epsilon(f, u, tile);
    EXPECT_EQ(keys_of(f, got), want) << what << " tile " << tile;
    if (first.empty()) first = got;
    for (size_t i = 0; i < got.size(); ++i)
      if (std::bit_cast<uint32_t>(got[i]) != std::bit_cast<uint32_t>(first[i])) {
        ADD_FAILURE() << what << " tile " << tile << ": other bits at cell " << i;
        break;
      }
  }
  return want;
}

uint32_t next_random(uint32_t& state) { return state = state * 1664525u + 1013904223u; }

/// Heights 0 to 4 Float32 steps above 100 with voids: flats everywhere, raised flats bury banks.
Raster<float> ulps(int64_t width, int64_t height, uint32_t seed) {
  Raster<float> r;
  r.width = width;
  r.height = height;
  r.nodata = kVoid;
  uint32_t state = seed;
  for (int64_t i = 0; i < width * height; ++i) {
    next_random(state);
    r.cells.push_back(value_of(key_of(100.0f) + (state >> 24) % 5));
    if ((state >> 8) % 19 == 0) r.cells.back() = kVoid;
  }
  return r;
}

Raster<float> from_rows(std::initializer_list<std::initializer_list<float>> rows) {
  Raster<float> r;
  r.height = static_cast<int64_t>(rows.size());
  for (const auto& row : rows) {
    r.width = static_cast<int64_t>(row.size());
    r.cells.insert(r.cells.end(), row.begin(), row.end());
  }
  r.nodata = kVoid;
  return r;
}

TEST(FillEpsilon, EqualsTheLeastSurfaceOnHeightsAFewStepsApart) {
  int64_t raised = 0;
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    const Raster<float> f = filled(ulps(17 + seed, 13 + 2 * seed, seed));
    const auto want = expect_least(f, bound_of(f), {2, 3, 4, 5, 7, 16, 64}, "ulps");
    for (size_t i = 0; i < want.size(); ++i) raised += want[i] > key_of(f.cells[i]) ? 1 : 0;
  }
  EXPECT_GT(raised, 100) << "few raised cells: the rasters do not test what they should";
}

TEST(FillEpsilon, ALooserBoundFreesMoreCellsAndChangesNothing) {
  for (uint32_t seed = 7; seed <= 9; ++seed) {
    const Raster<float> f = filled(ulps(21, 19, seed));
    expect_least(f, bound_of(f, true), {2, 3, 6, 16}, "loose");
  }
}

TEST(FillEpsilon, ALakeWithIslands) {
  Raster<float> dem;
  dem.width = 40;
  dem.height = 36;
  dem.nodata = kVoid;
  uint32_t state = 5;
  for (int64_t y = 0; y < dem.height; ++y)
    for (int64_t x = 0; x < dem.width; ++x) {
      const double bowl = 0.05 * ((x - 20) * (x - 20) + (y - 17) * (y - 17));
      const double islands = 30 * std::exp(-((x - 12) * (x - 12) + (y - 15) * (y - 15)) / 6.0) +
                             30 * std::exp(-((x - 27) * (x - 27) + (y - 22) * (y - 22)) / 9.0);
      dem.cells.push_back(static_cast<float>(bowl + islands + (next_random(state) >> 24) % 3));
      if (bowl > 25 && (state >> 8) % 13 == 0) dem.cells.back() = kVoid;
    }
  const Raster<float> f = filled(dem);
  const auto want = expect_least(f, bound_of(f), {3, 8, 13, 16, 64}, "lake");
  int64_t raised = 0;
  for (size_t i = 0; i < want.size(); ++i) raised += want[i] > key_of(f.cells[i]) ? 1 : 0;
  EXPECT_GT(raised, 300);
  expect_least(f, bound_of(f, true), {5, 16}, "lake, loose");
}

TEST(FillEpsilon, ACorridorRisesFromBothEnds) {
  const Raster<float> f = from_rows({{9, 9, 9, 9, 9, 9}, {5, 5, 5, 5, 5, 5}, {9, 9, 9, 9, 9, 9}});
  const auto keys = expect_least(f, bound_of(f), {2, 3, 4, 16}, "corridor");
  for (int x = 1; x <= 4; ++x)
    EXPECT_EQ(keys[static_cast<size_t>(6 + x)] - key_of(5), std::min(x, 5 - x)) << x;
}

TEST(FillEpsilon, AFlatLeavesOverABankWhereThatIsShorter) {
  Raster<float> f =
      from_rows({{1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000},
                 {100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 0, 50},
                 {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}});
  f.at(10, 1) = std::nextafter(100.0f, 200.0f);
  const auto keys = expect_least(f, bound_of(f), {2, 3, 4, 5, 16}, "bank");
  for (int x = 1; x <= 9; ++x)
    EXPECT_EQ(keys[static_cast<size_t>(12 + x)] - key_of(100), std::min(x, 11 - x)) << x;
}

TEST(FillEpsilon, AFlatRisesOverABankItBuriesAndOnBeyondIt) {
  // A corridor between outlets at 100, flat but for a bank 2 steps up at x = 7. The flat east of
  // the bank drains east, yet its cells up to x = 15 rise least from the west, over the bank: a
  // tile's fronts across the bank hold pairs that are not bare lengths, for several steps.
  Raster<float> f;
  f.width = 32;
  f.height = 5;
  f.nodata = kVoid;
  f.cells.assign(static_cast<size_t>(f.width * f.height), 1000.0f);
  for (int64_t x = 0; x < f.width; ++x) f.at(x, 2) = 100.0f;
  f.at(7, 2) = value_of(key_of(100.0f) + 2);
  const auto keys = expect_least(f, bound_of(f), {2, 3, 4, 5, 6, 16, 64}, "buried bank");
  for (int64_t x = 1; x + 1 < f.width; ++x)
    EXPECT_EQ(keys[static_cast<size_t>(2 * f.width + x)] - key_of(100.0f),
              std::min(x, f.width - 1 - x))
        << x;
}

TEST(FillEpsilon, MinusZeroAndPlusZeroAreOneHeight) {
  Raster<float> f = from_rows({{1, 1, 1, 1, 1, 1, 1},
                               {0.0f, -0.0f, -0.0f, -0.0f, -0.0f, -0.0f, 1},
                               {1, -0.0f, -0.0f, -0.0f, -0.0f, -0.0f, 1},
                               {1, 1, 1, 1, 1, 1, 1}});
  f = filled(f);
  for (int64_t tile : {2, 3, 16}) {
    const auto got = epsilon(f, bound_of(f), tile);
    EXPECT_EQ(got[8], 1e-45f) << tile;  // beside the outlet at +0: the least subnormal
    EXPECT_EQ(std::bit_cast<uint32_t>(got[7]), 0u) << "the outlet keeps +0";
    EXPECT_EQ(keys_of(f, got), least_surface(f));
  }
}

TEST(FillEpsilon, KeepsTheHeightsThatDrainAndTheVoids) {
  Raster<float> f = from_rows({{5, 4, 3, 2, 1}, {6, 5, kVoid, 3, 2}, {7, 6, 5, 4, 3}});
  const auto got = epsilon(f, bound_of(f), 2);
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_EQ(std::bit_cast<uint32_t>(got[i]), std::bit_cast<uint32_t>(f.cells[i])) << i;
}

/// A basin walled at 1000 but for a gap at 100 in its west wall, by the gap's row: a lake at 100
/// west of x = width / 4, a plateau `rise` Float32 steps above it east of there. The lake's far
/// cells rise past the plateau, so its cells are free; from the lake's perimeter cells of a tile
/// every step onto the plateau climbs, and the pairs that climb cover the plateau near the lake.
Raster<float> lake_and_plateau(int64_t width, int64_t height, int64_t rise) {
  Raster<float> dem;
  dem.width = width;
  dem.height = height;
  dem.nodata = kVoid;
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x) {
      const bool wall = x == 0 || y == 0 || x == width - 1 || y == height - 1;
      const float inside = x < width / 4 ? 100.0f : value_of(key_of(100.0f) + rise);
      dem.cells.push_back(wall ? 1000.0f : inside);
    }
  dem.at(0, height / 2) = 100.0f;
  return dem;
}

TEST(FillEpsilon, ATileHoldsNoMoreThanThePlanCounts) {
  const Raster<float> f = filled(lake_and_plateau(96, 96, 40));
  const Raster<float> u = bound_of(f);
  const auto want = expect_least(f, u, {48}, "lake and plateau");
  const auto op = epsilon_op(f);
  const int64_t tile = 48;
  const TileGrid grid(Extent{f.width, f.height}, tile, tile);
  const int64_t counted = op->work_bytes((tile + 2) * (tile + 2));
  int64_t most = 0;
  for (int64_t t = 0; t < grid.count(); ++t) {
    const auto r = read_tile(f, u, grid, op->halo(), t);
    Bytes summary;
    // A thread of its own, whose buffers (thread_local, made once a thread) are made and freed
    // while it is measured; the summary it hands back is not the tile's work.
    const int64_t peak = test::peak_bytes_of(
        [&] { std::thread([&] { summary = op->summarize(r->in, grid); }).join(); });
    most = std::max(most, peak - static_cast<int64_t>(summary.capacity()));
  }
  EXPECT_LE(most, counted) << "a tile's work of " << most << " bytes, " << counted << " counted";
  EXPECT_GT(most, counted / 4) << "the raster no longer makes the work the test is about";
  int64_t raised = 0;
  for (size_t i = 0; i < want.size(); ++i) raised += want[i] > key_of(f.cells[i]) ? 1 : 0;
  EXPECT_GT(raised, 4000);
}

/// A lake at 100 with islands and banks 1 to 6 Float32 steps above it, some free (the lake's
/// far cells rise past them) and some not, walled at 1000 but for an outlet on the west edge.
Raster<float> lake_with_banks(int64_t width, int64_t height, uint32_t seed) {
  Raster<float> dem;
  dem.width = width;
  dem.height = height;
  dem.nodata = kVoid;
  uint32_t state = seed;
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x) {
      next_random(state);
      const bool wall = x == 0 || y == 0 || x == width - 1 || y == height - 1;
      const bool bank = (state >> 12) % 1000 < 60 || (x % 19 == 7 && y % 23 > 4);
      const bool island = (state >> 12) % 1000 >= 990;
      float z = bank ? value_of(key_of(100.0f) + 1 + (state >> 24) % 6) : 100.0f;
      if (island) z = 1000.0f;
      if ((state >> 4) % 401 == 0) z = kVoid;
      dem.cells.push_back(wall ? 1000.0f : z);
    }
  dem.at(0, height / 2) = 100.0f;
  return dem;
}

TEST(FillEpsilon, SummariesEqualThoseThatSearchEveryBatchLevelByLevel) {
  // Phase 1 gives a source Chebyshev's distances where straight paths and its windows allow,
  // searches the other sources of a batch with 16-bit lengths relaxed from a queue, follows the
  // climbs of the sources it settles from there, and leaves to the level by level search the
  // sources whose lengths it cannot vouch for (or that reach the cap): its summaries must equal,
  // byte for byte, those that search every batch level by level, at every cap (small caps make
  // sources reach it) and tile size, on lakes whose sources climb onto banks and plateaus (pairs
  // that are not bare), with the bound and with a looser one.
  const EpsilonSearch level_by_level{false, 0};
  std::vector<std::pair<std::string, Raster<float>>> rasters;
  for (uint32_t seed = 1; seed <= 3; ++seed)
    rasters.emplace_back("ulps", filled(ulps(23 + seed, 19 + seed, seed)));
  for (uint32_t seed = 4; seed <= 5; ++seed)
    rasters.emplace_back("banks", filled(lake_with_banks(71, 64, seed)));
  rasters.emplace_back("plateau", filled(lake_and_plateau(60, 52, 40)));
  rasters.emplace_back("low plateau", filled(lake_and_plateau(60, 52, 3)));
  int64_t tiles_with_pieces = 0;
  for (const auto& [name, f] : rasters)
    for (const bool loose : {false, true}) {
      const Raster<float> u = bound_of(f, loose);
      for (int64_t tile : {2, 3, 5, 8, 13, 16, 29, 47}) {
        const TileGrid grid(Extent{f.width, f.height}, tile, tile);
        for (int64_t t = 0; t < grid.count(); ++t) {
          const auto r = read_tile(f, u, grid, 2, t);
          const Bytes want = fill_epsilon_summary(r->in, level_by_level);
          tiles_with_pieces += want.size() > 4 ? 1 : 0;
          for (const bool straight : {true, false})
            for (const int cap : {32766, 9, 3, 2, 1, 0})
              ASSERT_EQ(fill_epsilon_summary(r->in, EpsilonSearch{straight, cap}), want)
                  << name << (loose ? " loose" : "") << " tile " << tile << " #" << t
                  << " straight " << straight << " cap " << cap;
        }
      }
    }
  EXPECT_GT(tiles_with_pieces, 1000);
}

// Rank 0 holds every tile's summary as it arrived (16 bytes of the run's header a tile beside
// it) and the solve's own: at most what the plan counts for it, on tiles of 8 whose perimeter
// cells are most of the lake's and plateau's free cells, with pairs that climb between them.
TEST(FillEpsilon, RankZeroHoldsNoMoreThanThePlanCounts) {
  const Raster<float> f = filled(lake_and_plateau(96, 96, 40));
  const Raster<float> u = bound_of(f);
  const auto op = epsilon_op(f);
  const TileGrid grid(Extent{f.width, f.height}, 8, 8);
  std::vector<Bytes> summaries;
  int64_t held = 0;
  for (int64_t t = 0; t < grid.count(); ++t) {
    summaries.push_back(op->summarize(read_tile(f, u, grid, op->halo(), t)->in, grid));
    summaries.back().shrink_to_fit();
    held += static_cast<int64_t>(summaries.back().size()) + 16;
  }
  Bytes solution;
  const int64_t peak =
      test::peak_bytes_of([&] { solution = op->solve(grid, summaries_of(summaries)); });
  const auto counted = op->graph_memory(grid);
  EXPECT_LE(held + peak, counted.root + counted.solution)
      << "summaries " << held << " bytes and the solve's " << peak << ", "
      << counted.root + counted.solution << " counted";
  EXPECT_GT(held + peak, (counted.root + counted.solution) / 4)
      << "the raster no longer makes the graph the test is about";
  EXPECT_LE(static_cast<int64_t>(solution.capacity()), counted.solution);
  std::cout << "rank 0: summaries " << held << " bytes, the solve " << peak << ", counted "
            << counted.root + counted.solution << " for " << perimeter_cells(grid)
            << " perimeter cells\n";
}

/// The message of fill_epsilon's refusal of `f` with bound `u` (at tiles of 2 and 16).
std::string refusal(const Raster<float>& f, const Raster<float>& u) {
  std::string first;
  for (int64_t tile : {2, 16}) {
    try {
      epsilon(f, u, tile);
      ADD_FAILURE() << "not refused at tile " << tile;
    } catch (const Error& e) {
      if (first.empty()) first = e.what();
    }
  }
  return first;
}

TEST(FillEpsilon, RefusesACellPastTheLargestFiniteFloat) {
  Raster<float> f = from_rows({{FLT_MAX, FLT_MAX, FLT_MAX, FLT_MAX, FLT_MAX},
                               {FLT_MAX, FLT_MAX, FLT_MAX, FLT_MAX, FLT_MAX},
                               {FLT_MAX, FLT_MAX, FLT_MAX, FLT_MAX, FLT_MAX}});
  const std::string why = refusal(f, bound_of(f));
  EXPECT_NE(why.find("cell 1, 1 would rise past the largest finite Float32"), std::string::npos)
      << why;
}

TEST(FillEpsilon, RefusesACellRaisedOntoTheNodataValue) {
  const float below = std::nextafter(kVoid, -FLT_MAX);
  const Raster<float> f =
      from_rows({{0, 0, 0, 0, 0}, {below, below, below, below, 0}, {0, 0, 0, 0, 0}});
  const std::string why = refusal(f, bound_of(f));
  EXPECT_NE(why.find("cell 1, 1 would be raised onto the nodata value -9999"), std::string::npos)
      << why;
}

TEST(FillEpsilon, RefusesABoundThatIsNoBound) {
  const Raster<float> f = from_rows({{5, 5, 5, 5}, {5, 5, 5, 5}, {5, 5, 5, 5}, {5, 5, 5, 5}});
  Raster<float> u = f;
  EXPECT_NE(refusal(f, u).find("the bound at cell 1, 1 (5) is no bound"), std::string::npos);
  u.at(2, 2) = 4;
  EXPECT_NE(refusal(f, u).find("the bound at cell 2, 2 (4) is below the surface there (5)"),
            std::string::npos);
  u = bound_of(f);
  u.at(1, 2) = kNaN;
  EXPECT_NE(refusal(f, u).find("the bound has no value at cell 1, 2, where the surface has 5"),
            std::string::npos);
}

TEST(FillEpsilon, WantsItsBound) {
  EXPECT_THROW(make_fill_epsilon({}), OptionError);
  EXPECT_THROW(make_fill_epsilon({{"bound", std::string("u")}, {"epsilon", true}}), OptionError);
}

}  // namespace
}  // namespace tessera::ops
