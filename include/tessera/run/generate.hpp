// `tessera generate`: synthetic fractal terrain written by the streaming executor, tile by tile.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tessera/core/geometry.hpp"
#include "tessera/core/pixel_type.hpp"
#include "tessera/ops/terrain_noise.hpp"
#include "tessera/plan/plan.hpp"
#include "tessera/run/executor.hpp"

namespace tessera::run {

/// What to generate: the terrain, the raster's size and type, and its georeferencing.
struct GenerateSpec {
  std::string path;  ///< a .tif or .tiff
  Extent size;
  PixelType type = PixelType::Float32;
  double cell = 30;                ///< cell size in CRS units (metres by default)
  std::string crs = "EPSG:32611";  ///< anything GDAL's tools take (UTM 11N by default)
  double origin_x = 500000;        ///< the top-left corner
  double origin_y = 4000000;
  std::optional<double> nodata;               ///< written to the file; no cell takes it
  std::vector<std::string> creation_options;  ///< -co NAME=VALUE, as tessera dem takes them
  ops::TerrainParams terrain;
};

/// The plan of a generate run: its one output's spec and tile grid, no input, no step. Throws
/// tessera::UsageError for a bad spec.
plan::Plan generate_plan(const GenerateSpec& spec);

/// Parses "WIDTHxHEIGHT" (or one number for a square); throws tessera::UsageError otherwise.
Extent parse_size(const std::string& text);

/// Writes the terrain as one tiled GeoTIFF: ranks claim tiles, threads compute and encode them,
/// rank 0 writes them in tile order, so the file's bytes depend on the spec only, not on the
/// number of ranks or threads. Heights are rounded and saturated to the pixel type as GDAL
/// writes a double into it. A path naming anything but nothing or a regular file is refused
/// first (io::check_replaceable). Collective; on failure every rank throws and no file is left.
void generate(const GenerateSpec& spec, const RunOptions& options);

}  // namespace tessera::run
