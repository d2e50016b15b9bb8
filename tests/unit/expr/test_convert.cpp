// Writing float64 results into output types: GDAL's rounding, saturation, nodata for NaN.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "tessera/expr/convert.hpp"

namespace tessera::expr {
namespace {

TEST(RoundSaturate, RoundsHalfAwayFromZero) {
  EXPECT_EQ(round_saturate<uint8_t>(0.5), 1);
  EXPECT_EQ(round_saturate<uint8_t>(1.5), 2);
  EXPECT_EQ(round_saturate<uint8_t>(2.5), 3);
  EXPECT_EQ(round_saturate<uint8_t>(2.4999), 2);
  EXPECT_EQ(round_saturate<int16_t>(-0.5), -1);
  EXPECT_EQ(round_saturate<int16_t>(-1.5), -2);
  EXPECT_EQ(round_saturate<int32_t>(-2.5), -3);
  // GDAL 3.6 adds 0.5 and truncates, which gives 1 here; the exact rounding gives 0.
  EXPECT_EQ(round_saturate<uint16_t>(0.49999999999999994), 0);
}

TEST(RoundSaturate, SaturatesAtTheTypesRange) {
  EXPECT_EQ(round_saturate<uint8_t>(254.5), 255);
  EXPECT_EQ(round_saturate<uint8_t>(255.5), 255);
  EXPECT_EQ(round_saturate<uint8_t>(300), 255);
  EXPECT_EQ(round_saturate<uint8_t>(-0.5), 0);
  EXPECT_EQ(round_saturate<uint8_t>(-3), 0);
  EXPECT_EQ(round_saturate<int16_t>(40000), 32767);
  EXPECT_EQ(round_saturate<int16_t>(-40000), -32768);
  EXPECT_EQ(round_saturate<uint16_t>(70000), 65535);
  EXPECT_EQ(round_saturate<uint32_t>(1e300), 4294967295u);
  EXPECT_EQ(round_saturate<uint32_t>(4294967294.6), 4294967295u);
  EXPECT_EQ(round_saturate<int32_t>(-1e10), std::numeric_limits<int32_t>::lowest());
  EXPECT_EQ(round_saturate<int32_t>(2147483646.4), 2147483646);
}

TEST(RoundSaturate, InfinitiesSaturateNanGivesZero) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(round_saturate<uint8_t>(inf), 255);
  EXPECT_EQ(round_saturate<uint8_t>(-inf), 0);
  EXPECT_EQ(round_saturate<int16_t>(-inf), -32768);
  EXPECT_EQ(round_saturate<uint8_t>(std::nan("")), 0);
}

TEST(ConvertRow, NanCellsGetTheNodataValue) {
  const std::vector<double> in{1.4, NAN, 300, -2.5};
  std::vector<uint8_t> u8(4);
  convert_row(in, 255, std::span<uint8_t>(u8));
  EXPECT_EQ(u8, (std::vector<uint8_t>{1, 255, 255, 0}));
  std::vector<int16_t> i16(4);
  convert_row(in, -9999, std::span<int16_t>(i16));
  EXPECT_EQ(i16, (std::vector<int16_t>{1, -9999, 300, -3}));
}

TEST(ConvertRow, Float32RoundsToNearestAndOverflowsToInfinity) {
  const std::vector<double> in{0.1, 1e300, -1e300, NAN, 3.5};
  std::vector<float> out(5);
  convert_row(in, -9999, std::span<float>(out));
  EXPECT_EQ(out[0], 0.1f);
  EXPECT_EQ(out[1], std::numeric_limits<float>::infinity());
  EXPECT_EQ(out[2], -std::numeric_limits<float>::infinity());
  EXPECT_EQ(out[3], -9999.0f);
  EXPECT_EQ(out[4], 3.5f);
}

TEST(ConvertRow, Float64KeepsValuesAndNanNodataStaysNan) {
  const std::vector<double> in{0.1, NAN, -0.0};
  std::vector<double> out(3);
  convert_row(in, NAN, std::span<double>(out));
  EXPECT_EQ(out[0], 0.1);
  EXPECT_TRUE(std::isnan(out[1]));
  EXPECT_TRUE(std::signbit(out[2]));
  convert_row(in, -1, std::span<double>(out));
  EXPECT_EQ(out[1], -1);
}

TEST(DefaultNodata, GdalCalcsValues) {
  EXPECT_EQ(default_nodata(PixelType::Byte), 255);
  EXPECT_EQ(default_nodata(PixelType::UInt16), 65535);
  EXPECT_EQ(default_nodata(PixelType::Int16), -32768);
  EXPECT_EQ(default_nodata(PixelType::UInt32), 4294967293.0);
  EXPECT_EQ(default_nodata(PixelType::Int32), -2147483647);
  EXPECT_EQ(default_nodata(PixelType::Float32), 3.402823466e+38);
  EXPECT_EQ(default_nodata(PixelType::Float64), std::numeric_limits<double>::max());
}

}  // namespace
}  // namespace tessera::expr
