// fill_epsilon_bound: the tile-graph phases driven in one process at tile sizes 1 to 16 against
// the bound's definition over the whole raster, U(c) = max(K(c), U(next) + 1) along the flow,
// relaxed until nothing changes (tests/system/hydro_reference.py's epsilon_bound_keys).
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

#include "raster_fixture.hpp"
#include "tessera/ops/d8.hpp"
#include "tessera/ops/fill.hpp"
#include "tessera/ops/fill_epsilon_bound.hpp"

namespace tessera::ops {
namespace {

using testing::Raster;

constexpr float kVoid = -9999.0f;
constexpr int16_t kNoDir = -32768;

uint32_t next_random(uint32_t& state) { return state = state * 1664525u + 1013904223u; }

int64_t key_of(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  const auto magnitude = static_cast<int64_t>(bits & 0x7FFFFFFFu);
  return (bits >> 31) != 0 ? -magnitude : magnitude;
}

float value_of(int64_t key) {
  if (key > 0x7F7FFFFF) return std::numeric_limits<float>::infinity();
  const auto bits =
      key < 0 ? 0x80000000u | static_cast<uint32_t>(-key) : static_cast<uint32_t>(key);
  float v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

/// Terrain of pits and flats a few Float32 steps apart (flats burying their banks), voids at
/// some cells, as fill's surface.
Raster<float> filled(int64_t width, int64_t height, uint32_t seed, bool voids) {
  Raster<float> r;
  r.width = width;
  r.height = height;
  r.nodata = kVoid;
  uint32_t state = seed;
  for (int64_t i = 0; i < width * height; ++i) {
    next_random(state);
    r.cells.push_back(value_of(key_of(100.0f) + static_cast<int64_t>((state >> 24) % 4)));
    if (voids && (state >> 8) % 19 == 0) r.cells.back() = kVoid;
  }
  const std::shared_ptr<const Op> fill = make_fill({})->for_source({PixelType::Float32, kVoid, {}});
  r.cells = testing::run_graph<float, float>(dynamic_cast<const TileGraphOp&>(*fill), r, 64);
  return r;
}

/// flowdir's directions of `f` (Int16, nodata -32768).
Raster<int16_t> directions(const Raster<float>& f) {
  const std::shared_ptr<const Op> op = make_flowdir({});
  Raster<int16_t> p;
  p.width = f.width;
  p.height = f.height;
  p.nodata = kNoDir;
  p.cells = testing::run_graph<float, int16_t>(dynamic_cast<const TileGraphOp&>(*op), f, 64);
  return p;
}

/// The bound by its definition: relaxed over the whole raster until nothing changes (keys; 0
/// at voids).
std::vector<int64_t> bound_by_definition(const Raster<float>& f, const Raster<int16_t>& p) {
  const auto n = static_cast<size_t>(f.width * f.height);
  const auto valid = [&](int64_t x, int64_t y) {
    return x >= 0 && y >= 0 && x < f.width && y < f.height &&
           f.cells[static_cast<size_t>(y * f.width + x)] != kVoid;
  };
  std::vector<int64_t> u(n, 0);
  for (size_t c = 0; c < n; ++c)
    if (f.cells[c] != kVoid) u[c] = key_of(f.cells[c]);
  for (bool changed = true; changed;) {
    changed = false;
    for (int64_t y = 0; y < f.height; ++y)
      for (int64_t x = 0; x < f.width; ++x) {
        const auto c = static_cast<size_t>(y * f.width + x);
        const int16_t code = p.cells[c];
        if (!valid(x, y) || code < 1 || code > 8) continue;
        const int64_t nx = x + kD8Dx[code - 1];
        const int64_t ny = y + kD8Dy[code - 1];
        if (!valid(nx, ny)) continue;
        const int64_t grown =
            std::max(key_of(f.cells[c]), u[static_cast<size_t>(ny * f.width + nx)] + 1);
        if (grown != u[c]) {
          u[c] = grown;
          changed = true;
        }
      }
  }
  return u;
}

struct TileRead {
  std::vector<float> cells;
  std::vector<int16_t> codes;
  TileIn in;
};

/// Tile `t` of `grid` read with a halo of 1 (NaN past the raster), the directions beside it.
TileRead read_tile(const Raster<float>& f, const Raster<int16_t>& p, const TileGrid& grid,
                   int64_t t) {
  TileRead read;
  const Window owned = grid.owned(t);
  const Window g = grow(owned, 1);
  const auto size = static_cast<size_t>(g.cells());
  read.cells.assign(size, std::numeric_limits<float>::quiet_NaN());
  read.codes.assign(size, kNoDir);
  for (int64_t y = 0; y < g.height; ++y)
    for (int64_t x = 0; x < g.width; ++x) {
      if (!whole(grid.raster()).contains(g.x + x, g.y + y)) continue;
      const auto from = static_cast<size_t>((g.y + y) * f.width + g.x + x);
      read.cells[static_cast<size_t>(y * g.width + x)] = f.cells[from];
      read.codes[static_cast<size_t>(y * g.width + x)] = p.cells[from];
    }
  read.in.raster = grid.raster();
  read.in.owned = owned;
  read.in.halo = 1;
  read.in.cells = ConstView<float>(read.cells.data(), g.width, g.height);
  read.in.nodata = f.nodata;
  read.in.bands.push_back(
      {PixelType::Int16,
       ConstView<std::byte>(reinterpret_cast<const std::byte*>(read.codes.data()), g.width * 2,
                            g.height),
       p.nodata});
  return read;
}

/// The bound over the whole raster at `tile` x `tile` cells, its phases run as the executor
/// runs them.
std::vector<float> run_bound(const Raster<float>& f, const Raster<int16_t>& p, int64_t tile) {
  const std::shared_ptr<const Op> any = make_fill_epsilon_bound({{"directions", std::string("p")}});
  EXPECT_TRUE(std::isnan(*any->output_nodata()));
  const auto& op = dynamic_cast<const TileGraphOp&>(*any);
  const TileGrid grid(Extent{f.width, f.height}, tile, tile);
  std::vector<Bytes> summaries;
  for (int64_t t = 0; t < grid.count(); ++t)
    summaries.push_back(op.summarize(read_tile(f, p, grid, t).in, grid));
  const auto finish = op.with_solution(
      grid, std::make_shared<const Bytes>(op.solve(grid, summaries_of(summaries))));
  std::vector<float> out(static_cast<size_t>(f.width * f.height));
  for (int64_t t = 0; t < grid.count(); ++t) {
    const TileRead read = read_tile(f, p, grid, t);
    const Window w = grid.owned(t);
    TileOut o;
    o.bands.emplace_back(View<float>(out.data() + w.y * f.width + w.x, w.width, w.height, f.width));
    finish->run(read.in, o);
  }
  return out;
}

void expect_bound(const Raster<float>& f, const Raster<int16_t>& p, int64_t tile) {
  const std::vector<int64_t> want = bound_by_definition(f, p);
  const std::vector<float> got = run_bound(f, p, tile);
  for (size_t c = 0; c < got.size(); ++c) {
    if (f.cells[c] == kVoid) {
      ASSERT_TRUE(std::isnan(got[c])) << "cell " << c << " tile " << tile;
      continue;
    }
    ASSERT_EQ(key_of(got[c]), key_of(value_of(want[c])))
        << "cell " << c % static_cast<size_t>(f.width) << ", " << c / static_cast<size_t>(f.width)
        << " tile " << tile;
  }
}

TEST(FillEpsilonBound, EqualsItsDefinitionAtEveryTileSize) {
  for (uint32_t seed : {1u, 7u, 42u}) {
    const Raster<float> f = filled(37, 29, seed, seed != 1);
    const Raster<int16_t> p = directions(f);
    for (int64_t tile = 1; tile <= 16; ++tile) expect_bound(f, p, tile);
  }
}

TEST(FillEpsilonBound, RaisesAFlatStepByStepFromItsEdge) {
  // A flat of +0 and -0: the edge keeps 0, the ring below it one step (1e-45), the centre two.
  Raster<float> f;
  f.width = 5;
  f.height = 5;
  f.nodata = kVoid;
  for (int64_t i = 0; i < 25; ++i) f.cells.push_back(i % 2 == 0 ? 0.0f : -0.0f);
  const Raster<int16_t> p = directions(f);
  for (int64_t tile : {1, 2, 3, 16}) {
    const std::vector<float> u = run_bound(f, p, tile);
    for (int64_t y = 0; y < 5; ++y)
      for (int64_t x = 0; x < 5; ++x) {
        const int64_t ring = std::min({x, y, 4 - x, 4 - y});
        EXPECT_EQ(key_of(u[static_cast<size_t>(y * 5 + x)]), ring) << x << ", " << y;
      }
  }
}

TEST(FillEpsilonBound, SaturatesToInfinityPastTheLargestFloat) {
  Raster<float> f;
  f.width = 4;
  f.height = 4;
  f.nodata = kVoid;
  f.cells.assign(16, FLT_MAX);
  const Raster<int16_t> p = directions(f);
  const std::vector<float> u = run_bound(f, p, 2);
  for (int64_t y = 0; y < 4; ++y)
    for (int64_t x = 0; x < 4; ++x) {
      const bool edge = x == 0 || y == 0 || x == 3 || y == 3;
      EXPECT_EQ(u[static_cast<size_t>(y * 4 + x)],
                edge ? FLT_MAX : std::numeric_limits<float>::infinity());
    }
}

// A Float64 DEM's nodata of -1.797e308 is -inf in fill's Float32 surface: the bound took those
// cells for valid ones and refused the directions ("has no direction but is not on the raster's
// edge or beside a void").
TEST(FillEpsilonBound, ANodataValueFloat32CannotHoldIsTheFloat32ItRoundsTo) {
  const Raster<float> f = filled(12, 10, 5, true);
  const Raster<int16_t> p = directions(f);
  Raster<float> g = f;
  g.nodata = -1.797e308;
  for (float& v : g.cells)
    if (v == kVoid) v = -std::numeric_limits<float>::infinity();
  const Raster<int16_t> q = directions(g);
  ASSERT_EQ(q.cells, p.cells);
  for (int64_t tile : {3, 16}) {
    const std::vector<float> want = run_bound(f, p, tile);
    const std::vector<float> got = run_bound(g, q, tile);
    for (size_t c = 0; c < got.size(); ++c)
      ASSERT_TRUE(got[c] == want[c] || (std::isnan(got[c]) && std::isnan(want[c])))
          << "cell " << c << " tile " << tile;
  }
}

/// The error run_bound() throws at `tile`, or "".
std::string error_of(const Raster<float>& f, const Raster<int16_t>& p, int64_t tile) {
  try {
    run_bound(f, p, tile);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(FillEpsilonBound, RefusesDirectionsThatAreNotThoseOfTheSurface) {
  Raster<float> f = filled(8, 8, 3, false);
  const Raster<int16_t> good = directions(f);
  Raster<int16_t> p = good;
  p.at(3, 4) = 0;
  EXPECT_EQ(error_of(f, p, 4),
            "fill_epsilon_bound: cell 3, 4 has direction 0 (its flow stops there): the "
            "directions are not those of a filled surface");
  p = good;
  p.at(2, 2) = 9;
  EXPECT_EQ(error_of(f, p, 4),
            "fill_epsilon_bound: cell 2, 2 holds direction 9, which is not a D8 code of the "
            "taudem (1-8) encoding or the directions' nodata");
  p = good;
  p.at(5, 5) = kNoDir;
  EXPECT_EQ(error_of(f, p, 4),
            "fill_epsilon_bound: cell 5, 5 has no direction but is not on the raster's edge or "
            "beside a void: the directions are not those of this surface");
  p = good;
  p.at(2, 2) = 1;  // east, and back west: a cycle inside a tile
  p.at(3, 2) = 5;
  EXPECT_NE(error_of(f, p, 8).find("lies on a cycle of the flow directions"), std::string::npos);
  p = good;
  p.at(3, 2) = 1;  // across the edge of tiles of 4
  p.at(4, 2) = 5;
  EXPECT_NE(error_of(f, p, 4).find("lies on a cycle of the flow directions across tiles"),
            std::string::npos);
}

TEST(FillEpsilonBound, NeedsItsDirections) {
  EXPECT_THROW(make_fill_epsilon_bound({}), OptionError);
  EXPECT_THROW(make_fill_epsilon_bound({{"directions", std::string("p")}, {"z", 1.0}}),
               OptionError);
}

}  // namespace
}  // namespace tessera::ops
