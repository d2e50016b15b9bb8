// Aspect, as gdaldem aspect computes it (Float32 degrees, nodata -9999 unless zero_for_flat).
#pragma once

#include <memory>

#include "tessera/ops/gradient.hpp"
#include "tessera/ops/op.hpp"

namespace tessera::ops {

struct AspectParams {
  Gradient alg = Gradient::Horn;
  bool trigonometric = false;  ///< counter-clockwise from east instead of an azimuth
  bool zero_for_flat = false;  ///< flat cells (and the uncomputed border) give 0, no nodata
  bool compute_edges = false;
};

/// Reads options alg, trigonometric, zero_for_flat, compute_edges; throws OptionError.
AspectParams aspect_params(const Options& options);

/// The aspect of the owned cells of `in`, written to `out`, as gdaldem 3.6 computes it.
void aspect(const TileIn& in, View<float> out, const AspectParams& p);

/// The op for the registry.
std::unique_ptr<Op> make_aspect(const Options& options);

}  // namespace tessera::ops
