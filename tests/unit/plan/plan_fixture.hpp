// What the plan's tests share: synthetic input metadata, the message a call throws, and pieces of
// job text.
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

/// A job's input "dem" reading dem.tif.
inline constexpr const char* kDemInput = "[input.dem]\npath = \"dem.tif\"\n\n";

/// A job's [[step]] table: its id, op, `in` (none when empty) and `more` lines as written.
inline std::string job_step(const std::string& id, const std::string& op, const std::string& in,
                            const std::string& more = "") {
  return "[[step]]\nid = \"" + id + "\"\nop = \"" + op + "\"\n" +
         (in.empty() ? "" : "in = \"" + in + "\"\n") + more + "\n";
}

}  // namespace tessera::test
