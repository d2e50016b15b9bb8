// watershed, flowacc's weight and the exact sum it uses: the tile-graph phases driven in one
// process over every tile size, against plain whole-raster definitions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <map>
#include <memory>

#include "exact_sum.hpp"
#include "raster_fixture.hpp"
#include "tessera/ops/d8.hpp"

namespace tessera::ops {
namespace {

using testing::Raster;

constexpr float kVoid = -9999.0f;
constexpr int16_t kNoDir = -32768;
constexpr int32_t kNoLabel = -2147483647;

uint32_t next_random(uint32_t& state) { return state = state * 1664525u + 1013904223u; }

/// Uneven terrain (pits, flats) with a few voids, from a fixed generator.
Raster<float> terrain(int64_t width, int64_t height, uint32_t seed) {
  Raster<float> r;
  r.width = width;
  r.height = height;
  r.nodata = kVoid;
  uint32_t state = seed;
  for (int64_t i = 0; i < width * height; ++i) {
    next_random(state);
    r.cells.push_back(static_cast<float>((state >> 24) % 7) + static_cast<float>(i % width % 5));
    if ((state >> 8) % 23 == 0) r.cells.back() = kVoid;
  }
  return r;
}

/// Flow directions of `dem` (code 0 in its pits, nodata on the edge and next to voids) as the
/// Float32 raster the ops read.
Raster<float> directions(const Raster<float>& dem) {
  const std::shared_ptr<const Op> op = make_flowdir({});
  const auto codes =
      testing::run_graph<float, int16_t>(dynamic_cast<const TileGraphOp&>(*op), dem, 64);
  Raster<float> p = dem;
  p.nodata = kNoDir;
  p.cells.assign(codes.begin(), codes.end());
  return p;
}

/// A band of `values` beside the directions: `fill` at most cells, `pick()` at some.
template <class Pick>
Raster<float> band_of(const Raster<float>& p, uint32_t seed, float fill, Pick pick) {
  Raster<float> b = p;
  b.nodata = kVoid;
  uint32_t state = seed;
  for (float& v : b.cells) v = (next_random(state) >> 24) % 5 == 0 ? pick(state) : fill;
  return b;
}

struct TileRead {
  std::vector<float> cells;
  std::vector<float> band;
  TileIn in;
};

/// Tile `t` of `grid` read with a halo of 1 (NaN past the raster), and `band` beside it.
TileRead read_tile(const Raster<float>& r, const Raster<float>* band, const TileGrid& grid,
                   int64_t t) {
  TileRead read;
  const Window owned = grid.owned(t);
  const Window g = grow(owned, 1);
  const auto size = static_cast<size_t>(g.cells());
  read.cells.assign(size, std::numeric_limits<float>::quiet_NaN());
  read.band.assign(size, std::numeric_limits<float>::quiet_NaN());
  for (int64_t y = 0; y < g.height; ++y)
    for (int64_t x = 0; x < g.width; ++x) {
      if (!whole(grid.raster()).contains(g.x + x, g.y + y)) continue;
      const auto from = static_cast<size_t>((g.y + y) * r.width + g.x + x);
      read.cells[static_cast<size_t>(y * g.width + x)] = r.cells[from];
      if (band) read.band[static_cast<size_t>(y * g.width + x)] = band->cells[from];
    }
  read.in.raster = grid.raster();
  read.in.owned = owned;
  read.in.halo = 1;
  read.in.cells = ConstView<float>(read.cells.data(), g.width, g.height);
  read.in.nodata = r.nodata;
  if (band)
    read.in.bands.push_back(
        {PixelType::Float32,
         ConstView<std::byte>(reinterpret_cast<const std::byte*>(read.band.data()), g.width * 4,
                              g.height),
         band->nodata});
  return read;
}

/// The op over the whole raster at `tile` x `tile` cells, as the executor runs its phases.
template <class Out>
std::vector<Out> run_graph(const Op& any, const Raster<float>& p, const Raster<float>* band,
                           int64_t tile) {
  const auto& op = dynamic_cast<const TileGraphOp&>(any);
  const TileGrid grid(Extent{p.width, p.height}, tile, tile);
  std::vector<Bytes> summaries;
  for (int64_t t = 0; t < grid.count(); ++t)
    summaries.push_back(op.summarize(read_tile(p, band, grid, t).in, grid));
  const auto finish = op.with_solution(
      grid, std::make_shared<const Bytes>(op.solve(grid, summaries_of(summaries))));
  std::vector<Out> out(static_cast<size_t>(p.width * p.height));
  for (int64_t t = 0; t < grid.count(); ++t) {
    const TileRead read = read_tile(p, band, grid, t);
    const Window w = grid.owned(t);
    TileOut o;
    o.bands.emplace_back(View<Out>(out.data() + w.y * p.width + w.x, w.width, w.height, p.width));
    finish->run(read.in, o);
  }
  return out;
}

/// Where the flow of cell c goes next by the definition: the next cell, or -1 where it stops.
int64_t next_cell(const Raster<float>& p, int64_t c) {
  const auto code = static_cast<int>(p.cells[static_cast<size_t>(c)]);
  if (code < 1) return -1;
  const int64_t x = c % p.width + kD8Dx[code - 1];
  const int64_t y = c / p.width + kD8Dy[code - 1];
  if (x < 0 || y < 0 || x >= p.width || y >= p.height) return -2;  // off the raster
  return y * p.width + x;
}

/// Basin labels by their definition: each cell's path followed until it stops or reaches an
/// outlet; stops numbered in raster order (no outlets) or labelled nodata (outlets given).
std::vector<int32_t> basins_by_definition(const Raster<float>& p, const Raster<float>* outlets) {
  const auto id = [&](int64_t c) -> int64_t {
    if (!outlets) return 0;
    const float v = outlets->cells[static_cast<size_t>(c)];
    return v == kVoid ? 0 : static_cast<int64_t>(v);
  };
  const auto is_void = [&](int64_t c) { return p.cells[static_cast<size_t>(c)] == kNoDir; };
  std::vector<int64_t> stop(p.cells.size(), -1);  // the cell its flow stops at, if numbered
  std::vector<int32_t> labels(p.cells.size(), kNoLabel);
  for (int64_t c = 0; c < p.width * p.height; ++c) {
    if (id(c) == 0 && is_void(c)) continue;
    for (int64_t at = c;;) {
      if (id(at) != 0) {
        labels[c] = static_cast<int32_t>(id(at));
        break;
      }
      const int64_t next = next_cell(p, at);
      if (next >= 0 && !is_void(next)) {
        at = next;
        continue;
      }
      if (next >= 0 && id(next) != 0)
        labels[c] = static_cast<int32_t>(id(next));
      else if (!outlets)
        stop[c] = at;
      break;
    }
  }
  std::map<int64_t, int32_t> number;
  for (int64_t s : stop)
    if (s >= 0) number[s] = 0;
  int32_t n = 0;
  for (auto& [cell, label] : number) label = ++n;
  for (size_t c = 0; c < labels.size(); ++c)
    if (stop[c] >= 0) labels[c] = number[stop[c]];
  return labels;
}

TEST(Watershed, EqualsItsDefinitionAtEveryTileSize) {
  for (uint32_t seed : {11u, 12u, 13u}) {
    const Raster<float> p = directions(terrain(33, 27, seed));
    const auto want = basins_by_definition(p, nullptr);
    EXPECT_GT(*std::max_element(want.begin(), want.end()), 20) << "few basins";
    const auto op = make_watershed({});
    for (int64_t tile : {1, 2, 3, 5, 8, 64})
      EXPECT_EQ(run_graph<int32_t>(*op, p, nullptr, tile), want)
          << "seed " << seed << " tile " << tile;
  }
}

TEST(Watershed, LabelsByTheFirstOutletDownstream) {
  for (uint32_t seed : {14u, 15u}) {
    const Raster<float> p = directions(terrain(31, 25, seed));
    Raster<float> outlets = band_of(p, seed, 0, [](uint32_t& s) {
      return (next_random(s) >> 28) % 3 == 0 ? kVoid : static_cast<float>(next_random(s) % 90);
    });
    const auto want = basins_by_definition(p, &outlets);
    const auto op = make_watershed({{"outlets", "gauges"}});
    for (int64_t tile : {1, 2, 4, 7, 64})
      EXPECT_EQ(run_graph<int32_t>(*op, p, &outlets, tile), want)
          << "seed " << seed << " tile " << tile;
  }
}

TEST(Watershed, RefusesAnOutletIdThatIsNoInteger) {
  Raster<float> p = directions(terrain(8, 8, 16));
  Raster<float> outlets = band_of(p, 1, 0, [](uint32_t&) { return 0.0f; });
  outlets.at(3, 4) = 2.5f;
  const auto op = make_watershed({{"outlets", "o"}});
  try {
    run_graph<int32_t>(*op, p, &outlets, 4);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "watershed: the outlet at cell 3, 4 holds 2.5, which is not an integer id from "
                 "-2147483646 to 2147483647 (0 or nodata: no outlet)");
  }
}

TEST(Watershed, RefusesACycleAcrossTiles) {
  Raster<float> p = terrain(6, 6, 9);
  p.nodata = kNoDir;
  for (float& d : p.cells) d = 7;  // south
  p.at(2, 2) = 1;                  // east, into (3, 2)
  p.at(3, 2) = 5;                  // west, back into (2, 2)
  EXPECT_THROW(run_graph<int32_t>(*make_watershed({}), p, nullptr, 3), Error);
  EXPECT_THROW(run_graph<int32_t>(*make_watershed({}), p, nullptr, 6), Error);
}

/// Weighted areas by their definition: each cell's weight added to every cell of its path, in
/// an exact sum, rounded once.
std::vector<float> weighted_by_definition(const Raster<float>& p, const Raster<float>& weight) {
  std::vector<ExactSum> sums(p.cells.size());
  for (int64_t c = 0; c < p.width * p.height; ++c) {
    if (p.cells[static_cast<size_t>(c)] == kNoDir) continue;
    const float w = weight.cells[static_cast<size_t>(c)];
    for (int64_t at = c; at >= 0;) {
      sums[static_cast<size_t>(at)].add(w == kVoid ? 0.0 : w);
      at = next_cell(p, at);
      if (at >= 0 && p.cells[static_cast<size_t>(at)] == kNoDir) break;
    }
  }
  std::vector<float> out;
  for (size_t c = 0; c < sums.size(); ++c)
    out.push_back(p.cells[c] == kNoDir ? -1.0f : static_cast<float>(sums[c].value()));
  return out;
}

TEST(FlowAccWeight, EqualsItsDefinitionAtEveryTileSize) {
  for (uint32_t seed : {21u, 22u}) {
    const Raster<float> p = directions(terrain(29, 31, seed));
    Raster<float> weight = band_of(p, seed, 1.5f, [](uint32_t& s) {
      return (next_random(s) >> 28) % 4 == 0 ? kVoid
                                             : static_cast<float>(next_random(s)) * 1e-7f - 200;
    });
    const auto want = weighted_by_definition(p, weight);
    const auto op = make_flowacc({{"weight", "w"}});
    for (int64_t tile : {1, 2, 3, 6, 64})
      EXPECT_EQ(run_graph<float>(*op, p, &weight, tile), want)
          << "seed " << seed << " tile " << tile;
  }
}

TEST(FlowAccWeight, RefusesAnIntegerType) {
  EXPECT_THROW(make_flowacc({{"weight", "w"}, {"type", "uint32"}}), OptionError);
}

TEST(ExactSum, RoundsOnceToTheNearest) {
  ExactSum above;
  for (double v : {1.0, 0x1p-53, 0x1p-100}) above.add(v);
  EXPECT_EQ(above.value(), 1.0 + 0x1p-52);  // past the tie by 2^-100
  ExactSum tie;
  for (double v : {1.0, 0x1p-53}) tie.add(v);
  EXPECT_EQ(tie.value(), 1.0);  // a tie goes to the even
  ExactSum cancel;
  for (double v : {1e30, 1.0, -1e30}) cancel.add(v);
  EXPECT_EQ(cancel.value(), 1.0);
  ExactSum tiny;
  tiny.add(FLT_TRUE_MIN);
  tiny.add(FLT_TRUE_MIN);
  EXPECT_EQ(tiny.value(), 2.0 * FLT_TRUE_MIN);
  ExactSum negative;
  negative.add(-3.5);
  negative.add(0.25);
  EXPECT_EQ(negative.value(), -3.25);
}

TEST(ExactSum, IsTheSameInAnyOrder) {
  std::vector<float> values;
  uint32_t state = 5;
  for (int i = 0; i < 2000; ++i)
    values.push_back(std::ldexp(static_cast<float>(next_random(state) % 100000) - 50000.0f,
                                static_cast<int>(next_random(state) % 80) - 40));
  ExactSum forward;
  for (float v : values) forward.add(v);
  ExactSum backward;
  for (size_t i = values.size(); i-- > 0;) backward.add(values[i]);
  ExactSum halves[2];
  for (size_t i = 0; i < values.size(); ++i) halves[i % 2].add(values[i]);
  halves[1] += halves[0];
  EXPECT_EQ(forward, backward);
  EXPECT_EQ(forward, halves[1]);
  long double naive = 0;
  for (float v : values) naive += v;
  EXPECT_NEAR(forward.value(), static_cast<double>(naive),
              1e-6 * std::abs(static_cast<double>(naive)));
}

}  // namespace
}  // namespace tessera::ops
