// Parsing GeoTIFF creation options (NAME=VALUE, as gdaldem -co takes them) and the BigTIFF rule.
#include "tessera/core/output_spec.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string_view>
#include <utility>
#include <vector>

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

const char* const kCogOptions =
    "COMPRESS, LEVEL, PREDICTOR, BLOCKSIZE, OVERVIEWS, OVERVIEW_RESAMPLING, RESAMPLING, "
    "OVERVIEW_COUNT, BIGTIFF or NUM_THREADS";

Resampling parse_resampling(const std::string& name, std::string_view value) {
  const std::string v = upper(value);
  if (v == "NEAREST") return Resampling::Nearest;
  if (v == "AVERAGE") return Resampling::Average;
  if (v == "MODE") return Resampling::Mode;
  if (v == "BILINEAR") return Resampling::Bilinear;
  if (v == "CUBIC") return Resampling::Cubic;
  if (v == "CUBICSPLINE" || v == "LANCZOS" || v == "RMS" || v == "GAUSS")
    throw Error("creation option " + name + "=" + std::string(value) +
                ": tessera makes overviews by NEAREST, AVERAGE, MODE, BILINEAR or CUBIC only");
  bad_value(name, value, "NEAREST, AVERAGE, MODE, BILINEAR or CUBIC");
}

// COG's PREDICTOR: YES or STANDARD is horizontal differencing, FLOATING_POINT the floating-point
// one; the GeoTIFF numbers are taken too.
int parse_cog_predictor(const std::string& name, std::string_view value) {
  const std::string v = upper(value);
  if (v == "NO" || v == "FALSE" || v == "1") return 1;
  if (v == "YES" || v == "STANDARD" || v == "TRUE" || v == "2") return 2;
  if (v == "FLOATING_POINT" || v == "3") return 3;
  bad_value(name, value, "YES, NO, STANDARD or FLOATING_POINT");
}

