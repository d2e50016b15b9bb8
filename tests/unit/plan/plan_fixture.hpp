// What the plan's tests share: synthetic input metadata and the message a call throws.
#pragma once

#include <string>
#include <string_view>

#include "tessera/core/error.hpp"
#include "tessera/core/raster_info.hpp"

namespace tessera::test {

/// The metadata of a one-band, georeferenced DEM "dem.tif" (UTM zone 11N, 30 m cells).
inline RasterInfo dem(Extent size = {100, 100}, PixelType type = PixelType::Float32) {
  RasterInfo info;
  info.path = "dem.tif";
  info.band_count = 1;
  info.size = size;
  info.type = type;
  info.has_geotransform = true;
  info.geotransform = {1000, 30, 0, 5000, 0, -30};
  info.crs_wkt = "PROJCRS[\"WGS 84 / UTM zone 11N\"]";
  return info;
}

/// The message `call` throws tessera::Error with, or "" when it does not throw.
template <typename Call>
std::string message_of(Call call) {
  try {
    call();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

inline bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

}  // namespace tessera::test
