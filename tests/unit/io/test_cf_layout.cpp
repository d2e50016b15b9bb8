// The CF names and coordinates of HDF5 outputs, from geotransforms and WKTs.
#include <gtest/gtest.h>

#include <cstdlib>

#include "tessera/io/cf_layout.hpp"

namespace tessera::io::cf {
namespace {

constexpr const char* kUtm =
    "PROJCS[\"WGS 84 / UTM zone 11N\",GEOGCS[\"WGS 84\",UNIT[\"degree\",0.0174532925199433]],"
    "PROJECTION[\"Transverse_Mercator\"],UNIT[\"metre\",1,AUTHORITY[\"EPSG\",\"9001\"]]]";
constexpr const char* kWgs84 = "GEOGCS[\"WGS 84\",UNIT[\"degree\",0.0174532925199433]]";

TEST(CfLayout, CellCentresAreHalfACellFromTheEdge) {
  EXPECT_EQ(cell_centres(1000, 30, 3), (std::vector<double>{1015, 1045, 1075}));
  EXPECT_EQ(cell_centres(5000, -30, 2), (std::vector<double>{4985, 4955}));
  EXPECT_TRUE(cell_centres(0, 1, 0).empty());
}

TEST(CfLayout, GeoTransformTextReadsBackExactly) {
  const std::array<double, 6> gt{
      -113.23958321278403, 0.0008333333332777796, 0, 37.512916763165805, 0, -0.0008333333332777843};
  const std::string text = geotransform_text(gt);
  EXPECT_EQ(text.rfind("-113.23958321278403 0.0008333333332777796 0 ", 0), 0u);
  const char* p = text.c_str();
  for (double value : gt) {
    char* end = nullptr;
    EXPECT_EQ(std::strtod(p, &end), value);
    p = end;
  }
}

TEST(CfLayout, GeographicOrProjected) {
  EXPECT_TRUE(is_geographic(kWgs84));
  EXPECT_TRUE(is_geographic("  GEOGCRS[\"WGS 84\"]"));
  EXPECT_FALSE(is_geographic(kUtm));
  EXPECT_FALSE(is_geographic(""));
}

TEST(CfLayout, GridMappingNames) {
  EXPECT_EQ(grid_mapping_name(kWgs84), "latitude_longitude");
  EXPECT_EQ(grid_mapping_name(kUtm), "transverse_mercator");
  EXPECT_EQ(grid_mapping_name("PROJCRS[\"x\",CONVERSION[\"y\",METHOD[\"Lambert Conic Conformal "
                              "(2SP)\"]]]"),
            "lambert_conformal_conic");
  EXPECT_EQ(grid_mapping_name("PROJCS[\"x\",PROJECTION[\"Albers_Conic_Equal_Area\"]]"),
            "albers_conical_equal_area");
}

TEST(CfLayout, AxesFollowTheCrs) {
  EXPECT_EQ(x_axis(kUtm).standard_name, "projection_x_coordinate");
  EXPECT_EQ(y_axis(kUtm).units, "m");
  EXPECT_EQ(x_axis(kWgs84).standard_name, "longitude");
  EXPECT_EQ(y_axis(kWgs84).units, "degrees_north");
  EXPECT_EQ(x_axis("").units, "");
}

}  // namespace
}  // namespace tessera::io::cf
