// Coordinate reference systems as users name them, turned into the WKT outputs carry.
#pragma once

#include <string>
#include <vector>

#include "tessera/core/raster_info.hpp"

namespace tessera::io {

/// The WKT of a CRS named as GDAL's tools take it ("EPSG:32611", a PROJ string, WKT).
/// Throws tessera::Error "<what>: unknown CRS '<text>'".
std::string crs_wkt(const std::string& text, const std::string& what);

/// Whether two WKT texts name the same CRS as GDAL judges it (OSRIsSame); two empty texts do.
bool same_crs(const std::string& a, const std::string& b);

/// Gives each raster whose CRS is the same (same_crs) as an earlier raster's, in other words,
/// that earlier raster's WKT. Plans compare CRS texts, and GDAL may write a CRS back with other
/// AUTHORITY nodes than it read, so a raster and tessera's output of it can differ in text only.
void unify_crs(std::vector<RasterInfo>& rasters);

/// Rasters probed with CrsForm::GeoKeys keep their keys only when every raster has the same
/// keys; otherwise those with keys get their WKT (as CrsForm::Wkt gives it) and lose the keys.
/// Then unify_crs.
void settle_crs(std::vector<RasterInfo>& rasters);

}  // namespace tessera::io
