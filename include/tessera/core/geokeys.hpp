// A GeoTIFF's georeferencing keys as the file stores them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tessera {

/// The GeoKeyDirectoryTag, GeoDoubleParamsTag and GeoAsciiParamsTag of a GeoTIFF, as stored.
/// Copied from a GeoTIFF input to a GeoTIFF output they carry its CRS as they are, without the
/// round trip through PROJ's database that reading the CRS as WKT and writing it back costs
/// (25 ms a process here, on every rank before its first tile). Empty: not known this way.
struct GeoKeys {
  std::vector<uint16_t> directory;
  std::vector<double> doubles;
  std::string ascii;

  bool empty() const { return directory.empty(); }
  bool operator==(const GeoKeys&) const = default;
};

}  // namespace tessera
