// focal.mean/sum/min/max on synthetic rasters: against a reference computed cell by cell here,
// the same bits whatever the tiling, nodata and raster edges as docs/jobs.md states.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "raster_fixture.hpp"
#include "tessera/core/error.hpp"
#include "tessera/ops/focal.hpp"

namespace tessera::ops {
namespace {

using testing::make_raster;
using testing::Raster;
using testing::run_tiled;
using testing::run_whole;

constexpr float kNoData = -9999.0f;

std::unique_ptr<Op> focal_op(const std::string& name, double radius) {
  return make_op(name, {{"radius", radius}});
}

/// A bumpy surface with values of many magnitudes, so that float64 sums round differently in
/// different orders, and a scatter of nodata cells (-1) and NaN cells.
Raster<float> bumpy(int64_t width, int64_t height) {
  auto r = make_raster<float>(width, height, [](int64_t x, int64_t y) {
    if ((x * 7 + y * 13) % 23 == 0) return -1.0f;
    if ((x * 5 + y * 3) % 41 == 0) return std::numeric_limits<float>::quiet_NaN();
    return static_cast<float>(std::sin(0.3 * x) * 1000.0 + std::cos(0.17 * y) * 3.7 + x * 0.001);
  });
  r.nodata = -1;
  r.type = PixelType::Float32;
  return r;
}

bool is_valid(const Raster<float>& r, int64_t x, int64_t y) {
  const float v = r.cells[static_cast<size_t>(y * r.width + x)];
  return !std::isnan(v) && !(r.nodata && v == static_cast<float>(*r.nodata));
}

/// The mean, sum, min or max of each cell written out cell by cell: for each column of the
/// window (left to right) the sum of its valid cells top to bottom, then the columns added.
std::vector<float> reference(const Raster<float>& r, const std::string& stat, int64_t radius) {
  std::vector<float> out(r.cells.size());
  for (int64_t y = 0; y < r.height; ++y)
    for (int64_t x = 0; x < r.width; ++x) {
      double total = stat == "min" ? INFINITY : stat == "max" ? -INFINITY : 0.0;
      int64_t count = 0;
      for (int64_t cx = x - radius; cx <= x + radius; ++cx) {
        if (cx < 0 || cx >= r.width) continue;
        double column = stat == "min" ? INFINITY : stat == "max" ? -INFINITY : 0.0;
        for (int64_t cy = y - radius; cy <= y + radius; ++cy) {
          if (cy < 0 || cy >= r.height || !is_valid(r, cx, cy)) continue;
          const double v = r.cells[static_cast<size_t>(cy * r.width + cx)];
          column = stat == "min"   ? std::min(column, v)
                   : stat == "max" ? std::max(column, v)
                                   : column + v;
          ++count;
        }
        total = stat == "min"   ? std::min(total, column)
                : stat == "max" ? std::max(total, column)
                                : total + column;
      }
      if (stat == "mean") total /= static_cast<double>(count);
      const bool nodata = !is_valid(r, x, y) || count == 0;
      out[static_cast<size_t>(y * r.width + x)] = nodata ? kNoData : static_cast<float>(total);
    }
  return out;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(Focal, MeanOfAConstantIsTheConstantUpToTheEdges) {
  const auto r = make_raster<float>(9, 7, [](int64_t, int64_t) { return 2.5f; });
  for (float v : run_whole<float, float>(*focal_op("focal.mean", 2), r)) EXPECT_EQ(v, 2.5f);
}

TEST(Focal, EdgesAverageOnlyTheCellsThatExist) {
  // 3 x 2 raster 1 2 3 / 4 5 6, radius 1: the corner (0, 0) sees 1, 2, 4, 5.
  const auto r = make_raster<float>(
      3, 2, [](int64_t x, int64_t y) { return static_cast<float>(1 + x + 3 * y); });
  const auto mean = run_whole<float, float>(*focal_op("focal.mean", 1), r);
  EXPECT_EQ(mean, (std::vector<float>{3.0f, 3.5f, 4.0f, 3.0f, 3.5f, 4.0f}));
  const auto sum = run_whole<float, float>(*focal_op("focal.sum", 1), r);
  EXPECT_EQ(sum, (std::vector<float>{12, 21, 16, 12, 21, 16}));
  const auto min = run_whole<float, float>(*focal_op("focal.min", 1), r);
  EXPECT_EQ(min, (std::vector<float>{1, 1, 2, 1, 1, 2}));
  const auto max = run_whole<float, float>(*focal_op("focal.max", 1), r);
  EXPECT_EQ(max, (std::vector<float>{5, 6, 6, 5, 6, 6}));
}

TEST(Focal, NodataCellsAreLeftOutAndANodataCentreStaysNodata) {
  // 3 x 3, nodata 0 at the centre and the top-left corner.
  auto r = make_raster<float>(
      3, 3, [](int64_t x, int64_t y) { return static_cast<float>(1 + x + 3 * y); });
  r.nodata = 0;
  r.at(1, 1) = 0;
  r.at(0, 0) = 0;
  const auto mean = run_whole<float, float>(*focal_op("focal.mean", 1), r);
  EXPECT_EQ(mean[0], kNoData);                 // the corner itself is nodata
  EXPECT_EQ(mean[4], kNoData);                 // so is the centre
  EXPECT_EQ(mean[1], (2.0f + 3 + 4 + 6) / 4);  // (1, 0) sees 2, 3, 4, 6: two nodata left out
  EXPECT_EQ(mean[8], (6.0f + 8 + 9) / 3);
}

TEST(Focal, AValidCentreAmongNodataIsItsOwnMean) {
  auto r = make_raster<float>(3, 1, [](int64_t x, int64_t) { return x == 1 ? 4.0f : -7.0f; });
  r.nodata = -7;
  const auto mean = run_whole<float, float>(*focal_op("focal.mean", 1), r);
  EXPECT_EQ(mean, (std::vector<float>{kNoData, 4.0f, kNoData}));
}

TEST(Focal, EqualsTheCellByCellReferenceBitForBitWhateverTheTiling) {
  const auto r = bumpy(53, 41);
  for (const std::string stat : {"mean", "sum", "min", "max"})
    for (int64_t radius : {1, 2, 5}) {
      const auto op = focal_op("focal." + stat, static_cast<double>(radius));
      const auto want = reference(r, stat, radius);
      EXPECT_TRUE(same_bits(run_whole<float, float>(*op, r), want)) << stat << " r" << radius;
      for (const auto& [tw, th] : {std::pair<int64_t, int64_t>{16, 16}, {7, 5}, {1, 41}, {53, 1}})
        EXPECT_TRUE(same_bits(run_tiled<float, float>(*op, r, tw, th).at(0), want))
            << stat << " r" << radius << " tiles " << tw << " x " << th;
    }
}

TEST(Focal, ARadiusWiderThanTheRaster) {
  const auto r = bumpy(6, 4);
  const auto op = focal_op("focal.mean", 9);
  EXPECT_TRUE(same_bits(run_tiled<float, float>(*op, r, 4, 3).at(0), reference(r, "mean", 9)));
}

TEST(Focal, OptionsAndWhatTheOpPromises) {
  const auto op = make_op("focal.mean", {{"radius", 3.0}, {"nodata", -1.0}});
  EXPECT_EQ(op->halo(), 3);
  EXPECT_EQ(op->output_type(), PixelType::Float32);
  EXPECT_EQ(op->output_nodata(), -1);
  EXPECT_EQ(op->input_cells(PixelType::Int16), CellType::Float32);
  EXPECT_EQ(make_op("focal.max", {{"radius", std::string("2")}})->halo(), 2);
  for (const Options& bad : std::vector<Options>{{},
                                                 {{"radius", 0.0}},
                                                 {{"radius", 1.5}},
                                                 {{"radius", 1001.0}},
                                                 {{"radius", std::string("two")}},
                                                 {{"radius", 1.0}, {"size", 3.0}}}) {
    try {
      make_op("focal.mean", bad);
      ADD_FAILURE() << "no error";
    } catch (const OptionError& e) {
      EXPECT_TRUE(e.key() == "radius" || e.key() == "size") << e.key();
    }
  }
}

}  // namespace
}  // namespace tessera::ops
