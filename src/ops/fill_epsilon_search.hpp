// fill_epsilon's phase 1 as the tests drive it: a tile's summary, with a choice of how the bare
// lengths between a piece's perimeter cells are searched.
#pragma once

#include "tessera/ops/tile_graph.hpp"

namespace tessera::ops {

/// How phase 1 finds the bare lengths between a piece's perimeter cells. Every choice gives the
/// same summary (the tests compare them); the default is the fastest.
struct EpsilonSearch {
  /// A source whose windows never bind at Chebyshev's distance, and that a straight path inside
  /// the piece joins to every target, takes Chebyshev's distances without a search.
  bool straight_paths = true;
  /// Batches of 64 sources are first searched with 16-bit lengths in each cell, capped here (1
  /// to 32766), and level by level only for the sources that search leaves; with 0, every batch
  /// level by level.
  int lane_cap = 32766;
};

/// Phase 1 of fill_epsilon: the summary of the tile `in` (the surface and its bound band, halo
/// of at least 2), as the op's summarize() gives it with the default search.
Bytes fill_epsilon_summary(const TileIn& in, const EpsilonSearch& how = {});

}  // namespace tessera::ops
