// TileEncoder alone: its bytes against GDAL's and a fresh encoder's, on one thread and many.
#include <gdal.h>
#include <gtest/gtest.h>
#include <tiffio.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "geotiff_test_util.hpp"
#include "io_test_util.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/geometry.hpp"
#include "tessera/io/geotiff.hpp"

namespace tessera::io {
namespace {

using namespace test;  // NOLINT: the helpers of this test folder

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

// One encoder keeps its ZSTD context, or its in-memory TIFF (a new one every 1024 tiles), from
// tile to tile;
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
  const std::vector<std::pair<Compression, std::string>> codecs{{Compression::Deflate, "DEFLATE"},
                                                                {Compression::Lzw, "LZW"}};
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

// What a ZSTD frame holds: the tile's bytes after the predictor.
std::vector<std::byte> unpacked(std::span<const std::byte> frame, size_t bytes) {
  std::vector<std::byte> out(bytes + 1);
  const size_t n = ZSTD_decompress(out.data(), out.size(), frame.data(), frame.size());
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(ZSTD_isError(n) ? 0 : n);
  return out;
}

// ZSTD tiles are made without libtiff, with other match finding than libtiff's stream: their
// frames hold what GDAL's (through libtiff) hold, byte for byte, for every type and predictor,
// at levels 1 and 9.
TEST(TileEncoder, ZstdFramesHoldWhatGdalsHold) {
  test::TempDir dir;
  for (PixelType t : {PixelType::Byte, PixelType::UInt16, PixelType::Int16, PixelType::UInt32,
                      PixelType::Int32, PixelType::Float32, PixelType::Float64})
    for (int p = 1; p <= (is_integer(t) ? 2 : 3); ++p)
      for (int level : {1, 9}) {
        OutputSpec spec = make_spec("x.tif", t, 1, Compression::Zstd, p);
        spec.options.zstd_level = level;
        const auto band = band_cells(t, spec.size, 0);
        const auto tile = tile_cells(band, TileGrid(spec.size, 32, 16), t, 0);
        const std::string name = std::string(name_of(t)) + "_" + std::to_string(p);
        const auto expected = gdal_tile_bytes(
            dir.file(name + ".tif"), spec, band,
            {"TILED=YES", "BLOCKXSIZE=32", "BLOCKYSIZE=16", "COMPRESS=ZSTD",
             "PREDICTOR=" + std::to_string(p), "ZSTD_LEVEL=" + std::to_string(level)});
        TileEncoder encoder(spec);
        const auto frame = encoder.encode(tile.data());
        EXPECT_EQ(unpacked(frame, tile.size()), unpacked(expected, tile.size())) << name;
        // libzstd was told the tile's size (libtiff's stream leaves it unknown)
        EXPECT_EQ(ZSTD_getFrameContentSize(frame.data(), frame.size()), tile.size()) << name;
      }
}

}  // namespace
}  // namespace tessera::io
