// Polygon zones for zonal statistics: a vector layer read through OGR, reprojected onto a
// raster's grid, and rasterised one polygon and one tile at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tessera/core/geometry.hpp"
#include "tessera/core/raster_info.hpp"

namespace tessera::io {

/// What names the zones of a vector file.
struct PolygonSource {
  std::string path;
  std::optional<std::string> layer;     ///< the layer's name; the file's only layer by default
  std::optional<std::string> id_field;  ///< the field that names each zone; the FID by default
};

/// Whether GDAL opens `path` as a vector file with at least one layer and no raster band.
bool is_vector_file(const std::string& path);

/// The polygons of one layer, in the raster's CRS (reprojected when the layer's CRS differs;
/// taken as the raster's when either has none), each with its cells' bounding window on the
/// raster. Holds every geometry in memory; read-only once made, so threads share it.
class PolygonZones {
 public:
  /// Throws tessera::Error naming the file and what is wrong: not a vector file, no such layer
  /// (naming those it has), an empty layer, no such id field (naming the fields), a geometry that
  /// is not a polygon, a CRS that cannot be transformed into the raster's.
  PolygonZones(const PolygonSource& source, const RasterInfo& grid);
  ~PolygonZones();
  PolygonZones(const PolygonZones&) = delete;
  PolygonZones& operator=(const PolygonZones&) = delete;

  /// Features, in the layer's order; zone k is the k-th.
  int64_t count() const;
  /// The id of zone k as text: the id field's value ("" when unset) or the FID.
  const std::string& id(int64_t zone) const;
  /// The id column's name: the id field's, or "fid".
  const std::string& id_name() const { return id_name_; }
  /// The layer's name in its file.
  const std::string& layer_name() const { return layer_name_; }
  /// The names of the layer's fields, in order.
  const std::vector<std::string>& field_names() const { return field_names_; }
  /// The zones whose window meets `window`, in increasing order.
  std::vector<int64_t> zones_meeting(const Window& window) const;
  /// The cells of the raster zone k's polygon may cover (empty when it lies off the raster).
  Window window_of(int64_t zone) const;

  struct Impl;

 private:
  friend class PolygonBurner;
  std::unique_ptr<Impl> impl_;
  std::string id_name_;
  std::string layer_name_;
  std::vector<std::string> field_names_;
};

/// One thread's rasteriser of polygon zones onto tiles, through GDAL's rasteriser (as
/// gdal_rasterize and rasterio.features.rasterize): a cell is covered when its centre is inside
/// the polygon, or, with `all_touched`, when the polygon touches it at all.
class PolygonBurner {
 public:
  PolygonBurner(const PolygonZones& zones, bool all_touched);
  ~PolygonBurner();
  PolygonBurner(const PolygonBurner&) = delete;
  PolygonBurner& operator=(const PolygonBurner&) = delete;

  /// The cells of `tile` (a window of the raster) that zone `zone` covers: returns the part of
  /// `tile` that holds them (tile-relative) and appends to `masks` one byte per cell of that
  /// part, row by row, 1 where covered. An empty window when none is (nothing appended).
  /// With `all_touched`, a tile's cells come from rasterising the polygon on the blocks of a
  /// fixed lattice of this many cells a side (each within the polygon's window): the same cells
  /// at any tiling.
  Window burn(int64_t zone, const Window& tile, std::vector<uint8_t>& masks);

  static constexpr int64_t lattice = 256;

 private:
  /// Rasterises zone `zone` onto a canvas of `canvas_cells` whose cells are `bytes` (zeroed).
  void rasterise(int64_t zone, const Window& canvas_cells, uint8_t* bytes);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Copies the features of `source`'s layer (geometries and fields as they are) into a new
/// vector file at `path` whose driver GDAL picks by extension (.gpkg GeoPackage, .shp ESRI
/// Shapefile, .geojson GeoJSON), with one more Real or Integer64 field per name of `columns`
/// holding `values[k][c]` for feature k (NaN: left unset). Throws tessera::Error naming `label`
/// (the name the user gave; `path` may be a temporary one).
void write_zone_layer(const PolygonSource& source, const std::string& path,
                      const std::string& label, const std::vector<std::string>& columns,
                      const std::vector<bool>& integer_columns,
                      const std::vector<std::vector<double>>& values);

/// The OGR driver that writes `path` by its extension, or "" when it names no vector format.
std::string vector_driver_for(const std::string& path);

}  // namespace tessera::io
