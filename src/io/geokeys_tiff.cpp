// GeoTIFF keys through libtiff: the three tags copied as they are, whichever way libtiff knows
// them (as libgeotiff registers them once GDAL has opened a GeoTIFF, with 16-bit counts, or as
// the anonymous fields it makes of unknown tags, with 32-bit counts).
#include "geokeys_tiff.hpp"

#include <cpl_string.h>

#include <cstring>

#include "tessera/core/error.hpp"

namespace tessera::io::detail {
namespace {

constexpr uint32_t kKeyDirectory = 34735;
constexpr uint32_t kDoubleParams = 34736;
constexpr uint32_t kAsciiParams = 34737;
constexpr uint16_t kRasterTypeKey = 1025;  // GTRasterTypeGeoKey
constexpr uint16_t kPixelIsArea = 1;

// The definitions libgeotiff gives the three tags, for a handle that knows none of them.
const TIFFFieldInfo kFields[] = {
    {kKeyDirectory, TIFF_VARIABLE, TIFF_VARIABLE, TIFF_SHORT, FIELD_CUSTOM, 1, 1,
     const_cast<char*>("GeoKeyDirectory")},
    {kDoubleParams, TIFF_VARIABLE, TIFF_VARIABLE, TIFF_DOUBLE, FIELD_CUSTOM, 1, 1,
     const_cast<char*>("GeoDoubleParams")},
    {kAsciiParams, TIFF_VARIABLE, TIFF_VARIABLE, TIFF_ASCII, FIELD_CUSTOM, 1, 0,
     const_cast<char*>("GeoASCIIParams")},
};

// A counted tag's values: its count is 32 bits for an anonymous field, 16 for libgeotiff's.
template <class T>
bool get_counted(TIFF* tif, const TIFFField* field, uint32_t& count, T*& data) {
  const uint32_t tag = TIFFFieldTag(field);
  if (TIFFFieldReadCount(field) == TIFF_VARIABLE2) return TIFFGetField(tif, tag, &count, &data);
  uint16_t count16 = 0;
  const bool got = TIFFGetField(tif, tag, &count16, &data);
  count = count16;
  return got;
}

// The values of one array tag, or nothing when it is absent.
template <class T>
std::vector<T> get_array(TIFF* tif, uint32_t tag) {
  const TIFFField* field = TIFFFindField(tif, tag, TIFF_ANY);
  T* data = nullptr;
  uint32_t count = 0;
  if (!field || !TIFFFieldPassCount(field) || !get_counted(tif, field, count, data) || !data)
    return {};
  return std::vector<T>(data, data + count);
}

std::string get_ascii(TIFF* tif) {
  const TIFFField* field = TIFFFindField(tif, kAsciiParams, TIFF_ANY);
  if (!field) return {};
  char* data = nullptr;
  if (!TIFFFieldPassCount(field)) return TIFFGetField(tif, kAsciiParams, &data) && data ? data : "";
  uint32_t count = 0;
  if (!get_counted(tif, field, count, data) || !data) return {};
  return std::string(data, strnlen(data, count));
}

// A key directory as the GeoTIFF specification lays it out (version 1, one header of four
// shorts and four shorts a key), whose raster type, if given, is PixelIsArea.
bool usable(const std::vector<uint16_t>& d) {
  if (d.size() < 4 || d[0] != 1 || d.size() != 4 * (size_t{d[3]} + 1)) return false;
  for (size_t k = 4; k < d.size(); k += 4)
    if (d[k] == kRasterTypeKey && (d[k + 1] != 0 || d[k + 3] != kPixelIsArea)) return false;
  return true;
}

bool only_file(GDALDatasetH ds, const std::string& path) {
  char** files = GDALGetFileList(ds);
  const bool only = files && files[0] && !files[1] && path == files[0];
  CSLDestroy(files);
  return only;
}

}  // namespace

GeoKeys read_geokeys(GDALDatasetH ds, const std::string& path) {
  GDALDriverH driver = GDALGetDatasetDriver(ds);
  if (!driver || std::strcmp(GDALGetDriverShortName(driver), "GTiff") != 0) return {};
  if (!only_file(ds, path)) return {};
  TiffErrors errors;
  Tiff tif;
  try {
    tif = open_tiff(path, path, "r", errors);
  } catch (const Error&) {
    return {};  // GDAL reads it and libtiff does not: the WKT path decides
  }
  GeoKeys keys;
  keys.directory = get_array<uint16_t>(tif.get(), kKeyDirectory);
  if (!usable(keys.directory)) return {};
  keys.doubles = get_array<double>(tif.get(), kDoubleParams);
  keys.ascii = get_ascii(tif.get());
  return keys;
}

void write_geokeys(TIFF* tif, const GeoKeys& keys, const std::string& label,
                   const TiffErrors& errors) {
  const auto fail = [&] {
    throw Error(label + ": cannot set the GeoTIFF keys" +
                (errors.last.empty() ? "" : ": " + errors.last));
  };
  for (const TIFFFieldInfo& info : kFields)
    if (!TIFFFindField(tif, info.field_tag, TIFF_ANY) && TIFFMergeFieldInfo(tif, &info, 1) != 0)
      fail();
  // A count is read as an int or a uint32_t, whichever the field's definition says: the same
  // 32 bits through the variadic call.
  const auto count = [](size_t n) { return static_cast<uint32_t>(n); };
  if (!TIFFSetField(tif, kKeyDirectory, count(keys.directory.size()), keys.directory.data()))
    fail();
  if (!keys.doubles.empty() &&
      !TIFFSetField(tif, kDoubleParams, count(keys.doubles.size()), keys.doubles.data()))
    fail();
  if (!keys.ascii.empty()) {
    const TIFFField* field = TIFFFindField(tif, kAsciiParams, TIFF_ANY);
    const bool ok =
        field && TIFFFieldPassCount(field)
            ? TIFFSetField(tif, kAsciiParams, count(keys.ascii.size() + 1), keys.ascii.c_str())
            : TIFFSetField(tif, kAsciiParams, keys.ascii.c_str());
    if (!ok) fail();
  }
}

}  // namespace tessera::io::detail
