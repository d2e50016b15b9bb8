// reclassify on synthetic tiles: [low, high) ranges, first match, default, nodata, bad tables.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tessera/core/error.hpp"
#include "tessera/ops/reclassify.hpp"

namespace tessera::ops {
namespace {

TEST(Reclassify, RangesAreHalfOpenAndTheFirstMatchWins) {
  const std::vector<float> cells{-1.0f, 0.0f, 4.999f, 5.0f, 20.0f, 90.0f, NAN, -9999.0f};
  TileIn in;
  in.owned = {0, 0, 8, 1};
  in.nodata = -9999;
  in.cells = ConstView<float>(cells.data(), 8, 1);
  const auto op = make_op("reclassify",
                          {{"table", std::string("0..5=1; 5..15=2; 5..inf=3")}, {"default", 9.0}});
  EXPECT_EQ(op->output_type(), PixelType::Byte);
  EXPECT_EQ(op->output_nodata(), 255);
  std::vector<uint8_t> out(8);
  TileOut tile;
  tile.bands.emplace_back(View<uint8_t>(out.data(), 8, 1));
  op->run(in, tile);
  EXPECT_EQ(out, (std::vector<uint8_t>{9, 1, 1, 2, 3, 3, 255, 255}));
}

TEST(Reclassify, WithoutADefaultCellsInNoRangeAreNodata) {
  const std::vector<int32_t> cells{1, 7, 30};
  TileIn in;
  in.owned = {0, 0, 3, 1};
  in.cells = ConstView<int32_t>(cells.data(), 3, 1);
  std::vector<int16_t> out(3);
  TileOut tile;
  tile.bands.emplace_back(View<int16_t>(out.data(), 3, 1));
  make_op("reclassify", {{"table", std::string("-inf..5=-7;5..10=2.5")},
                         {"type", std::string("int16")},
                         {"nodata", -1.0}})
      ->run(in, tile);
  EXPECT_EQ(out, (std::vector<int16_t>{-7, 3, -1}));  // 2.5 rounds half away from zero
}

std::string table_error(const std::string& table) {
  try {
    parse_class_table(table);
  } catch (const OptionError& e) {
    EXPECT_EQ(e.key(), "table");
    return e.what();
  }
  return "";
}

TEST(Reclassify, BadTablesNameTheEntry) {
  EXPECT_EQ(table_error("0..5=1; 5-10=2"),
            "option 'table': entry '5-10=2': expected LOW..HIGH=VALUE");
  EXPECT_EQ(table_error("0..x=1"),
            "option 'table': entry '0..x=1': expected LOW..HIGH=VALUE with numbers");
  EXPECT_EQ(table_error("5..5=1"), "option 'table': entry '5..5=1': LOW must be below HIGH");
  EXPECT_EQ(table_error(" ; "),
            "option 'table': expected LOW..HIGH=VALUE entries separated by ';'");
  EXPECT_THROW(make_op("reclassify", {}), OptionError);
}

}  // namespace
}  // namespace tessera::ops
