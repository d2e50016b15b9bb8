// PolygonZones: a layer's polygons read once through OGR, reprojected, indexed by buckets of
// cells; PolygonBurner: GDAL's rasteriser onto one thread's tile-sized MEM dataset; and the
// vector table that copies the layer with the statistics as fields.
#include "tessera/io/polygon_zones.hpp"

#include <gdal_alg.h>
#include <gdal_priv.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "gdal_util.hpp"
#include "tessera/core/error.hpp"

namespace tessera::io {

namespace {

using detail::clear_gdal_error;
using detail::last_gdal_error;

/// Cells per side of the buckets that index the polygons' windows.
constexpr int64_t kBucket = 256;

struct GdalDatasetCloser {
  void operator()(GDALDataset* ds) const { GDALClose(GDALDataset::ToHandle(ds)); }
};
using VectorDataset = std::unique_ptr<GDALDataset, GdalDatasetCloser>;

std::string with_reason(std::string text) {
  const std::string reason = last_gdal_error();
  if (!reason.empty()) text += ": " + reason;
  return text;
}

VectorDataset open_vector(const std::string& path) {
  detail::ensure_gdal();
  clear_gdal_error();
  VectorDataset ds(GDALDataset::FromHandle(
      GDALOpenEx(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR, nullptr,
                 nullptr, nullptr)));
  if (!ds) {
    std::error_code ignored;
    if (!std::filesystem::exists(path, ignored)) throw Error(path + ": no such file");
    throw Error(with_reason(path + ": not a vector file GDAL can read"));
  }
  return ds;
}

OGRLayer* find_layer(GDALDataset& ds, const PolygonSource& source) {
  if (source.layer) {
    if (OGRLayer* layer = ds.GetLayerByName(source.layer->c_str())) return layer;
    std::string names;
    for (OGRLayer* layer : ds.GetLayers())
      names += (names.empty() ? "" : ", ") + std::string(layer->GetName());
    throw Error(source.path + ": no layer '" + *source.layer + "' (it has " + names + ")");
  }
  if (ds.GetLayerCount() == 0) throw Error(source.path + ": no layer");
  if (ds.GetLayerCount() > 1) {
    std::string names;
    for (OGRLayer* layer : ds.GetLayers())
      names += (names.empty() ? "" : ", ") + std::string(layer->GetName());
    throw Error(source.path + ": " + std::to_string(ds.GetLayerCount()) + " layers (" + names +
                "); name one with --layer");
  }
  return ds.GetLayer(0);
}

int find_field(OGRLayer& layer, const PolygonSource& source) {
  if (!source.id_field) return -1;
  OGRFeatureDefn* defn = layer.GetLayerDefn();
  const int index = defn->GetFieldIndex(source.id_field->c_str());
  if (index >= 0) return index;
  std::string names;
  for (int k = 0; k < defn->GetFieldCount(); ++k)
    names += (names.empty() ? "" : ", ") + std::string(defn->GetFieldDefn(k)->GetNameRef());
  throw Error(source.path + ": layer '" + layer.GetName() + "' has no field '" + *source.id_field +
              "' (it has " + (names.empty() ? "none" : names) + ")");
}

/// Whether `srs` is the GeoPackage driver's stand-in for no CRS: a layer made without one reads
/// back as "Undefined geographic SRS" or "Undefined Cartesian SRS" (srs_id 0 and -1).
bool is_undefined(const OGRSpatialReference& srs) {
  const char* name = srs.GetName();
  return name != nullptr && (std::string_view(name) == "Undefined geographic SRS" ||
                             std::string_view(name) == "Undefined Cartesian SRS");
}

/// The transformation from the layer's CRS into the raster's, or none when they are the same
/// or either has no CRS (is_undefined() counts as none).
std::unique_ptr<OGRCoordinateTransformation> reprojection(OGRLayer& layer, const RasterInfo& grid,
                                                          const std::string& path) {
  const OGRSpatialReference* from = layer.GetSpatialRef();
  if (from == nullptr || is_undefined(*from) || grid.crs_wkt.empty()) return nullptr;
  OGRSpatialReference to;
  if (to.importFromWkt(grid.crs_wkt.c_str()) != OGRERR_NONE) return nullptr;
  to.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  OGRSpatialReference source(*from);
  source.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  if (source.IsSame(&to)) return nullptr;
  clear_gdal_error();
  std::unique_ptr<OGRCoordinateTransformation> transform(
      OGRCreateCoordinateTransformation(&source, &to));
  if (!transform)
    throw Error(with_reason(path + ": cannot transform its CRS into the raster's " + grid.path));
  return transform;
}

bool is_polygonal(const OGRGeometry& g) {
  const OGRwkbGeometryType flat = wkbFlatten(g.getGeometryType());
  return flat == wkbPolygon || flat == wkbMultiPolygon || flat == wkbCurvePolygon ||
         flat == wkbMultiSurface;
}

}  // namespace

struct PolygonZones::Impl {
  std::vector<std::unique_ptr<OGRGeometry>> geometries;  // in the raster's CRS; null: none
  std::vector<std::string> ids;
  std::vector<Window> windows;
  std::array<double, 6> inverse{};  // the raster's inverse geotransform
  Extent size;
  int64_t buckets_x = 0;
  std::vector<std::vector<int64_t>> buckets;  // zones whose window meets each bucket

