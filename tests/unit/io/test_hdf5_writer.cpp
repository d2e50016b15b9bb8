// The HDF5 writers on one rank: values, georeferencing and nodata as GDAL reads them back, edge
// tiles, compression (chunks compressed outside HDF5 hold HDF5's own bytes), and nothing at the
// output path when a file is not committed.
#include <gdal.h>
#include <gtest/gtest.h>
#include <hdf5.h>
#include <ogr_srs_api.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <cmath>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "io_test_util.hpp"
#include "mpi_for_tests.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/geometry.hpp"
#include "tessera/io/hdf5.hpp"
#include "tessera/io/raster_source.hpp"
#include "tessera/io/temporary_files.hpp"
#include "tessera/par/agreement.hpp"
#include "tessera/par/environment.hpp"
#include "tessera/par/mpi_io.hpp"

namespace tessera::io {
namespace {

[[maybe_unused]] auto* const mpi =
    ::testing::AddGlobalTestEnvironment(new tessera::test::MpiForTests);

/// What a parallel writer of one rank is given: the run's communicator, this process's name.
Hdf5Share one_rank(const OutputSpec& spec) {
  return {par::io_communicator(), par::io_info(), true, temporary_path(spec.path, getpid()),
          par::agreed};
}

constexpr const char* kUtm =
    "PROJCS[\"WGS 84 / UTM zone 11N\",GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS "
    "84\",6378137,298.257223563]],PRIMEM[\"Greenwich\",0],UNIT[\"degree\",0.0174532925199433]],"
    "PROJECTION[\"Transverse_Mercator\"],PARAMETER[\"latitude_of_origin\",0],"
    "PARAMETER[\"central_meridian\",-117],PARAMETER[\"scale_factor\",0.9996],"
    "PARAMETER[\"false_easting\",500000],PARAMETER[\"false_northing\",0],UNIT[\"metre\",1]]";

OutputSpec spec_of(const std::string& path, PixelType type, int bands) {
  OutputSpec spec;
  spec.path = path;
  spec.format = OutputFormat::Hdf5;
  spec.size = {40, 23};  // not a multiple of the 16 x 16 tile
  spec.bands = bands;
  spec.type = type;
  spec.tile_width = 16;
  spec.tile_height = 16;
  spec.nodata = type == PixelType::Byte ? 0.0 : -9999.0;
  spec.has_geotransform = true;
  spec.geotransform = {500000, 30, 0, 4100000, 0, -30};
  spec.crs_wkt = kUtm;
  for (int b = 0; b < bands; ++b) spec.band_descriptions.push_back("band" + std::to_string(b));
  return spec;
}

/// The value of cell (x, y) of band b: distinct everywhere, nodata on the diagonal.
double cell_value(int b, int64_t x, int64_t y, PixelType type) {
  if (x == y) return type == PixelType::Byte ? 0 : -9999;
  return type == PixelType::Byte ? static_cast<double>((x * 7 + y * 3 + b) % 250 + 1)
                                 : static_cast<double>(b) * 10000 + static_cast<double>(y) * 100 +
                                       static_cast<double>(x) + 0.25;
}

/// A full tile of `spec`'s type holding the cells of tile `tile` (padding past the edge: 77).
std::vector<std::byte> tile_cells(const OutputSpec& spec, int b, int64_t tile) {
  const TileGrid grid(spec.size, spec.tile_width, spec.tile_height);
  const Window owned = grid.owned(tile);
  const size_t cell = size_of(spec.type);
  std::vector<std::byte> bytes(static_cast<size_t>(spec.tile_width * spec.tile_height) * cell);
  for (int64_t y = 0; y < spec.tile_height; ++y)
    for (int64_t x = 0; x < spec.tile_width; ++x) {
      const bool inside = x < owned.width && y < owned.height;
      const double v = inside ? cell_value(b, owned.x + x, owned.y + y, spec.type) : 77;
      std::byte* at = bytes.data() + static_cast<size_t>(y * spec.tile_width + x) * cell;
      if (spec.type == PixelType::Byte) {
        const auto u = static_cast<uint8_t>(v);
        std::memcpy(at, &u, 1);
      } else {
        const auto f = static_cast<float>(v);
        std::memcpy(at, &f, 4);
      }
    }
  return bytes;
}

void write_all(Hdf5Writer& writer, const OutputSpec& spec) {
  const TileGrid grid(spec.size, spec.tile_width, spec.tile_height);
  for (int64_t t = grid.count() - 1; t >= 0; --t)  // any order: each tile has its place
    for (int b = 0; b < spec.bands; ++b) {
      writer.write_tile(b, t, tile_cells(spec, b, t));
      writer.join_round(b);
    }
}

struct GdalDataset {
  explicit GdalDataset(const std::string& name) {
    GDALAllRegister();
    ds = GDALOpen(name.c_str(), GA_ReadOnly);
  }
  ~GdalDataset() {
    if (ds != nullptr) GDALClose(ds);
  }
  GDALDatasetH ds = nullptr;
};

void expect_band_reads_back(const OutputSpec& spec, int b) {
  const GdalDataset opened("NETCDF:\"" + spec.path + "\":" + spec.band_descriptions[size_t(b)]);
  ASSERT_NE(opened.ds, nullptr) << spec.path;
  ASSERT_EQ(GDALGetRasterXSize(opened.ds), spec.size.width);
  ASSERT_EQ(GDALGetRasterYSize(opened.ds), spec.size.height);
  GDALRasterBandH band = GDALGetRasterBand(opened.ds, 1);
  EXPECT_EQ(GDALGetRasterDataType(band), spec.type == PixelType::Byte ? GDT_Byte : GDT_Float32);
  int has_nodata = 0;
  EXPECT_EQ(GDALGetRasterNoDataValue(band, &has_nodata), *spec.nodata);
  EXPECT_TRUE(has_nodata);
  std::vector<double> cells(static_cast<size_t>(spec.size.width * spec.size.height));
  ASSERT_EQ(
      GDALRasterIO(band, GF_Read, 0, 0, int(spec.size.width), int(spec.size.height), cells.data(),
                   int(spec.size.width), int(spec.size.height), GDT_Float64, 0, 0),
      CE_None);
  int wrong = 0;
  for (int64_t y = 0; y < spec.size.height; ++y)
    for (int64_t x = 0; x < spec.size.width; ++x)
      wrong += cells[size_t(y * spec.size.width + x)] != cell_value(b, x, y, spec.type);
  EXPECT_EQ(wrong, 0) << spec.path << " band " << b;
}

void expect_georeferenced(const OutputSpec& spec) {
  const GdalDataset opened("NETCDF:\"" + spec.path + "\":" + spec.band_descriptions[0]);
  ASSERT_NE(opened.ds, nullptr);
  std::array<double, 6> gt{};
  ASSERT_EQ(GDALGetGeoTransform(opened.ds, gt.data()), CE_None);
  for (size_t i = 0; i < 6; ++i) EXPECT_NEAR(gt[i], spec.geotransform[i], 1e-6) << i;
  OGRSpatialReferenceH want = OSRNewSpatialReference(spec.crs_wkt.c_str());
  OGRSpatialReferenceH got = OSRNewSpatialReference(GDALGetProjectionRef(opened.ds));
  EXPECT_TRUE(OSRIsSame(want, got)) << GDALGetProjectionRef(opened.ds);
  OSRDestroySpatialReference(want);
  OSRDestroySpatialReference(got);
}

class Hdf5WriterTest : public ::testing::TestWithParam<bool> {};

TEST_P(Hdf5WriterTest, GdalReadsValuesGeoreferencingAndNodataBack) {
  test::TempDir dir;
  OutputSpec spec = spec_of(dir.file("out.h5"), PixelType::Float32, 2);
  if (GetParam()) spec.options.compression = Compression::Deflate;
  {
    Hdf5Writer writer(spec, one_rank(spec));
    write_all(writer, spec);
    EXPECT_FALSE(std::filesystem::exists(spec.path));  // only the temporary name until commit
    writer.commit();
  }
  EXPECT_EQ(dir.entries(), 1);
  expect_band_reads_back(spec, 0);
  expect_band_reads_back(spec, 1);
  expect_georeferenced(spec);
}

TEST(Hdf5Writer, TesseraReadsItsOwnOutputThroughGdalsSubdatasetNames) {
  test::TempDir dir;
  const OutputSpec spec = spec_of(dir.file("out.h5"), PixelType::Float32, 2);
  {
    Hdf5Writer writer(spec, one_rank(spec));
    write_all(writer, spec);
    writer.commit();
  }
  for (const std::string& name :
       {"NETCDF:\"" + spec.path + "\":band1", "HDF5:\"" + spec.path + "\"://band1"}) {
    const RasterInfo info = probe(name);
    EXPECT_EQ(info.size, spec.size) << name;
    EXPECT_EQ(info.type, PixelType::Float32) << name;
    EXPECT_EQ(info.nodata, spec.nodata) << name;
    RasterReader reader(name, 1);
    std::vector<float> cells(static_cast<size_t>(spec.size.cells()));
    reader.read({0, 0, spec.size.width, spec.size.height},
                View<float>(cells.data(), spec.size.width, spec.size.height, spec.size.width));
    int wrong = 0;
    for (int64_t y = 0; y < spec.size.height; ++y)
      for (int64_t x = 0; x < spec.size.width; ++x)
        wrong += cells[size_t(y * spec.size.width + x)] != float(cell_value(1, x, y, spec.type));
    EXPECT_EQ(wrong, 0) << name;
  }
  EXPECT_TRUE(probe("NETCDF:\"" + spec.path + "\":band1").has_geotransform);
}

TEST_P(Hdf5WriterTest, ByteCellsStayBytes) {
  test::TempDir dir;
  OutputSpec spec = spec_of(dir.file("hs.h5"), PixelType::Byte, 1);
  if (GetParam()) spec.options.compression = Compression::Deflate;
  Hdf5Writer writer(spec, one_rank(spec));
  write_all(writer, spec);
  writer.commit();
  expect_band_reads_back(spec, 0);
}

INSTANTIATE_TEST_SUITE_P(Compression, Hdf5WriterTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Deflate" : "None"; });

TEST(Hdf5Writer, CompressionShrinksTheFile) {
  test::TempDir dir;
  OutputSpec spec = spec_of(dir.file("flat.h5"), PixelType::Float32, 1);
  spec.size = {512, 512};
  spec.tile_width = spec.tile_height = 256;
  const auto write_flat = [&](const std::string& path, Compression c) {
    spec.path = path;
    spec.options.compression = c;
    Hdf5Writer writer(spec, one_rank(spec));
    const std::vector<std::byte> zeros(256 * 256 * 4);
    for (int64_t t = 0; t < 4; ++t) writer.write_tile(0, t, zeros);
    writer.commit();
    return std::filesystem::file_size(path);
  };
  const auto plain = write_flat(dir.file("plain.h5"), Compression::None);
  const auto deflated = write_flat(dir.file("deflated.h5"), Compression::Deflate);
  EXPECT_GT(plain, 512u * 512 * 4);
  EXPECT_LT(deflated * 10, plain);
}

TEST(Hdf5Writer, NotCommittedLeavesNothing) {
  test::TempDir dir;
  const OutputSpec spec = spec_of(dir.file("out.h5"), PixelType::Float32, 1);
  {
    Hdf5Writer writer(spec, one_rank(spec));
    writer.write_tile(0, 0, tile_cells(spec, 0, 0));
    EXPECT_EQ(dir.entries(), 1);  // the temporary file
  }
  EXPECT_EQ(dir.entries(), 0);
}

TEST(Hdf5Writer, MistakesAreNamed) {
  test::TempDir dir;
  const OutputSpec spec = spec_of(dir.file("out.h5"), PixelType::Float32, 1);
  Hdf5Writer writer(spec, one_rank(spec));
  EXPECT_THROW(writer.write_tile(0, 6, tile_cells(spec, 0, 0)), Error);
  EXPECT_THROW(writer.write_tile(1, 0, tile_cells(spec, 0, 0)), Error);
  try {
    writer.write_tile(0, 0, std::vector<std::byte>(10));
    FAIL() << "a short tile was written";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), spec.path + ": tile 0 has 10 bytes, expected 1024");
  }
  writer.commit();
  EXPECT_THROW(writer.commit(), Error);
}

/// Every band-tile of `spec` through a chunk encoder, written by a chunk writer in reverse order.
void write_chunks(const OutputSpec& spec) {
  Hdf5ChunkEncoder encoder(spec);
  Hdf5ChunkWriter writer(spec);
  const TileGrid grid(spec.size, spec.tile_width, spec.tile_height);
  for (int64_t t = grid.count() - 1; t >= 0; --t)
    for (int b = 0; b < spec.bands; ++b)
      writer.write_tile(b, t, encoder.encode(tile_cells(spec, b, t).data()));
  EXPECT_FALSE(std::filesystem::exists(spec.path));  // only the temporary name until commit
  writer.commit();
}

TEST(Hdf5ChunkWriter, GdalReadsValuesGeoreferencingAndNodataBack) {
  test::TempDir dir;
  OutputSpec spec = spec_of(dir.file("out.h5"), PixelType::Float32, 2);
  spec.options.compression = Compression::Deflate;
  write_chunks(spec);
  EXPECT_EQ(dir.entries(), 1);
  expect_band_reads_back(spec, 0);
  expect_band_reads_back(spec, 1);
  expect_georeferenced(spec);
  OutputSpec bytes = spec_of(dir.file("hs.h5"), PixelType::Byte, 1);
  bytes.options.compression = Compression::Deflate;
  bytes.options.deflate_level = 1;
  write_chunks(bytes);
  expect_band_reads_back(bytes, 0);
}

TEST(Hdf5ChunkWriter, ARasterNarrowerAndShorterThanATileIsOneChunk) {
  test::TempDir dir;
  OutputSpec spec = spec_of(dir.file("small.h5"), PixelType::Float32, 1);
  spec.size = {10, 7};
  spec.options.compression = Compression::Deflate;
  write_chunks(spec);
  expect_band_reads_back(spec, 0);
}

/// The stored bytes of the chunk at `offset` of dataset `name` in `path`, and its filter mask.
std::pair<std::vector<std::byte>, uint32_t> stored_chunk(const std::string& path,
                                                         const std::string& name,
                                                         std::array<hsize_t, 2> offset) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t dataset = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
  hsize_t size = 0;
  EXPECT_GE(H5Dget_chunk_storage_size(dataset, offset.data(), &size), 0);
  std::vector<std::byte> bytes(size);
  uint32_t mask = 0;
  EXPECT_GE(H5Dread_chunk(dataset, H5P_DEFAULT, offset.data(), &mask, bytes.data()), 0);
  H5Dclose(dataset);
  H5Fclose(file);
  return {bytes, mask};
}

