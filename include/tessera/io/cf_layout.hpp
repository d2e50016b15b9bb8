// The netCDF-4/CF conventions an HDF5 output follows so that GDAL opens it georeferenced.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace tessera::io::cf {

/// The coordinates of `count` cell centres starting at edge `origin`, `step` apart
/// (origin + (i + 0.5) * step): CF coordinates name centres, GeoTIFF origins name corners.
std::vector<double> cell_centres(double origin, double step, int64_t count);

/// GDAL's GeoTransform attribute: the six numbers, space-separated, each in the shortest text
/// that reads back to the same double.
std::string geotransform_text(const std::array<double, 6>& geotransform);

/// Whether `wkt` describes a geographic (latitude/longitude) CRS, in WKT1 or WKT2.
bool is_geographic(const std::string& wkt);

/// CF's grid_mapping_name for `wkt`: "latitude_longitude" for geographic CRSs, CF's name for
/// the common projections, otherwise the WKT projection name in lowercase.
std::string grid_mapping_name(const std::string& wkt);

/// The attributes of one coordinate variable (x or y).
struct Axis {
  std::string standard_name;  ///< projection_x_coordinate, longitude, ...
  std::string long_name;
  std::string units;  ///< "" when the CRS names no unit tessera knows how to spell
};

/// The x and y axes of a raster in `wkt` (an empty WKT gives projection axes without units).
Axis x_axis(const std::string& wkt);
Axis y_axis(const std::string& wkt);

}  // namespace tessera::io::cf
