// The single GeoTIFF writer: GDAL creates the empty tiled file with its georeferencing, then
// libtiff appends tiles compressed elsewhere (raw tile writes) and the file is renamed into place.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "gdal_util.hpp"
#include "tessera/core/error.hpp"
#include "tessera/io/geotiff.hpp"
#include "tessera/io/temporary_files.hpp"

namespace tessera::io {
namespace {

std::vector<std::string> creation_options(const OutputSpec& spec) {
  const CreationOptions& o = spec.options;
  std::vector<std::string> list{
      "TILED=YES",
      "BLOCKXSIZE=" + std::to_string(spec.tile_width),
      "BLOCKYSIZE=" + std::to_string(spec.tile_height),
      "COMPRESS=" + std::string(name_of(o.compression)),
      "SPARSE_OK=TRUE",
      "ENDIANNESS=LITTLE",
      std::string("BIGTIFF=") + (needs_bigtiff(spec) ? "YES" : "NO"),
  };
  if (spec.bands > 1) list.emplace_back("INTERLEAVE=BAND");
  if (o.predictor != 1) list.push_back("PREDICTOR=" + std::to_string(o.predictor));
  if (o.compression == Compression::Zstd)
    list.push_back("ZSTD_LEVEL=" + std::to_string(o.zstd_level));
  if (o.compression == Compression::Deflate)
    list.push_back("ZLEVEL=" + std::to_string(o.deflate_level));
  return list;
}

}  // namespace

struct GeoTiffWriter::Impl {
  OutputSpec spec;
  TemporaryFile temporary;
  detail::TiffErrors errors;
  detail::Tiff tif;
  int64_t tiles_per_band = 0;

  explicit Impl(const OutputSpec& s) : spec(s), temporary(temporary_path(s.path, getpid())) {
    detail::check_options(spec);
    create_empty();
    tif = detail::open_tiff(temporary.path(), spec.path, "r+", errors);
    tiles_per_band = ((spec.size.width + spec.tile_width - 1) / spec.tile_width) *
                     ((spec.size.height + spec.tile_height - 1) / spec.tile_height);
    check_layout();
  }

  void create_empty() {
    check_output_folder(spec.path);
    detail::Dataset ds =
        detail::create_geotiff(temporary.path(), spec.path, spec.size.width, spec.size.height,
                               spec.bands, spec.type, creation_options(spec));
    if (spec.has_geotransform)
      detail::set_geotransform(ds.get(), spec.path, spec.geotransform.data());
    if (!spec.crs_wkt.empty()) detail::set_crs(ds.get(), spec.path, spec.crs_wkt);
    for (int b = 0; b < spec.bands; ++b) describe_band(ds.get(), b);
    detail::close_checked(std::move(ds), spec.path, "cannot write the empty file");
  }

  void describe_band(GDALDatasetH ds, int b) {
    GDALRasterBandH band = GDALGetRasterBand(ds, b + 1);
    if (spec.nodata) detail::set_nodata(band, spec.path, *spec.nodata);
    if (static_cast<size_t>(b) < spec.band_descriptions.size())
      detail::set_description(band, spec.band_descriptions[static_cast<size_t>(b)]);
  }

  // What GDAL wrote must be what the encoders produce: one tile size, one compression.
  void check_layout() const {
    const std::string& p = spec.path;
    const bool same_tiles =
        detail::tiff_tag_u32(tif.get(), TIFFTAG_TILEWIDTH, p) == spec.tile_width &&
        detail::tiff_tag_u32(tif.get(), TIFFTAG_TILELENGTH, p) == spec.tile_height;
    const bool same_compression = detail::tiff_tag_u16(tif.get(), TIFFTAG_COMPRESSION, p) ==
                                  detail::tiff_compression(spec.options.compression);
    const bool same_count =
        static_cast<int64_t>(TIFFNumberOfTiles(tif.get())) == tiles_per_band * spec.bands;
    if (!same_tiles || !same_compression || !same_count)
      throw Error(spec.path + ": GDAL created a layout libtiff cannot append tiles to");
  }

  void write_tile(int band, int64_t tile, std::span<const std::byte> encoded) {
    if (!tif) throw Error(spec.path + ": write after commit");
    if (band < 0 || band >= spec.bands || tile < 0 || tile >= tiles_per_band)
      throw Error(spec.path + ": no tile " + std::to_string(tile) + " in band " +
                  std::to_string(band) + " (both count from 0)");
    const auto index = static_cast<uint32_t>(band * tiles_per_band + tile);
    errors.last.clear();
    detail::write_raw_tile(tif.get(), index, encoded, spec.path, errors);
  }

  void commit() {
    if (!tif) throw Error(spec.path + ": committed twice");
    detail::close_tiff(std::move(tif), spec.path, errors);
    if (std::rename(temporary.path().c_str(), spec.path.c_str()) != 0)
      throw Error(spec.path + ": cannot rename " + temporary.path() +
                  " into place: " + std::strerror(errno));
    temporary.release();
  }
};

GeoTiffWriter::GeoTiffWriter(const OutputSpec& spec) : impl_(std::make_unique<Impl>(spec)) {}
GeoTiffWriter::~GeoTiffWriter() = default;

void GeoTiffWriter::write_tile(int band, int64_t tile, std::span<const std::byte> encoded) {
  impl_->write_tile(band, tile, encoded);
}

void GeoTiffWriter::commit() { impl_->commit(); }

}  // namespace tessera::io
