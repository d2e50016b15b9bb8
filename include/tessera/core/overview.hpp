// Overview levels of a tiled raster: where each tile's share of a level lies, and how a level is
// made from the one beneath it, cell for cell as GDAL 3.6's gdaladdo makes it: halve() for 2 x 2
// windows (a level beneath of even size; NEAREST, AVERAGE, MODE), downsample() for any.
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
/// zero, a result equal to nodata taking the next value; NEAREST takes the upper-left cell; MODE
/// the value whose running count first passes the others'. Odd edges are GDAL's only when the
/// level beneath is of even size (halves_exactly()).
void halve(PixelType type, ConstCellPlane from, int64_t width, int64_t height, CellPlane to,
           Resampling method, std::optional<double> nodata);

/// One overview level made from the level beneath: their sizes, and the width of the tiles of
/// the level made (GDAL computes a level tile by tile, which its AVERAGE's arithmetic follows).
struct LevelStep {
  Extent from;
  Extent to;
  int64_t tile_width = 0;
};

/// Cells `to_window` of level `step.to` from the cells `from_window` of the level beneath, held
/// at `from` (`type` cells), as GDAL 3.6's gdaladdo and COG driver compute a level from the one
/// beneath (GDALRegenerateOverviewsMultiBand): the sizes' ratio places each cell's source window
/// (when a size is odd, about 3 cells, the outer ones weighed by the share they lie inside for
/// AVERAGE); NEAREST takes the cell at the window's rounded start, MODE the value first to lead
/// the count, AVERAGE the weighted mean, BILINEAR and CUBIC GDAL's kernels scaled by the ratio
/// (4 and 8 cells at a factor of 2), across then down, in double, their weights renormalised
/// where the window is cut. Cells equal to `nodata` are left out (a cell with none left is
/// nodata; one that comes out as nodata takes the next value). Windows reaching past
/// `from_window` are cut at its edge, as GDAL cuts them at the raster's.
void downsample(PixelType type, const LevelStep& step, ConstCellPlane from, Window from_window,
                CellPlane to, Window to_window, Resampling method, std::optional<double> nodata);

/// Whether halve() gives what downsample() does for `step`: NEAREST, AVERAGE and MODE when the
/// level beneath has an even width and height (every window its 2 x 2 cells).
bool halves_exactly(const LevelStep& step, Resampling method, PixelType type,
                    std::optional<double> nodata);

}  // namespace tessera
