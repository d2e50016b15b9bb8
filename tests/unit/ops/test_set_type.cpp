// set-type on synthetic tiles: scale and offset, GDAL's rounding and saturation, nodata kept.
#include <gtest/gtest.h>

#include <vector>

#include "tessera/core/error.hpp"
#include "tessera/ops/set_type.hpp"

namespace tessera::ops {
namespace {

TEST(SetType, ScalesRoundsSaturatesAndKeepsNodataInsideAHalo) {
  // A 5 x 3 buffer around a 3 x 1 owned tile with a halo of 1; the input's nodata is -5.
  const std::vector<int32_t> cells{9, 9, 9, 9, 9, /**/ 9, 101, -5, -10, 9, /**/ 9, 9, 9, 9, 9};
  TileIn in;
  in.owned = {3, 4, 3, 1};
  in.halo = 1;
  in.nodata = -5;
  in.cells = ConstView<int32_t>(cells.data(), 5, 3);
  const auto op =
      make_op("set-type", {{"type", std::string("uint8")}, {"scale", 2.5}, {"offset", 1.0}});
  EXPECT_EQ(op->output_type(), PixelType::Byte);
  EXPECT_EQ(op->output_nodata(), 255);
  EXPECT_EQ(op->input_cells(PixelType::UInt16), CellType::Int32);
  EXPECT_EQ(op->input_cells(PixelType::Float64), CellType::Float32);
  std::vector<uint8_t> out(3, 7);
  TileOut tile;
  tile.bands.emplace_back(View<uint8_t>(out.data(), 3, 1));
  op->run(in, tile);
  // 253.5 rounds half away from zero; nodata becomes the output's; -24 saturates at 0.
  EXPECT_EQ(out, (std::vector<uint8_t>{254, 255, 0}));
}

TEST(SetType, FloatToInt16RoundsHalfAwayFromZero) {
  const std::vector<float> cells{-2.5f, 2.5f, 1e9f, 0.2f};
  TileIn in;
  in.owned = {0, 0, 4, 1};
  in.cells = ConstView<float>(cells.data(), 4, 1);
  std::vector<int16_t> out(4);
  TileOut tile;
  tile.bands.emplace_back(View<int16_t>(out.data(), 4, 1));
  make_op("set-type", {{"type", std::string("Int16")}, {"nodata", -1.0}})->run(in, tile);
  EXPECT_EQ(out, (std::vector<int16_t>{-3, 3, 32767, 0}));
}

TEST(SetType, TypeIsRequired) {
  EXPECT_THROW(make_op("set-type", {{"scale", 2.0}}), OptionError);
  EXPECT_THROW(make_op("set-type", {{"type", std::string("int8x")}}), OptionError);
}

}  // namespace
}  // namespace tessera::ops
