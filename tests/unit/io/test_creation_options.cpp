// Tests of GeoTIFF creation option parsing and of the BigTIFF decision.
#include <gtest/gtest.h>

#include "tessera/core/error.hpp"
#include "tessera/core/output_spec.hpp"

namespace tessera {
namespace {

std::string error_of(const std::vector<std::string>& items) {
  try {
    parse_creation_options(items);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(CreationOptions, DefaultsWhenEmpty) {
  const CreationOptions o = parse_creation_options({});
  EXPECT_EQ(o.compression, Compression::None);
  EXPECT_EQ(o.predictor, 1);
  EXPECT_EQ(o.bigtiff, "IF_SAFER");
  EXPECT_FALSE(o.block_width);
}

TEST(CreationOptions, ParsesEveryOptionCaseInsensitively) {
  const CreationOptions o = parse_creation_options(
      {"compress=zstd", "Predictor=2", "ZSTD_LEVEL=15", "bigtiff=if_needed", "TILED=yes",
       "BLOCKXSIZE=512", "blockysize=256", "NUM_THREADS=ALL_CPUS"});
  EXPECT_EQ(o.compression, Compression::Zstd);
  EXPECT_EQ(o.predictor, 2);
  EXPECT_EQ(o.zstd_level, 15);
  EXPECT_EQ(o.bigtiff, "IF_NEEDED");
  EXPECT_EQ(o.block_width, 512);
  EXPECT_EQ(o.block_height, 256);
  EXPECT_EQ(parse_creation_options({"zlevel=3", "compress=deflate"}).deflate_level, 3);
}

// GDAL's GTiff driver ignores a level of another compression without a word; tessera refuses it,
// as it refuses a COG's LEVEL with NONE or LZW.
TEST(CreationOptions, LevelOfAnotherCompressionIsRefused) {
  EXPECT_EQ(error_of({"COMPRESS=NONE", "ZLEVEL=3"}),
            "creation option ZLEVEL=3: COMPRESS=NONE takes no ZLEVEL (ZLEVEL goes with DEFLATE, "
            "ZSTD_LEVEL with ZSTD)");
  EXPECT_EQ(error_of({"ZSTD_LEVEL=3", "COMPRESS=LZW"}),
            "creation option ZSTD_LEVEL=3: COMPRESS=LZW takes no ZSTD_LEVEL (ZLEVEL goes with "
            "DEFLATE, ZSTD_LEVEL with ZSTD)");
  EXPECT_NE(error_of({"ZLEVEL=3"}), "");  // no COMPRESS: NONE
  EXPECT_NE(error_of({"COMPRESS=ZSTD", "ZLEVEL=3"}), "");
  EXPECT_NE(error_of({"COMPRESS=DEFLATE", "ZSTD_LEVEL=3"}), "");
  EXPECT_EQ(parse_creation_options({"ZSTD_LEVEL=3", "COMPRESS=ZSTD"}).zstd_level, 3);
}

TEST(CreationOptions, ParsesEachCompression) {
  EXPECT_EQ(parse_creation_options({"COMPRESS=DEFLATE"}).compression, Compression::Deflate);
  EXPECT_EQ(parse_creation_options({"COMPRESS=LZW"}).compression, Compression::Lzw);
  EXPECT_EQ(parse_creation_options({"COMPRESS=NONE"}).compression, Compression::None);
  EXPECT_EQ(parse_creation_options({"COMPRESS=ZSTD", "COMPRESS=LZW"}).compression,
            Compression::Lzw);
}

TEST(CreationOptions, UnknownOptionIsNamed) {
  EXPECT_EQ(error_of({"COMPRES=ZSTD"}).rfind("unknown creation option 'COMPRES'", 0), 0u);
}

TEST(CreationOptions, BadValuesAreNamed) {
  EXPECT_EQ(error_of({"COMPRESS=JPEG"}),
            "creation option COMPRESS=JPEG: expected NONE, DEFLATE, ZSTD or LZW");
  EXPECT_EQ(error_of({"PREDICTOR=4"}), "creation option PREDICTOR=4: expected 1, 2 or 3");
  EXPECT_NE(error_of({"PREDICTOR=two"}), "");
  EXPECT_NE(error_of({"ZSTD_LEVEL=0"}), "");
  EXPECT_NE(error_of({"ZSTD_LEVEL=23"}), "");
  EXPECT_NE(error_of({"ZLEVEL=13"}), "");
  EXPECT_NE(error_of({"BIGTIFF=MAYBE"}), "");
  EXPECT_NE(error_of({"BLOCKXSIZE=100"}), "");
  EXPECT_NE(error_of({"BLOCKYSIZE=0"}), "");
  EXPECT_NE(error_of({"BLOCKYSIZE=-16"}), "");
  EXPECT_NE(error_of({"BLOCKXSIZE=256x"}), "");
}

TEST(CreationOptions, UntiledIsRefused) {
  EXPECT_EQ(error_of({"TILED=NO"}),
            "creation option TILED=NO: tessera always writes tiled GeoTIFF");
}

TEST(CreationOptions, ItemWithoutEqualsIsRefused) {
  EXPECT_EQ(error_of({"COMPRESS"}), "creation option 'COMPRESS': expected NAME=VALUE");
  EXPECT_NE(error_of({"=ZSTD"}), "");
}

OutputSpec spec_of(int64_t width, int64_t height, PixelType type, const std::string& bigtiff,
                   Compression compression) {
  OutputSpec spec;
  spec.size = {width, height};
  spec.type = type;
  spec.tile_width = 512;
  spec.tile_height = 512;
  spec.options.bigtiff = bigtiff;
  spec.options.compression = compression;
  return spec;
}

TEST(NeedsBigTiff, YesAndNoAreObeyed) {
  EXPECT_TRUE(needs_bigtiff(spec_of(10, 10, PixelType::Byte, "YES", Compression::None)));
  EXPECT_FALSE(needs_bigtiff(spec_of(100000, 100000, PixelType::Float64, "NO", Compression::None)));
}

TEST(NeedsBigTiff, SmallFilesStayClassic) {
  for (const char* mode : {"IF_NEEDED", "IF_SAFER"})
    EXPECT_FALSE(needs_bigtiff(spec_of(8000, 8000, PixelType::Float32, mode, Compression::Zstd)));
}

TEST(NeedsBigTiff, CompressedFilesThatCouldPassFourGiBSwitch) {
  // 32768 x 32768 Float32 is exactly 4 GiB of tiles: over the limit whatever the compression.
  for (auto c : {Compression::None, Compression::Zstd, Compression::Deflate, Compression::Lzw})
    EXPECT_TRUE(needs_bigtiff(spec_of(32768, 32768, PixelType::Float32, "IF_NEEDED", c)));
}

TEST(NeedsBigTiff, CountsPaddedTilesAndCompressionOverhead) {
  // 32000 x 32000 Float32 = 3.81 GiB of cells, but padded to 63 x 63 tiles of 512 it is 3.88 GiB;
  // the worst case of LZW (1.5x) passes 4 GiB while uncompressed does not.
  EXPECT_FALSE(
      needs_bigtiff(spec_of(32000, 32000, PixelType::Float32, "IF_SAFER", Compression::None)));
  EXPECT_TRUE(
      needs_bigtiff(spec_of(32000, 32000, PixelType::Float32, "IF_SAFER", Compression::Lzw)));
  // 32257 x 32257 is under 4 GiB of cells but 64 x 64 padded tiles make exactly 4 GiB.
  EXPECT_TRUE(
      needs_bigtiff(spec_of(32257, 32257, PixelType::Float32, "IF_SAFER", Compression::None)));
}

TEST(NeedsBigTiff, BandsMultiplyTheSize) {
  OutputSpec spec = spec_of(20000, 20000, PixelType::Float32, "IF_NEEDED", Compression::Zstd);
  EXPECT_FALSE(needs_bigtiff(spec));
  spec.bands = 3;
  EXPECT_TRUE(needs_bigtiff(spec));
}

}  // namespace
}  // namespace tessera
