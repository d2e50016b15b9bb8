// Raster geometry in 64-bit cell indices: extents, windows and the tile grid.
#pragma once

#include <algorithm>
#include <cstdint>

namespace tessera {

/// The size of a raster in cells.
struct Extent {
  int64_t width = 0;
  int64_t height = 0;

  int64_t cells() const { return width * height; }
  friend bool operator==(const Extent&, const Extent&) = default;
};

/// A rectangle of cells in raster coordinates; (x, y) is its top-left cell, x to the east,
/// y to the south. May extend past a raster's edges (a tile grown by its halo does).
struct Window {
  int64_t x = 0;
  int64_t y = 0;
  int64_t width = 0;
  int64_t height = 0;

  int64_t right() const { return x + width; }
  int64_t bottom() const { return y + height; }
  int64_t cells() const { return width * height; }
  bool empty() const { return width <= 0 || height <= 0; }
  bool contains(int64_t cx, int64_t cy) const {
    return cx >= x && cx < right() && cy >= y && cy < bottom();
  }
  friend bool operator==(const Window&, const Window&) = default;
};

/// The whole raster as a window.
inline Window whole(Extent e) { return {0, 0, e.width, e.height}; }

/// The cells two windows share; an empty window (width or height 0) when they share none.
inline Window intersect(Window a, Window b) {
  const int64_t x0 = std::max(a.x, b.x);
  const int64_t y0 = std::max(a.y, b.y);
  const int64_t x1 = std::min(a.right(), b.right());
  const int64_t y1 = std::min(a.bottom(), b.bottom());
  if (x1 <= x0 || y1 <= y0) return {x0, y0, 0, 0};
  return {x0, y0, x1 - x0, y1 - y0};
}

/// The window grown by `halo` cells on every side, not clipped to any raster.
inline Window grow(Window w, int64_t halo) {
  return {w.x - halo, w.y - halo, w.width + 2 * halo, w.height + 2 * halo};
}

/// A raster cut into tiles of tile_width x tile_height cells, row-major from the top-left;
/// the last column and row of tiles may be narrower. Tile sizes equal the output block sizes.
class TileGrid {
 public:
  TileGrid() = default;
  /// Throws tessera::Error when the tile size is not positive.
  TileGrid(Extent raster, int64_t tile_width, int64_t tile_height);

  Extent raster() const { return raster_; }
  int64_t tile_width() const { return tile_width_; }
  int64_t tile_height() const { return tile_height_; }
  int64_t across() const { return across_; }
  int64_t down() const { return down_; }
  int64_t count() const { return across_ * down_; }

  /// The cells tile `index` owns (clipped to the raster). Precondition: 0 <= index < count().
  Window owned(int64_t index) const;
  /// The full block the tile occupies in a tiled file, padded past the raster edge.
  Window block(int64_t index) const;

 private:
  Extent raster_;
  int64_t tile_width_ = 0;
  int64_t tile_height_ = 0;
  int64_t across_ = 0;
  int64_t down_ = 0;
};

}  // namespace tessera
