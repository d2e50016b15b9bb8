// CRS names to WKT through GDAL's OGRSpatialReference C API.
#include "tessera/io/crs.hpp"

#include <cpl_conv.h>
#include <ogr_srs_api.h>

#include <algorithm>
#include <memory>

#include "gdal_util.hpp"
#include "tessera/core/error.hpp"
#include "tessera/io/raster_source.hpp"

namespace tessera::io {

namespace {

struct SrsDestroyer {
  void operator()(OGRSpatialReferenceH srs) const { OSRDestroySpatialReference(srs); }
};
using Srs = std::unique_ptr<std::remove_pointer_t<OGRSpatialReferenceH>, SrsDestroyer>;

}  // namespace

std::string crs_wkt(const std::string& text, const std::string& what) {
  detail::ensure_gdal();
  Srs srs(OSRNewSpatialReference(nullptr));
  char* wkt = nullptr;
  if (!srs || OSRSetFromUserInput(srs.get(), text.c_str()) != OGRERR_NONE ||
      OSRExportToWkt(srs.get(), &wkt) != OGRERR_NONE || wkt == nullptr) {
    CPLFree(wkt);
    throw Error(what + ": unknown CRS '" + text + "'");
  }
  std::string result(wkt);
  CPLFree(wkt);
  return result;
}

bool same_crs(const std::string& a, const std::string& b) {
  if (a == b) return true;
  if (a.empty() || b.empty()) return false;
  detail::ensure_gdal();
  Srs first(OSRNewSpatialReference(nullptr)), second(OSRNewSpatialReference(nullptr));
  if (!first || !second || OSRSetFromUserInput(first.get(), a.c_str()) != OGRERR_NONE ||
      OSRSetFromUserInput(second.get(), b.c_str()) != OGRERR_NONE)
    return false;
  return OSRIsSame(first.get(), second.get()) != 0;
}

void settle_crs(std::vector<RasterInfo>& rasters) {
  const bool same_keys = std::all_of(rasters.begin(), rasters.end(), [&](const RasterInfo& r) {
    return !r.geokeys.empty() && r.geokeys == rasters.front().geokeys;
  });
  if (same_keys) return;
  for (RasterInfo& r : rasters)
    if (!r.geokeys.empty()) {
      r.crs_wkt = probe(r.path, r.band, CrsForm::Wkt).crs_wkt;
      r.geokeys = {};
    }
  unify_crs(rasters);
}

void unify_crs(std::vector<RasterInfo>& rasters) {
  for (size_t i = 1; i < rasters.size(); ++i)
    for (size_t j = 0; j < i; ++j) {
      if (rasters[i].crs_wkt == rasters[j].crs_wkt) break;
      if (same_crs(rasters[i].crs_wkt, rasters[j].crs_wkt)) {
        rasters[i].crs_wkt = rasters[j].crs_wkt;
        break;
      }
    }
}

}  // namespace tessera::io
