// Colour relief, as gdaldem color-relief computes it (Byte RGB or RGBA, no nodata).
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tessera/ops/op.hpp"

namespace tessera::ops {

/// How a value between two entries of the colour file gets its colour.
enum class ColorMatch { Interpolate, Exact, Nearest };

/// One line of a colour file: a value, `nv` (the source's nodata) or a percentage of the
/// source's range, and its colour.
struct ColorEntry {
  enum class Kind { Value, NoData, Percent };
  Kind kind = Kind::Value;
  double value = 0;  ///< the value, or the fraction 0..1 for Percent
  int r = 0, g = 0, b = 0, a = 255;
};

struct ColorReliefParams {
  std::string color_file;
  std::vector<ColorEntry> entries;  ///< in file order, read from color_file
  bool alpha = false;               ///< a fourth, alpha band
  ColorMatch match = ColorMatch::Interpolate;
  std::optional<double> source_min;  ///< the band's minimum, for percentage entries
  std::optional<double> source_max;  ///< the band's maximum, for percentage entries
};

/// Reads a gdaldem colour file: "value R G B [A]" or "value colourname [A]" per line, fields
/// separated by spaces, tabs, commas or colons; `nv` for nodata; "50%" for percentages; lines
/// starting with # or / are comments; GMT .cpt files with "# COLOR_MODEL = RGB" too.
/// Throws OptionError(key "color_file") when the file cannot be read or a line is wrong.
std::vector<ColorEntry> read_color_file(const std::string& path);

/// True when the colour file has percentage entries: the planner must then supply the
/// options source_min and source_max (the band's minimum and maximum, as gdaldem takes them).
bool color_file_uses_percent(const std::string& path);

/// Reads options color_file, alpha, exact_color_entry, nearest_color_entry, source_min,
/// source_max; throws OptionError for a bad one or for missing source_min/max when needed.
ColorReliefParams color_relief_params(const Options& options);

/// The colour table gdaldem builds from `entries` for a source whose nodata is `nodata`:
/// sorted, nv resolved, percentages resolved, equal values spread apart as gdaldem does.
std::vector<ColorEntry> color_table(const ColorReliefParams& p, std::optional<double> nodata);

/// Colours the owned cells of `in` with `table` into bands (3 or 4 views, owned size).
void color_relief(const TileIn& in, std::span<const View<uint8_t>> bands,
                  const std::vector<ColorEntry>& table, ColorMatch match);

/// The op for the registry.
std::unique_ptr<Op> make_color_relief(const Options& options);

}  // namespace tessera::ops
