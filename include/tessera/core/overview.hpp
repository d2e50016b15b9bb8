// Overview levels of a tiled raster: where each tile's share of a level lies, and the halving
// that makes a level from the one beneath it, cell for cell as gdaladdo does at a factor of 2.
#pragma once

#include <cstdint>
#include <optional>

#include "tessera/core/geometry.hpp"
#include "tessera/core/output_spec.hpp"
#include "tessera/core/pixel_type.hpp"

namespace tessera {

/// The size of overview level `level` (0 is the raster itself): each level halves the one
/// beneath it, rounding up, as gdaladdo sizes a factor of 2^level.
Extent overview_size(Extent raster, int level);

/// The cells of level `level` that tile `tile` of `grid` lies beneath: its window halved
/// `level` times (edges rounded up). Level 0 is the tile's own window. Precondition: 2^level
/// divides the tile size, so that no overview cell lies over two tiles.
Window share_of_tile(const TileGrid& grid, int64_t tile, int level);

/// Cells of one type in memory: `stride` cells from one row to the next.
struct CellPlane {
  void* cells = nullptr;
  int64_t stride = 0;
};
struct ConstCellPlane {
  const void* cells = nullptr;
  int64_t stride = 0;
};

/// Halves `width` x `height` cells of `type` from `from` into ceil(width / 2) x ceil(height / 2)
/// cells at `to`: each from the 2 x 2 cells above it (fewer at an odd edge) by `method`, cells
/// equal to `nodata` left out (a cell with none left is nodata), as GDAL 3.6's gdaladdo: AVERAGE
/// works in float, four cells of a band without nodata as ((a + c) + (b + d)) * 0.25 (a, b the
/// upper pair), others as their sum in double over their count, integers rounded half away from
/// zero; NEAREST takes the upper-left cell; MODE the value whose running count first passes the
/// others'.
void halve(PixelType type, ConstCellPlane from, int64_t width, int64_t height, CellPlane to,
           Resampling method, std::optional<double> nodata);

}  // namespace tessera
