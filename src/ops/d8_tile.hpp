// What the D8 tile-graph ops (flowacc, watershed) share: a tile of flow directions and the
// numbering of every tile's perimeter cells that their global solves walk.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tessera/ops/d8.hpp"

namespace tessera::ops {

/// A tile's owned cells as direction indices (kD8Dx's), kD8None or kD8Void, row-major.
struct D8Tile {
  int64_t width = 0;
  int64_t height = 0;
  std::vector<int8_t> dir;
};

/// The cells flowacc and watershed read a directions raster of type `source` as: every value
/// exactly (Int32 for the narrow integers, Float32 for Float32, Float64 for the rest), so that a
/// code like 1 + 1e-12 or 2147483647 is refused as it is, not as the Float32 nearest it.
CellType direction_cells(PixelType source);

/// Reads the owned cells of `in` into `t`; throws, naming `op`, for a value that is not one of
/// `encoding`'s codes, 0 or the nodata value, and for NaN in a raster without a nodata value
/// (NaN is a void only where the raster has one, as fill takes a DEM's).
void read_directions(const TileIn& in, D8Encoding encoding, const std::string& op, D8Tile& t);

/// Whether the cell direction `k` from (x, y) reaches is a valid cell of the raster (beyond the
/// tile when it is not inside it), so that flow goes on there.
bool flows_on(const TileIn& in, const D8Tile& t, int64_t x, int64_t y, int k);

/// The index of the tile whose owned window is `owned`.
int64_t tile_of(const TileGrid& grid, const Window& owned);

/// `v` as a person writes it: 9, 2.5, 1e+20.
std::string number_text(double v);
/// A cell's value as a person writes it: as number_text when it is a Float32 value, else in as
/// few digits as give the double back (2147483647, 1.000000000001).
std::string cell_text(double v);

/// Every tile's perimeter cells numbered one after the other, tile by tile, each tile's in
/// perimeter_index() order: the nodes of a global solve's graph.
class PerimeterNodes {
 public:
  explicit PerimeterNodes(const TileGrid& grid);
  /// The node of tile `t`'s first perimeter cell; first(count of tiles) is the number of nodes.
  int64_t first(int64_t t) const { return first_[static_cast<size_t>(t)]; }
  int64_t count() const { return first_.back(); }
  /// The node of raster cell (gx, gy), which lies on its tile's perimeter.
  int64_t node(int64_t gx, int64_t gy) const;
  /// The raster cell of node `n`, and its tile.
  std::pair<int64_t, int64_t> cell(int64_t n) const;
  int64_t tile(int64_t n) const;
  /// The cell (x, y) of a width x height tile at perimeter place `p`.
  static std::pair<int64_t, int64_t> place_cell(int64_t p, int64_t width, int64_t height);

 private:
  TileGrid grid_;
  std::vector<int64_t> first_;
};

}  // namespace tessera::ops
