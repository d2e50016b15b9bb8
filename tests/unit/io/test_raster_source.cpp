// Tests of probing rasters and of windowed reads into strided views.
#include <gdal.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <vector>

#include "io_test_util.hpp"
#include "tessera/core/error.hpp"
#include "tessera/io/raster_source.hpp"

namespace tessera::io {
namespace {

const std::string kData = TESSERA_TEST_DATA;
// The tests also call GDAL directly, so its drivers must be registered before any test runs.
const bool kGdalReady = (init_gdal(64 << 20), true);

std::string probe_error(const std::string& path, int band = 1) {
  try {
    probe(path, band);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Probe, MissingFile) {
  test::TempDir dir;
  const std::string path = dir.file("dem.tif");
  EXPECT_EQ(probe_error(path), path + ": no such file");
}

TEST(Probe, NotARaster) {
  test::TempDir dir;
  const std::string path = dir.file("notes.txt");
  std::ofstream(path) << "these are notes, not pixels\n";
  EXPECT_EQ(probe_error(path).rfind(path + ": not a raster GDAL can read", 0), 0u);
}

TEST(Probe, MissingBand) {
  const std::string path = kData + "/n43.tif";
  EXPECT_EQ(probe_error(path, 3), path + ": no band 3 (it has 1)");
  EXPECT_EQ(probe_error(path, 0), path + ": no band 0 (it has 1)");
}

TEST(Probe, ReadsMetadata) {
  const RasterInfo srtm = probe(kData + "/srtm.tif");
  EXPECT_EQ(srtm.size, (Extent{465, 457}));
  EXPECT_EQ(srtm.type, PixelType::UInt16);
  ASSERT_TRUE(srtm.nodata);
  EXPECT_EQ(*srtm.nodata, 65535);
  EXPECT_EQ(srtm.band_count, 1);
  EXPECT_TRUE(srtm.has_geotransform);
  EXPECT_FALSE(srtm.crs_wkt.empty());
  EXPECT_GT(srtm.block_width, 0);

  const RasterInfo nz = probe(kData + "/nz_elev.tif");
  EXPECT_EQ(nz.size, (Extent{1115, 1450}));
  EXPECT_EQ(nz.type, PixelType::Float32);
  ASSERT_TRUE(nz.nodata);
  EXPECT_TRUE(std::isnan(*nz.nodata));
  EXPECT_DOUBLE_EQ(nz.geotransform[1], 1000.0);

  EXPECT_FALSE(probe(kData + "/chiprofiler_dem.tif").nodata);
}

const std::vector<Window> kWindows{
    {0, 0, 50, 40},     {-5, -7, 40, 30},     {100, 90, 60, 70},  {-20, 30, 200, 15},
    {30, -3, 10, 2000}, {-9, -9, 2000, 2000}, {5000, 10, 20, 20}, {-30, -30, 10, 10},
};

TEST(RasterReader, ReadsWindowsAsInt32) {
  const std::string path = kData + "/n43.tif";
  const Extent size{121, 121};
  const auto reference = test::gdal_cells<int32_t>(path, 1, GDT_Int32, size);
  RasterReader reader(path, 1);
  for (const Window& w : kWindows) test::check_window(reader, reference, size, w);
}

TEST(RasterReader, ReadsWindowsAsFloat) {
  for (const char* name : {"nz_elev.tif", "srtm.tif", "chiprofiler_dem.tif"}) {
    const std::string path = kData + "/" + name;
    const Extent size = probe(path).size;
    const auto reference = test::gdal_cells<float>(path, 1, GDT_Float32, size);
    RasterReader reader(path, 1);
    for (const Window& w : kWindows) test::check_window(reader, reference, size, w);
  }
}

TEST(RasterReader, ViewMustMatchWindow) {
  RasterReader reader(kData + "/n43.tif", 1);
  std::vector<float> cells(100);
  EXPECT_THROW(reader.read({0, 0, 10, 10}, View<float>(cells.data(), 5, 20)), Error);
}

TEST(RasterReader, MissingBandAndFile) {
  EXPECT_THROW(RasterReader(kData + "/n43.tif", 2), Error);
  EXPECT_THROW(RasterReader(kData + "/no-such.tif", 1), Error);
}

// GDAL may open a truncated TIFF and fail only on reading its lost tiles: either way the
// error must be a tessera::Error naming the file.
TEST(RasterReader, TruncatedFileFailsNamingIt) {
  test::TempDir dir;
  const std::string path = dir.file("cut.tif");
  std::filesystem::copy_file(kData + "/nz_elev.tif", path);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  try {
    const RasterInfo info = probe(path);
    RasterReader reader(path, 1);
    std::vector<float> cells(static_cast<size_t>(info.size.cells()));
    reader.read(whole(info.size), View<float>(cells.data(), info.size.width, info.size.height));
    FAIL() << "reading a truncated file succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ": ", 0), 0u) << e.what();
  }
}

TEST(RasterReader, TruncatedHeaderFailsNamingIt) {
  test::TempDir dir;
  const std::string path = dir.file("stub.tif");
  std::filesystem::copy_file(kData + "/srtm.tif", path);
  std::filesystem::resize_file(path, 100);
  EXPECT_EQ(probe_error(path).rfind(path + ": not a raster GDAL can read", 0), 0u);
}

}  // namespace
}  // namespace tessera::io
