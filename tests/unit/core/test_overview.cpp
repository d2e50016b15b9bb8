// Tests of overview geometry, the 2 x 2 halving (GDAL 3.6's arithmetic) and COG option parsing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "tessera/core/error.hpp"
#include "tessera/core/overview.hpp"

namespace tessera {
namespace {

template <class T>
std::vector<T> halved(const std::vector<T>& cells, int64_t width, int64_t height, Resampling method,
                      std::optional<double> nodata = std::nullopt) {
  std::vector<T> out(static_cast<size_t>(((width + 1) / 2) * ((height + 1) / 2)));
  halve(pixel_type_of<T>, {cells.data(), width}, width, height, {out.data(), (width + 1) / 2},
        method, nodata);
  return out;
}

TEST(Overview, SizesRoundUpAndSharesFollowTheTile) {
  EXPECT_EQ(overview_size({465, 457}, 1), (Extent{233, 229}));
  EXPECT_EQ(overview_size({465, 457}, 2), (Extent{117, 115}));
  const TileGrid grid({465, 457}, 128, 128);
  EXPECT_EQ(share_of_tile(grid, 0, 1), (Window{0, 0, 64, 64}));
  EXPECT_EQ(share_of_tile(grid, 3, 1), (Window{192, 0, 41, 64}));  // 81 cells wide, halved up
  EXPECT_EQ(share_of_tile(grid, 3, 2), (Window{96, 0, 21, 32}));
}

TEST(Overview, AverageOfIntegersRoundsHalfAwayFromZero) {
  // Sums 6 (1.5 -> 2), -6 (-1.5 -> -2), 5 (1.25 -> 1).
  const std::vector<int16_t> cells{1, 2, -1, -2, 1, 1, 1, 2, -1, -2, 1, 2};
  EXPECT_EQ(halved(cells, 6, 2, Resampling::Average), (std::vector<int16_t>{2, -2, 1}));
}

TEST(Overview, AverageOfFloatsAddsColumnsFirst) {
  const std::vector<float> cells{1e8f, 1.0f, -1e8f, 1.0f};
  // ((1e8 + -1e8) + (1 + 1)) * 0.25 = 0.5; left to right in float it would be 0.25.
  EXPECT_EQ(halved(cells, 2, 2, Resampling::Average), (std::vector<float>{0.5f}));
}

TEST(Overview, NodataIsLeftOutAndOddEdgesTakeWhatThereIs) {
  const std::vector<uint8_t> cells{0, 10, 7, 0, 11, 9};  // 3 x 2, nodata 0
  // Left block: 10, 11 -> 10.5 -> 11; right edge block: 7, 9 -> 8.
  EXPECT_EQ(halved(cells, 3, 2, Resampling::Average, 0.0), (std::vector<uint8_t>{11, 8}));
  const std::vector<uint8_t> empty{0, 0, 0, 0};
  EXPECT_EQ(halved(empty, 2, 2, Resampling::Average, 0.0), (std::vector<uint8_t>{0}));
}

TEST(Overview, NearestTakesTheUpperLeftCell) {
  const std::vector<uint16_t> cells{1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_EQ(halved(cells, 4, 2, Resampling::Nearest), (std::vector<uint16_t>{1, 3}));
}

TEST(Overview, ModeTakesTheValueWhoseCountPassesFirst) {
  // a b / b a: b reaches 2 before a does (cell 3 of 4), as GDAL counts.
  const std::vector<uint8_t> ties{5, 9, 9, 5};
  EXPECT_EQ(halved(ties, 2, 2, Resampling::Mode), (std::vector<uint8_t>{9}));
  const std::vector<uint8_t> all_differ{4, 3, 2, 1};
  EXPECT_EQ(halved(all_differ, 2, 2, Resampling::Mode), (std::vector<uint8_t>{4}));
}

template <class T>
std::vector<T> downsampled(const std::vector<T>& cells, Extent from, Resampling method,
                           std::optional<double> nodata = std::nullopt) {
  const Extent to{(from.width + 1) / 2, (from.height + 1) / 2};
  std::vector<T> out(static_cast<size_t>(to.cells()));
  downsample(pixel_type_of<T>, {from, to, 512}, {cells.data(), from.width},
             {0, 0, from.width, from.height}, {out.data(), to.width}, {0, 0, to.width, to.height},
             method, nodata);
  return out;
}

TEST(Overview, OddSizesWeighTheCellsTheWindowCovers) {
  // 3 -> 2 across: windows [0, 1.5) and [1.5, 3): the middle cell half in each.
  const std::vector<float> row{0, 4, 8};
  EXPECT_EQ(downsampled(row, {3, 1}, Resampling::Average),
            (std::vector<float>{4.0f / 3, 20.0f / 3}));
  // NEAREST rounds the window's start: 0 and 1.5 -> cells 0 and 2.
  EXPECT_EQ(downsampled(row, {3, 1}, Resampling::Nearest), (std::vector<float>{0, 8}));
  // MODE counts every cell the window touches: [0, 2) and [1, 3).
  const std::vector<uint8_t> modes{7, 3, 3};
  EXPECT_EQ(downsampled(modes, {3, 1}, Resampling::Mode), (std::vector<uint8_t>{7, 3}));
}

TEST(Overview, FloatAveragesAddAsGdalsVectorPathAndItsTail) {
  // 2 x 2 blocks of a band without nodata: GDAL's vector path adds (a + c) + (b + d); the cells
  // of a tile row past a multiple of 4 (here the fifth of five) add ((a + b) + c) + d.
  std::vector<float> cells;
  for (int i = 0; i < 5; ++i) cells.insert(cells.end(), {1e8f, 1});
  for (int i = 0; i < 5; ++i) cells.insert(cells.end(), {-1e8f, 1});
  EXPECT_EQ(downsampled(cells, {10, 2}, Resampling::Average),
            (std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f, 0.25f}));
  EXPECT_FALSE(halves_exactly({{10, 2}, {5, 1}, 512}, Resampling::Average, PixelType::Float32,
                              std::nullopt));
  EXPECT_TRUE(
      halves_exactly({{10, 2}, {5, 1}, 512}, Resampling::Average, PixelType::Byte, std::nullopt));
  EXPECT_TRUE(halves_exactly({{16, 2}, {8, 1}, 512}, Resampling::Average, PixelType::Float32,
                             std::nullopt));
  EXPECT_FALSE(
      halves_exactly({{15, 2}, {8, 1}, 512}, Resampling::Nearest, PixelType::Byte, std::nullopt));
  EXPECT_FALSE(
      halves_exactly({{16, 2}, {8, 1}, 512}, Resampling::Cubic, PixelType::Byte, std::nullopt));
}

TEST(Overview, WholeRowsOfBlocksHalveAsTheGeneralWindows) {
  // halve() takes Byte and Float32 rows sixteen and four blocks at a time; downsample() takes
  // each window on its own. Byte cells 98-102 with nodata 100 in half of the row pairs: groups
  // with and without nodata, and averages equal to nodata (99, 101, 99, 101), which become 101.
  const Extent from{70, 12};
  std::vector<uint8_t> bytes(static_cast<size_t>(from.cells()));
  std::vector<float> floats(bytes.size());
  uint32_t state = 12345;
  for (int64_t y = 0; y < from.height; ++y)
    for (int64_t x = 0; x < from.width; ++x) {
      state = state * 1664525u + 1013904223u;
      auto v = static_cast<uint8_t>(98 + (state >> 24) % 5);
      if (v == 100 && y % 4 < 2) v = 101;
      const auto i = static_cast<size_t>(y * from.width + x);
      bytes[i] = v;
      floats[i] = static_cast<float>(state >> 8) * 1e-3f - 8000.0f;
    }
  const auto byte_halves = halved(bytes, from.width, from.height, Resampling::Average, 100.0);
  EXPECT_EQ(byte_halves, downsampled(bytes, from, Resampling::Average, 100.0));
  EXPECT_NE(std::count(byte_halves.begin(), byte_halves.end(), uint8_t{101}), 0);
  EXPECT_EQ(halved(bytes, from.width, from.height, Resampling::Average),
            downsampled(bytes, from, Resampling::Average));
  // Float32 without nodata: 64 cells across, 32 blocks, a multiple of GDAL's 4 (no scalar tail).
  const Extent whole{64, 12};
  std::vector<float> wide(static_cast<size_t>(whole.cells()));
  for (int64_t y = 0; y < whole.height; ++y)
    for (int64_t x = 0; x < whole.width; ++x)
      wide[static_cast<size_t>(y * whole.width + x)] =
          floats[static_cast<size_t>(y * from.width + x)];
  EXPECT_EQ(halved(wide, whole.width, whole.height, Resampling::Average),
            downsampled(wide, whole, Resampling::Average));
}

TEST(Overview, KernelsAreGdalsWeightsRenormalisedAtTheEdge) {
  // BILINEAR at a factor of 2: weights 1/4, 3/4, 3/4, 1/4 over 4 cells, cut to 3/4, 3/4, 1/4 at
  // the left edge (each pass divides by the weights inside).
  const std::vector<float> row{0, 0, 0, 0, 7, 7, 7, 7};
  EXPECT_EQ(downsampled(row, {8, 1}, Resampling::Bilinear),
            (std::vector<float>{0, 7.0f / 8, 49.0f / 8, 7}));
  // CUBIC: Catmull-Rom at x = 0.25, 0.75, 1.25, 1.75 (halved distances): 0.8671875, 0.2265625,
  // -0.0703125, -0.0234375 each side. Across a step it overshoots (-2.3 and 202.3 in float),
  // which Byte holds at 0 and rounds.
  const std::vector<uint8_t> step{0, 0, 0, 0, 0, 0, 200, 200, 200, 200, 200, 200};
  EXPECT_EQ(downsampled(step, {12, 1}, Resampling::Cubic),
            (std::vector<uint8_t>{0, 0, 13, 187, 202, 200}));
  const std::vector<float> fstep(step.begin(), step.end());
  const auto f = downsampled(fstep, {12, 1}, Resampling::Cubic);
  EXPECT_EQ(f[2], 13.28125f);
  EXPECT_NEAR(f[1], -2.3166022f, 1e-6);
}

TEST(Overview, CogOptionsAreTheDriversWithItsDefaults) {
  const CreationOptions d = parse_creation_options({}, OutputFormat::Cog);
  EXPECT_EQ(d.compression, Compression::Lzw);
  EXPECT_EQ(d.resampling, Resampling::Cubic);
  const CreationOptions o = parse_creation_options(
      {"compress=zstd", "LEVEL=15", "predictor=YES", "BLOCKSIZE=256", "resampling=mode",
       "OVERVIEW_COUNT=3", "OVERVIEWS=IGNORE_EXISTING", "NUM_THREADS=ALL_CPUS"},
      OutputFormat::Cog);
  EXPECT_EQ(o.zstd_level, 15);
  EXPECT_EQ(o.predictor, 2);
  EXPECT_EQ(o.block_width, 256);
  EXPECT_EQ(o.block_height, 256);
  EXPECT_EQ(o.resampling, Resampling::Mode);
  EXPECT_EQ(o.overview_count, 3);
  EXPECT_THROW(parse_creation_options({"ZSTD_LEVEL=9"}, OutputFormat::Cog), Error);
  EXPECT_EQ(parse_creation_options({"RESAMPLING=bilinear"}, OutputFormat::Cog).resampling,
            Resampling::Bilinear);
  EXPECT_THROW(parse_creation_options({"RESAMPLING=LANCZOS"}, OutputFormat::Cog), Error);
  EXPECT_THROW(parse_creation_options({"OVERVIEWS=FORCE_USE_EXISTING"}, OutputFormat::Cog), Error);
}

// LEVEL in GDAL's range for the compression chosen, given before or after COMPRESS: DEFLATE
// 1-12 (libdeflate), ZSTD 1-22; LZW and NONE take none (GDAL ignores it, or warns and takes its
// default for one out of range).
TEST(Overview, CogLevelIsCheckedAgainstItsCompression) {
  const auto cog = [](std::vector<std::string> items) {
    return parse_creation_options(items, OutputFormat::Cog);
  };
  EXPECT_EQ(cog({"LEVEL=12", "COMPRESS=DEFLATE"}).deflate_level, 12);
  EXPECT_EQ(cog({"COMPRESS=ZSTD", "LEVEL=22"}).zstd_level, 22);
  EXPECT_EQ(cog({"COMPRESS=DEFLATE", "LEVEL=1"}).deflate_level, 1);
  const auto message = [&](std::vector<std::string> items) {
    try {
      cog(items);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(message({"COMPRESS=DEFLATE", "LEVEL=22"}),
            "creation option LEVEL=22: expected 1 to 12 for DEFLATE");
  EXPECT_EQ(message({"LEVEL=0", "COMPRESS=DEFLATE"}),
            "creation option LEVEL=0: expected 1 to 12 for DEFLATE");
  EXPECT_EQ(message({"COMPRESS=ZSTD", "LEVEL=23"}),
            "creation option LEVEL=23: expected 1 to 22 for ZSTD");
  EXPECT_EQ(message({"LEVEL=5"}),
            "creation option LEVEL=5: COMPRESS=LZW takes no level (DEFLATE takes 1 to 12, ZSTD 1 "
            "to 22)");
  EXPECT_NE(message({"COMPRESS=NONE", "LEVEL=5"}), "");
  EXPECT_NE(message({"COMPRESS=ZSTD", "LEVEL=abc"}), "");
}

TEST(Overview, LevelsAreTheDriversOrWhatTheRasterCanHave) {
  OutputSpec spec;
  spec.path = "x.tif";
  spec.format = OutputFormat::Cog;
  spec.size = {16000, 16000};
  spec.tile_width = spec.tile_height = 512;
  EXPECT_EQ(overview_levels(spec), 5);  // 8000, 4000, 2000, 1000, 500
  spec.options.no_overviews = true;
  EXPECT_EQ(overview_levels(spec), 0);
  spec.options.overview_count = 9;
  EXPECT_EQ(overview_levels(spec), 9);
  spec.options.overview_count = 10;  // a 512-cell tile's share of level 10 is under a cell
  EXPECT_THROW(overview_levels(spec), Error);
  spec.size = {100, 60};
  spec.options.overview_count = 7;  // 100 -> 50, 25, 13, 7, 4, 2, 1
  EXPECT_EQ(overview_levels(spec), 7);
  spec.options.overview_count = 8;
  EXPECT_THROW(overview_levels(spec), Error);
}

TEST(Overview, FactorsAreConsecutivePowersOfTwo) {
  EXPECT_EQ(overview_count_of({2, 4, 8, 16}), 4);
  EXPECT_THROW(overview_count_of({2, 8}), Error);
  EXPECT_THROW(overview_count_of({3}), Error);
}

}  // namespace
}  // namespace tessera
