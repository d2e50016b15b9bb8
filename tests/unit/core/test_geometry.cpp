// Window and tile-grid arithmetic.
#include <gtest/gtest.h>

#include "tessera/core/error.hpp"
#include "tessera/core/geometry.hpp"

namespace tessera {
namespace {

TEST(Window, IntersectOfDisjointWindowsIsEmpty) {
  EXPECT_TRUE(intersect({0, 0, 4, 4}, {4, 0, 4, 4}).empty());
  EXPECT_TRUE(intersect({0, 0, 4, 4}, {0, 10, 4, 4}).empty());
}

TEST(Window, IntersectClipsAGrownTileToTheRaster) {
  const Window grown = grow({0, 0, 512, 512}, 1);
  EXPECT_EQ(grown, (Window{-1, -1, 514, 514}));
  EXPECT_EQ(intersect(grown, whole({1000, 700})), (Window{0, 0, 513, 513}));
}

TEST(TileGrid, CountsPartialTilesAtTheEdges) {
  const TileGrid grid({1000, 700}, 512, 256);
  EXPECT_EQ(grid.across(), 2);
  EXPECT_EQ(grid.down(), 3);
  EXPECT_EQ(grid.count(), 6);
  EXPECT_EQ(grid.owned(5), (Window{512, 512, 488, 188}));
  EXPECT_EQ(grid.block(5), (Window{512, 512, 512, 256}));
}

TEST(TileGrid, OwnedTilesCoverTheRasterExactlyOnce) {
  const Extent raster{37, 23};
  const TileGrid grid(raster, 16, 16);
  int64_t covered = 0;
  for (int64_t t = 0; t < grid.count(); ++t) covered += grid.owned(t).cells();
  EXPECT_EQ(covered, raster.cells());
}

TEST(TileGrid, SingleCellRaster) {
  const TileGrid grid({1, 1}, 512, 512);
  EXPECT_EQ(grid.count(), 1);
  EXPECT_EQ(grid.owned(0), (Window{0, 0, 1, 1}));
}

TEST(TileGrid, IndicesAreSixtyFourBit) {
  const TileGrid grid({3'000'000, 3'000'000}, 16, 16);
  EXPECT_EQ(grid.count(), 187500LL * 187500LL);
  const Window last = grid.owned(grid.count() - 1);
  EXPECT_EQ(last.right(), 3'000'000);
  EXPECT_EQ(last.bottom(), 3'000'000);
}

TEST(TileGrid, RejectsNonPositiveTileSize) { EXPECT_THROW(TileGrid({10, 10}, 0, 16), Error); }

}  // namespace
}  // namespace tessera
