// Round trips through TileEncoder and GeoTiffWriter, read back with GDAL.
#include <gdal.h>
#include <gtest/gtest.h>
#include <ogr_srs_api.h>
#include <tiffio.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include "geotiff_test_util.hpp"
#include "io_test_util.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/geometry.hpp"
#include "tessera/io/geotiff.hpp"
#include "tessera/io/raster_source.hpp"

namespace tessera::io {
namespace {

using namespace test;  // NOLINT: the helpers of this test folder

void check_metadata(GDALDatasetH ds, const OutputSpec& spec) {
  const char* compression = GDALGetMetadataItem(ds, "COMPRESSION", "IMAGE_STRUCTURE");
  const char* expected = compression_name(spec.options.compression);
  if (expected) {
    ASSERT_NE(compression, nullptr);
    EXPECT_STREQ(compression, expected);
  } else {
    EXPECT_EQ(compression, nullptr);
  }
  const char* predictor = GDALGetMetadataItem(ds, "PREDICTOR", "IMAGE_STRUCTURE");
  if (spec.options.predictor != 1) {
    ASSERT_NE(predictor, nullptr);
    EXPECT_EQ(std::stoi(predictor), spec.options.predictor);
  }
  std::array<double, 6> gt{};
  ASSERT_EQ(GDALGetGeoTransform(ds, gt.data()), CE_None);
  EXPECT_EQ(gt, spec.geotransform);
  OGRSpatialReferenceH written = OSRNewSpatialReference(GDALGetProjectionRef(ds));
  OGRSpatialReferenceH wanted = OSRNewSpatialReference(spec.crs_wkt.c_str());
  EXPECT_TRUE(OSRIsSame(written, wanted));
  OSRDestroySpatialReference(written);
  OSRDestroySpatialReference(wanted);
}

void check_band(GDALDatasetH ds, const OutputSpec& spec, int b,
                const std::vector<std::byte>& cells) {
  GDALRasterBandH band = GDALGetRasterBand(ds, b + 1);
  ASSERT_EQ(GDALGetRasterDataType(band), gdal_type_of(spec.type));
  int has_nodata = 0;
  EXPECT_EQ(GDALGetRasterNoDataValue(band, &has_nodata), *spec.nodata);
  EXPECT_TRUE(has_nodata);
  EXPECT_EQ(std::string(GDALGetDescription(band)), spec.band_descriptions[static_cast<size_t>(b)]);
  int bw = 0, bh = 0;
  GDALGetBlockSize(band, &bw, &bh);
  EXPECT_EQ(bw, spec.tile_width);
  EXPECT_EQ(bh, spec.tile_height);
  std::vector<std::byte> read(cells.size());
  ASSERT_EQ(GDALRasterIO(band, GF_Read, 0, 0, 100, 70, read.data(), 100, 70,
                         gdal_type_of(spec.type), 0, 0),
            CE_None);
  EXPECT_TRUE(read == cells) << "band " << b + 1 << " differs";
}

struct Case {
  PixelType type;
  int bands;
  Compression compression;
  int predictor;
};

std::string case_name(const testing::TestParamInfo<Case>& info) {
  const Case& c = info.param;
  const char* comp = compression_name(c.compression);
  return std::string(name_of(c.type)) + "_" + std::to_string(c.bands) + "band_" +
         (comp ? comp : "NONE") + "_pred" + std::to_string(c.predictor);
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (PixelType t : {PixelType::Byte, PixelType::UInt16, PixelType::Int16, PixelType::Float32,
                      PixelType::Float64})
    for (int bands : {1, 3}) {
      cases.push_back({t, bands, Compression::None, 1});
      for (Compression c : {Compression::Deflate, Compression::Zstd, Compression::Lzw})
        for (int p = 1; p <= (is_integer(t) ? 2 : 3); ++p) cases.push_back({t, bands, c, p});
    }
  return cases;
}

class RoundTrip : public testing::TestWithParam<Case> {};

TEST_P(RoundTrip, GdalReadsBackTheSameFile) {
  const Case& c = GetParam();
  test::TempDir dir;
  const OutputSpec spec =
      make_spec(dir.file("out.tif"), c.type, c.bands, c.compression, c.predictor);
  std::vector<std::vector<std::byte>> bands;
  for (int b = 0; b < c.bands; ++b) bands.push_back(band_cells(c.type, spec.size, b));
  write_all(spec, bands);
  EXPECT_EQ(dir.entries(), 1);
  GDALDatasetH ds = GDALOpen(spec.path.c_str(), GA_ReadOnly);
  ASSERT_NE(ds, nullptr);
  EXPECT_EQ(GDALGetRasterCount(ds), c.bands);
  check_metadata(ds, spec);
  for (int b = 0; b < c.bands; ++b) check_band(ds, spec, b, bands[static_cast<size_t>(b)]);
  GDALClose(ds);
}

INSTANTIATE_TEST_SUITE_P(AllTypesAndCodecs, RoundTrip, testing::ValuesIn(all_cases()), case_name);

TEST(GeoTiffWriter, WithoutCommitLeavesNoFile) {
  test::TempDir dir;
  const OutputSpec spec =
      make_spec(dir.file("out.tif"), PixelType::Float32, 1, Compression::Zstd, 2);
  {
    GeoTiffWriter writer(spec);
    TileEncoder encoder(spec);
    const auto band = band_cells(spec.type, spec.size, 0);
    const auto tile = tile_cells(band, TileGrid(spec.size, 32, 16), spec.type, 0);
    writer.write_tile(0, 0, encoder.encode(tile.data()));
    EXPECT_EQ(dir.entries(), 1);  // the temporary file
  }
  EXPECT_FALSE(std::filesystem::exists(spec.path));
  EXPECT_EQ(dir.entries(), 0);
}

TEST(GeoTiffWriter, UnwritableFolderIsNamed) {
  test::TempDir dir;
  std::ofstream(dir.file("plain-file")) << "x";
  for (const std::string& path : {dir.file("missing/out.tif"), dir.file("plain-file/out.tif")}) {
    try {
      GeoTiffWriter writer(make_spec(path, PixelType::Byte, 1, Compression::None, 1));
      FAIL() << "created " << path;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
    EXPECT_FALSE(std::filesystem::exists(path));
  }
  EXPECT_EQ(dir.entries(), 1);
}

TEST(GeoTiffWriter, RefusesBadTilesAndPredictors) {
  test::TempDir dir;
  EXPECT_THROW(
      GeoTiffWriter(make_spec(dir.file("a.tif"), PixelType::UInt16, 1, Compression::Lzw, 3)),
      Error);
  const OutputSpec spec = make_spec(dir.file("b.tif"), PixelType::Byte, 2, Compression::None, 1);
  GeoTiffWriter writer(spec);
  const std::vector<std::byte> bytes(32 * 16);
  EXPECT_THROW(writer.write_tile(2, 0, bytes), Error);
  EXPECT_THROW(writer.write_tile(0, 20, bytes), Error);
  EXPECT_THROW(writer.write_tile(-1, 0, bytes), Error);
  EXPECT_EQ(dir.entries(), 1);
}

TEST(GeoTiffWriter, BigTiffWhenAsked) {
  test::TempDir dir;
  OutputSpec spec = make_spec(dir.file("big.tif"), PixelType::Byte, 1, Compression::Deflate, 1);
  spec.options.bigtiff = "YES";
  GeoTiffWriter writer(spec);
  writer.commit();
  std::ifstream file(spec.path, std::ios::binary);
  char header[4] = {};
  file.read(header, 4);
  EXPECT_EQ(header[2], 43);  // BigTIFF's version number; classic TIFF has 42
}

// The bytes of a whole file.
std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// An earlier file at the path stays until commit, which puts the new file in its place and
// leaves nothing else in the folder.
TEST(GeoTiffWriter, CommitReplacesAnEarlierFile) {
  test::TempDir dir;
  const OutputSpec spec = make_spec(dir.file("out.tif"), PixelType::Byte, 1, Compression::None, 1);
  std::ofstream(spec.path) << "an earlier run's output";
  GeoTiffWriter writer(spec);
  EXPECT_EQ(file_bytes(spec.path), "an earlier run's output");
  writer.commit();
  EXPECT_EQ(file_bytes(spec.path).substr(0, 4), std::string("II*\0", 4));
  EXPECT_EQ(dir.entries(), 1);
}

// Every band-tile written in place through two TileFiles (as two ranks would), in a shuffled
// order, gives the file the ordered writer gives with the tiles appended in order.
TEST(InPlaceTiles, SameFileAsTilesAppendedInOrder) {
  for (const int bands : {1, 3}) {
    test::TempDir dir;
    OutputSpec ordered =
        make_spec(dir.file("ordered.tif"), PixelType::Float32, bands, Compression::None, 1);
    OutputSpec in_place = ordered;
    in_place.path = dir.file("in_place.tif");
    std::vector<std::vector<std::byte>> cells;
    for (int b = 0; b < bands; ++b) cells.push_back(band_cells(ordered.type, ordered.size, b));
    const TileGrid grid(ordered.size, ordered.tile_width, ordered.tile_height);
    {
      GeoTiffWriter writer(ordered);  // in the ordered sink's order: tile by tile, band by band
      for (int64_t t = 0; t < grid.count(); ++t)
        for (int b = 0; b < bands; ++b)
          writer.write_tile(b, t, tile_cells(cells[static_cast<size_t>(b)], grid, ordered.type, t));
      writer.commit();
    }
    {
      GeoTiffWriter writer(in_place);
      const TileLayout layout = writer.reserve_tiles();
      EXPECT_EQ(layout.tiles_per_band, grid.count());
      TileFile first(writer.temporary_path(), "rank 0", layout);
      TileFile second(writer.temporary_path(), "rank 1", layout);
      std::vector<std::pair<int, int64_t>> order;
      for (int b = 0; b < bands; ++b)
        for (int64_t t = 0; t < grid.count(); ++t) order.emplace_back(b, t);
      std::shuffle(order.begin(), order.end(), std::mt19937(7));
      for (size_t i = 0; i < order.size(); ++i) {
        const auto [b, t] = order[i];
        (i % 2 ? second : first)
            .write(b, t, tile_cells(cells[static_cast<size_t>(b)], grid, in_place.type, t));
      }
      writer.commit();
    }
    EXPECT_EQ(dir.entries(), 2);
    EXPECT_TRUE(file_bytes(ordered.path) == file_bytes(in_place.path)) << bands << " bands";
    GDALDatasetH ds = GDALOpen(in_place.path.c_str(), GA_ReadOnly);
    ASSERT_NE(ds, nullptr);
    for (int b = 0; b < bands; ++b) check_band(ds, in_place, b, cells[static_cast<size_t>(b)]);
    GDALClose(ds);
  }
}

TEST(InPlaceTiles, OnlyUncompressedTilesAndOnlyWholeOnesFit) {
  test::TempDir dir;
  GeoTiffWriter zstd(make_spec(dir.file("z.tif"), PixelType::Float32, 1, Compression::Zstd, 1));
  EXPECT_THROW(zstd.reserve_tiles(), Error);
  GeoTiffWriter plain(make_spec(dir.file("p.tif"), PixelType::Float32, 1, Compression::None, 1));
  const TileLayout layout = plain.reserve_tiles();
  TileFile file(plain.temporary_path(), "p.tif", layout);
  const std::vector<std::byte> short_tile(static_cast<size_t>(layout.tile_bytes - 4));
  EXPECT_THROW(file.write(0, 0, short_tile), Error);
  const std::vector<std::byte> tile(static_cast<size_t>(layout.tile_bytes));
  EXPECT_THROW(file.write(0, layout.tiles_per_band, tile), Error);
}

TEST(InPlaceTiles, AbandonedWriterLeavesNothing) {
  test::TempDir dir;
  {
    GeoTiffWriter writer(
        make_spec(dir.file("gone.tif"), PixelType::Int16, 1, Compression::None, 1));
    TileFile file(writer.temporary_path(), "gone.tif", writer.reserve_tiles());
  }
  EXPECT_EQ(dir.entries(), 0);
}

}  // namespace
}  // namespace tessera::io
