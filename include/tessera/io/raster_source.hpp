// Reading rasters through GDAL: metadata for the plan, and per-thread windowed readers.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "tessera/core/geometry.hpp"
#include "tessera/core/raster_info.hpp"
#include "tessera/core/raster_view.hpp"

namespace tessera::io {

using tessera::RasterInfo;

/// How probe gives a raster's CRS: as WKT (through PROJ's database), or as the GeoTIFF's keys
/// where they are all GDAL takes the CRS from (read_geokeys), WKT otherwise.
enum class CrsForm { Wkt, GeoKeys };

/// Opens `path`, checks that band `band` exists and returns its metadata. Throws tessera::Error
/// ("dem.tif: no such file", "x.txt: not a raster GDAL can read", "dem.tif: no band 3 (it has 1)").
RasterInfo probe(const std::string& path, int band = 1, CrsForm form = CrsForm::Wkt);

/// Reads windows of one band. Holds its own GDAL handle: one reader per thread, never shared.
class RasterReader {
 public:
  RasterReader(const std::string& path, int band);
  ~RasterReader();
  RasterReader(RasterReader&&) noexcept;
  RasterReader& operator=(RasterReader&&) noexcept;

  /// Reads the part of `window` inside the raster into the matching cells of `out`, which covers
  /// `window` exactly (out(0, 0) is cell (window.x, window.y)); cells outside are left untouched.
  /// Converts to the view's type as GDAL does. Throws tessera::Error naming the file on failure.
  void read(Window window, View<int32_t> out);
  void read(Window window, View<float> out);
  /// The same in the cells' own `type`, unconverted: `out` holds window.width * size_of(type)
  /// bytes per row.
  void read(Window window, PixelType type, View<std::byte> out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Process-wide GDAL set-up: registers drivers once, bounds GDAL's block cache to `cache_bytes`,
/// and turns GDAL's error printing into exceptions. Safe to call more than once.
void init_gdal(int64_t cache_bytes);

}  // namespace tessera::io
