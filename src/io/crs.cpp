// CRS names to WKT through GDAL's OGRSpatialReference C API.
#include "tessera/io/crs.hpp"

#include <cpl_conv.h>
#include <ogr_srs_api.h>

#include <memory>

#include "gdal_util.hpp"
#include "tessera/core/error.hpp"

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

}  // namespace tessera::io
