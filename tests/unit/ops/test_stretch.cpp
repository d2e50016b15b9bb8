// stretch on synthetic tiles: the scale of its percentiles, valid cells kept valid past them.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "tessera/ops/stretch.hpp"

namespace tessera::ops {
namespace {

std::vector<uint8_t> stretched(const std::vector<float>& cells, double low, double high,
                               std::optional<double> nodata = std::nullopt) {
  TileIn in;
  in.owned = {0, 0, static_cast<int64_t>(cells.size()), 1};
  in.nodata = nodata;
  in.cells = ConstView<float>(cells.data(), static_cast<int64_t>(cells.size()), 1);
  std::vector<uint8_t> out(cells.size(), 77);
  stretch(in, BandView(View<uint8_t>(out.data(), static_cast<int64_t>(out.size()), 1)), low, high);
  return out;
}

TEST(Stretch, LowMapsToOneAndHighTo255) {
  // 254 / (110 - 10) = 2.54 a unit: 60 -> 128, 10.2 -> 1.508 -> 2.
  EXPECT_EQ(stretched({10, 110, 60, 10.2f}, 10, 110), (std::vector<uint8_t>{1, 255, 128, 2}));
}

// QGIS's cumulative cut draws a cell below the low percentile in the lowest colour: a valid
// cell, never nodata. Cells more than half a step below `low` were written as 0, the output's
// nodata.
TEST(Stretch, CellsBelowLowStayValid) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(stretched({9.8f, 9.7f, 0, -1e30f, -inf, 500, inf}, 10, 110),
            (std::vector<uint8_t>{1, 1, 1, 1, 1, 255, 255}));
}

TEST(Stretch, NodataAndNaNGiveZero) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(stretched({-9999, nan, 10}, 10, 110, -9999.0), (std::vector<uint8_t>{0, 0, 1}));
}

TEST(Stretch, AFlatBandIsOneEverywhereValid) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(stretched({5, 5, inf, -9999}, 5, 5, -9999.0), (std::vector<uint8_t>{1, 1, 1, 0}));
}

}  // namespace
}  // namespace tessera::ops
