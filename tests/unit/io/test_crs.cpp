// CRS names to WKT, and CRS texts that differ only in what GDAL writes back judged the same.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tessera/core/error.hpp"
#include "tessera/io/crs.hpp"

namespace tessera::io {
namespace {

/// `wkt` without its last AUTHORITY node (the CRS's own EPSG code), as a WKT rewritten from
/// parameters alone reads.
std::string without_top_authority(const std::string& wkt) {
  const size_t at = wkt.rfind(",AUTHORITY[");
  EXPECT_NE(at, std::string::npos) << wkt;
  return wkt.substr(0, at) + "]";
}

TEST(Crs, NamesBecomeWktAndUnknownOnesAreNamed) {
  EXPECT_NE(crs_wkt("EPSG:32611", "job").find("UTM zone 11N"), std::string::npos);
  try {
    crs_wkt("EPSG:999999", "job.toml:3:7");
    FAIL() << "an unknown CRS was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "job.toml:3:7: unknown CRS 'EPSG:999999'");
  }
}

TEST(Crs, TextsOfOneCrsAreTheSameAndOtherCrsAreNot) {
  const std::string utm = crs_wkt("EPSG:32611", "test");
  const std::string bare = without_top_authority(utm);
  ASSERT_NE(bare, utm);
  EXPECT_TRUE(same_crs(utm, bare));
  EXPECT_TRUE(same_crs(bare, utm));
  EXPECT_FALSE(same_crs(utm, crs_wkt("EPSG:32612", "test")));
  EXPECT_FALSE(same_crs(utm, crs_wkt("EPSG:4326", "test")));
  EXPECT_TRUE(same_crs("", ""));
  EXPECT_FALSE(same_crs(utm, ""));
  EXPECT_FALSE(same_crs("", utm));
}

TEST(Crs, UnifyGivesLaterRastersTheTextOfAnEarlierOneWithTheSameCrs) {
  const std::string utm = crs_wkt("EPSG:32611", "test");
  const std::string geographic = crs_wkt("EPSG:4326", "test");
  std::vector<RasterInfo> rasters(5);
  rasters[0].crs_wkt = utm;
  rasters[1].crs_wkt = without_top_authority(utm);
  rasters[2].crs_wkt = geographic;
  rasters[3].crs_wkt = without_top_authority(geographic);
  rasters[4].crs_wkt = "";
  unify_crs(rasters);
  EXPECT_EQ(rasters[0].crs_wkt, utm);
  EXPECT_EQ(rasters[1].crs_wkt, utm);
  EXPECT_EQ(rasters[2].crs_wkt, geographic);
  EXPECT_EQ(rasters[3].crs_wkt, geographic);
  EXPECT_EQ(rasters[4].crs_wkt, "");
}

}  // namespace
}  // namespace tessera::io
