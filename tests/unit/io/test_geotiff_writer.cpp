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

#include "io_test_util.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/geometry.hpp"
#include "tessera/io/geotiff.hpp"
#include "tessera/io/raster_source.hpp"

namespace tessera::io {
namespace {

const std::string kData = TESSERA_TEST_DATA;
// The tests also call GDAL directly, so its drivers must be registered before any test runs.
const bool kGdalReady = (init_gdal(64 << 20), true);

GDALDataType gdal_type_of(PixelType t) {
  return GDALGetDataTypeByName(std::string(name_of(t)).c_str());
}

// A cell value that varies smoothly with some noise, negative for signed types and fractional
// for floats, so that predictors and compressors have real work.
double cell_value(PixelType t, int64_t x, int64_t y, int band) {
  const double v = 3.0 * x - 2.0 * y + 50.0 * band + static_cast<double>((x * 7 + y * 13) % 5);
  switch (t) {
    case PixelType::Byte:
      return static_cast<double>(static_cast<int64_t>(v + 1000) % 256);
    case PixelType::UInt16:
      return v + 1000;
    case PixelType::Int16:
      return v - 100;
    default:
      return v * 0.37 - 21.5;
  }
}

// All cells of one band, row-major over the raster, as bytes of type t.
std::vector<std::byte> band_cells(PixelType t, Extent size, int band) {
  std::vector<double> values(static_cast<size_t>(size.cells()));
  for (int64_t y = 0; y < size.height; ++y)
    for (int64_t x = 0; x < size.width; ++x)
      values[static_cast<size_t>(y * size.width + x)] = cell_value(t, x, y, band);
  std::vector<std::byte> bytes(values.size() * size_of(t));
  GDALCopyWords64(values.data(), GDT_Float64, 8, bytes.data(), gdal_type_of(t),
                  static_cast<int>(size_of(t)), static_cast<GPtrDiff_t>(values.size()));
  return bytes;
}

// The full (padded) tile `index` cut from a band's cells; padding cells are zero.
std::vector<std::byte> tile_cells(const std::vector<std::byte>& band, const TileGrid& grid,
                                  PixelType t, int64_t index) {
  const size_t cell = size_of(t);
  std::vector<std::byte> tile(static_cast<size_t>(grid.tile_width() * grid.tile_height()) * cell);
  const Window owned = grid.owned(index);
  for (int64_t y = 0; y < owned.height; ++y)
    std::memcpy(
        tile.data() + static_cast<size_t>(y * grid.tile_width()) * cell,
        band.data() + static_cast<size_t>((owned.y + y) * grid.raster().width + owned.x) * cell,
        static_cast<size_t>(owned.width) * cell);
  return tile;
}

std::string crs_of_n43() { return probe(kData + "/n43.tif").crs_wkt; }

OutputSpec make_spec(const std::string& path, PixelType type, int bands, Compression c,
                     int predictor) {
  OutputSpec spec;
  spec.path = path;
  spec.size = {100, 70};
  spec.bands = bands;
  spec.type = type;
  spec.tile_width = 32;
  spec.tile_height = 16;
  spec.nodata = type == PixelType::Byte ? 255.0 : -99.0;
  if (type == PixelType::UInt16) spec.nodata = 65535.0;
  spec.has_geotransform = true;
  spec.geotransform = {1000.0, 30.0, 0.0, 5000.0, 0.0, -30.0};
  spec.crs_wkt = crs_of_n43();
  for (int b = 0; b < bands; ++b) spec.band_descriptions.push_back("band " + std::to_string(b + 1));
  spec.options.compression = c;
  spec.options.predictor = predictor;
  return spec;
}

// Encodes and writes every tile of every band, in a shuffled order, then commits.
void write_all(const OutputSpec& spec, const std::vector<std::vector<std::byte>>& bands) {
  const TileGrid grid(spec.size, spec.tile_width, spec.tile_height);
  std::vector<std::pair<int, int64_t>> order;
  for (int b = 0; b < spec.bands; ++b)
    for (int64_t t = 0; t < grid.count(); ++t) order.emplace_back(b, t);
  std::shuffle(order.begin(), order.end(), std::mt19937(42));
  TileEncoder encoder(spec);
  GeoTiffWriter writer(spec);
  for (const auto& [b, t] : order) {
    const auto cells = tile_cells(bands[static_cast<size_t>(b)], grid, spec.type, t);
    writer.write_tile(b, t, encoder.encode(cells.data()));
  }
  writer.commit();
}

const char* compression_name(Compression c) {
  switch (c) {
    case Compression::Deflate:
      return "DEFLATE";
    case Compression::Zstd:
      return "ZSTD";
    case Compression::Lzw:
      return "LZW";
    default:
      return nullptr;
  }
}

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

TEST(TileEncoder, LeavesTheCallersCellsAlone) {
  for (int predictor : {2, 3}) {
    OutputSpec spec = make_spec("x.tif", PixelType::Float32, 1, Compression::Zstd, predictor);
    const auto band = band_cells(spec.type, spec.size, 0);
    const auto tile = tile_cells(band, TileGrid(spec.size, 32, 16), spec.type, 0);
    auto copy = tile;
    TileEncoder encoder(spec);
    EXPECT_FALSE(encoder.encode(copy.data()).empty());
    EXPECT_TRUE(copy == tile);
  }
}

TEST(TileEncoder, UncompressedBytesAreTheCells) {
  OutputSpec spec = make_spec("x.tif", PixelType::Int16, 1, Compression::None, 1);
  const auto band = band_cells(spec.type, spec.size, 0);
  const auto tile = tile_cells(band, TileGrid(spec.size, 32, 16), spec.type, 3);
  TileEncoder encoder(spec);
  const auto bytes = encoder.encode(tile.data());
  EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), tile.begin(), tile.end()));
}

