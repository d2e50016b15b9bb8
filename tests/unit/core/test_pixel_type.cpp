// Pixel types: which values a type holds (an output's nodata must be one); the union of two types,
// as GDALDataTypeUnion gives it (gdal_calc.py's default output type).
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <string>

#include "tessera/core/pixel_type.hpp"

namespace tessera {
namespace {

constexpr std::array<PixelType, 7> kTypes{PixelType::Byte,   PixelType::UInt16, PixelType::Int16,
                                          PixelType::UInt32, PixelType::Int32,  PixelType::Float32,
                                          PixelType::Float64};

// GDAL 3.6's gdal.DataTypeUnion(row, column) for the types above, "Int64" where tessera has none.
constexpr std::array<std::array<std::string_view, 7>, 7> kGdalUnion{{
    {"Byte", "UInt16", "Int16", "UInt32", "Int32", "Float32", "Float64"},
    {"UInt16", "UInt16", "Int32", "UInt32", "Int32", "Float32", "Float64"},
    {"Int16", "Int32", "Int16", "Int64", "Int32", "Float32", "Float64"},
    {"UInt32", "UInt32", "Int64", "UInt32", "Int64", "Float64", "Float64"},
    {"Int32", "Int32", "Int32", "Int64", "Int32", "Float64", "Float64"},
    {"Float32", "Float32", "Float32", "Float64", "Float64", "Float32", "Float64"},
    {"Float64", "Float64", "Float64", "Float64", "Float64", "Float64", "Float64"},
}};

TEST(PixelType, UnionIsGdalDataTypeUnion) {
  for (size_t a = 0; a < kTypes.size(); ++a)
    for (size_t b = 0; b < kTypes.size(); ++b) {
      const auto got = type_union(kTypes[a], kTypes[b]);
      EXPECT_EQ(got ? name_of(*got) : "Int64", kGdalUnion[a][b])
          << name_of(kTypes[a]) << " + " << name_of(kTypes[b]);
    }
}

TEST(PixelType, HoldsWholeNumbersInRangeForIntegersAndAnyFloat32InRange) {
  EXPECT_TRUE(holds(PixelType::Byte, 0));
  EXPECT_TRUE(holds(PixelType::Byte, 255));
  EXPECT_FALSE(holds(PixelType::Byte, 2.5));
  EXPECT_FALSE(holds(PixelType::Byte, 300));
  EXPECT_FALSE(holds(PixelType::Byte, -1));
  EXPECT_TRUE(holds(PixelType::Int16, -32768));
  EXPECT_FALSE(holds(PixelType::Int16, 32768));
  EXPECT_TRUE(holds(PixelType::UInt32, 4294967295.0));
  EXPECT_FALSE(holds(PixelType::Int32, -2147483649.0));
  EXPECT_FALSE(holds(PixelType::UInt16, std::nan("")));
  EXPECT_TRUE(holds(PixelType::Float32, 0.1));
  EXPECT_TRUE(holds(PixelType::Float32, std::nan("")));
  EXPECT_FALSE(holds(PixelType::Float32, 1e40));
  EXPECT_TRUE(holds(PixelType::Float64, 1e300));
  EXPECT_EQ(nodata_misfit(PixelType::Byte, 255), "");
  EXPECT_EQ(nodata_misfit(PixelType::Byte, 2.5),
            "2.5 does not fit a Byte output (expected whole numbers from 0 to 255)");
}

}  // namespace
}  // namespace tessera
