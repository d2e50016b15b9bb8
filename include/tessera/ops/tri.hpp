// Terrain Ruggedness Index, as gdaldem TRI computes it (Float32, nodata -9999).
#pragma once

#include <memory>

#include "tessera/ops/op.hpp"

namespace tessera::ops {

/// Riley et al. (1999), gdaldem's default since 3.3, or Wilson et al. (2007) for bathymetry.
enum class TriAlg { Riley, Wilson };

struct TriParams {
  TriAlg alg = TriAlg::Riley;
  bool compute_edges = false;
};

/// Reads options alg, compute_edges; throws OptionError.
TriParams tri_params(const Options& options);

/// The TRI of the owned cells of `in`, written to `out`, as gdaldem 3.6 computes it.
void tri(const TileIn& in, View<float> out, const TriParams& p);

/// The op for the registry.
std::unique_ptr<Op> make_tri(const Options& options);

}  // namespace tessera::ops
