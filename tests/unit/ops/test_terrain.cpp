// Terrain kernels on synthetic rasters: planes of known slope and aspect, hand-computed 3x3s,
// gdaldem's edge and nodata rules, and independence from the tile cut.
#include <gtest/gtest.h>

#include <cmath>

#include "raster_fixture.hpp"
#include "tessera/ops/op.hpp"

namespace tessera::ops {
namespace {

using testing::make_raster;
using testing::Raster;
using testing::run_tiled;
using testing::run_whole;

constexpr double kPi = 3.14159265358979323846;
constexpr float kNoData = -9999.0f;

double degrees(double radians) { return radians * 180.0 / kPi; }

// z rises 3 per cell to the east and 4 per cell to the south; cells are 10 x 10.
float tilted(int64_t x, int64_t y) { return static_cast<float>(3 * x + 4 * y + 100); }
float east_rising(int64_t x, int64_t) { return static_cast<float>(x); }
float north_rising(int64_t, int64_t y) { return static_cast<float>(-y); }
float flat(int64_t, int64_t) { return 7.0f; }

std::unique_ptr<Op> op(std::string_view name, Options options = {}) {
  return make_op(name, options);
}

template <class T>
std::vector<float> floats(const Op& o, const Raster<T>& r) {
  return run_whole<T, float>(o, r);
}
template <class T>
std::vector<uint8_t> bytes(const Op& o, const Raster<T>& r) {
  return run_whole<T, uint8_t>(o, r);
}

TEST(Slope, PlaneGivesItsGradientInDegreesAndPercent) {
  const auto r = make_raster<float>(6, 5, tilted);
  const auto deg = floats(*op("slope"), r);
  const auto pct = floats(*op("slope", {{"units", std::string("percent")}}), r);
  const double gradient = std::hypot(3.0, 4.0) / 10.0;  // 0.5
  EXPECT_NEAR(deg[2 * 6 + 2], degrees(std::atan(gradient)), 1e-4);
  EXPECT_NEAR(pct[2 * 6 + 2], 100 * gradient, 1e-4);
}

TEST(Slope, ZevenbergenThorneAndScaleOnAPlane) {
  const auto r = make_raster<float>(5, 5, tilted);
  const auto zt =
      floats(*op("slope", {{"alg", std::string("ZevenbergenThorne")}, {"scale", 2.0}}), r);
  EXPECT_NEAR(zt[2 * 5 + 2], degrees(std::atan(0.5 / 2)), 1e-4);
}

TEST(Slope, BorderIsNodataWithoutComputeEdges) {
  const auto r = make_raster<float>(5, 4, tilted);
  const auto s = floats(*op("slope"), r);
  for (int64_t x = 0; x < 5; ++x) {
    EXPECT_EQ(s[x], kNoData);
    EXPECT_EQ(s[3 * 5 + x], kNoData);
  }
  EXPECT_EQ(s[1 * 5 + 0], kNoData);
  EXPECT_EQ(s[1 * 5 + 4], kNoData);
  EXPECT_NE(s[1 * 5 + 1], kNoData);
}

TEST(Slope, ComputeEdgesExtrapolatesAPlaneButClampsCornersOfFirstAndLastRows) {
  const auto r = make_raster<float>(5, 4, tilted);
  const auto s = floats(*op("slope", {{"compute_edges", true}}), r);
  const double inside = degrees(std::atan(0.5));
  EXPECT_NEAR(s[1 * 5 + 0], inside, 1e-4);  // left edge: the column is extrapolated
  EXPECT_NEAR(s[0 * 5 + 2], inside, 1e-4);  // top edge: the row is extrapolated
  // At a corner of the first row gdaldem clamps the x-neighbours: half the east-west difference.
  EXPECT_NEAR(s[0], degrees(std::atan(std::hypot(1.5, 4.0) / 10.0)), 1e-4);
}

TEST(Aspect, EastRisingFacesWestAndNorthRisingFacesSouth) {
  const auto east = make_raster<float>(4, 4, east_rising);
  const auto north = make_raster<float>(4, 4, north_rising);
  EXPECT_FLOAT_EQ(floats(*op("aspect"), east)[5], 270.0f);
  EXPECT_FLOAT_EQ(floats(*op("aspect"), north)[5], 180.0f);
  EXPECT_FLOAT_EQ(floats(*op("aspect", {{"trigonometric", true}}), east)[5], 180.0f);
}

TEST(Aspect, FlatIsNodataOrZeroForFlat) {
  const auto r = make_raster<float>(3, 3, flat);
  EXPECT_EQ(floats(*op("aspect"), r)[4], kNoData);
  const auto zero = op("aspect", {{"zero_for_flat", true}});
  EXPECT_EQ(floats(*zero, r)[4], 0.0f);
  EXPECT_EQ(floats(*zero, r)[0], 0.0f);  // gdaldem's border is 0 too
  EXPECT_FALSE(zero->output_nodata().has_value());
  EXPECT_EQ(op("aspect")->output_nodata(), -9999.0);
}

// The 3x3 window 1 2 3 / 4 5 6 / 7 8 10: differences to the centre -4 -3 -2 -1 1 2 3 5.
int32_t window_3x3(int64_t x, int64_t y) {
  static const int32_t v[9] = {1, 2, 3, 4, 5, 6, 7, 8, 10};
  return v[y * 3 + x];
}

TEST(Ruggedness, HandComputedWindow) {
  const auto r = make_raster<int32_t>(3, 3, window_3x3);
  EXPECT_FLOAT_EQ(floats(*op("TRI"), r)[4], static_cast<float>(std::sqrt(69.0)));
  EXPECT_FLOAT_EQ(floats(*op("TRI", {{"alg", std::string("Wilson")}}), r)[4], 2.625f);
  EXPECT_FLOAT_EQ(floats(*op("TPI"), r)[4], -0.125f);  // 5 - 41/8
  EXPECT_FLOAT_EQ(floats(*op("roughness"), r)[4], 9.0f);
  EXPECT_EQ(floats(*op("TPI"), r)[0], kNoData);
}

TEST(Nodata, NeighbourIsNodataOrTakesTheCentreWithComputeEdges) {
  auto r = make_raster<float>(
      3, 3, [](int64_t x, int64_t y) { return static_cast<float>(window_3x3(x, y)); });
  r.nodata = 1.0;  // the top-left neighbour
  EXPECT_EQ(floats(*op("TPI"), r)[4], kNoData);
  // With compute_edges the nodata neighbour takes the centre's value 5: 5 - 45/8.
  EXPECT_FLOAT_EQ(floats(*op("TPI", {{"compute_edges", true}}), r)[4], -0.625f);
  r.nodata = 5.0;  // the centre
  EXPECT_EQ(floats(*op("TPI", {{"compute_edges", true}}), r)[4], kNoData);
}

TEST(Nodata, NanNodataAndNearlyEqualFloats) {
  auto r = make_raster<float>(3, 3, flat);
  r.nodata = std::nan("");
  r.at(0, 0) = std::nanf("");
  EXPECT_EQ(floats(*op("roughness"), r)[4], kNoData);
  auto s = make_raster<float>(3, 3, flat);
  s.nodata = 1000.0;
  s.at(2, 2) = 1000.0001f;  // within gdaldem's ARE_REAL_EQUAL tolerance
  EXPECT_EQ(floats(*op("roughness"), s)[4], kNoData);
}

TEST(Nodata, IntegerNodataOutsideTheSourceRangeIsIgnored) {
  auto r = make_raster<int32_t>(3, 3, window_3x3);
  r.type = PixelType::Byte;
  r.nodata = 1.0;
  EXPECT_EQ(floats(*op("roughness"), r)[4], kNoData);
  r.nodata = 1.5;  // not an integer: gdaldem ignores it
  EXPECT_FLOAT_EQ(floats(*op("roughness"), r)[4], 9.0f);
}

TEST(Edges, OneCellWideRastersAreAllNodata) {
  for (const auto& [w, h] : {std::pair{1, 6}, std::pair{6, 1}}) {
    const auto r = make_raster<float>(w, h, tilted);
    for (float v : floats(*op("slope", {{"compute_edges", true}}), r)) EXPECT_EQ(v, kNoData);
  }
}

TEST(Hillshade, FlatGroundIsLitBySinOfAltitude) {
  const auto r = make_raster<float>(3, 3, flat);
  // 1 + 254 sin(45 degrees) = 180.6, rounded.
  EXPECT_EQ(bytes(*op("hillshade"), r)[4], 181);
  EXPECT_EQ(bytes(*op("hillshade", {{"multidirectional", true}}), r)[4], 181);
  EXPECT_EQ(bytes(*op("hillshade"), r)[0], 0);  // border: nodata 0
}

TEST(Hillshade, SlopeFacingTheLightIsBrighterThanSlopeFacingAway) {
  const auto west_facing = make_raster<float>(3, 3, east_rising);  // faces 270
  const auto lit = bytes(*op("hillshade", {{"azimuth", 270.0}, {"z", 5.0}}), west_facing)[4];
  const auto dark = bytes(*op("hillshade", {{"azimuth", 90.0}, {"z", 5.0}}), west_facing)[4];
  EXPECT_GT(lit, 181);
  EXPECT_LT(dark, 181);
}

int32_t bumpy(int64_t x, int64_t y) {
  const int32_t v = static_cast<int32_t>((x * 37 + y * 101 + x * y * 13) % 97);
  return (x * 7 + y * 3) % 23 == 0 ? -32768 : v;  // some nodata cells
}

template <class T, class Out>
void expect_cut_independent(std::string_view name, const Options& options, const Raster<T>& r) {
  const auto made = op(name, options);
  const auto whole_raster = run_tiled<T, Out>(*made, r, r.width, r.height);
  for (const auto& [tw, th] :
       {std::pair{7, 5}, std::pair{1, 1}, std::pair{2, 3}, std::pair{16, 1}}) {
    const auto cut = run_tiled<T, Out>(*made, r, tw, th);
    EXPECT_EQ(cut, whole_raster) << name << " tile " << tw << "x" << th;
  }
}

TEST(TileCut, EveryTerrainOpGivesTheSameCellsWhateverTheCut) {
  auto ints = make_raster<int32_t>(23, 17, bumpy);
  ints.nodata = -32768;
  auto floats = make_raster<float>(
      23, 17, [](int64_t x, int64_t y) { return static_cast<float>(bumpy(x, y)) * 0.37f; });
  floats.nodata = -32768 * 0.37f;
  for (bool edges : {false, true}) {
    const Options e{{"compute_edges", edges}};
    for (const char* name : {"slope", "aspect", "TRI", "TPI", "roughness"}) {
      expect_cut_independent<int32_t, float>(name, e, ints);
      expect_cut_independent<float, float>(name, e, floats);
    }
    for (const char* style : {"combined", "multidirectional", "igor", "compute_edges"}) {
      Options o = e;
      o[style] = true;
      expect_cut_independent<int32_t, uint8_t>("hillshade", o, ints);
      expect_cut_independent<float, uint8_t>("hillshade", o, floats);
    }
  }
}

}  // namespace
}  // namespace tessera::ops
