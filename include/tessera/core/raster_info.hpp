// The metadata of one raster band that planning needs, read from the file without its cells.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tessera/core/geokeys.hpp"
#include "tessera/core/geometry.hpp"
#include "tessera/core/pixel_type.hpp"

namespace tessera {

/// What the plan needs to know of one band of a raster.
struct RasterInfo {
  std::string path;
  int band = 1;
  int band_count = 0;
  Extent size;
  PixelType type = PixelType::Float32;
  std::optional<double> nodata;
  bool has_geotransform = false;
  std::array<double, 6> geotransform{0, 1, 0, 0, 0, 1};
  /// The CRS: as WKT, or (probe's keys form) as the GeoTIFF's keys with crs_wkt left empty.
  std::string crs_wkt;
  GeoKeys geokeys;
  std::string description;
  int64_t block_width = 0;
  int64_t block_height = 0;
  /// Every band's type and nodata value, indexed by band - 1, for steps that read other bands
  /// of the file (calc's A[2]); probe() fills them, a RasterInfo built in code may leave them
  /// empty.
  std::vector<PixelType> band_types;
  std::vector<std::optional<double>> band_nodata;
};

/// The most of an uncompressed GeoTIFF input that one reader (one per thread and input band)
/// keeps mapped between reads: io's reader drops mapped blocks (tiles or strips) beyond it, and
/// the plan's memory estimate counts it.
inline constexpr int64_t mapped_bytes_per_reader = int64_t{48} << 20;

}  // namespace tessera
