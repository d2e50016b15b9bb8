// Output keys of a job file (compress, predictor, level, co) as gdaldem-style -co options.
#include "output_options.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "tessera/core/error.hpp"
#include "tessera/core/output_spec.hpp"

namespace tessera::job::detail {

namespace {

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

/// COMPRESS's value for the job file's `compress`, or "" when it names no compression.
std::string compression_name(const std::string& text) {
  static const std::array<std::string_view, 4> names{"NONE", "DEFLATE", "ZSTD", "LZW"};
  const std::string name = upper(text);
  return std::find(names.begin(), names.end(), name) != names.end() ? name : "";
}

std::string read_compress(const TomlReader& toml, const toml::node& node, const std::string& what) {
  const std::string text = toml.string(node, what);
  const std::string name = compression_name(text);
  if (name.empty())
    toml.fail(node.source(), what + ": expected none, deflate, zstd or lzw, found '" + text + "'");
  return name;
}

std::string read_predictor(const TomlReader& toml, const toml::node& node,
                           const std::string& what) {
  const int64_t predictor = toml.integer(node, what);
  if (predictor < 1 || predictor > 3)
    toml.fail(node.source(),
              what + ": expected 1 (none), 2 (horizontal) or 3 (floating point), found " +
                  std::to_string(predictor));
  return "PREDICTOR=" + std::to_string(predictor);
}

/// ZSTD_LEVEL=1..22 or ZLEVEL=1..12 (libdeflate), as GDAL's GTiff driver takes them; LEVEL=
/// for a COG.
std::string read_level(const TomlReader& toml, const toml::node& node, const std::string& compress,
                       bool cog, const std::string& what) {
  const int64_t level = toml.integer(node, what);
  if (compress != "ZSTD" && compress != "DEFLATE")
    toml.fail(node.source(), what + ": expected compress = \"zstd\" or \"deflate\" with a level");
  const int64_t most = compress == "ZSTD" ? 22 : 12;
  if (level < 1 || level > most)
    toml.fail(node.source(), what + ": expected 1 to " + std::to_string(most) + " for " + compress +
                                 ", found " + std::to_string(level));
  if (cog) return "LEVEL=" + std::to_string(level);
  return (compress == "ZSTD" ? "ZSTD_LEVEL=" : "ZLEVEL=") + std::to_string(level);
}

std::string name_of_option(const std::string& item) {
  return upper(item.substr(0, item.find('=')));
}

void add_co(const TomlReader& toml, const toml::node& node, const std::string& what,
            std::vector<std::string>& options) {
  const size_t from_keys = options.size();
  for (const Located& item : toml.strings(node, what)) {
    const size_t equals = item.text.find('=');
    if (equals == 0 || equals == std::string::npos)
      fail_at(item.where, what + ": expected NAME=VALUE, found '" + item.text + "'");
    const std::string name = name_of_option(item.text);
    for (size_t i = 0; i < from_keys; ++i)
      if (name_of_option(options[i]) == name)
        fail_at(item.where,
                what + ": '" + item.text + "' repeats " + name + ", which the output's keys set");
    options.push_back(item.text);
  }
}

/// HDF5 outputs take compress = "none" | "deflate" and a zlib level (1-9); nothing else.
std::vector<std::string> hdf5_options(const TomlReader& toml, const toml::table& table,
                                      const std::string& what) {
  for (const char* key : {"predictor", "co"})
    if (const toml::node* node = table.get(key))
      toml.fail(node->source(), what + ": " + key +
                                    ": HDF5 outputs take compress and level only (a .tif takes " +
                                    key + ")");
  std::vector<std::string> options;
  std::string compress = "NONE";
  if (const toml::node* node = table.get("compress")) {
    compress = read_compress(toml, *node, what + ": compress");
    if (compress != "NONE" && compress != "DEFLATE")
      toml.fail(node->source(), what + ": compress: expected none or deflate for HDF5, found '" +
                                    toml.string(*node, what) + "'");
    options.push_back("COMPRESS=" + compress);
  }
  if (const toml::node* node = table.get("level")) {
    const int64_t level = toml.integer(*node, what + ": level");
    if (compress != "DEFLATE")
      toml.fail(node->source(), what + ": level: expected compress = \"deflate\" with a level");
    if (level < 1 || level > 9)
      toml.fail(node->source(), what + ": level: expected 1 to 9 for HDF5's deflate, found " +
                                    std::to_string(level));
    options.push_back("ZLEVEL=" + std::to_string(level));
  }
  return options;
}

}  // namespace

std::string output_path(const TomlReader& toml, const toml::node& node, const std::string& what) {
  const std::string path = toml.string(node, what);
  if (is_table_path(path))
    toml.fail(node.source(),
              what + ": '" + path + "' is a table: a zonal statistics table needs zones = ZONES");
  if (!format_of_path(path))
    toml.fail(node.source(),
              what + ": expected a .tif, .tiff, .h5 or .hdf5 path, found '" + path + "'");
  return path;
}

OutputFormat output_format(const TomlReader& toml, const toml::node& node, OutputFormat by_path,
                           const std::string& what) {
  const std::string name = upper(toml.string(node, what));
  const bool tif = by_path != OutputFormat::Hdf5;
  if (tif && name == "COG") return OutputFormat::Cog;
  if (tif && name == "GTIFF") return OutputFormat::GeoTiff;
  if (!tif && name == "HDF5") return OutputFormat::Hdf5;
  toml.fail(node.source(),
            what + ": expected " +
                (tif ? "\"gtiff\" or \"cog\" for a .tif path" : "\"hdf5\" for a .h5 path") +
                ", found '" + toml.string(node, what) + "'");
}

std::vector<int64_t> overview_factors(const TomlReader& toml, const toml::node& node,
                                      const std::string& what) {
  const toml::array* array = node.as_array();
  if (array == nullptr) toml.fail(node.source(), what + ": expected an array such as [2, 4, 8]");
  std::vector<int64_t> factors;
  for (const toml::node& item : *array) factors.push_back(toml.integer(item, what));
  try {
    overview_count_of(factors);
  } catch (const Error& e) {
    toml.fail(node.source(), what + ": " + e.what());
  }
  return factors;
}

std::vector<std::string> creation_options(const TomlReader& toml, const toml::table& table,
                                          OutputFormat format, const std::string& what) {
  if (format == OutputFormat::Hdf5) {
    for (const char* key : {"overviews", "resampling"})
      if (const toml::node* node = table.get(key))
        toml.fail(node->source(), what + ": " + key + ": HDF5 outputs hold no overviews");
    return hdf5_options(toml, table, what);
  }
  const bool cog = format == OutputFormat::Cog;
  std::vector<std::string> options;
  std::string compress = "NONE";
  if (const toml::node* node = table.get("compress")) {
    compress = read_compress(toml, *node, what + ": compress");
    options.push_back("COMPRESS=" + compress);
  }
  if (const toml::node* node = table.get("predictor"))
    options.push_back(read_predictor(toml, *node, what + ": predictor"));
  if (const toml::node* node = table.get("level"))
    options.push_back(read_level(toml, *node, compress, cog, what + ": level"));
  if (const toml::node* node = table.get("resampling"))
    options.push_back("OVERVIEW_RESAMPLING=" + toml.string(*node, what + ": resampling"));
  const toml::node* co = table.get("co");
  if (co != nullptr) add_co(toml, *co, what + ": co", options);
  try {
    parse_creation_options(options, format);
  } catch (const Error& e) {
    toml.fail(co != nullptr ? co->source() : table.source(), what + ": " + e.what());
  }
  return options;
}

}  // namespace tessera::job::detail
