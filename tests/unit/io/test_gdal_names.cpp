// GDAL's special dataset names as inputs: files inside a zip or gzip archive, a page of a
// multi-page TIFF, GDAL's own reason when one does not open; and the direct reader, which takes
// plain files only.
#include <cpl_vsi.h>
#include <gdal.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "io_test_util.hpp"
#include "mapped_band.hpp"
#include "tessera/core/error.hpp"
#include "tessera/io/raster_source.hpp"

namespace tessera::io {
namespace {

const bool kGdalReady = (init_gdal(64 << 20), true);
constexpr Extent kSize{37, 21};

/// The cell (x, y) of page `page`: distinct everywhere, exact in Float32.
float value(int page, int64_t x, int64_t y) { return float(page * 1000 + y * 40 + x); }

/// Writes an uncompressed striped Float32 GeoTIFF of kSize at `path`, page `page` of `value`
/// (`append`: as a further page of an existing file).
void write_page(const std::string& path, int page, bool append = false) {
  GDALDatasetH mem = GDALCreate(GDALGetDriverByName("MEM"), "", int(kSize.width), int(kSize.height),
                                1, GDT_Float32, nullptr);
  std::vector<float> cells;
  for (int64_t y = 0; y < kSize.height; ++y)
    for (int64_t x = 0; x < kSize.width; ++x) cells.push_back(value(page, x, y));
  ASSERT_EQ(
      GDALRasterIO(GDALGetRasterBand(mem, 1), GF_Write, 0, 0, int(kSize.width), int(kSize.height),
                   cells.data(), int(kSize.width), int(kSize.height), GDT_Float32, 0, 0),
      CE_None);
  const char* options[] = {append ? "APPEND_SUBDATASET=YES" : nullptr, nullptr};
  GDALDatasetH out = GDALCreateCopy(GDALGetDriverByName("GTiff"), path.c_str(), mem, FALSE,
                                    const_cast<char**>(options), nullptr, nullptr);
  ASSERT_NE(out, nullptr) << path;
  GDALClose(out);
  GDALClose(mem);
}

/// Copies the bytes of the plain file `from` to `to`, which may be a GDAL virtual file.
void copy_through_vsi(const std::string& from, const std::string& to) {
  std::ifstream in(from, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
  VSILFILE* out = VSIFOpenL(to.c_str(), "wb");
  ASSERT_NE(out, nullptr) << to;
  EXPECT_EQ(VSIFWriteL(bytes.data(), 1, bytes.size(), out), bytes.size());
  VSIFCloseL(out);
}

/// How many cells of band 1 of `name`, read whole by tessera, are not page `page` of value().
int wrong_cells(const std::string& name, int page) {
  EXPECT_EQ(probe(name).size, kSize) << name;
  RasterReader reader(name, 1);
  std::vector<float> cells(static_cast<size_t>(kSize.cells()));
  reader.read({0, 0, kSize.width, kSize.height},
              View<float>(cells.data(), kSize.width, kSize.height, kSize.width));
  int wrong = 0;
  for (int64_t y = 0; y < kSize.height; ++y)
    for (int64_t x = 0; x < kSize.width; ++x)
      wrong += cells[size_t(y * kSize.width + x)] != value(page, x, y);
  return wrong;
}

std::string probe_error(const std::string& name) {
  try {
    probe(name);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(GdalNames, ARasterInsideAZipOrAGzipFileIsRead) {
  test::TempDir dir;
  const std::string plain = dir.file("plain.tif");
  write_page(plain, 1);
  copy_through_vsi(plain, "/vsizip/" + dir.file("a.zip") + "/inner/x.tif");
  copy_through_vsi(plain, "/vsigzip/" + dir.file("x.tif.gz"));
  EXPECT_EQ(wrong_cells("/vsizip/" + dir.file("a.zip") + "/inner/x.tif", 1), 0);
  EXPECT_EQ(wrong_cells("/vsigzip/" + dir.file("x.tif.gz"), 1), 0);
}

TEST(GdalNames, APageOfAMultiPageTiffIsRead) {
  test::TempDir dir;
  const std::string pages = dir.file("pages.tif");
  write_page(pages, 1);
  write_page(pages, 2, true);
  EXPECT_EQ(wrong_cells(pages, 1), 0);
  EXPECT_EQ(wrong_cells("GTIFF_DIR:2:" + pages, 2), 0);
}

TEST(GdalNames, ANameThatDoesNotOpenGivesGdalsReason) {
  test::TempDir dir;
  const std::string zip = "/vsizip/" + dir.file("missing.zip") + "/x.tif";
  EXPECT_EQ(probe_error(zip), zip + ": not a raster GDAL can read: `" + zip +
                                  "' does not exist in the file system, and is not recognized "
                                  "as a supported dataset name.");
  const std::string page = "GTIFF_DIR:3:" + dir.file("pages.tif");
  write_page(dir.file("pages.tif"), 1);
  EXPECT_EQ(probe_error(page), page + ": not a raster GDAL can read: " + dir.file("pages.tif") +
                                   ": Requested directory 3 not found.");
  const std::string netcdf = "NETCDF:\"" + dir.file("missing.h5") + "\":slope";
  EXPECT_EQ(probe_error(netcdf).rfind(netcdf + ": not a raster GDAL can read: ", 0), 0u);
  EXPECT_EQ(probe_error(dir.file("dem.tif")), dir.file("dem.tif") + ": no such file");
}

/// Runs in `folder` and returns to the working directory it found.
class InFolder {
 public:
  explicit InFolder(const std::string& folder) : back_(std::filesystem::current_path()) {
    std::filesystem::current_path(folder);
  }
  ~InFolder() { std::filesystem::current_path(back_); }
  InFolder(const InFolder&) = delete;
  InFolder& operator=(const InFolder&) = delete;

 private:
  std::filesystem::path back_;
};

TEST(GdalNames, TheDirectReaderLeavesGdalNamesToGdal) {
  // A plain file at the path a GDAL name spells, relative to the working directory, holding
  // other cells at the same offsets: the direct reader must not read it in GDAL's stead.
  test::TempDir dir;
  const std::string pages = dir.file("pages.tif");
  write_page(pages, 1);
  write_page(pages, 2, true);
  const std::string name = "GTIFF_DIR:2:" + pages;
  const std::filesystem::path decoy = std::filesystem::path(dir.file("")) / ("./" + name);
  std::filesystem::create_directories(decoy.parent_path());
  write_page(decoy.string(), 1);
  write_page(decoy.string(), 3, true);
  const InFolder in(dir.file(""));
  ASSERT_TRUE(std::filesystem::exists(name));
  EXPECT_EQ(wrong_cells(name, 2), 0);
}

}  // namespace
}  // namespace tessera::io
