// Private to io: each GDAL and libtiff call that can fail, wrapped once to throw tessera::Error
// with context, and RAII handles for datasets and TIFF files.
#pragma once

#include <gdal.h>
#include <tiffio.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tessera/core/output_spec.hpp"
#include "tessera/core/pixel_type.hpp"

namespace tessera::io::detail {

// ---- GDAL ----

/// Registers GDAL's drivers and the error handler, once per process. Safe from any thread.
void ensure_gdal();
/// The last GDAL error message recorded on this thread ("" when none).
std::string last_gdal_error();
/// Forgets this thread's last GDAL error, before a call whose failure we want to explain.
void clear_gdal_error();

struct DatasetCloser {
  void operator()(GDALDatasetH ds) const { GDALClose(ds); }
};
/// Owns one GDAL dataset handle; closing it is the deleter's job.
using Dataset = std::unique_ptr<std::remove_pointer_t<GDALDatasetH>, DatasetCloser>;

/// Opens `path` read-only as a raster (not shared); GDAL decides what opens, its special names
/// included (NETCDF:"f.h5":slope, /vsizip/a.zip/x.tif). Throws "<path>: no such file" for a
/// plain path to nothing, else "<path>: not a raster GDAL can read: <GDAL's reason>".
Dataset open_raster(const std::string& path);
/// Band `band` (1-based) of `ds`; throws "<path>: no band N (it has M)".
GDALRasterBandH get_band(GDALDatasetH ds, int band, const std::string& path);
/// Closes `ds` and throws "<path>: <what>: <gdal message>" if GDAL reported a failure meanwhile.
void close_checked(Dataset ds, const std::string& path, const std::string& what);
/// The GDAL data type of a tessera pixel type, and back (throws for types tessera lacks).
GDALDataType gdal_type(PixelType t);
PixelType pixel_type(GDALDataType t, const std::string& path);

/// Reads a w x h block at (x, y) of `band` into `data` as `type`, with the given byte spacing.
/// Throws "<path>: cannot read cells (x, y, w x h): <gdal message>".
void read_block(GDALRasterBandH band, const std::string& path, int64_t x, int64_t y, int64_t w,
                int64_t h, void* data, GDALDataType type, int64_t pixel_space, int64_t line_space);

/// Creates an empty GeoTIFF at `path` with the given creation options ("NAME=VALUE").
/// Throws "<label>: cannot create: <gdal message>" (label: the name the user knows).
Dataset create_geotiff(const std::string& path, const std::string& label, int64_t width,
                       int64_t height, int bands, PixelType type,
                       const std::vector<std::string>& options);
/// Setters for the georeferencing and band metadata; each throws naming `path`.
void set_geotransform(GDALDatasetH ds, const std::string& path, const double* gt);
void set_crs(GDALDatasetH ds, const std::string& path, const std::string& wkt);
void set_nodata(GDALRasterBandH band, const std::string& path, double nodata);
void set_description(GDALRasterBandH band, const std::string& text);

// ---- libtiff ----

/// The messages libtiff reported for one TIFF handle; filled by the handle's own error
/// handler, so handles on different threads never mix their messages.
struct TiffErrors {
  std::string last;
};

/// Open options that route one handle's errors and warnings into `errors` instead of stderr.
struct TiffOptions {
  explicit TiffOptions(TiffErrors* errors);
  ~TiffOptions();
  TiffOptions(const TiffOptions&) = delete;
  TiffOptions& operator=(const TiffOptions&) = delete;
  TIFFOpenOptions* get() const { return options_; }

