// Depression filling by the parallel Priority-Flood of Barnes (2016): every cell raised to the
// lowest level from which water can leave the raster, over its edge or into a void.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "tessera/ops/tile_graph.hpp"

namespace tessera::ops {

/// Labels of a tile's flood: a void cell, the ocean (cells that drain off the raster directly:
/// its edge cells and the cells next to a void), and the first label of the tile's own regions.
inline constexpr int32_t kVoidLabel = -1;
inline constexpr int32_t kOceanLabel = 0;

/// The lowest level at which water crosses from region `a` to region `b` (a < b).
struct SpillEdge {
  int32_t a = 0;
  int32_t b = 0;
  float spill = 0;
  friend bool operator==(const SpillEdge&, const SpillEdge&) = default;
};

/// One tile flooded alone from its perimeter (Priority-Flood with watershed labels): `level` is
/// each cell raised to the lowest level from which it drains to the tile's perimeter or to the
/// ocean; `label` the region of the perimeter cell (or of the ocean) it drains to; `edges` the
/// lowest spill between each two adjacent regions. Cells row-major with a ring of one cell
/// around the tile (label kVoidLabel there), so cell (x, y) is at(x, y).
struct TileFlood {
  int64_t width = 0;
  int64_t height = 0;
  int64_t stride = 0;  ///< width + 2
  size_t at(int64_t x, int64_t y) const { return static_cast<size_t>((y + 1) * stride + x + 1); }
  std::vector<float> level;
  std::vector<int32_t> label;
  int32_t labels = 1;  ///< regions, the ocean (label 0) included
  std::vector<SpillEdge> edges;
};

/// Floods the owned cells of `in` (Float32 cells, read with a halo of at least 1) into `out`,
/// whose buffers are reused. A void is a NaN cell or one equal to in.nodata. Without `spills`,
/// out.edges is left empty (phase 2 needs only levels and labels). Throws tessera::Error when a
/// cell is NaN and the band has no nodata value.
void flood_tile(const TileIn& in, TileFlood& out, bool spills = true);

/// The op for the registry: `fill`, Float32 with the DEM's nodata value. `epsilon = true` is
/// refused here: the planner makes four steps of it (plan::detail::planned_steps).
std::unique_ptr<Op> make_fill(const Options& options);

/// fill's option `epsilon` (false when absent); throws OptionError for a value that is not true
/// or false, and for any other key (fill has no other option).
bool fill_epsilon(const Options& options);

/// The levels the global solve gives every region of every tile: level_of(t, l) for region l
/// of tile t (the ocean's is -infinity).
class FillSolution {
 public:
  explicit FillSolution(const Bytes& bytes);
  float level_of(int64_t tile, int32_t label) const;
  static Bytes to_bytes(const std::vector<int64_t>& first, const std::vector<float>& levels);

 private:
  std::vector<int64_t> first_;  // per tile: the index in levels_ of its label 1
  std::vector<float> levels_;
};

/// The most bytes keep_flood() keeps a cell, on average over a tile: a tile whose runs would take
/// more is not kept (phase 2 floods it again), which bounds the scratch files and the buffer.
inline constexpr int64_t kKeptBytesPerCell = 2;

/// What phase 2 needs of `flood` (flood_tile() of `in`) besides the tile's heights, into `kept`:
/// its number of regions, then each row as runs of cells of one region that either keep their
/// height or are raised to one level (4 bytes a run, 8 for a raised one). Left empty when that
/// would take more than kKeptBytesPerCell a cell, or the tile has too many regions to say in 15
/// bits.
void keep_flood(const TileFlood& flood, const TileIn& in, Bytes& kept);

/// Phase 2 of tile `tile` from keep_flood()'s bytes and the tile's heights (`in`): each cell the
/// higher of its kept level and its region's level in `solution`, voids `none`. Throws
/// tessera::Error when `kept` does not describe a tile of in.owned's size.
void finish_kept(std::span<const std::byte> kept, const TileIn& in, const FillSolution& solution,
                 int64_t tile, float none, View<float> out);

/// What phase 1 keeps of a tile: its regions and their spills, and its perimeter cells' heights
/// and regions (top row, bottom row, left column, right column).
Bytes fill_summary(const TileFlood& flood, const TileIn& in);

/// The global solve: the lowest level from which each region of each tile drains off the raster
/// (a minimax path from the ocean over the graph of every tile's regions, linked by their spills
/// and by the perimeter cells adjacent across tile edges). Returns FillSolution's bytes.
Bytes solve_fill(const TileGrid& grid, const Summaries& tiles);

}  // namespace tessera::ops
