// The order tiles are claimed in when a sink wants blocks: rows of 4 x 4 blocks, and when the COG
// sink takes them (its full resolution then written row by row).
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "pass.hpp"
#include "sinks.hpp"

namespace tessera::run::test {
namespace {

// Every tile once; each aligned 4 x 4 block a run of positions; a row of tiles complete before
// the next row of blocks starts.
TEST(BlockOrder, RowsOfBlocksHoldEveryTileOnceBlockByBlock) {
  const TileGrid grid({9 * 16 + 5, 6 * 16 + 1}, 16, 16);  // 10 x 7 tiles: ragged blocks
  const TileOrder order = block_rows(grid);
  EXPECT_TRUE(order.block_rows);
  ASSERT_EQ(static_cast<int64_t>(order.tiles.size()), grid.count());
  std::vector<int64_t> sorted = order.tiles;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t t = 0; t < grid.count(); ++t) EXPECT_EQ(sorted[static_cast<size_t>(t)], t);
  const auto block = [&](int64_t tile) {
    return (tile / grid.across() / 4) * 100 + (tile % grid.across()) / 4;
  };
  for (size_t p = 1; p < order.tiles.size(); ++p)
    EXPECT_LE(block(order.tiles[p - 1]), block(order.tiles[p])) << "position " << p;
  EXPECT_EQ(order.tiles[0], 0);
  EXPECT_EQ(order.tiles[1], 1);
  EXPECT_EQ(order.tiles[2], grid.across());  // Z order inside the block
}

OutputSpec cog_spec(int64_t width, PixelType type) {
  OutputSpec spec;
  spec.path = "x.tif";
  spec.format = OutputFormat::Cog;
  spec.size = {width, 1024};
  spec.type = type;
  spec.tile_width = spec.tile_height = 512;
  return spec;
}

// Row by row while a row of blocks, uncompressed, is at most 128 MiB: 128 Byte tiles across,
// 32 Float32 ones.
TEST(BlockOrder, CogTakesRowsOfBlocksWhileARowOfBlocksIsSmall) {
  EXPECT_TRUE(cog_sink(cog_spec(128 * 512, PixelType::Byte))->takes_block_rows());
  EXPECT_FALSE(cog_sink(cog_spec(128 * 512 + 1, PixelType::Byte))->takes_block_rows());
  EXPECT_TRUE(cog_sink(cog_spec(32 * 512, PixelType::Float32))->takes_block_rows());
  EXPECT_FALSE(cog_sink(cog_spec(32 * 512 + 1, PixelType::Float32))->takes_block_rows());
}

}  // namespace
}  // namespace tessera::run::test