 private:
  TIFFOpenOptions* options_;
};

/// Frees a TIFF handle without flushing it: what is not flushed explicitly is discarded.
struct TiffDiscarder {
  void operator()(TIFF* tif) const;
};
using Tiff = std::unique_ptr<TIFF, TiffDiscarder>;

/// Why a libtiff write failed: what the system said (strerror(errno)) when errno is set, which is
/// the user's reason (a full disk); libtiff's own message otherwise (its message then is noise
/// about scanlines and strips).
std::string write_reason(const TiffErrors& errors);
/// Opens a file with libtiff; throws "<label>: cannot open with libtiff (<mode>): <message>".
Tiff open_tiff(const std::string& path, const std::string& label, const char* mode,
               TiffErrors& errors);
/// Writes the directory and closes `tif`; throws "<path>: cannot finish: <message>".
void close_tiff(Tiff tif, const std::string& path, const TiffErrors& errors);

/// The I/O functions of a file libtiff reads and writes through the caller (TIFFClientOpen).
struct TiffClientProcs {
  TIFFReadWriteProc read;
  TIFFReadWriteProc write;
  TIFFSeekProc seek;
  TIFFCloseProc close;
  TIFFSizeProc size;
  TIFFMapFileProc map;
  TIFFUnmapFileProc unmap;
};

/// A file libtiff reads and writes through the caller, which keeps its position and size:
/// seeking, sizing, closing and (no) mapping are the same for every such file, and Derived adds
/// static read and write. The handle given to libtiff is a Derived*.
template <class Derived>
struct ClientFile {
  uint64_t pos = 0;
  uint64_t size = 0;

  static Derived& of(thandle_t h) { return *static_cast<Derived*>(h); }
  static toff_t seek(thandle_t h, toff_t offset, int whence) {
    Derived& f = of(h);
    const uint64_t base = whence == SEEK_CUR ? f.pos : whence == SEEK_END ? f.size : 0;
    f.pos = base + offset;
    return f.pos;
  }
  static int close(thandle_t) { return 0; }
  static toff_t file_size(thandle_t h) { return of(h).size; }
  static int map(thandle_t, void**, toff_t*) { return 0; }
  static void unmap(thandle_t, void*, toff_t) {}
  static TiffClientProcs procs() {
    return {Derived::read, Derived::write, seek, close, file_size, map, unmap};
  }
};

/// Opens `client` through `procs` in `mode` (by default a new little-endian file), errors going
/// to `options`' handler. Throws "<label>: cannot open through libtiff: <message>".
Tiff open_client_tiff(thandle_t client, const TiffClientProcs& procs, const TiffOptions& options,
                      const std::string& label, const TiffErrors& errors, const char* mode = "wl");
/// Sets one tag: `value` as an int for 16-bit and int tags, as uint32_t for 32-bit ones, as
/// TIFFSetField reads them. Throws "<label>: cannot set TIFF tag N: <message>".
void set_tag(TIFF* tif, uint32_t tag, int value, const std::string& label,
             const TiffErrors& errors);
void set_tag(TIFF* tif, uint32_t tag, uint32_t value, const std::string& label,
             const TiffErrors& errors);
/// Lends `buffer` to libtiff as its encoding buffer (it does not free it).
void lend_write_buffer(TIFF* tif, std::span<std::byte> buffer, const std::string& label,
                       const TiffErrors& errors);
/// Encodes and writes `bytes` bytes of cells as tile `index`; libtiff does not modify them.
void write_encoded_tile(TIFF* tif, uint32_t index, const void* cells, size_t bytes,
                        const std::string& label, const TiffErrors& errors);
/// Where tile `index`'s bytes were written: {offset, byte count}.
std::pair<uint64_t, uint64_t> tile_extent(TIFF* tif, uint32_t index, const std::string& label);
/// Appends already encoded bytes as tile `index`. Throws "<label>: cannot write tile ...".
void write_raw_tile(TIFF* tif, uint32_t index, std::span<const std::byte> bytes,
                    const std::string& label, const TiffErrors& errors);

/// Reads one tag of `tif`; throws "<path>: missing TIFF tag N".
uint32_t tiff_tag_u32(TIFF* tif, uint32_t tag, const std::string& path);
uint16_t tiff_tag_u16(TIFF* tif, uint32_t tag, const std::string& path);

/// libtiff's compression code, and the tile tags tessera's encoders and writer agree on.
uint16_t tiff_compression(Compression c);
/// Checks that compression, predictor and type go together; throws naming `path`.
void check_options(const OutputSpec& spec);

}  // namespace tessera::io::detail
