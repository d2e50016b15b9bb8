// reclassify: value ranges of a band mapped to values, with a default for cells in no range.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tessera/ops/op.hpp"

namespace tessera::ops {

/// Cells in [low, high) become `value`.
struct ClassRange {
  double low = 0;
  double high = 0;
  double value = 0;
};

struct ReclassifyParams {
  std::vector<ClassRange> ranges;    ///< the first range holding a cell decides
  std::optional<double> fallback;    ///< `default`: cells in no range; nodata when empty
  PixelType type = PixelType::Byte;  ///< the output type, uint8 (default) to float64
  std::optional<double> nodata;      ///< the output nodata; gdal_calc.py's default when empty
};

/// Parses a table "LOW..HIGH=VALUE; ..." (numbers as strtod reads them, inf and -inf too).
/// Throws OptionError on key "table" naming the entry at fault.
std::vector<ClassRange> parse_class_table(const std::string& text);

/// Reads options table (required), default, type, nodata; throws OptionError for a bad one.
ReclassifyParams reclassify_params(const Options& options);

/// The op for the registry.
std::unique_ptr<Op> make_reclassify(const Options& options);

}  // namespace tessera::ops
