// Roughness, as gdaldem roughness computes it (Float32, nodata -9999).
#pragma once

#include <memory>

#include "tessera/ops/op.hpp"

namespace tessera::ops {

struct RoughnessParams {
  bool compute_edges = false;
};

/// Reads option compute_edges; throws OptionError.
RoughnessParams roughness_params(const Options& options);

/// The largest minus the smallest of the 3x3 window, for the owned cells of `in`, as gdaldem 3.6.
void roughness(const TileIn& in, View<float> out, const RoughnessParams& p);

/// The op for the registry.
std::unique_ptr<Op> make_roughness(const Options& options);

}  // namespace tessera::ops
