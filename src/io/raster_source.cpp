// Probing rasters for the plan and reading windows of one band into caller-owned views.
#include "tessera/io/raster_source.hpp"

#include <cpl_conv.h>

#include "gdal_util.hpp"
#include "geokeys_tiff.hpp"
#include "mapped_band.hpp"
#include "tessera/core/error.hpp"

namespace tessera::io {
namespace {

Extent size_of_dataset(GDALDatasetH ds) { return {GDALGetRasterXSize(ds), GDALGetRasterYSize(ds)}; }

void read_georeferencing(GDALDatasetH ds, CrsForm form, RasterInfo& info) {
  info.has_geotransform = GDALGetGeoTransform(ds, info.geotransform.data()) == CE_None;
  if (form == CrsForm::GeoKeys) info.geokeys = detail::read_geokeys(ds, info.path);
  if (!info.geokeys.empty()) return;
  const char* wkt = GDALGetProjectionRef(ds);
  info.crs_wkt = wkt ? wkt : "";
}

void read_band_metadata(GDALRasterBandH band, const std::string& path, RasterInfo& info) {
  info.type = detail::pixel_type(GDALGetRasterDataType(band), path);
  int has_nodata = 0;
  const double nodata = GDALGetRasterNoDataValue(band, &has_nodata);
  if (has_nodata) info.nodata = nodata;
  const char* description = GDALGetDescription(band);
  info.description = description ? description : "";
  int block_width = 0, block_height = 0;
  GDALGetBlockSize(band, &block_width, &block_height);
  info.block_width = block_width;
  info.block_height = block_height;
}

/// The type and nodata value of every band, for steps that read bands besides `info.band`.
void read_all_bands(GDALDatasetH ds, const std::string& path, RasterInfo& info) {
  for (int b = 1; b <= info.band_count; ++b) {
    GDALRasterBandH band = detail::get_band(ds, b, path);
    info.band_types.push_back(detail::pixel_type(GDALGetRasterDataType(band), path));
    int has_nodata = 0;
    const double nodata = GDALGetRasterNoDataValue(band, &has_nodata);
    info.band_nodata.push_back(has_nodata ? std::optional<double>(nodata) : std::nullopt);
  }
}

}  // namespace

RasterInfo probe(const std::string& path, int band, CrsForm form) {
  detail::Dataset ds = detail::open_raster(path);
  GDALRasterBandH handle = detail::get_band(ds.get(), band, path);
  RasterInfo info;
  info.path = path;
  info.band = band;
  info.band_count = GDALGetRasterCount(ds.get());
  info.size = size_of_dataset(ds.get());
  read_georeferencing(ds.get(), form, info);
  read_band_metadata(handle, path, info);
  read_all_bands(ds.get(), path, info);
  return info;
}

struct RasterReader::Impl {
  std::string path;
  detail::Dataset ds;
  GDALRasterBandH band = nullptr;
  Extent size;
  std::unique_ptr<detail::MappedBand> mapped;  ///< null: every read goes through GDAL

  /// Reads `inside` into `first` from the mapped file where it can, else through GDAL.
  void read_inside(Window inside, void* first, GDALDataType type, int64_t cell,
                   int64_t line_space) const {
    if (mapped && mapped->read(inside, first, type, line_space)) return;
    detail::read_block(band, path, inside.x, inside.y, inside.width, inside.height, first, type,
                       cell, line_space);
  }

  template <class T>
  void read(Window window, View<T> out, GDALDataType type) const {
    if (out.width() != window.width || out.height() != window.height)
      throw Error(path + ": read: the view is " + std::to_string(out.width()) + " x " +
                  std::to_string(out.height()) + " but the window " + std::to_string(window.width) +
                  " x " + std::to_string(window.height));
    const Window inside = intersect(window, whole(size));
    if (inside.empty()) return;
    T* first = out.data() + (inside.y - window.y) * out.stride() + (inside.x - window.x);
    const auto cell = static_cast<int64_t>(sizeof(T));
    read_inside(inside, first, type, cell, out.stride() * cell);
  }
};

RasterReader::RasterReader(const std::string& path, int band) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  impl_->ds = detail::open_raster(path);
  impl_->band = detail::get_band(impl_->ds.get(), band, path);
  impl_->size = size_of_dataset(impl_->ds.get());
  impl_->mapped = detail::MappedBand::open(impl_->ds.get(), impl_->band, path);
}

RasterReader::~RasterReader() = default;
RasterReader::RasterReader(RasterReader&&) noexcept = default;
RasterReader& RasterReader::operator=(RasterReader&&) noexcept = default;

void RasterReader::read(Window window, View<int32_t> out) { impl_->read(window, out, GDT_Int32); }

void RasterReader::read(Window window, View<float> out) { impl_->read(window, out, GDT_Float32); }

void RasterReader::read(Window window, PixelType type, View<std::byte> out) {
  const auto cell = static_cast<int64_t>(size_of(type));
  if (out.width() != window.width * cell || out.height() != window.height)
    throw Error(impl_->path + ": read: the view is " + std::to_string(out.width()) + " bytes x " +
                std::to_string(out.height()) + " but the window " + std::to_string(window.width) +
                " x " + std::to_string(window.height) + " cells of " + std::string(name_of(type)));
  const Window inside = intersect(window, whole(impl_->size));
  if (inside.empty()) return;
  std::byte* first =
      out.data() + (inside.y - window.y) * out.stride() + (inside.x - window.x) * cell;
  impl_->read_inside(inside, first, detail::gdal_type(type), cell, out.stride());
}

void init_gdal(int64_t cache_bytes) {
  detail::ensure_gdal();
  GDALSetCacheMax64(cache_bytes);
}

}  // namespace tessera::io
