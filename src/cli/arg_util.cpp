// Pieces the gdaldem- and gdal_calc.py-style command lines share.
#include "arg_util.hpp"

#include <algorithm>
#include <cctype>
#include <exception>

#include "tessera/core/error.hpp"

namespace tessera::cli {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

double parse_number(std::string_view flag, const std::string& text) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size())
    throw UsageError(std::string(flag) + " expects a number, got '" + text + "'");
  return value;
}

void set_block_size(job::RunSpec& run, const std::vector<std::string>& creation_options,
                    std::string_view flag) {
  std::optional<int64_t> x;
  std::optional<int64_t> y;
  std::string given;
  for (const auto& item : creation_options) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) continue;
    const std::string name = item.substr(0, eq);
    const bool is_x = iequals(name, "BLOCKXSIZE");
    if (!is_x && !iequals(name, "BLOCKYSIZE")) continue;
    std::string label(flag);
    label += ' ';
    label += name;
    (is_x ? x : y) = static_cast<int64_t>(parse_number(label, item.substr(eq + 1)));
    given = label;
  }
  if (x && y && *x != *y)
    throw UsageError(std::string(flag) + " BLOCKXSIZE and BLOCKYSIZE must be equal");
  run.tile = x ? x : y;
  run.tile_where = job::Position::of_flag(given);
}

}  // namespace tessera::cli
