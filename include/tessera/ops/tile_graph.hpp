// The interface of a tile-graph op (Barnes 2016, 2017): each tile alone, one global solve of the
// tiles' edge graphs on one rank, each tile finished with what the solve gives it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "tessera/core/geometry.hpp"
#include "tessera/ops/op.hpp"

namespace tessera::ops {

/// Bytes a phase of a tile-graph op hands to the next: a tile's summary or the solution.
using Bytes = std::vector<std::byte>;

/// Every tile's summary, as the global solve reads them: in place, in the buffers they arrived
/// in (not aligned for any type), each tile's by its index.
using Summaries = std::vector<std::span<const std::byte>>;

/// `tiles` as Summaries (views of them, valid while they are).
inline Summaries summaries_of(const std::vector<Bytes>& tiles) {
  return Summaries(tiles.begin(), tiles.end());
}

/// Where phase 1 keeps what phase 2 needs of each tile, so that phase 2 finishes the tile from it
/// instead of computing it again: the executor's scratch files (run::TileScratch), a test's
/// memory. Thread-safe.
class KeptTiles {
 public:
  virtual ~KeptTiles() = default;
  /// Keeps `bytes` as tile `tile`'s (once per tile, by the thread that computed it). Throws
  /// tessera::Error when they cannot be kept (a full disk).
  virtual void keep(int64_t tile, std::span<const std::byte> bytes) = 0;
  /// Puts tile `tile`'s bytes into `into` and returns true; false when none are kept here (the
  /// tile is then computed again).
  virtual bool take(int64_t tile, Bytes& into) const = 0;
};

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
  virtual Bytes solve(const TileGrid& grid, const Summaries& tiles) const = 0;
  /// Phase 2: the op whose run() finishes a tile of `grid` with `solution` (solve()'s bytes).
  virtual std::shared_ptr<const Op> with_solution(const TileGrid& grid,
                                                  std::shared_ptr<const Bytes> solution) const = 0;
  /// The most bytes summarize_keeping() keeps of a tile of `cells` cells; 0 for an op that keeps
  /// nothing (its phase 2 always computes the tile again).
  virtual int64_t kept_bytes(int64_t /*cells*/) const { return 0; }
  /// Phase 1 of a run that keeps tiles: summarize()'s bytes, and in `kept` what the op of
  /// with_kept_solution() needs to finish the tile besides its input cells (left empty when the
  /// op keeps nothing of this tile: phase 2 computes it again).
  virtual Bytes summarize_keeping(const TileIn& in, const TileGrid& grid, Bytes& kept) const {
    kept.clear();
    return summarize(in, grid);
  }
  /// Phase 2 after summarize_keeping(): with_solution()'s op, which finishes each tile `kept`
  /// holds from its bytes there (and computes the others again). `kept` must outlive the op's
  /// runs.
  virtual std::shared_ptr<const Op> with_kept_solution(const TileGrid& grid,
                                                       std::shared_ptr<const Bytes> solution,
                                                       const KeptTiles* /*kept*/) const {
    return with_solution(grid, std::move(solution));
  }
  /// Bytes one thread allocates (once) to compute a tile of `cells` cells, beyond the tile
  /// buffers every op has.
  virtual int64_t work_bytes(int64_t cells) const = 0;
  /// The memory of the global phase over `grid`, estimated: on rank 0, which holds every tile's
  /// summary while it solves; and on every rank, which holds the whole solution in phase 2.
  struct GraphMemory {
    int64_t root = 0;
    int64_t solution = 0;
    /// Of `root`, every tile's summary as received: each rank holds its own tiles' in phase 1,
    /// beside its tiles. Unset: taken as `root`.
    std::optional<int64_t> summaries;
  };
  virtual GraphMemory graph_memory(const TileGrid& grid) const = 0;
  /// Seconds rank 0's solve over `grid` takes, estimated from a rate measured on one machine
  /// (docs/hydrology.md); 0 when the op gives no estimate.
  virtual double solve_seconds(const TileGrid& /*grid*/) const { return 0; }
  /// Throws: a tile-graph op computes its tiles only through with_solution().
  void run(const TileIn& in, const TileOut& out) const override;
};

}  // namespace tessera::ops

namespace tessera::ops {

/// Cells on the perimeters of all of `grid`'s tiles.
int64_t perimeter_cells(const TileGrid& grid);

/// The most perimeter cells the global solves of fill, flowdir and fill_epsilon number (32 bits,
/// one value kept for "none"); a plan whose tile graph has more is refused.
inline constexpr int64_t kMostNumberedPerimeterCells = 4294967294;

}  // namespace tessera::ops
