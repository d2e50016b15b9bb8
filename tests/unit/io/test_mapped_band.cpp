// Reads straight from the file (tiles and strips from the mapping) against GDAL's own reads of the
// same file, on copies of real rasters in every layout GeoTIFF allows: tiles with partial edge
// tiles, strips, one whole strip, band and pixel interleaving, sparse blocks, and the files that
// must be left to GDAL (compressed, big-endian, 12-bit).
#include <gdal.h>
#include <gdal_utils.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "io_test_util.hpp"
#include "mapped_band.hpp"
#include "tessera/core/error.hpp"
#include "tessera/io/raster_source.hpp"

namespace tessera::io {
namespace {

const std::string kData = TESSERA_TEST_DATA;
const bool kGdalReady = (init_gdal(64 << 20), true);

/// gdal_translate `from` `to` with `args`.
void translate(const std::string& from, const std::string& to, std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  GDALTranslateOptions* options = GDALTranslateOptionsNew(argv.data(), nullptr);
  ASSERT_NE(options, nullptr);
  GDALDatasetH src = GDALOpen(from.c_str(), GA_ReadOnly);
  ASSERT_NE(src, nullptr);
  GDALDatasetH out = GDALTranslate(to.c_str(), src, options, nullptr);
  ASSERT_NE(out, nullptr);
  GDALClose(out);
  GDALClose(src);
  GDALTranslateOptionsFree(options);
}

/// Whether tessera reads band `band` of `path` straight from the file.
bool mapped(const std::string& path, int band = 1) {
  GDALDatasetH ds = GDALOpen(path.c_str(), GA_ReadOnly);
  EXPECT_NE(ds, nullptr);
  const bool yes = detail::MappedBand::open(ds, GDALGetRasterBand(ds, band), path) != nullptr;
  GDALClose(ds);
  return yes;
}

/// Windows across block edges and the raster's edges, plus random ones.
std::vector<Window> windows(Extent size) {
  std::vector<Window> w = {whole(size),      {-1, -1, size.width + 2, size.height + 2},
                           {0, 0, 1, 1},     {size.width - 1, size.height - 1, 5, 5},
                           {31, 15, 67, 35}, {63, 31, 3, 3}};
  std::mt19937 rng(3);
  for (int k = 0; k < 40; ++k) {
    const int64_t x = static_cast<int64_t>(rng() % static_cast<uint32_t>(size.width + 10)) - 5;
    const int64_t y = static_cast<int64_t>(rng() % static_cast<uint32_t>(size.height + 10)) - 5;
    w.push_back(
        {x, y, 1 + static_cast<int64_t>(rng() % 130), 1 + static_cast<int64_t>(rng() % 90)});
  }
  return w;
}

/// Every window of band `band` as T through RasterReader equals GDAL's cells of the file.
template <class T>
void expect_same_cells(const std::string& path, int band, GDALDataType type) {
  SCOPED_TRACE(path + " band " + std::to_string(band));
  const Extent size = probe(path, band).size;
  const std::vector<T> reference = test::gdal_cells<T>(path, band, type, size);
  RasterReader reader(path, band);
  for (const Window& w : windows(size)) {
    test::check_window(reader, reference, size, w);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

/// The same through the raw read in the band's own type.
void expect_same_raw(const std::string& path, int band) {
  const RasterInfo info = probe(path, band);
  const auto cell = static_cast<int64_t>(size_of(info.type));
  const Window w = {-2, 3, info.size.width + 1, info.size.height - 5};
  std::vector<std::byte> got(static_cast<size_t>(w.width * cell * w.height), std::byte{0});
  RasterReader(path, band)
      .read(w, info.type, View<std::byte>(got.data(), w.width * cell, w.height));
  std::vector<std::byte> want(got.size(), std::byte{0});
  GDALDatasetH ds = GDALOpen(path.c_str(), GA_ReadOnly);
  const GDALDataType type = GDALGetRasterDataType(GDALGetRasterBand(ds, band));
  ASSERT_EQ(GDALRasterIOEx(GDALGetRasterBand(ds, band), GF_Read, 0, w.y,
                           static_cast<int>(w.width - 2), static_cast<int>(w.height),
                           want.data() + 2 * cell, static_cast<int>(w.width - 2),
                           static_cast<int>(w.height), type, cell, w.width * cell, nullptr),
            CE_None);
  GDALClose(ds);
  EXPECT_EQ(got, want) << path;
}

TEST(MappedBand, TiledFilesWithPartialEdgeTilesEqualGdal) {
  test::TempDir dir;
  const std::string srtm = dir.file("srtm.tif"), n43 = dir.file("n43.tif");
  translate(kData + "/srtm.tif", srtm,
            {"-co", "TILED=YES", "-co", "BLOCKXSIZE=64", "-co", "BLOCKYSIZE=32"});
  translate(kData + "/n43.tif", n43,
            {"-co", "TILED=YES", "-co", "BLOCKXSIZE=16", "-co", "BLOCKYSIZE=16"});
  ASSERT_TRUE(mapped(srtm));
  ASSERT_TRUE(mapped(n43));
  expect_same_cells<int32_t>(srtm, 1, GDT_Int32);  // UInt16 widened
  expect_same_cells<float>(srtm, 1, GDT_Float32);  // converted by GDAL
  expect_same_cells<int32_t>(n43, 1, GDT_Int32);   // Int16 widened
  expect_same_raw(srtm, 1);
  expect_same_raw(n43, 1);
}

TEST(MappedBand, StripsEqualGdal) {
  test::TempDir dir;
  const std::string strips = dir.file("strips.tif"), one = dir.file("one.tif");
  translate(kData + "/nz_elev.tif", strips, {"-co", "BLOCKYSIZE=7"});
  translate(kData + "/nz_elev.tif", one, {"-co", "BLOCKYSIZE=1450"});
  ASSERT_TRUE(mapped(strips));
  for (const std::string& path : {strips, one}) {
    expect_same_cells<float>(path, 1, GDT_Float32);  // NaN nodata compared bit for bit
    expect_same_raw(path, 1);
  }
}

TEST(MappedBand, BandInterleavedBandsEqualGdalAndPixelInterleavedIsLeftToGdal) {
  test::TempDir dir;
  const std::string band = dir.file("band.tif"), pixel = dir.file("pixel.tif");
  translate(kData + "/L7_ETMs.tif", band, {"-co", "INTERLEAVE=BAND", "-co", "TILED=YES"});
  translate(kData + "/L7_ETMs.tif", pixel, {"-co", "INTERLEAVE=PIXEL", "-co", "TILED=YES"});
  for (int b : {1, 4, 6}) {
    ASSERT_TRUE(mapped(band, b));
    EXPECT_FALSE(mapped(pixel, b));
    expect_same_cells<int32_t>(band, b, GDT_Int32);
    expect_same_cells<int32_t>(pixel, b, GDT_Int32);
    expect_same_raw(band, b);
  }
}

TEST(MappedBand, CompressedBigEndianAndTwelveBitFilesAreLeftToGdal) {
  test::TempDir dir;
  const std::string big = dir.file("big.tif"), bits = dir.file("bits.tif");
  translate(kData + "/srtm.tif", big, {"-co", "ENDIANNESS=BIG", "-co", "TILED=YES"});
  translate(kData + "/srtm.tif", bits, {"-co", "NBITS=12"});
  EXPECT_FALSE(mapped(kData + "/srtm.tif"));
  EXPECT_FALSE(mapped(big));
  EXPECT_FALSE(mapped(bits));
  expect_same_cells<int32_t>(big, 1, GDT_Int32);
  expect_same_cells<int32_t>(bits, 1, GDT_Int32);
}

TEST(MappedBand, SparseBlocksAndConversionsFallBackToGdal) {
  test::TempDir dir;
  const std::string sparse = dir.file("sparse.tif"), wide = dir.file("float64.tif");
  {
    const char* options[] = {"TILED=YES", "BLOCKXSIZE=32", "BLOCKYSIZE=32", "SPARSE_OK=TRUE",
                             nullptr};
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), sparse.c_str(), 100, 70, 1,
                                 GDT_Float32, const_cast<char**>(options));
    ASSERT_NE(ds, nullptr);
    GDALSetRasterNoDataValue(GDALGetRasterBand(ds, 1), -5);
    std::vector<float> block(32 * 32);
    for (size_t k = 0; k < block.size(); ++k) block[k] = static_cast<float>(k) * 0.25f;
    ASSERT_EQ(GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Write, 32, 32, 32, 32, block.data(), 32, 32,
                           GDT_Float32, 0, 0),
              CE_None);
    GDALClose(ds);
  }
  translate(kData + "/nz_elev.tif", wide, {"-ot", "Float64", "-co", "TILED=YES"});
  ASSERT_TRUE(mapped(sparse));
  ASSERT_TRUE(mapped(wide));
  expect_same_cells<float>(sparse, 1, GDT_Float32);  // absent blocks read as nodata by GDAL
  expect_same_cells<float>(wide, 1, GDT_Float32);    // Float64 to float: GDAL converts
  expect_same_raw(wide, 1);                          // the own type: mapped
}

// A file cut short after the reader opened it: the copy's SIGBUS (tiles and strips, mapped)
// becomes an error naming the file, and the process goes on (the next read fails the same way,
// nothing hangs).
TEST(MappedBand, FileCutShortWhileOpenFailsNamingIt) {
  test::TempDir dir;
  for (const char* layout : {"TILED=YES", "BLOCKYSIZE=16"}) {
    SCOPED_TRACE(layout);
    const std::string path = dir.file(std::string("cut-") + layout + ".tif");
    translate(kData + "/nz_elev.tif", path, {"-co", layout});
    ASSERT_TRUE(mapped(path));
    RasterReader reader(path, 1);
    const Extent size = probe(path).size;
    std::vector<float> cells(static_cast<size_t>(size.cells()));
    std::filesystem::resize_file(path, std::filesystem::file_size(path) / 4);
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        reader.read(whole(size), View<float>(cells.data(), size.width, size.height));
        FAIL() << "reading a file cut short succeeded";
      } catch (const Error& e) {
        EXPECT_EQ(
            std::string(e.what()),
            path + ": cannot read cells: the file changed or its disk failed while it was read");
      }
    }
  }
}

