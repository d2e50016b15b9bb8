// The interface of a tile-graph op (Barnes 2016, 2017): each tile alone, one global solve of the
// tiles' edge graphs on one rank, each tile finished with what the solve gives it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "tessera/core/geometry.hpp"
#include "tessera/ops/op.hpp"

namespace tessera::ops {

/// Bytes a phase of a tile-graph op hands to the next: a tile's summary or the solution.
using Bytes = std::vector<std::byte>;

/// An op whose answer at one cell depends on cells anywhere. The executor runs summarize() on
/// every tile (phase 1), solve() on one rank over every tile's summary (the global phase), then
/// the op with_solution() gives as the step's op in a streaming pass over the tiles (phase 2),
/// which recomputes what phase 1 computed of each tile and finishes it. Nothing here calls MPI.
class TileGraphOp : public Op {
 public:
  PassKind pass_kind() const override { return PassKind::TileGraph; }
  /// Phase 1, thread-safe: what the global solve needs of the tile in.owned (a tile of `grid`).
  virtual Bytes summarize(const TileIn& in, const TileGrid& grid) const = 0;
  /// The global phase: `tiles[i]` is summarize()'s bytes of tile i of `grid`. Throws
  /// tessera::Error for an input the op cannot solve.
  virtual Bytes solve(const TileGrid& grid, const std::vector<Bytes>& tiles) const = 0;
  /// Phase 2: the op whose run() finishes a tile of `grid` with `solution` (solve()'s bytes).
  virtual std::shared_ptr<const Op> with_solution(const TileGrid& grid,
                                                  std::shared_ptr<const Bytes> solution) const = 0;
  /// Bytes one thread allocates (once) to compute a tile of `cells` cells, beyond the tile
  /// buffers every op has.
  virtual int64_t work_bytes(int64_t cells) const = 0;
  /// The memory of the global phase over `grid`, estimated: on rank 0, which holds every tile's
  /// summary while it solves; and on every rank, which holds the whole solution in phase 2.
  struct GraphMemory {
    int64_t root = 0;
    int64_t solution = 0;
  };
  virtual GraphMemory graph_memory(const TileGrid& grid) const = 0;
  /// Throws: a tile-graph op computes its tiles only through with_solution().
  void run(const TileIn& in, const TileOut& out) const override;
};

}  // namespace tessera::ops

namespace tessera::ops {

/// Cells on the perimeters of all of `grid`'s tiles.
int64_t perimeter_cells(const TileGrid& grid);

}  // namespace tessera::ops
