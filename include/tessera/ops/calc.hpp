// The calc op: a map-algebra expression over bands of named inputs, written as one output type.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tessera/expr/convert.hpp"
#include "tessera/expr/expression.hpp"
#include "tessera/ops/op.hpp"

namespace tessera::ops {

struct CalcParams {
  std::string expr;                     ///< the expression text (docs/expressions.md)
  PixelType type = PixelType::Float32;  ///< the output type, uint8 to float64
  std::optional<double> nodata;         ///< the output nodata; gdal_calc.py's default when empty
};

/// Reads options expr (required), type and nodata; throws OptionError for a bad one.
CalcParams calc_params(const Options& options);

/// Evaluates `expression` over the owned cells of `in`, whose bands hold expression.inputs() in
/// order, and writes them converted to out.type() (NaN -> `nodata`) into `out`, owned.width x
/// owned.height cells. Thread-safe.
void calc(const expr::Expression& expression, const TileIn& in, const BandView& out, double nodata);

/// The op for the registry; the expression may read the inputs and steps of `names`. A syntax
/// error throws OptionError on key "expr" with the column it points at.
std::unique_ptr<Op> make_calc(const Options& options, const expr::NameScope& names);

}  // namespace tessera::ops