/// This process's resident bytes of `kind` ("RssFile:" for pages mapped from files, "RssAnon:"
/// for its own memory), from /proc/self/status.
int64_t resident_bytes(const std::string& kind) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind(kind, 0) == 0) return std::stoll(line.substr(kind.size())) * 1024;
  return -1;
}

// Reading every other tile of a 192 MiB file (as one of two ranks does for a step without a
// halo), the file's pages a reader keeps mapped stay within its budget: blocks (strips or tiles)
// are dropped least recently used first, with the pages the kernel maps around each fault (which
// would otherwise pile up in blocks this reader never reads), and the reader allocates no buffer
// of its own.
TEST(MappedBand, ResidentPagesStayWithinTheBudget) {
  test::TempDir dir;
  const int width = 8192, height = 6144;
  for (const bool tiled : {false, true}) {
    SCOPED_TRACE(tiled ? "tiles" : "strips");
    const std::string path = dir.file(tiled ? "tiles.tif" : "strips.tif");
    {
      const char* tiles[] = {"TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", nullptr};
      const char* strips[] = {"BLOCKYSIZE=8", nullptr};
      GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path.c_str(), width, height, 1,
                                   GDT_Float32, const_cast<char**>(tiled ? tiles : strips));
      ASSERT_NE(ds, nullptr);
      std::vector<float> rows(static_cast<size_t>(width) * 256);
      for (int y = 0; y < height; y += 256) {
        for (size_t k = 0; k < rows.size(); ++k) rows[k] = static_cast<float>(y) + k * 1e-3f;
        ASSERT_EQ(GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Write, 0, y, width, 256, rows.data(),
                               width, 256, GDT_Float32, 0, 0),
                  CE_None);
      }
      GDALClose(ds);
    }
    ASSERT_TRUE(mapped(path));
    RasterReader reader(path, 1);
    std::vector<float> cells(512 * 512);
    const int64_t before = resident_bytes("RssFile:"), anon_before = resident_bytes("RssAnon:");
    ASSERT_GT(before, 0);
    int64_t most = before, anon_most = anon_before;
    for (int64_t tile = 0, y = 0; y < height; y += 512)
      for (int64_t x = 0; x < width; x += 512, ++tile) {
        if (tile % 2) continue;
        const Window w = {x, y, 512, 512};  // no halo: the other tiles' blocks are never read
        reader.read(w, View<float>(cells.data(), w.width, w.height));
        ASSERT_EQ(cells[0], static_cast<float>(w.y / 256 * 256) +
                                static_cast<float>((w.y % 256) * width + w.x) * 1e-3f);
        most = std::max(most, resident_bytes("RssFile:"));
        anon_most = std::max(anon_most, resident_bytes("RssAnon:"));
      }
    const int64_t slack = int64_t{2} << 20;
    EXPECT_LT(most - before, mapped_bytes_per_reader + slack)
        << "mapped pages grew by " << (most - before) / (1 << 20) << " MiB";
    EXPECT_LT(anon_most - anon_before, slack)
        << "memory grew by " << (anon_most - anon_before) / (1 << 20) << " MiB";
  }
}

}  // namespace
}  // namespace tessera::io
