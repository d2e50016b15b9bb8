// Throwing wrappers and RAII handles for the GDAL and libtiff calls io makes.
#include "gdal_util.hpp"

#include <H5Epublic.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_vsi.h>
#include <cctype>
#include <filesystem>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "tessera/core/dataset_name.hpp"
#include "tessera/core/error.hpp"

namespace tessera::io::detail {
namespace {

// CPL calls the handler on the thread that hit the error, so a thread_local keeps each
// thread's last message apart.
thread_local std::string t_last_gdal_error;

void CPL_STDCALL record_gdal_error(CPLErr level, CPLErrorNum, const char* message) {
  if (level == CE_Failure || level == CE_Fatal) t_last_gdal_error = message ? message : "";
}

// Errors are one line: a reason from GDAL or libtiff never brings its own line breaks.
std::string with_reason(std::string text, const std::string& reason) {
  if (reason.empty()) return text;
  text += ": ";
  for (char c : reason) text += (c == '\n' || c == '\r') ? ' ' : c;
  return text;
}

int record_tiff_error(TIFF*, void* user_data, const char* module, const char* fmt, va_list ap) {
  char buffer[512];
  std::vsnprintf(buffer, sizeof buffer, fmt, ap);
  auto* errors = static_cast<TiffErrors*>(user_data);
  errors->last = std::string(module ? module : "libtiff") + ": " + buffer;
  return 1;  // handled: libtiff must not print it
}

int ignore_tiff_warning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

}  // namespace

std::string write_reason(const TiffErrors& errors) {
  return errno == 0 ? errors.last : std::strerror(errno);
}

void ensure_gdal() {
  static std::once_flag once;
  std::call_once(once, [] {
    CPLSetErrorHandler(record_gdal_error);
    GDALAllRegister();
  });
}

std::string last_gdal_error() { return t_last_gdal_error; }

void clear_gdal_error() {
  t_last_gdal_error.clear();
  CPLErrorReset();
}

/// netCDF-C opens an HDF5 file (NETCDF:"out.h5":slope) probing attributes that may be absent, and
/// HDF5 prints every miss unless its automatic printing is off on the calling thread (its error
/// stacks are per thread; netCDF turns printing off only on the thread that initialised it).
void quiet_hdf5_on_this_thread() {
  thread_local const bool quiet = H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr) >= 0;
  (void)quiet;
}

/// Whether GDAL may open `path` through HDF5 (netCDF-4 is HDF5): one of GDAL's special names, or
/// a file named as HDF5 or netCDF. Only then is HDF5 made quiet: the call starts the HDF5
/// library, about 95 million instructions that a GeoTIFF run has no use for.
bool may_open_hdf5(const std::string& path) {
  if (is_gdal_dataset_name(path)) return true;
  std::string extension = std::filesystem::path(path).extension().string();
  for (char& c : extension) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* hdf : {".h5", ".hdf5", ".he5", ".nc", ".nc4", ".cdf"})
    if (extension == hdf) return true;
  return false;
}

/// Why GDAL did not open `path`: "no such file" for a plain path to nothing; otherwise GDAL's own
/// reason, which is the only one for its special names (a subdataset, a file in an archive).
std::string open_failure(const std::string& path) {
  VSIStatBufL stat;
  if (!is_gdal_dataset_name(path) && VSIStatL(path.c_str(), &stat) != 0)
    return path + ": no such file";
  return with_reason(path + ": not a raster GDAL can read", last_gdal_error());
}

Dataset open_raster(const std::string& path) {
  ensure_gdal();
  if (may_open_hdf5(path)) quiet_hdf5_on_this_thread();
  clear_gdal_error();
  const unsigned flags = GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR;
  Dataset ds(GDALOpenEx(path.c_str(), flags, nullptr, nullptr, nullptr));
  if (!ds) throw Error(open_failure(path));
  if (GDALGetRasterCount(ds.get()) == 0) throw Error(path + ": not a raster GDAL can read");
  return ds;
}

GDALRasterBandH get_band(GDALDatasetH ds, int band, const std::string& path) {
  const int count = GDALGetRasterCount(ds);
  if (band < 1 || band > count)
    throw Error(path + ": no band " + std::to_string(band) + " (it has " + std::to_string(count) +
                ")");
  return GDALGetRasterBand(ds, band);
}

void close_checked(Dataset ds, const std::string& path, const std::string& what) {
  clear_gdal_error();
  ds.reset();
  if (CPLGetLastErrorType() >= CE_Failure)
    throw Error(with_reason(path + ": " + what, last_gdal_error()));
}

GDALDataType gdal_type(PixelType t) {
  switch (t) {
    case PixelType::Byte:
      return GDT_Byte;
    case PixelType::UInt16:
      return GDT_UInt16;
    case PixelType::Int16:
      return GDT_Int16;
    case PixelType::UInt32:
      return GDT_UInt32;
    case PixelType::Int32:
      return GDT_Int32;
    case PixelType::Float32:
      return GDT_Float32;
    case PixelType::Float64:
      return GDT_Float64;
  }
  throw Error("io: unknown pixel type");
}

