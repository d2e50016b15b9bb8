// write_statistics: GDALSetRasterStatistics and GDALSetDefaultHistogramEx on a read-only
// dataset, whose PAM layer writes the .aux.xml when the dataset closes.
#include "tessera/io/statistics_metadata.hpp"

#include <cpl_string.h>

#include "gdal_util.hpp"
#include "tessera/core/error.hpp"

namespace tessera::io {

void write_statistics(const std::string& path, int band, const BandStatistics& stats) {
  detail::ensure_gdal();
  detail::Dataset ds = detail::open_raster(path);
  GDALRasterBandH b = detail::get_band(ds.get(), band, path);
  detail::clear_gdal_error();
  if (GDALSetRasterStatistics(b, stats.minimum, stats.maximum, stats.mean, stats.stddev) != CE_None)
    throw Error(path + ": cannot store statistics: " + detail::last_gdal_error());
  GDALSetMetadataItem(b, "STATISTICS_VALID_PERCENT", stats.valid_percent.c_str(), nullptr);
  if (stats.histogram) {
    std::vector<GUIntBig> counts(stats.histogram->counts.begin(), stats.histogram->counts.end());
    if (GDALSetDefaultHistogramEx(b, stats.histogram->min, stats.histogram->max,
                                  static_cast<int>(counts.size()), counts.data()) != CE_None)
      throw Error(path + ": cannot store the histogram: " + detail::last_gdal_error());
  }
  detail::close_checked(std::move(ds), path, "cannot store statistics");
}

}  // namespace tessera::io
