// The bound of fill's epsilon surface (docs/hydrology.md, "fill's epsilon"): a tile-graph pass
// that `fill` with `epsilon = true` plans between flowdir and the epsilon pass.
#pragma once

#include <memory>

#include "tessera/ops/tile_graph.hpp"

namespace tessera::ops {

/// The op for the registry: `fill_epsilon_bound` (planned by `fill` with `epsilon = true`, not
/// offered to users). Its input is fill's surface F, option `directions` names flowdir's
/// directions of F (option `encoding`: taudem or esri). Output Float32 with nodata NaN (at F's
/// voids; a bound can equal F's nodata value): per cell the Float32 of U(c) = max(K(c), U(next) +
/// 1) along its flow path, U = K where the flow leaves the raster (K: F's keys, consecutive
/// Float32 values one apart), +infinity past the largest finite. Refuses a code 0, a cell without
/// a code that is no outlet of F, and a cycle.
std::unique_ptr<Op> make_fill_epsilon_bound(const Options& options);

}  // namespace tessera::ops
