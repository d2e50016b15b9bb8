// flowdir's flats (Barnes, Lehman and Mulla 2014) across tiles: a tile's D8 analysis, the two
// breadth-first distances on its flats, its summary, and the global solve of those distances.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "tessera/ops/d8.hpp"

namespace tessera::ops {

/// A distance not reached: a flat without an outlet (low) or without higher terrain (high).
inline constexpr uint32_t kFar = std::numeric_limits<uint32_t>::max();
/// A cell's direction when it is a void or off the raster (beside kD8None, kD8Void).
inline constexpr int8_t kD8Outside = -3;

/// A tile of heights analysed with a ring of one cell around it (padded: cell (x, y) of the
/// tile, x and y from -1 to width, is at(x, y)). `dir` is each cell's steepest descent as
/// d8flowdir chooses it (an index into kD8Dx), kD8None on a flat (no lower neighbour), kD8Void
/// for a valid cell whose flow leaves the raster (on its edge or next to a void), kD8Outside for
/// a void or a cell off the raster. `flat` marks the tile's own flat cells (never the ring).
/// `low` and `high` are the distances of the flat cells (kFar elsewhere or where not reached).
struct FlatTile {
  int64_t width = 0;
  int64_t height = 0;
  int64_t stride = 0;  ///< width + 2
  size_t at(int64_t x, int64_t y) const { return static_cast<size_t>((y + 1) * stride + x + 1); }
  std::vector<float> z;
  std::vector<int8_t> dir;
  std::vector<uint8_t> flat;
  std::vector<uint32_t> low, high;
  double factor[8] = {};  ///< d8flowdir's 1 / distance to each neighbour
  ptrdiff_t offset[8] = {};
  int64_t flat_cells = 0;  ///< the tile's own flat cells
};

/// Reads `in` (Float32 heights, halo of at least 2) into `t` and finds every cell's steepest
/// descent, the ring's included.
void analyse_tile(const TileIn& in, FlatTile& t);

/// Whether padded cell j, a neighbour of flat cell i, is an *outlet* of i's flat: a valid cell
/// of i's height that is not on a flat (it drains, or its flow leaves the raster).
inline bool is_outlet(const FlatTile& t, size_t i, size_t j) {
  return t.dir[j] != kD8None && t.dir[j] != kD8Outside && t.z[j] == t.z[i];
}
/// Whether padded cell j, a neighbour of flat cell i, is on i's flat (the ring's cells too).
inline bool on_same_flat(const FlatTile& t, size_t i, size_t j) {
  return t.dir[j] == kD8None && t.z[j] == t.z[i];
}
/// Whether padded cell j, a neighbour of flat cell i, is a valid cell higher than i.
inline bool is_higher(const FlatTile& t, size_t i, size_t j) {
  return t.dir[j] != kD8Outside && t.z[j] > t.z[i];
}

/// A cell from which a breadth-first distance starts, at `distance`.
struct Seed {
  uint32_t distance = 0;
  uint32_t cell = 0;  ///< padded index of one of the tile's own flat cells
};

/// The flat cells' seeds of `low` (distance 1: a flat cell beside an outlet) or, with `high`,
/// of `high` (distance 0: a flat cell beside higher terrain), appended to `seeds`; with
/// `piece`, only the cells of labelled pieces (piece >= 0).
void local_seeds(const FlatTile& t, bool high, std::vector<Seed>& seeds,
                 const std::vector<int32_t>* piece = nullptr);

/// Breadth-first distances over the tile's own flat cells (8-connected, one height) from
/// `seeds` (sorted here); `dist` holds kFar at every cell not reached.
void spread(const FlatTile& t, std::vector<Seed>& seeds, std::vector<uint32_t>& dist);

/// The direction of flat cell i (padded index) from its distances and its neighbours': the first
/// outlet beside it in d8flowdir's order; else the steepest descent of 2 low - high (2 low on a
/// flat without higher terrain) to a neighbour on its flat; kD8None when its flat has no outlet.
int flat_direction(const FlatTile& t, size_t i);

/// How phase 1 finds the distances between a piece's perimeter cells inside the tile. Every
/// choice gives the same summary (the tests compare them); the default is the fastest.
struct FlatSearch {
  /// Pairs that a straight path inside their piece shows at Chebyshev's distance take it
  /// without a search.
  bool straight_paths = true;
  /// Batches of 64 sources are searched with 16-bit distances in each cell, capped here (at
  /// most 32766); a batch with a target at the cap, or every batch with 0, level by level.
  int lane_cap = 32766;
};

/// Phase 1: the tile's summary (its flat pieces that touch its perimeter, their local distances
/// and the distances between their perimeter cells inside the tile); sets t.low and t.high.
Bytes flats_summary(FlatTile& t, const FlatSearch& how = {});

/// The global solve: `low` and `high` of every perimeter cell of every tile (FlatSolution).
Bytes solve_flats(const TileGrid& grid, const Summaries& tiles);

/// The global distances of every tile's perimeter cells (PerimeterNodes' numbering).
struct FlatSolution {
  std::vector<uint32_t> low, high;
};
FlatSolution read_flat_solution(const Bytes& bytes);

}  // namespace tessera::ops
