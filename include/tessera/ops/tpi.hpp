// Topographic Position Index, as gdaldem TPI computes it (Float32, nodata -9999).
#pragma once

#include <memory>

#include "tessera/ops/op.hpp"

namespace tessera::ops {

struct TpiParams {
  bool compute_edges = false;
};

/// Reads option compute_edges; throws OptionError.
TpiParams tpi_params(const Options& options);

/// The centre minus the mean of its 8 neighbours, for the owned cells of `in`, as gdaldem 3.6.
void tpi(const TileIn& in, View<float> out, const TpiParams& p);

/// The op for the registry.
std::unique_ptr<Op> make_tpi(const Options& options);

}  // namespace tessera::ops