  /// The cells of the raster that `envelope` (raster CRS) may touch, one cell wider each side.
  Window cells_of(const OGREnvelope& envelope) const {
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (const double gx : {envelope.MinX, envelope.MaxX})
      for (const double gy : {envelope.MinY, envelope.MaxY}) {
        const double px = inverse[0] + gx * inverse[1] + gy * inverse[2];
        const double py = inverse[3] + gx * inverse[4] + gy * inverse[5];
        x0 = std::min(x0, px);
        x1 = std::max(x1, px);
        y0 = std::min(y0, py);
        y1 = std::max(y1, py);
      }
    const auto clamp = [](double v, int64_t hi) {
      return static_cast<int64_t>(std::clamp(v, 0.0, static_cast<double>(hi)));
    };
    const int64_t left = clamp(std::floor(x0) - 1, size.width);
    const int64_t right = clamp(std::ceil(x1) + 1, size.width);
    const int64_t top = clamp(std::floor(y0) - 1, size.height);
    const int64_t bottom = clamp(std::ceil(y1) + 1, size.height);
    if (right <= left || bottom <= top) return {};
    return {left, top, right - left, bottom - top};
  }
};

bool is_vector_file(const std::string& path) {
  detail::ensure_gdal();
  clear_gdal_error();
  VectorDataset ds(GDALDataset::FromHandle(
      GDALOpenEx(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr, nullptr, nullptr)));
  return ds && ds->GetLayerCount() > 0 && ds->GetRasterCount() == 0;
}

PolygonZones::PolygonZones(const PolygonSource& source, const RasterInfo& grid)
    : impl_(std::make_unique<Impl>()) {
  VectorDataset ds = open_vector(source.path);
  OGRLayer* layer = find_layer(*ds, source);
  layer_name_ = layer->GetName();
  const int field = find_field(*layer, source);
  id_name_ = source.id_field ? *source.id_field : "fid";
  const OGRFeatureDefn* defn = layer->GetLayerDefn();
  for (int k = 0; k < defn->GetFieldCount(); ++k)
    field_names_.emplace_back(defn->GetFieldDefn(k)->GetNameRef());
  const auto transform = reprojection(*layer, grid, source.path);
  Impl& z = *impl_;
  z.size = grid.size;
  if (!GDALInvGeoTransform(const_cast<double*>(grid.geotransform.data()), z.inverse.data()))
    throw Error(grid.path + ": its geotransform cannot be inverted");
  layer->ResetReading();
  for (auto& feature : *layer) {
    const int64_t fid = feature->GetFID();
    z.ids.push_back(field < 0 ? std::to_string(fid)
                    : feature->IsFieldSetAndNotNull(field)
                        ? std::string(feature->GetFieldAsString(field))
                        : std::string());
    std::unique_ptr<OGRGeometry> geometry(feature->StealGeometry());
    if (geometry && !geometry->IsEmpty()) {
      if (!is_polygonal(*geometry))
        throw Error(source.path + ": feature " + std::to_string(fid) + " is a " +
                    OGRGeometryTypeToName(geometry->getGeometryType()) +
                    ", not a polygon: zones must be polygons");
      if (geometry->hasCurveGeometry()) geometry.reset(geometry->getLinearGeometry());
      if (transform && geometry->transform(transform.get()) != OGRERR_NONE)
        throw Error(source.path + ": feature " + std::to_string(fid) +
                    " cannot be reprojected into the CRS of " + grid.path);
      OGREnvelope envelope;
      geometry->getEnvelope(&envelope);
      z.windows.push_back(z.cells_of(envelope));
    } else {
      geometry.reset();
      z.windows.push_back({});
    }
    z.geometries.push_back(std::move(geometry));
  }
  if (z.ids.empty()) throw Error(source.path + ": layer '" + layer_name_ + "' has no features");
  z.buckets_x = (grid.size.width + kBucket - 1) / kBucket;
  const int64_t buckets_y = (grid.size.height + kBucket - 1) / kBucket;
  z.buckets.resize(static_cast<size_t>(z.buckets_x * buckets_y));
  for (int64_t k = 0; k < static_cast<int64_t>(z.windows.size()); ++k) {
    const Window& w = z.windows[static_cast<size_t>(k)];
    if (w.width == 0) continue;
    for (int64_t by = w.y / kBucket; by <= (w.y + w.height - 1) / kBucket; ++by)
      for (int64_t bx = w.x / kBucket; bx <= (w.x + w.width - 1) / kBucket; ++bx)
        z.buckets[static_cast<size_t>(by * z.buckets_x + bx)].push_back(k);
  }
}

PolygonZones::~PolygonZones() = default;

int64_t PolygonZones::count() const { return static_cast<int64_t>(impl_->ids.size()); }

const std::string& PolygonZones::id(int64_t zone) const {
  return impl_->ids.at(static_cast<size_t>(zone));
}

Window PolygonZones::window_of(int64_t zone) const {
  return impl_->windows.at(static_cast<size_t>(zone));
}

std::vector<int64_t> PolygonZones::zones_meeting(const Window& window) const {
  const Impl& z = *impl_;
  std::vector<int64_t> found;
  if (window.width <= 0 || window.height <= 0) return found;
  for (int64_t by = window.y / kBucket; by <= (window.y + window.height - 1) / kBucket; ++by)
    for (int64_t bx = window.x / kBucket; bx <= (window.x + window.width - 1) / kBucket; ++bx) {
      const size_t bucket = static_cast<size_t>(by * z.buckets_x + bx);
      if (bucket >= z.buckets.size()) continue;
      for (int64_t k : z.buckets[bucket])
        if (!intersect(z.windows[static_cast<size_t>(k)], window).empty()) found.push_back(k);
    }
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  return found;
}

namespace {

/// Georeferenced coordinates to the cells of a canvas: the raster's inverse geotransform as
/// GDAL's rasteriser applies it, then the canvas' origin (whole cells) subtracted, exactly for
/// the raster's sizes, so each canvas sees the cell centres the whole raster's rasterisation
/// sees.
struct TileTransform {
  std::array<double, 6> inverse;
  double x0 = 0;
  double y0 = 0;
};

int to_tile(void* arg, int dst_to_src, int count, double* x, double* y, double* /*z*/, int* ok) {
  const auto& t = *static_cast<const TileTransform*>(arg);
  if (dst_to_src) return FALSE;
  for (int i = 0; i < count; ++i) {
    const double px = t.inverse[0] + x[i] * t.inverse[1] + y[i] * t.inverse[2];
    const double py = t.inverse[3] + x[i] * t.inverse[4] + y[i] * t.inverse[5];
    x[i] = px - t.x0;
    y[i] = py - t.y0;
    ok[i] = TRUE;
  }
  return TRUE;
}

}  // namespace

struct PolygonBurner::Impl {
  const PolygonZones* zones = nullptr;
  GDALDriver* mem = nullptr;
  bool all_touched = false;
  std::vector<uint8_t> canvas;  ///< the rasterised canvas, reused
};

PolygonBurner::PolygonBurner(const PolygonZones& zones, bool all_touched)
    : impl_(std::make_unique<Impl>()) {
  detail::ensure_gdal();
  impl_->zones = &zones;
  impl_->all_touched = all_touched;
  impl_->mem = GetGDALDriverManager()->GetDriverByName("MEM");
  if (impl_->mem == nullptr) throw Error("GDAL has no MEM driver");
}

PolygonBurner::~PolygonBurner() = default;

void PolygonBurner::rasterise(int64_t zone, const Window& canvas_cells, uint8_t* bytes) {
  const auto& z = *impl_->zones->impl_;
  clear_gdal_error();
  VectorDataset canvas(impl_->mem->Create("", static_cast<int>(canvas_cells.width),
                                          static_cast<int>(canvas_cells.height), 0, GDT_Byte,
                                          nullptr));
  const std::string pointer = "DATAPOINTER=" + std::to_string(reinterpret_cast<uintptr_t>(bytes));
  const char* band_options[] = {pointer.c_str(), nullptr};
  if (!canvas || canvas->AddBand(GDT_Byte, const_cast<char**>(band_options)) != CE_None)
    throw Error(with_reason("cannot make a canvas to rasterise zone " + std::to_string(zone)));
  TileTransform transform{z.inverse, static_cast<double>(canvas_cells.x),
                          static_cast<double>(canvas_cells.y)};
  const OGRGeometry* geometry = z.geometries.at(static_cast<size_t>(zone)).get();
  OGRGeometryH handle = OGRGeometry::ToHandle(const_cast<OGRGeometry*>(geometry));
  const int band = 1;
  const double one = 1;
  const char* touched[] = {"ALL_TOUCHED=TRUE", nullptr};
  if (GDALRasterizeGeometries(GDALDataset::ToHandle(canvas.get()), 1, &band, 1, &handle, to_tile,
                              &transform, &one, impl_->all_touched ? touched : nullptr, nullptr,
                              nullptr) != CE_None)
    throw Error(with_reason("cannot rasterise zone " + std::to_string(zone)));
}

Window PolygonBurner::burn(int64_t zone, const Window& tile, std::vector<uint8_t>& masks) {
  const auto& z = *impl_->zones->impl_;
  const Window& around = z.windows[static_cast<size_t>(zone)];
  const Window meets = intersect(around, tile);
  if (z.geometries.at(static_cast<size_t>(zone)) == nullptr || meets.empty()) return {};
  const size_t offset = masks.size();
  masks.resize(offset + static_cast<size_t>(meets.cells()), 0);
  // Copies the canvas's cells inside the tile into the mask.
  const auto take = [&](const Window& canvas_cells) {
    const Window part = intersect(canvas_cells, meets);
    for (int64_t y = part.y; y < part.bottom(); ++y)
      std::memcpy(
          masks.data() + offset +
              static_cast<size_t>((y - meets.y) * meets.width + (part.x - meets.x)),
          impl_->canvas.data() + static_cast<size_t>((y - canvas_cells.y) * canvas_cells.width +
                                                     (part.x - canvas_cells.x)),
          static_cast<size_t>(part.width));
  };
  try {
    if (!impl_->all_touched) {
      // Cell centres: a canvas of the cells the polygon may cover in the tile, not of the whole
      // tile (GDAL's rasteriser reads and writes back its whole canvas for each polygon), whose
      // band is the mask's own bytes; GDAL finds each row's crossings from the edges' ends,
      // whatever the canvas.
      rasterise(zone, meets, masks.data() + offset);
    } else {
      // Every touched cell: GDAL walks each edge cell by cell in floating point from where its
      // canvas cuts it, so an edge through a cell's corner touches the cell or not by where the
      // canvas starts. The canvases are blocks of a fixed lattice (within the polygon's window),
      // whatever the tiling, so that every cell is the same at any tile size, ranks and threads.
      constexpr int64_t kLattice = PolygonBurner::lattice;
      for (int64_t by = meets.y / kLattice; by <= (meets.bottom() - 1) / kLattice; ++by)
        for (int64_t bx = meets.x / kLattice; bx <= (meets.right() - 1) / kLattice; ++bx) {
          const Window canvas_cells =
              intersect(Window{bx * kLattice, by * kLattice, kLattice, kLattice}, around);
          impl_->canvas.assign(static_cast<size_t>(canvas_cells.cells()), 0);
          rasterise(zone, canvas_cells, impl_->canvas.data());
          take(canvas_cells);
        }
    }
  } catch (...) {
    masks.resize(offset);
    throw;
  }
  return {meets.x - tile.x, meets.y - tile.y, meets.width, meets.height};
}

std::string vector_driver_for(const std::string& path) {
  std::string extension = std::filesystem::path(path).extension().string();
  for (char& c : extension) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (extension == ".gpkg") return "GPKG";
  if (extension == ".shp") return "ESRI Shapefile";
  if (extension == ".geojson" || extension == ".json") return "GeoJSON";
  return "";
}

void write_zone_layer(const PolygonSource& source, const std::string& path,
                      const std::string& label, const std::vector<std::string>& columns,
                      const std::vector<bool>& integer_columns,
                      const std::vector<std::vector<double>>& values) {
  VectorDataset from = open_vector(source.path);
  OGRLayer* in = find_layer(*from, source);
  const std::string driver_name = vector_driver_for(path);
  GDALDriver* driver = GetGDALDriverManager()->GetDriverByName(driver_name.c_str());
  if (driver == nullptr) throw Error(label + ": GDAL has no " + driver_name + " driver");
  clear_gdal_error();
  VectorDataset out(driver->Create(path.c_str(), 0, 0, 0, GDT_Unknown, nullptr));
  if (!out) throw Error(with_reason(label + ": cannot create"));
  OGRLayer* layer =
      out->CreateLayer(in->GetName(), in->GetSpatialRef(), in->GetGeomType(), nullptr);
  if (layer == nullptr) throw Error(with_reason(label + ": cannot create its layer"));
  OGRFeatureDefn* in_defn = in->GetLayerDefn();
  for (int k = 0; k < in_defn->GetFieldCount(); ++k)
    if (layer->CreateField(in_defn->GetFieldDefn(k)) != OGRERR_NONE)
      throw Error(
          with_reason(label + ": cannot create field " + in_defn->GetFieldDefn(k)->GetNameRef()));
  const int first = layer->GetLayerDefn()->GetFieldCount();
  for (size_t c = 0; c < columns.size(); ++c) {
    OGRFieldDefn defn(columns[c].c_str(), integer_columns[c] ? OFTInteger64 : OFTReal);
    if (layer->CreateField(&defn) != OGRERR_NONE)
      throw Error(with_reason(label + ": cannot create field " + columns[c]));
  }
  const bool transaction = out->StartTransaction() == OGRERR_NONE;
  size_t row = 0;
  in->ResetReading();
  for (auto& feature : *in) {
    OGRFeature copy(layer->GetLayerDefn());
    copy.SetFrom(feature.get(), TRUE);
    copy.SetFID(OGRNullFID);
    const std::vector<double>& v = values.at(row++);
    for (size_t c = 0; c < columns.size(); ++c) {
      if (std::isnan(v[c])) continue;
      const int index = first + static_cast<int>(c);
      if (integer_columns[c])
        copy.SetField(index, static_cast<GIntBig>(v[c]));
      else
        copy.SetField(index, v[c]);
    }
    if (layer->CreateFeature(&copy) != OGRERR_NONE)
      throw Error(with_reason(label + ": cannot write feature " + std::to_string(row)));
  }
  if (transaction && out->CommitTransaction() != OGRERR_NONE)
    throw Error(with_reason(label + ": cannot write its features"));
  clear_gdal_error();
  out.reset();
  if (!last_gdal_error().empty()) throw Error(label + ": cannot write: " + last_gdal_error());
}

}  // namespace tessera::io
