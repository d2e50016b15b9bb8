// A GeoTIFF input's CRS carried as its GeoTIFF keys to a GeoTIFF output, without PROJ, and the
// WKT taken instead wherever GDAL would not take the CRS from those keys alone.
#include <gdal.h>
#include <gtest/gtest.h>
#include <ogr_srs_api.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "io_test_util.hpp"
#include "tessera/io/crs.hpp"
#include "tessera/io/geotiff.hpp"
#include "tessera/io/raster_source.hpp"

namespace tessera::io {
namespace {

const std::string kData = TESSERA_TEST_DATA;
const bool kGdalReady = (init_gdal(64 << 20), true);

// GDAL's WKT of `path`, as GDALGetProjectionRef gives it.
std::string wkt_of(const std::string& path) {
  GDALDatasetH ds = GDALOpen(path.c_str(), GA_ReadOnly);
  EXPECT_NE(ds, nullptr) << path;
  std::string wkt = ds ? GDALGetProjectionRef(ds) : "";
  if (ds) GDALClose(ds);
  return wkt;
}

// A tiled copy of `from` at `to` made with GDAL, its AREA_OR_POINT set when given.
void translate(const std::string& from, const std::string& to, const char* area_or_point) {
  GDALDatasetH src = GDALOpen(from.c_str(), GA_ReadOnly);
  ASSERT_NE(src, nullptr);
  const char* options[] = {"TILED=YES", nullptr};
  GDALDatasetH out = GDALCreateCopy(GDALGetDriverByName("GTiff"), to.c_str(), src, FALSE,
                                    const_cast<char**>(options), nullptr, nullptr);
  ASSERT_NE(out, nullptr);
  if (area_or_point) GDALSetMetadataItem(out, "AREA_OR_POINT", area_or_point, nullptr);
  GDALClose(out);
  GDALClose(src);
}

TEST(GeoKeys, AGeoTiffGivesItsKeysAndNoWkt) {
  for (const char* name : {"srtm.tif", "nz_elev.tif", "chiprofiler_dem.tif", "landsat_b4.tif"}) {
    const RasterInfo keys = probe(kData + "/" + name, 1, CrsForm::GeoKeys);
    EXPECT_FALSE(keys.geokeys.empty()) << name;
    EXPECT_TRUE(keys.crs_wkt.empty()) << name;
    const RasterInfo wkt = probe(kData + "/" + name, 1, CrsForm::Wkt);
    EXPECT_TRUE(wkt.geokeys.empty()) << name;
    EXPECT_EQ(wkt.crs_wkt, wkt_of(kData + "/" + name)) << name;
  }
}

TEST(GeoKeys, SideFilesPointRastersAndOtherFormatsGiveWkt) {
  test::TempDir dir;
  // A PAM side file may override the keys: GDAL's CRS is then not the keys'.
  const std::string with_aux = dir.file("with_aux.tif");
  std::filesystem::copy_file(kData + "/srtm.tif", with_aux);
  std::ofstream(with_aux + ".aux.xml") << "<PAMDataset><SRS>EPSG:4326</SRS></PAMDataset>\n";
  // PixelIsPoint: GDAL shifts the geotransform by half a cell, which the keys do not say.
  const std::string point = dir.file("point.tif");
  translate(kData + "/srtm.tif", point, "Point");
  for (const std::string& path : {with_aux, point, kData + "/n43.tif", kData + "/n43.dt0"}) {
    const RasterInfo info = probe(path, 1, CrsForm::GeoKeys);
    EXPECT_TRUE(info.geokeys.empty()) << path;
    EXPECT_EQ(info.crs_wkt, wkt_of(path)) << path;
    EXPECT_FALSE(info.crs_wkt.empty()) << path;
  }
}

TEST(GeoKeys, SettleKeepsEqualKeysAndOtherwiseGivesEveryRasterWkt) {
  std::vector<RasterInfo> same{probe(kData + "/landsat_b4.tif", 1, CrsForm::GeoKeys),
                               probe(kData + "/landsat_b5.tif", 1, CrsForm::GeoKeys)};
  settle_crs(same);
  EXPECT_FALSE(same[0].geokeys.empty());
  EXPECT_EQ(same[0].geokeys, same[1].geokeys);
  EXPECT_TRUE(same[1].crs_wkt.empty());

  std::vector<RasterInfo> mixed{probe(kData + "/chiprofiler_dem.tif", 1, CrsForm::GeoKeys),
                                probe(kData + "/srtm.tif", 1, CrsForm::GeoKeys),
                                probe(kData + "/n43.dt0", 1, CrsForm::GeoKeys)};
  settle_crs(mixed);
  for (const RasterInfo& r : mixed) {
    EXPECT_TRUE(r.geokeys.empty()) << r.path;
    EXPECT_FALSE(r.crs_wkt.empty()) << r.path;
  }
  EXPECT_EQ(mixed[1].crs_wkt, wkt_of(kData + "/srtm.tif"));
}

// Written through GeoTiffWriter, the keys give GDAL the input's CRS, text for text.
TEST(GeoKeys, AnOutputWithTheKeysReadsAsTheInputsCrs) {
  for (const char* name : {"srtm.tif", "nz_elev.tif", "chiprofiler_dem.tif", "landsat_b4.tif"}) {
    const std::string input = kData + "/" + name;
    const RasterInfo info = probe(input, 1, CrsForm::GeoKeys);
    ASSERT_FALSE(info.geokeys.empty()) << name;
    test::TempDir dir;
    OutputSpec spec;
    spec.path = dir.file("out.tif");
    spec.size = {40, 30};
    spec.type = PixelType::Byte;
    spec.tile_width = spec.tile_height = 16;
    spec.has_geotransform = info.has_geotransform;
    spec.geotransform = info.geotransform;
    spec.geokeys = info.geokeys;
    spec.options.compression = Compression::Zstd;
    GeoTiffWriter writer(spec);
    TileEncoder encoder(spec);
    const std::vector<std::byte> tile(16 * 16, std::byte{7});
    for (int64_t t = 0; t < 3 * 2; ++t) writer.write_tile(0, t, encoder.encode(tile.data()));
    writer.commit();
    EXPECT_EQ(wkt_of(spec.path), wkt_of(input)) << name;
    EXPECT_EQ(probe(spec.path, 1, CrsForm::GeoKeys).geokeys, info.geokeys) << name;
  }
}

}  // namespace
}  // namespace tessera::io
