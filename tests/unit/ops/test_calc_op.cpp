// The calc op on synthetic bands: cells read at the owned window inside a halo, nodata from any
// band, conversion to the output type, and its band_inputs() in the expression's order.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "tessera/core/error.hpp"
#include "tessera/ops/calc.hpp"

namespace tessera::ops {
namespace {

/// A band of `width` x `height` cells of T, as bytes.
template <class T>
struct TestBand {
  std::vector<T> cells;
  int64_t width;
  BandIn in(std::optional<double> nodata, PixelType type) const {
    const auto bytes = reinterpret_cast<const std::byte*>(cells.data());
    const int64_t row = width * static_cast<int64_t>(sizeof(T));
    return {type, ConstView<std::byte>(bytes, row, static_cast<int64_t>(cells.size()) / width),
            nodata};
  }
};

std::unique_ptr<Op> make(const std::string& expr, const std::string& type,
                         std::optional<double> nodata = std::nullopt) {
  Options options{{"expr", expr}, {"type", type}};
  if (nodata) options["nodata"] = *nodata;
  return make_op("calc", options, {"nir", "red"});
}

TEST(Calc, ReadsTheOwnedCellsInsideTheHaloAndConvertsToUInt16) {
  // 4 x 3 grown window around a 2 x 1 owned tile with halo 1.
  const TestBand<uint16_t> nir{{0, 0, 0, 0, /**/ 0, 10, 65535, 0, /**/ 0, 0, 0, 0}, 4};
  const TestBand<uint16_t> red{{9, 9, 9, 9, /**/ 9, 3, 7, 9, /**/ 9, 9, 9, 9}, 4};
  TileIn in;
  in.owned = {5, 7, 2, 1};
  in.halo = 1;
  in.bands = {nir.in(65535, PixelType::UInt16), red.in(std::nullopt, PixelType::UInt16)};
  const auto op = make("nir * 2.25 - red", "uint16");
  ASSERT_EQ(op->band_inputs().size(), 2u);
  EXPECT_EQ(op->band_inputs()[0].name, "nir");
  EXPECT_EQ(op->output_nodata(), 65535);  // gdal_calc.py's default for UInt16
  std::vector<uint16_t> out(2, 1);
  TileOut tile;
  tile.bands.emplace_back(View<uint16_t>(out.data(), 2, 1));
  op->run(in, tile);
  EXPECT_EQ(out, (std::vector<uint16_t>{20, 65535}));  // 19.5 rounds half away from zero
}

TEST(Calc, WritesByteAndFloat32Outputs) {
  const TestBand<float> nir{{0.5f, -2.0f}, 2};
  const TestBand<uint8_t> red{{1, 200}, 2};
  TileIn in;
  in.owned = {0, 0, 2, 1};
  in.bands = {nir.in(std::nullopt, PixelType::Float32), red.in(std::nullopt, PixelType::Byte)};
  std::vector<uint8_t> bytes(2);
  TileOut as_bytes;
  as_bytes.bands.emplace_back(View<uint8_t>(bytes.data(), 2, 1));
  make("nir + red * 2", "Byte")->run(in, as_bytes);
  EXPECT_EQ(bytes, (std::vector<uint8_t>{3, 255}));  // 2.5 -> 3; 398 saturates
  std::vector<float> floats(2);
  TileOut as_floats;
  as_floats.bands.emplace_back(View<float>(floats.data(), 2, 1));
  make("nir / (red - 1)", "float32", -1.0)->run(in, as_floats);
  EXPECT_FLOAT_EQ(floats[1], -2.0f / 199.0f);
  EXPECT_TRUE(std::isinf(floats[0]));  // 0.5 / 0 is +inf, not nodata
}

TEST(Calc, OptionsAreCheckedAndSyntaxErrorsCarryTheirColumn) {
  EXPECT_THROW(make_op("calc", {{"type", std::string("float32")}}, {"nir"}), OptionError);
  try {
    make("nir +* red", "float32");
    FAIL() << "no error";
  } catch (const OptionError& e) {
    EXPECT_EQ(e.key(), "expr");
    EXPECT_EQ(e.column(), 6);
  }
  EXPECT_THROW(make("nir", "float16"), OptionError);
}

}  // namespace
}  // namespace tessera::ops