void parse_overviews(CreationOptions& o, const std::string& name, std::string_view value) {
  const std::string v = upper(value);
  if (v == "NONE") {
    o.no_overviews = true;
  } else if (v == "AUTO" || v == "IGNORE_EXISTING") {
    o.no_overviews = false;
  } else if (v == "FORCE_USE_EXISTING") {
    throw Error("creation option " + name + "=" + std::string(value) +
                ": tessera computes the overviews of what it writes; an input's are not used");
  } else {
    bad_value(name, value, "AUTO, IGNORE_EXISTING or NONE");
  }
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
  } else if (name == "OVERVIEW_RESAMPLING") {
    o.resampling = parse_resampling(name, value);
  } else if (name != "NUM_THREADS") {
    throw Error("unknown creation option '" + name +
                "' (expected COMPRESS, PREDICTOR, ZSTD_LEVEL, ZLEVEL, BIGTIFF, TILED, "
                "BLOCKXSIZE, BLOCKYSIZE, OVERVIEW_RESAMPLING or NUM_THREADS)");
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

// The COG driver's options; its LEVEL is the level of whichever compression is chosen.
void apply_cog(CreationOptions& o, const std::string& name, std::string_view value) {
  if (name == "COMPRESS") {
    o.compression = parse_compression(name, value);
  } else if (name == "LEVEL") {
    // Read once every option is (apply_cog_level): COMPRESS may come after it.
  } else if (name == "PREDICTOR") {
    o.predictor = parse_cog_predictor(name, value);
  } else if (name == "BLOCKSIZE") {
    o.block_width = o.block_height = parse_block(name, value);
  } else if (name == "OVERVIEWS") {
    parse_overviews(o, name, value);
  } else if (name == "OVERVIEW_RESAMPLING" || name == "RESAMPLING") {
    o.resampling = parse_resampling(name, value);
  } else if (name == "OVERVIEW_COUNT") {
    o.overview_count = static_cast<int>(parse_int(name, value, 0, 30, "an integer from 0 to 30"));
  } else if (name == "BIGTIFF") {
    o.bigtiff = parse_bigtiff(name, value);
  } else if (name != "NUM_THREADS") {
    throw Error("unknown COG creation option '" + name + "' (expected " + kCogOptions + ")");
  }
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

std::string_view name_of(Resampling r) {
  switch (r) {
    case Resampling::Nearest:
      return "NEAREST";
    case Resampling::Average:
      return "AVERAGE";
    case Resampling::Mode:
      return "MODE";
    case Resampling::Bilinear:
      return "BILINEAR";
    case Resampling::Cubic:
      return "CUBIC";
  }
  return "AVERAGE";
}

int overview_count_of(const std::vector<int64_t>& factors) {
  for (size_t i = 0; i < factors.size(); ++i)
    if (factors[i] != int64_t{2} << i)
      throw Error(
          "expected the factors 2, 4, 8, ... in order (each level halves "
          "the one before), got " +
          std::to_string(factors[i]) + " in place " + std::to_string(i + 1));
  return static_cast<int>(factors.size());
}

int overview_levels(const OutputSpec& spec) {
  const CreationOptions& o = spec.options;
  const int64_t longest = std::max(spec.size.width, spec.size.height);
  const int64_t tile = std::min(spec.tile_width, spec.tile_height);
  if (!o.overview_count) {
    if (spec.format != OutputFormat::Cog || o.no_overviews) return 0;
    int levels = 0;  // the COG driver's: halve until the overview fits in one tile
    for (int64_t w = spec.size.width, h = spec.size.height;
         w > spec.tile_width || h > spec.tile_height; ++levels) {
      w = ceil_div(w, 2);
      h = ceil_div(h, 2);
    }
    return levels;
  }
  const int n = *o.overview_count;
  // The raster's levels: halving until 1 x 1, the last at a factor below twice the longest side;
  // the tile's: each tile's share of the coarsest must be a cell at least.
  int by_raster = 0;
  while ((int64_t{1} << by_raster) < longest) ++by_raster;
  int by_tile = 0;
  while ((int64_t{2} << by_tile) <= tile) ++by_tile;
  const int most = std::min(by_raster, by_tile);
  if (n > most)
    throw Error(spec.path + ": " + std::to_string(n) +
                " overview level(s): " + std::to_string(most) + " at most here (the raster, " +
                std::to_string(spec.size.width) + " x " + std::to_string(spec.size.height) +
                ", has " + std::to_string(by_raster) + ", the last 1 x 1; a " +
                std::to_string(tile) + "-cell tile gives " + std::to_string(by_tile) +
                ", each tile's share of the coarsest a cell at least)");
  return n;
}

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

namespace {

// The COG driver's LEVEL=`value` for the compression chosen: GDAL's ranges (DEFLATE 1 to 12 with
// libdeflate, ZSTD 1 to 22), where GDAL warns and takes its default level instead; LZW and NONE
// take no level, where GDAL ignores it.
void apply_cog_level(CreationOptions& o, std::string_view value) {
  const auto refuse = [&](const std::string& why) {
    throw Error("creation option LEVEL=" + std::string(value) + ": " + why);
  };
  switch (o.compression) {
    case Compression::Deflate:
      o.deflate_level = static_cast<int>(parse_int("LEVEL", value, 1, 12, "1 to 12 for DEFLATE"));
      return;
    case Compression::Zstd:
      o.zstd_level = static_cast<int>(parse_int("LEVEL", value, 1, 22, "1 to 22 for ZSTD"));
      return;
    case Compression::Lzw:
    case Compression::None:
      refuse("COMPRESS=" + std::string(name_of(o.compression)) +
             " takes no level (DEFLATE takes 1 to 12, ZSTD 1 to 22)");
  }
}

// A GeoTIFF's ZLEVEL (DEFLATE's level) or ZSTD_LEVEL (ZSTD's) with another compression: refused,
// as a COG's LEVEL with NONE or LZW is (GDAL's GTiff driver ignores it without a word).
void check_tiff_level(const CreationOptions& o, const std::string& name, const std::string& value) {
  const Compression wants = name == "ZLEVEL" ? Compression::Deflate : Compression::Zstd;
  if (o.compression == wants) return;
  throw Error("creation option " + name + "=" + value +
              ": COMPRESS=" + std::string(name_of(o.compression)) + " takes no " + name +
              " (ZLEVEL goes with DEFLATE, ZSTD_LEVEL with ZSTD)");
}

}  // namespace

CreationOptions parse_creation_options(const std::vector<std::string>& items, OutputFormat format) {
  CreationOptions options;
  const bool cog = format == OutputFormat::Cog;
  if (cog) {  // the COG driver's defaults (CUBIC: a band without a colour table)
    options.compression = Compression::Lzw;
    options.resampling = Resampling::Cubic;
  }
  std::optional<std::string> level;  // a COG's LEVEL, the last one given
  std::vector<std::pair<std::string, std::string>> tiff_levels;  // a GeoTIFF's ZLEVEL, ZSTD_LEVEL
  for (const std::string& item : items) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error("creation option '" + item + "': expected NAME=VALUE");
    const std::string name = upper(std::string_view(item).substr(0, eq));
    const std::string_view value = std::string_view(item).substr(eq + 1);
    cog ? apply_cog(options, name, value) : apply(options, name, value);
    if (cog && name == "LEVEL") level = std::string(value);
    if (!cog && (name == "ZLEVEL" || name == "ZSTD_LEVEL")) tiff_levels.emplace_back(name, value);
  }
  if (level) apply_cog_level(options, *level);
  for (const auto& [name, value] : tiff_levels) check_tiff_level(options, name, value);
  return options;
}

bool needs_bigtiff(const OutputSpec& spec) {
  const std::string& mode = spec.options.bigtiff;
  if (mode == "YES") return true;
  if (mode == "NO") return false;
  const double tiles = static_cast<double>(ceil_div(spec.size.width, spec.tile_width)) *
                       static_cast<double>(ceil_div(spec.size.height, spec.tile_height)) *
                       spec.bands * (overview_levels(spec) > 0 ? 4.0 / 3 : 1.0);
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
