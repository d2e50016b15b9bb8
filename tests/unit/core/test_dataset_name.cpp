// GDAL's special dataset names: told apart from plain paths, and the file inside them resolved
// against a job file's folder.
#include <gtest/gtest.h>

#include "tessera/core/dataset_name.hpp"

namespace tessera {
namespace {

TEST(DatasetName, GdalNamesAreToldFromPlainPaths) {
  EXPECT_TRUE(is_gdal_dataset_name("NETCDF:\"out.h5\":slope"));
  EXPECT_TRUE(is_gdal_dataset_name("HDF5:\"out.h5\"://slope"));
  EXPECT_TRUE(is_gdal_dataset_name("GTIFF_DIR:2:x.tif"));
  EXPECT_TRUE(is_gdal_dataset_name("/vsizip/a.zip/x.tif"));
  EXPECT_TRUE(is_gdal_dataset_name("/vsigzip/x.tif.gz"));
  EXPECT_FALSE(is_gdal_dataset_name("dem.tif"));
  EXPECT_FALSE(is_gdal_dataset_name("/data/dem.tif"));
  EXPECT_FALSE(is_gdal_dataset_name("./ab:c.tif"));
  EXPECT_FALSE(is_gdal_dataset_name("data/a:b.tif"));
}

TEST(DatasetName, PlainPathsResolveAgainstTheFolder) {
  EXPECT_EQ(resolve_dataset_name("/jobs", "dem.tif"), "/jobs/dem.tif");
  EXPECT_EQ(resolve_dataset_name("/jobs", "../data/dem.tif"), "/data/dem.tif");
  EXPECT_EQ(resolve_dataset_name("/jobs", "/data/dem.tif"), "/data/dem.tif");
  EXPECT_EQ(resolve_dataset_name("", "./dem.tif"), "dem.tif");
}

TEST(DatasetName, OnlyTheFileInsideAGdalNameResolves) {
  EXPECT_EQ(resolve_dataset_name("/jobs", "NETCDF:\"out.h5\":slope"),
            "NETCDF:\"/jobs/out.h5\":slope");
  EXPECT_EQ(resolve_dataset_name("/jobs", "HDF5:\"../out.h5\"://slope"),
            "HDF5:\"/out.h5\"://slope");
  EXPECT_EQ(resolve_dataset_name("/jobs", "NETCDF:\"/abs/out.h5\":slope"),
            "NETCDF:\"/abs/out.h5\":slope");
  EXPECT_EQ(resolve_dataset_name("/jobs", "GTIFF_DIR:2:pages.tif"), "GTIFF_DIR:2:/jobs/pages.tif");
  EXPECT_EQ(resolve_dataset_name("/jobs", "/vsizip/a.zip/in/x.tif"),
            "/vsizip//jobs/a.zip/in/x.tif");
  EXPECT_EQ(resolve_dataset_name("/jobs", "/vsigzip/x.tif.gz"), "/vsigzip//jobs/x.tif.gz");
  EXPECT_EQ(resolve_dataset_name("/jobs", "/vsizip//abs/a.zip/x.tif"), "/vsizip//abs/a.zip/x.tif");
  EXPECT_EQ(resolve_dataset_name("/jobs", "NETCDF:\"/vsigzip//abs/x.nc.gz\":v"),
            "NETCDF:\"/vsigzip//abs/x.nc.gz\":v");
  EXPECT_EQ(resolve_dataset_name("/jobs", "NETCDF:\"/vsizip/a.zip/x.nc\":v"),
            "NETCDF:\"/vsizip//jobs/a.zip/x.nc\":v");
  // Names whose file tessera cannot place are GDAL's, as written.
  EXPECT_EQ(resolve_dataset_name("/jobs", "/vsicurl/https://h/x.tif"), "/vsicurl/https://h/x.tif");
  EXPECT_EQ(resolve_dataset_name("/jobs", "NETCDF:out.nc:slope"), "NETCDF:out.nc:slope");
}

}  // namespace
}  // namespace tessera
