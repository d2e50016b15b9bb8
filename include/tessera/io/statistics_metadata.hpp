// Writing a band's statistics where GDAL and QGIS read them: the .aux.xml beside the raster.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tessera::io {

/// A band's statistics as `gdalinfo -stats` stores them, and its histogram as `-hist` does.
struct BandStatistics {
  double minimum = 0;
  double maximum = 0;
  double mean = 0;
  double stddev = 0;
  std::string valid_percent = "100";  ///< as GDAL writes it (valid_percent_text)
  struct Histogram {
    double min = 0;
    double max = 0;
    std::vector<int64_t> counts;
  };
  std::optional<Histogram> histogram;
};

/// Stores `stats` for band `band` of `path` through GDAL's PAM, as gdalinfo -stats [-hist] does
/// (STATISTICS_MINIMUM ... STATISTICS_VALID_PERCENT, the default histogram): usually the
/// .aux.xml beside the file. Throws tessera::Error naming the file when GDAL cannot store them.
void write_statistics(const std::string& path, int band, const BandStatistics& stats);

}  // namespace tessera::io
