// `tessera stats`: a band's exact statistics, histogram and percentiles from reduction passes,
// printed as gdalinfo -stats -hist prints them and stored where GDAL reads them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tessera/core/raster_info.hpp"
#include "tessera/run/executor.hpp"
#include "tessera/run/report.hpp"
#include "tessera/stats/band_stats.hpp"

namespace tessera::run {

struct StatsRequest {
  std::string path;
  int band = 1;
  bool histogram = false;
  std::optional<stats::Buckets> buckets;  ///< instead of GDAL's default histogram buckets
  std::vector<double> percentiles;        ///< each in [0, 100]
  std::optional<int64_t> tile;            ///< the tile size (the plan's default when empty)
  bool store = true;                      ///< write STATISTICS_* (and the histogram) to .aux.xml
  std::string json_path;                  ///< when set, rank 0 writes the results there as JSON
};

struct StatsResult {
  RasterInfo info;
  stats::Summary summary;
  std::optional<stats::Buckets> buckets;
  std::vector<int64_t> histogram;
  std::vector<double> percentiles;  ///< the values, in the order of StatsRequest::percentiles
  int sweeps = 0;                   ///< reduction passes over the band
  TileGrid grid;                    ///< the passes' tiles
  RankReport report;                ///< this rank's figures, summed over the passes
};

/// Throws tessera::Error for a percentile outside [0, 100], fewer than 1 bucket or an empty
/// range, naming the flag.
void check_request(const StatsRequest& request);

/// Collective: probes the band and runs the reduction passes (a first sweep of counts, extremes,
/// exact sums and the first digit of the order keys; then, as needed, sweeps that count GDAL's
/// histogram buckets and refine the percentiles' keys). Every rank returns the same result.
StatsResult compute_stats(const StatsRequest& request, const RunOptions& options);

/// What gdalinfo -stats [-hist] prints for the band, with the counts and percentiles added.
std::string stats_text(const StatsResult& result, const StatsRequest& request);
/// The same as one JSON object.
std::string stats_json(const StatsResult& result, const StatsRequest& request);

/// compute_stats(), then on rank 0: the text on stdout unless quiet, the JSON file, the
/// .aux.xml, and the run report when options.report_path is set (the passes' figures summed).
/// Collective; every rank throws the same error on failure, writing nothing.
void run_stats(const StatsRequest& request, const RunOptions& options);

}  // namespace tessera::run
