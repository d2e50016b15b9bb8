// fill_epsilon: fill's strictly draining surface (the least one, docs/hydrology.md) from fill's
// surface and an upper bound of it, as a tile-graph pass.
#pragma once

#include <memory>

#include "tessera/ops/tile_graph.hpp"

namespace tessera::ops {

/// The op for the registry: `fill_epsilon`, Float32 with the surface's nodata; option `bound`
/// names the band of the bound (Float32, at or above the result, equal to the surface where the
/// flow leaves the raster).
std::unique_ptr<Op> make_fill_epsilon(const Options& options);

}  // namespace tessera::ops