TEST(TileEncoder, RefusesPredictorsThatDoNotFit) {
  EXPECT_THROW(TileEncoder(make_spec("x.tif", PixelType::Int16, 1, Compression::Zstd, 3)), Error);
  EXPECT_THROW(TileEncoder(make_spec("x.tif", PixelType::Float32, 1, Compression::None, 2)), Error);
}

// One encoder keeps its in-memory TIFF from tile to tile and starts a new one every 1024 tiles;
// across 2500 tiles, noise and smooth ones in turn (so that each tile's bytes are longer or
// shorter than the last's), each tile gets the bytes a fresh encoder gives it.
TEST(TileEncoder, ManyTilesGiveTheBytesOfAFreshEncoder) {
  std::mt19937 random(7);
  for (const Compression c : {Compression::Zstd, Compression::Deflate, Compression::Lzw}) {
    const OutputSpec spec = make_spec("x.tif", PixelType::UInt16, 1, c, 2);
    const TileGrid grid(spec.size, spec.tile_width, spec.tile_height);
    const auto band = band_cells(spec.type, spec.size, 0);
    std::vector<std::byte> noise(static_cast<size_t>(spec.tile_width * spec.tile_height) * 2);
    TileEncoder encoder(spec);
    for (int i = 0; i < 2500; ++i) {
      std::vector<std::byte> cells;
      if (i % 2 == 0) {
        cells = tile_cells(band, grid, spec.type, i % grid.count());
      } else {
        for (auto& b : noise) b = static_cast<std::byte>(random());
        cells = noise;
      }
      const auto bytes = encoder.encode(cells.data());
      const std::vector<std::byte> got(bytes.begin(), bytes.end());
      if (i % 97 != 0 && i % 1024 > 1 && i % 1024 < 1022) continue;  // compare a sample
      TileEncoder fresh(spec);
      const auto expected = fresh.encode(cells.data());
      ASSERT_TRUE(std::equal(got.begin(), got.end(), expected.begin(), expected.end()))
          << compression_name(c) << " tile " << i;
    }
  }
}

