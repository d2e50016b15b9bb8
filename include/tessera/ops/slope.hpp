// Slope, as gdaldem slope computes it (Float32 degrees or percent, nodata -9999).
#pragma once

#include <memory>

#include "tessera/ops/gradient.hpp"
#include "tessera/ops/op.hpp"

namespace tessera::ops {

enum class SlopeUnits { Degrees, Percent };

struct SlopeParams {
  double scale = 1.0;  ///< ratio of vertical to horizontal units
  Gradient alg = Gradient::Horn;
  SlopeUnits units = SlopeUnits::Degrees;
  bool compute_edges = false;
};

/// Reads options scale, alg, units, compute_edges; throws OptionError for a bad one.
SlopeParams slope_params(const Options& options);

/// The slope of the owned cells of `in`, written to `out`, as gdaldem 3.6 computes it.
void slope(const TileIn& in, View<float> out, const SlopeParams& p);

/// The op for the registry.
std::unique_ptr<Op> make_slope(const Options& options);

}  // namespace tessera::ops
