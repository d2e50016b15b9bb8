// `tessera zonal`: statistics of value rasters per zone of a zone raster or per polygon of a
// vector layer, in one reduction pass, written as a CSV table (or, for polygons, a copy of the
// layer with the statistics as fields) that is the same at any ranks, threads and tile size.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tessera/run/executor.hpp"
#include "tessera/stats/zonal.hpp"

namespace tessera::run {

struct ZonalRequest {
  /// A raster of integer zone ids (its nodata: no zone), or a vector file of polygons.
  std::string zones;
  int zones_band = 1;
  std::optional<std::string> layer;     ///< polygons: the layer (the file's only one by default)
  std::optional<std::string> id_field;  ///< polygons: the field naming each zone (FID by default)
  bool all_touched = false;  ///< polygons: every cell they touch, not only cells whose centre
  std::vector<std::string> values;  ///< rasters on the zones' grid (band 1 of each)
  /// What prefixes each values band's columns when there are several ("NAME_STAT"): the values
  /// files' names without folder and extension for tessera zonal, the bands' names in a job.
  std::vector<std::string> value_names;
  std::vector<stats::ZoneStatistic> stats;  ///< the columns, per values raster
  bool categorical = false;  ///< also a column per value seen: its cells' count in each zone
  /// The table: CSV, or for polygon zones a vector file by extension (.gpkg, .shp, .geojson).
  std::string out;
  std::optional<int64_t> tile;
};

/// The statistics `tessera zonal` gives without --stats.
std::vector<stats::ZoneStatistic> default_zone_stats();

/// Collective: probes the rasters (every values raster must be on the grid of the zones raster,
/// or of the first values raster for polygons: same size, geotransform and CRS, or the error
/// names both grids), reads the polygons on every rank (reprojected into the rasters' CRS),
/// folds every tile into per-zone partial results, merges them exactly on rank 0, which writes
/// the table (under a temporary name, then renamed). On failure every rank throws the same
/// tessera::Error and no table is left.
void run_zonal(const ZonalRequest& request, const RunOptions& options);

/// The columns of the table after the zone's: for each values band, its statistics ("STAT") then
/// with --categorical its classes ("class_VALUE", in increasing value); with several values
/// bands each name is "NAME_" + that (NAME from request.value_names).
struct ZonalColumn {
  std::string name;
  size_t raster = 0;            ///< which values raster
  stats::ZoneStatistic stat;    ///< a statistic, unless a class
  std::optional<double> value;  ///< a class: its cells' count
  bool integer() const;
};
std::vector<ZonalColumn> zonal_columns(const ZonalRequest& request,
                                       const std::vector<stats::ZoneList>& tables);

/// The CSV table of raster zones: a header "zone,COLUMN,...", then one line per zone in
/// increasing id.
std::string zonal_csv(const ZonalRequest& request, const std::vector<stats::ZoneList>& tables);

}  // namespace tessera::run
