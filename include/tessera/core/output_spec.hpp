// What an output file will be: size, type, georeferencing and GeoTIFF creation options.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/core/geokeys.hpp"
#include "tessera/core/geometry.hpp"
#include "tessera/core/pixel_type.hpp"

namespace tessera {

enum class Compression { None, Deflate, Zstd, Lzw };

/// GDAL's spelling of a compression: "NONE", "DEFLATE", "ZSTD", "LZW".
std::string_view name_of(Compression c);

/// The kind of file an output is: one tiled GeoTIFF, one HDF5 file in the netCDF-4/CF layout, or
/// a table of statistics per zone (CSV, or a vector file through OGR).
enum class OutputFormat { GeoTiff, Hdf5, Table };

/// The format a path's extension names (.tif/.tiff: GeoTiff, .h5/.hdf5: Hdf5, any case), or
/// nullopt for any other extension.
std::optional<OutputFormat> format_of_path(const std::string& path);

/// Whether a path's extension names a table (.csv, .gpkg, .shp, .geojson, .json, any case).
bool is_table_path(const std::string& path);

/// What a zonal statistics table (OutputFormat::Table) is made of: the statistics of each of the
/// output's bands per zone, as `tessera zonal` computes them.
struct ZoneTableSpec {
  std::string zones;  ///< a raster of zone ids, or a vector file of polygons
  int zones_band = 1;
  std::optional<std::string> layer;     ///< polygons: their layer
  std::optional<std::string> id_field;  ///< polygons: the field naming each zone
  bool all_touched = false;
  bool categorical = false;
  std::vector<std::string> stats;  ///< statistic names (tessera zonal's --stats); empty: default
};

/// GeoTIFF creation options, spelled as gdaldem's -co takes them (COMPRESS=ZSTD, PREDICTOR=2,
/// ZSTD_LEVEL=9, ZLEVEL=6, BIGTIFF=YES|NO|IF_NEEDED|IF_SAFER, TILED, BLOCKXSIZE, BLOCKYSIZE).
struct CreationOptions {
  Compression compression = Compression::None;
  int predictor = 1;      ///< 1 none, 2 horizontal, 3 floating point
  int zstd_level = 9;     ///< GDAL's default
  int deflate_level = 6;  ///< GDAL's default
  std::string bigtiff = "IF_SAFER";
  std::optional<int64_t> block_width;
  std::optional<int64_t> block_height;
};

/// Parses NAME=VALUE strings; throws tessera::Error naming an unknown option or a bad value.
CreationOptions parse_creation_options(const std::vector<std::string>& items);

/// Everything the writer and the encoders must agree on.
struct OutputSpec {
  std::string path;
  OutputFormat format = OutputFormat::GeoTiff;
  Extent size;
  int bands = 1;
  PixelType type = PixelType::Float32;
  int64_t tile_width = 256;
  int64_t tile_height = 256;
  std::optional<double> nodata;
  bool has_geotransform = false;
  std::array<double, 6> geotransform{0, 1, 0, 0, 0, 1};
  /// The CRS as WKT, or as an input GeoTIFF's keys (GeoTIFF outputs only; crs_wkt empty).
  std::string crs_wkt;
  GeoKeys geokeys;
  std::vector<std::string> band_descriptions;
  CreationOptions options;
  std::optional<ZoneTableSpec> table;  ///< set for OutputFormat::Table
};

/// Whether the file needs BigTIFF: when asked, or when its tiles could pass 4 GiB.
bool needs_bigtiff(const OutputSpec& spec);

}  // namespace tessera