// Encoders on several threads at once give each tile the bytes one encoder alone gives it.
TEST(TileEncoder, EncodersOnThreadsAgreeWithOneEncoder) {
  const OutputSpec spec = make_spec("x.tif", PixelType::Float32, 1, Compression::Zstd, 2);
  const TileGrid grid(spec.size, spec.tile_width, spec.tile_height);
  const auto band = band_cells(spec.type, spec.size, 0);
  std::vector<std::vector<std::byte>> alone(static_cast<size_t>(grid.count()));
  TileEncoder single(spec);
  for (int64_t t = 0; t < grid.count(); ++t) {
    const auto bytes = single.encode(tile_cells(band, grid, spec.type, t).data());
    alone[static_cast<size_t>(t)].assign(bytes.begin(), bytes.end());
  }
  std::vector<std::vector<std::byte>> threaded(alone.size());
  auto work = [&](int64_t first) {
    TileEncoder encoder(spec);
    for (int round = 0; round < 20; ++round)
      for (int64_t t = first; t < grid.count(); t += 3) {
        const auto bytes = encoder.encode(tile_cells(band, grid, spec.type, t).data());
        threaded[static_cast<size_t>(t)].assign(bytes.begin(), bytes.end());
      }
  };
  std::vector<std::thread> threads;
  for (int64_t first = 0; first < 3; ++first) threads.emplace_back(work, first);
  for (auto& t : threads) t.join();
  EXPECT_TRUE(threaded == alone);
}

// The raw bytes GDAL (through libtiff) stores for tile 0 of a file it writes itself.
std::vector<std::byte> gdal_tile_bytes(const std::string& path, const OutputSpec& spec,
                                       const std::vector<std::byte>& band,
                                       const std::vector<std::string>& options) {
  std::vector<const char*> list;
  for (const auto& o : options) list.push_back(o.c_str());
  list.push_back(nullptr);
  GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path.c_str(), 100, 70, 1,
                               gdal_type_of(spec.type), const_cast<char**>(list.data()));
  EXPECT_EQ(
      GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Write, 0, 0, 100, 70,
                   const_cast<std::byte*>(band.data()), 100, 70, gdal_type_of(spec.type), 0, 0),
      CE_None);
  GDALClose(ds);
  TIFF* tif = TIFFOpen(path.c_str(), "r");
  std::vector<std::byte> bytes(1 << 16);
  const tmsize_t n = TIFFReadRawTile(tif, 0, bytes.data(), static_cast<tmsize_t>(bytes.size()));
  TIFFClose(tif);
  bytes.resize(static_cast<size_t>(std::max<tmsize_t>(n, 0)));
  return bytes;
}

TEST(TileEncoder, BytesMatchWhatGdalStores) {
  test::TempDir dir;
  const std::vector<std::pair<Compression, std::string>> codecs{
      {Compression::Zstd, "ZSTD"}, {Compression::Deflate, "DEFLATE"}, {Compression::Lzw, "LZW"}};
  for (const auto& [c, name] : codecs) {
    OutputSpec spec = make_spec("x.tif", PixelType::Float32, 1, c, 2);
    const auto band = band_cells(spec.type, spec.size, 0);
    const auto tile = tile_cells(band, TileGrid(spec.size, 32, 16), spec.type, 0);
    const auto expected = gdal_tile_bytes(
        dir.file(name + ".tif"), spec, band,
        {"TILED=YES", "BLOCKXSIZE=32", "BLOCKYSIZE=16", "COMPRESS=" + name, "PREDICTOR=2"});
    TileEncoder encoder(spec);
    const auto bytes = encoder.encode(tile.data());
    EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), expected.begin(), expected.end())) << name;
  }
}

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
      GeoTiffWriter writer(ordered);
      for (int b = 0; b < bands; ++b)
        for (int64_t t = 0; t < grid.count(); ++t)
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
