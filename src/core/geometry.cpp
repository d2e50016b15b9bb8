// Tile grid arithmetic.
#include "tessera/core/geometry.hpp"

#include "tessera/core/error.hpp"

namespace tessera {

namespace {
int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
}  // namespace

TileGrid::TileGrid(Extent raster, int64_t tile_width, int64_t tile_height)
    : raster_(raster), tile_width_(tile_width), tile_height_(tile_height) {
  if (tile_width <= 0 || tile_height <= 0) throw Error("tile size must be positive");
  if (raster.width < 0 || raster.height < 0) throw Error("raster size must not be negative");
  across_ = ceil_div(raster.width, tile_width);
  down_ = ceil_div(raster.height, tile_height);
}

Window TileGrid::block(int64_t index) const {
  return {(index % across_) * tile_width_, (index / across_) * tile_height_, tile_width_,
          tile_height_};
}

Window TileGrid::owned(int64_t index) const { return intersect(block(index), whole(raster_)); }

}  // namespace tessera
