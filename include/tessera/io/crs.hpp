// Coordinate reference systems as users name them, turned into the WKT outputs carry.
#pragma once

#include <string>

namespace tessera::io {

/// The WKT of a CRS named as GDAL's tools take it ("EPSG:32611", a PROJ string, WKT).
/// Throws tessera::Error "<what>: unknown CRS '<text>'".
std::string crs_wkt(const std::string& text, const std::string& what);

}  // namespace tessera::io
