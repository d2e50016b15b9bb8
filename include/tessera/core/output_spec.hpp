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

/// The kind of file an output is: one tiled GeoTIFF, a cloud-optimised GeoTIFF (GDAL's COG
/// layout, with overviews), one HDF5 file in the netCDF-4/CF layout, or a table of statistics per
/// zone (CSV, or a vector file through OGR).
enum class OutputFormat { GeoTiff, Cog, Hdf5, Table };

/// How an overview cell is made from the cells beneath it (gdaladdo -r).
enum class Resampling { Nearest, Average, Mode, Bilinear, Cubic };

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
  /// Overview levels inside the file: level k has 1 / 2^k of the cells across and down. A COG's
  /// are as many as bring the coarsest within one tile (OVERVIEW_COUNT, or none with
  /// OVERVIEWS=NONE); a GeoTIFF's are what `overviews = [2, 4, ...]` (--overviews) asks.
  std::optional<int> overview_count;
  bool no_overviews = false;  ///< COG: OVERVIEWS=NONE
  Resampling resampling = Resampling::Average;
};

/// Parses NAME=VALUE strings, GeoTIFF's options or, for `OutputFormat::Cog`, the COG driver's
/// (COMPRESS, LEVEL, PREDICTOR, BLOCKSIZE, OVERVIEWS, OVERVIEW_RESAMPLING / RESAMPLING,
/// OVERVIEW_COUNT, BIGTIFF, NUM_THREADS); throws tessera::Error naming an unknown option or a
/// bad value.
CreationOptions parse_creation_options(const std::vector<std::string>& items,
                                       OutputFormat format = OutputFormat::GeoTiff);

/// The overview factors 2, 4, ... 2^n as a count n; throws tessera::Error ("expected the factors
/// ...") when they are not consecutive powers of two from 2.
int overview_count_of(const std::vector<int64_t>& factors);

/// GDAL's name of a resampling: "NEAREST", "AVERAGE", "MODE", "BILINEAR", "CUBIC".
std::string_view name_of(Resampling r);

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

/// How many overview levels the file holds: the COG driver's default (halving until the
/// coarsest fits in one tile) unless the options say; throws tessera::Error when the raster
/// cannot have as many as asked (a level would be under one cell, or a tile's share of it).
int overview_levels(const OutputSpec& spec);

/// Whether the file needs BigTIFF: when asked, or when its tiles could pass 4 GiB.
bool needs_bigtiff(const OutputSpec& spec);

}  // namespace tessera