PixelType pixel_type(GDALDataType t, const std::string& path) {
  switch (t) {
    case GDT_Byte:
      return PixelType::Byte;
    case GDT_UInt16:
      return PixelType::UInt16;
    case GDT_Int16:
      return PixelType::Int16;
    case GDT_UInt32:
      return PixelType::UInt32;
    case GDT_Int32:
      return PixelType::Int32;
    case GDT_Float32:
      return PixelType::Float32;
    case GDT_Float64:
      return PixelType::Float64;
    default:
      break;
  }
  throw Error(path + ": pixel type " + GDALGetDataTypeName(t) + " is not supported");
}

void read_block(GDALRasterBandH band, const std::string& path, int64_t x, int64_t y, int64_t w,
                int64_t h, void* data, GDALDataType type, int64_t pixel_space, int64_t line_space) {
  clear_gdal_error();
  const auto xi = static_cast<int>(x), yi = static_cast<int>(y);
  const auto wi = static_cast<int>(w), hi = static_cast<int>(h);
  if (GDALRasterIOEx(band, GF_Read, xi, yi, wi, hi, data, wi, hi, type, pixel_space, line_space,
                     nullptr) != CE_None)
    throw Error(with_reason(path + ": cannot read cells (" + std::to_string(x) + ", " +
                                std::to_string(y) + ", " + std::to_string(w) + " x " +
                                std::to_string(h) + ")",
                            last_gdal_error()));
}

Dataset create_geotiff(const std::string& path, const std::string& label, int64_t width,
                       int64_t height, int bands, PixelType type,
                       const std::vector<std::string>& options) {
  ensure_gdal();
  GDALDriverH driver = GDALGetDriverByName("GTiff");
  if (!driver) throw Error(label + ": GDAL has no GTiff driver");
  std::vector<char*> list;
  for (const std::string& o : options) list.push_back(const_cast<char*>(o.c_str()));
  list.push_back(nullptr);
  clear_gdal_error();
  Dataset ds(GDALCreate(driver, path.c_str(), static_cast<int>(width), static_cast<int>(height),
                        bands, gdal_type(type), list.data()));
  if (!ds) throw Error(with_reason(label + ": cannot create", last_gdal_error()));
  return ds;
}

void set_geotransform(GDALDatasetH ds, const std::string& path, const double* gt) {
  clear_gdal_error();
  if (GDALSetGeoTransform(ds, const_cast<double*>(gt)) != CE_None)
    throw Error(with_reason(path + ": cannot set the geotransform", last_gdal_error()));
}

void set_crs(GDALDatasetH ds, const std::string& path, const std::string& wkt) {
  clear_gdal_error();
  if (GDALSetProjection(ds, wkt.c_str()) != CE_None)
    throw Error(with_reason(path + ": cannot set the CRS", last_gdal_error()));
}

void set_nodata(GDALRasterBandH band, const std::string& path, double nodata) {
  clear_gdal_error();
  if (GDALSetRasterNoDataValue(band, nodata) != CE_None)
    throw Error(with_reason(path + ": cannot set nodata", last_gdal_error()));
}

void set_description(GDALRasterBandH band, const std::string& text) {
  GDALSetDescription(band, text.c_str());
}

TiffOptions::TiffOptions(TiffErrors* errors) : options_(TIFFOpenOptionsAlloc()) {
  if (!options_) throw Error("libtiff: out of memory for open options");
  TIFFOpenOptionsSetErrorHandlerExtR(options_, record_tiff_error, errors);
  TIFFOpenOptionsSetWarningHandlerExtR(options_, ignore_tiff_warning, nullptr);
}

TiffOptions::~TiffOptions() { TIFFOpenOptionsFree(options_); }

void TiffDiscarder::operator()(TIFF* tif) const {
  // TIFFClose without its TIFFFlush: free the handle, then close the underlying file.
  TIFFCloseProc close = TIFFGetCloseProc(tif);
  thandle_t client = TIFFClientdata(tif);
  TIFFCleanup(tif);
  close(client);
}

Tiff open_tiff(const std::string& path, const std::string& label, const char* mode,
               TiffErrors& errors) {
  TiffOptions options(&errors);
  Tiff tif(TIFFOpenExt(path.c_str(), mode, options.get()));
  if (!tif)
    throw Error(with_reason(label + ": cannot open with libtiff (" + mode + ")", errors.last));
  return tif;
}

void close_tiff(Tiff tif, const std::string& path, const TiffErrors& errors) {
  errno = 0;
  if (!TIFFFlush(tif.get()))
    throw Error(with_reason(path + ": cannot finish", write_reason(errors)));
  TIFFClose(tif.release());
}

