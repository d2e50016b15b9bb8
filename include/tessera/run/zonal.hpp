// `tessera zonal`: statistics of value rasters per zone of a zone raster, in one reduction pass,
// written as a CSV table that is the same bytes at any ranks, threads and tile size.
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
  std::string zones;  ///< a raster of integer zone ids (its nodata: no zone)
  int zones_band = 1;
  std::vector<std::string> values;     ///< rasters on the zones' grid (band 1 of each)
  std::vector<stats::ZoneStat> stats;  ///< the columns, per values raster
  std::string out;                     ///< the CSV table
  std::optional<int64_t> tile;
};

/// The statistics `tessera zonal` gives without --stats.
std::vector<stats::ZoneStat> default_zone_stats();

/// Collective: probes the rasters (every values raster must be on the zones' grid: same size,
/// geotransform and CRS, or the error names both grids), folds every tile into per-zone partial
/// results, merges them exactly on rank 0, which writes the table (under a temporary name, then
/// renamed). On failure every rank throws the same tessera::Error and no table is left.
void run_zonal(const ZonalRequest& request, const RunOptions& options);

/// The table: a header "zone,STAT,..." (with several values rasters, "NAME_STAT" columns, NAME
/// the file's name without folder and extension), then one line per zone in increasing id.
std::string zonal_csv(const ZonalRequest& request,
                      const std::vector<std::map<int64_t, stats::ZoneTally>>& tables);

}  // namespace tessera::run
