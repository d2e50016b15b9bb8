// Parsing GeoTIFF creation options (NAME=VALUE, as gdaldem -co takes them) and the BigTIFF rule.
#include "tessera/core/output_spec.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string_view>

#include "tessera/core/error.hpp"

namespace tessera {

std::string_view name_of(Compression c) {
  switch (c) {
    case Compression::None:
      return "NONE";
    case Compression::Deflate:
      return "DEFLATE";
    case Compression::Zstd:
      return "ZSTD";
    case Compression::Lzw:
      return "LZW";
  }
  return "NONE";
}
namespace {

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

[[noreturn]] void bad_value(const std::string& name, std::string_view value, const char* expected) {
  throw Error("creation option " + name + "=" + std::string(value) + ": expected " + expected);
}

int64_t parse_int(const std::string& name, std::string_view value, int64_t lo, int64_t hi,
                  const char* expected) {
  int64_t number = 0;
  const auto* end = value.data() + value.size();
  const auto [ptr, ec] = std::from_chars(value.data(), end, number);
  if (ec != std::errc() || ptr != end || number < lo || number > hi)
    bad_value(name, value, expected);
  return number;
}

Compression parse_compression(const std::string& name, std::string_view value) {
  const std::string v = upper(value);
  if (v == "NONE") return Compression::None;
  if (v == "DEFLATE") return Compression::Deflate;
  if (v == "ZSTD") return Compression::Zstd;
  if (v == "LZW") return Compression::Lzw;
  bad_value(name, value, "NONE, DEFLATE, ZSTD or LZW");
}

std::string parse_bigtiff(const std::string& name, std::string_view value) {
  const std::string v = upper(value);
  if (v == "YES" || v == "NO" || v == "IF_NEEDED" || v == "IF_SAFER") return v;
  bad_value(name, value, "YES, NO, IF_NEEDED or IF_SAFER");
}

void check_tiled(const std::string& name, std::string_view value) {
  const std::string v = upper(value);
  if (v == "YES" || v == "TRUE" || v == "ON" || v == "1") return;
  if (v == "NO" || v == "FALSE" || v == "OFF" || v == "0")
    throw Error("creation option " + name + "=" + std::string(value) +
                ": tessera always writes tiled GeoTIFF");
  bad_value(name, value, "YES");
}

int64_t parse_block(const std::string& name, std::string_view value) {
  const int64_t size = parse_int(name, value, 16, 1 << 20, "a positive multiple of 16");
  if (size % 16 != 0) bad_value(name, value, "a positive multiple of 16");
  return size;
}

void apply(CreationOptions& o, const std::string& name, std::string_view value) {
  if (name == "COMPRESS") {
    o.compression = parse_compression(name, value);
  } else if (name == "PREDICTOR") {
    o.predictor = static_cast<int>(parse_int(name, value, 1, 3, "1, 2 or 3"));
  } else if (name == "ZSTD_LEVEL") {
    o.zstd_level = static_cast<int>(parse_int(name, value, 1, 22, "an integer from 1 to 22"));
  } else if (name == "ZLEVEL") {
    o.deflate_level = static_cast<int>(parse_int(name, value, 1, 12, "an integer from 1 to 12"));
  } else if (name == "BIGTIFF") {
    o.bigtiff = parse_bigtiff(name, value);
  } else if (name == "TILED") {
    check_tiled(name, value);
  } else if (name == "BLOCKXSIZE") {
    o.block_width = parse_block(name, value);
  } else if (name == "BLOCKYSIZE") {
    o.block_height = parse_block(name, value);
  } else if (name != "NUM_THREADS") {
    throw Error("unknown creation option '" + name +
                "' (expected COMPRESS, PREDICTOR, ZSTD_LEVEL, ZLEVEL, BIGTIFF, TILED, "
                "BLOCKXSIZE, BLOCKYSIZE or NUM_THREADS)");
  }
}

// The most bytes one compressed tile of `raw` bytes can take: LZW codes are at most 12 bits
// per input byte; zlib's and zstd's bounds are a fraction of a percent plus a small constant.
double worst_case_tile_bytes(Compression c, double raw) {
  switch (c) {
    case Compression::None:
      return raw;
    case Compression::Lzw:
      return raw * 1.5 + 64;
    case Compression::Deflate:
    case Compression::Zstd:
      return raw * (1.0 + 1.0 / 128) + 1024;
  }
  return raw * 2;
}

}  // namespace

std::optional<OutputFormat> format_of_path(const std::string& path) {
  const size_t dot = path.rfind('.');
  if (dot == std::string::npos || path.find('/', dot) != std::string::npos) return std::nullopt;
  const std::string extension = upper(std::string_view(path).substr(dot + 1));
  if (extension == "TIF" || extension == "TIFF") return OutputFormat::GeoTiff;
  if (extension == "H5" || extension == "HDF5") return OutputFormat::Hdf5;
  return std::nullopt;
}

bool is_table_path(const std::string& path) {
  const size_t dot = path.rfind('.');
  if (dot == std::string::npos || path.find('/', dot) != std::string::npos) return false;
  const std::string extension = upper(std::string_view(path).substr(dot + 1));
  return extension == "CSV" || extension == "GPKG" || extension == "SHP" ||
         extension == "GEOJSON" || extension == "JSON";
}

CreationOptions parse_creation_options(const std::vector<std::string>& items) {
  CreationOptions options;
  for (const std::string& item : items) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error("creation option '" + item + "': expected NAME=VALUE");
    apply(options, upper(std::string_view(item).substr(0, eq)),
          std::string_view(item).substr(eq + 1));
  }
  return options;
}

bool needs_bigtiff(const OutputSpec& spec) {
  const std::string& mode = spec.options.bigtiff;
  if (mode == "YES") return true;
  if (mode == "NO") return false;
  const auto ceil_div = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
  const double tiles = static_cast<double>(ceil_div(spec.size.width, spec.tile_width)) *
                       static_cast<double>(ceil_div(spec.size.height, spec.tile_height)) *
                       spec.bands;
  const double raw = static_cast<double>(spec.tile_width * spec.tile_height) *
                     static_cast<double>(size_of(spec.type));
  // Per tile: its worst-case bytes plus an 8-byte offset and byte count in the directory;
  // the margin covers the header, tags, CRS and GDAL metadata.
  const double directory_margin = 16.0 * 1024 * 1024;
  const double total =
      tiles * (worst_case_tile_bytes(spec.options.compression, raw) + 8) + directory_margin;
  return total > 4294967295.0;
}

}  // namespace tessera
