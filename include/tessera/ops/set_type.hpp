// set-type: a band converted to another pixel type through scale and offset, as gdal_translate
// -ot -scale would, with GDAL's rounding and saturation.
#pragma once

#include <memory>
#include <optional>

#include "tessera/ops/op.hpp"

namespace tessera::ops {

struct SetTypeParams {
  PixelType type = PixelType::Float32;  ///< the output type, uint8 to float64
  double scale = 1.0;                   ///< out = in * scale + offset
  double offset = 0.0;
  std::optional<double> nodata;  ///< the output nodata; gdal_calc.py's default when empty
};

/// Reads options type (required), scale, offset, nodata; throws OptionError for a bad one.
SetTypeParams set_type_params(const Options& options);

/// in * scale + offset for the owned cells of `in`, nodata cells to `nodata`, written as
/// out.type() (integers round half away from zero and saturate) into `out`, owned.width x
/// owned.height cells.
void set_type(const TileIn& in, const BandView& out, const SetTypeParams& p, double nodata);

/// The op for the registry.
std::unique_ptr<Op> make_set_type(const Options& options);

}  // namespace tessera::ops