/// `stream` (a zlib stream) inflated by zlib, to `size` bytes.
std::vector<std::byte> inflated(const std::vector<std::byte>& stream, size_t size) {
  std::vector<std::byte> out(size);
  auto length = static_cast<uLongf>(size);
  EXPECT_EQ(uncompress(reinterpret_cast<Bytef*>(out.data()), &length,
                       reinterpret_cast<const Bytef*>(stream.data()), stream.size()),
            Z_OK);
  EXPECT_EQ(length, size);
  return out;
}

// The encoder's chunks are zlib streams that inflate to what HDF5's own shuffle and deflate
// filters store, inflated: the same shuffled bytes, compressed by another deflate.
TEST(Hdf5ChunkWriter, ChunksInflateToWhatHdf5sFiltersStore) {
  test::TempDir dir;
  OutputSpec spec = spec_of(dir.file("filtered.h5"), PixelType::Float32, 1);
  spec.options.compression = Compression::Deflate;
  {
    Hdf5Writer writer(spec, one_rank(spec));
    write_all(writer, spec);
    writer.commit();
  }
  OutputSpec chunked = spec;
  chunked.path = dir.file("chunked.h5");
  write_chunks(chunked);
  const size_t bytes = 16 * 16 * 4;
  // The tiles inside the raster (HDF5 leaves an edge chunk's cells past the edge unset).
  for (const std::array<hsize_t, 2> offset : {std::array<hsize_t, 2>{0, 0}, {0, 16}}) {
    const auto [want, want_mask] = stored_chunk(spec.path, "band0", offset);
    const auto [got, got_mask] = stored_chunk(chunked.path, "band0", offset);
    EXPECT_EQ(got_mask, 0u);
    EXPECT_EQ(want_mask, 0u);
    EXPECT_TRUE(inflated(want, bytes) == inflated(got, bytes))
        << "chunk at " << offset[0] << ", " << offset[1];
  }
}

TEST(Hdf5ChunkWriter, NotCommittedLeavesNothing) {
  test::TempDir dir;
  OutputSpec spec = spec_of(dir.file("out.h5"), PixelType::Float32, 1);
  spec.options.compression = Compression::Deflate;
  {
    Hdf5ChunkWriter writer(spec);
    EXPECT_EQ(dir.entries(), 1);  // the temporary file
    EXPECT_THROW(writer.write_tile(0, 6, std::vector<std::byte>(10)), Error);
  }
  EXPECT_EQ(dir.entries(), 0);
}

TEST(Hdf5Writer, MissingFolderIsNamed) {
  test::TempDir dir;
  const OutputSpec spec = spec_of(dir.file("nodir/out.h5"), PixelType::Float32, 1);
  try {
    Hdf5Writer writer(spec, one_rank(spec));
    FAIL() << "created a file in a missing folder";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no folder"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tessera::io
