// Helpers shared by the GeoTIFF io tests: cells that give compressors real work, tiles cut from
// them, a spec with georeferencing, and a whole file written through encoder and writer.
#pragma once

#include <gdal.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "tessera/core/geometry.hpp"
#include "tessera/io/geotiff.hpp"
#include "tessera/io/raster_source.hpp"

namespace tessera::io::test {

inline const std::string kData = TESSERA_TEST_DATA;
// The tests also call GDAL directly, so its drivers must be registered before any test runs.
inline const bool kGdalReady = (init_gdal(64 << 20), true);

inline GDALDataType gdal_type_of(PixelType t) {
  return GDALGetDataTypeByName(std::string(name_of(t)).c_str());
}

// A cell value that varies smoothly with some noise, negative for signed types and fractional
// for floats, so that predictors and compressors have real work.
inline double cell_value(PixelType t, int64_t x, int64_t y, int band) {
  const double v = 3.0 * x - 2.0 * y + 50.0 * band + static_cast<double>((x * 7 + y * 13) % 5);
  switch (t) {
    case PixelType::Byte:
      return static_cast<double>(static_cast<int64_t>(v + 1000) % 256);
    case PixelType::UInt16:
      return v + 1000;
    case PixelType::Int16:
      return v - 100;
    default:
      return v * 0.37 - 21.5;
  }
}

// All cells of one band, row-major over the raster, as bytes of type t.
inline std::vector<std::byte> band_cells(PixelType t, Extent size, int band) {
  std::vector<double> values(static_cast<size_t>(size.cells()));
  for (int64_t y = 0; y < size.height; ++y)
    for (int64_t x = 0; x < size.width; ++x)
      values[static_cast<size_t>(y * size.width + x)] = cell_value(t, x, y, band);
  std::vector<std::byte> bytes(values.size() * size_of(t));
  GDALCopyWords64(values.data(), GDT_Float64, 8, bytes.data(), gdal_type_of(t),
                  static_cast<int>(size_of(t)), static_cast<GPtrDiff_t>(values.size()));
  return bytes;
}

// The full (padded) tile `index` cut from a band's cells; padding cells are zero.
inline std::vector<std::byte> tile_cells(const std::vector<std::byte>& band, const TileGrid& grid,
                                         PixelType t, int64_t index) {
  const size_t cell = size_of(t);
  std::vector<std::byte> tile(static_cast<size_t>(grid.tile_width() * grid.tile_height()) * cell);
  const Window owned = grid.owned(index);
  for (int64_t y = 0; y < owned.height; ++y)
    std::memcpy(
        tile.data() + static_cast<size_t>(y * grid.tile_width()) * cell,
        band.data() + static_cast<size_t>((owned.y + y) * grid.raster().width + owned.x) * cell,
        static_cast<size_t>(owned.width) * cell);
  return tile;
}

inline std::string crs_of_n43() { return probe(kData + "/n43.tif").crs_wkt; }

inline OutputSpec make_spec(const std::string& path, PixelType type, int bands, Compression c,
                            int predictor) {
  OutputSpec spec;
  spec.path = path;
  spec.size = {100, 70};
  spec.bands = bands;
  spec.type = type;
  spec.tile_width = 32;
  spec.tile_height = 16;
  spec.nodata = type == PixelType::Byte ? 255.0 : -99.0;
  if (type == PixelType::UInt16) spec.nodata = 65535.0;
  spec.has_geotransform = true;
  spec.geotransform = {1000.0, 30.0, 0.0, 5000.0, 0.0, -30.0};
  spec.crs_wkt = crs_of_n43();
  for (int b = 0; b < bands; ++b) spec.band_descriptions.push_back("band " + std::to_string(b + 1));
  spec.options.compression = c;
  spec.options.predictor = predictor;
  return spec;
}

// Encodes and writes every tile of every band, in a shuffled order, then commits.
inline void write_all(const OutputSpec& spec, const std::vector<std::vector<std::byte>>& bands) {
  const TileGrid grid(spec.size, spec.tile_width, spec.tile_height);
  std::vector<std::pair<int, int64_t>> order;
  for (int b = 0; b < spec.bands; ++b)
    for (int64_t t = 0; t < grid.count(); ++t) order.emplace_back(b, t);
  std::shuffle(order.begin(), order.end(), std::mt19937(42));
  TileEncoder encoder(spec);
  GeoTiffWriter writer(spec);
  for (const auto& [b, t] : order) {
    const auto cells = tile_cells(bands[static_cast<size_t>(b)], grid, spec.type, t);
    writer.write_tile(b, t, encoder.encode(cells.data()));
  }
  writer.commit();
}

/// GDAL's name of `c` as its COMPRESSION metadata says it; nullptr for no compression.
inline const char* compression_name(Compression c) {
  return c == Compression::None ? nullptr : name_of(c).data();  // the names are literals
}

}  // namespace tessera::io::test