Tiff open_client_tiff(thandle_t client, const TiffClientProcs& p, const TiffOptions& options,
                      const std::string& label, const TiffErrors& errors, const char* mode) {
  Tiff tif(TIFFClientOpenExt(label.c_str(), mode, client, p.read, p.write, p.seek, p.close, p.size,
                             p.map, p.unmap, options.get()));
  if (!tif) throw Error(with_reason(label + ": cannot open through libtiff", errors.last));
  return tif;
}

void set_tag(TIFF* tif, uint32_t tag, int value, const std::string& label,
             const TiffErrors& errors) {
  if (!TIFFSetField(tif, tag, value))
    throw Error(with_reason(label + ": cannot set TIFF tag " + std::to_string(tag), errors.last));
}

void set_tag(TIFF* tif, uint32_t tag, uint32_t value, const std::string& label,
             const TiffErrors& errors) {
  if (!TIFFSetField(tif, tag, value))
    throw Error(with_reason(label + ": cannot set TIFF tag " + std::to_string(tag), errors.last));
}

void lend_write_buffer(TIFF* tif, std::span<std::byte> buffer, const std::string& label,
                       const TiffErrors& errors) {
  if (!TIFFWriteBufferSetup(tif, buffer.data(), static_cast<tmsize_t>(buffer.size())))
    throw Error(with_reason(label + ": cannot set up the encoding buffer", errors.last));
}

void write_encoded_tile(TIFF* tif, uint32_t index, const void* cells, size_t bytes,
                        const std::string& label, const TiffErrors& errors) {
  // libtiff's predictors difference a copy of the tile, so the caller's cells stay intact.
  if (TIFFWriteEncodedTile(tif, index, const_cast<void*>(cells), static_cast<tmsize_t>(bytes)) < 0)
    throw Error(with_reason(label + ": cannot encode a tile", errors.last));
}

std::pair<uint64_t, uint64_t> tile_extent(TIFF* tif, uint32_t index, const std::string& label) {
  uint64_t* offsets = nullptr;
  uint64_t* counts = nullptr;
  if (!TIFFGetField(tif, TIFFTAG_TILEOFFSETS, &offsets) ||
      !TIFFGetField(tif, TIFFTAG_TILEBYTECOUNTS, &counts) || !offsets || !counts)
    throw Error(label + ": cannot find the encoded tile");
  return {offsets[index], counts[index]};
}

void write_raw_tile(TIFF* tif, uint32_t index, std::span<const std::byte> bytes,
                    const std::string& label, const TiffErrors& errors) {
  errno = 0;
  const auto size = static_cast<tmsize_t>(bytes.size());
  if (TIFFWriteRawTile(tif, index, const_cast<std::byte*>(bytes.data()), size) != size)
    throw Error(
        with_reason(label + ": cannot write tile " + std::to_string(index), write_reason(errors)));
}

uint32_t tiff_tag_u32(TIFF* tif, uint32_t tag, const std::string& path) {
  uint32_t value = 0;
  if (!TIFFGetField(tif, tag, &value))
    throw Error(path + ": missing TIFF tag " + std::to_string(tag));
  return value;
}

uint16_t tiff_tag_u16(TIFF* tif, uint32_t tag, const std::string& path) {
  uint16_t value = 0;
  if (!TIFFGetFieldDefaulted(tif, tag, &value))
    throw Error(path + ": missing TIFF tag " + std::to_string(tag));
  return value;
}

uint16_t tiff_compression(Compression c) {
  switch (c) {
    case Compression::None:
      return COMPRESSION_NONE;
    case Compression::Deflate:
      return COMPRESSION_ADOBE_DEFLATE;
    case Compression::Zstd:
      return COMPRESSION_ZSTD;
    case Compression::Lzw:
      return COMPRESSION_LZW;
  }
  return COMPRESSION_NONE;
}

void check_options(const OutputSpec& spec) {
  const int predictor = spec.options.predictor;
  if (predictor != 1 && spec.options.compression == Compression::None)
    throw Error(spec.path + ": PREDICTOR=" + std::to_string(predictor) +
                " needs COMPRESS=DEFLATE, ZSTD or LZW");
  if (predictor == 3 && is_integer(spec.type))
    throw Error(spec.path + ": PREDICTOR=3 needs a floating-point type (the output is " +
                std::string(name_of(spec.type)) + ")");
  if (spec.tile_width <= 0 || spec.tile_height <= 0 || spec.tile_width % 16 != 0 ||
      spec.tile_height % 16 != 0)
    throw Error(spec.path + ": tile size " + std::to_string(spec.tile_width) + " x " +
                std::to_string(spec.tile_height) + " is not a multiple of 16");
  if (spec.bands < 1) throw Error(spec.path + ": an output needs at least one band");
}

}  // namespace tessera::io::detail
