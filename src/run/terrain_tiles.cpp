// Terrain tiles as a TileSource: `tessera generate`'s heights, made a row at a time.
#include <algorithm>
#include <limits>
#include <memory>
#include <span>

#include "stopwatch.hpp"
#include "tessera/core/tile_buffer.hpp"
#include "tessera/expr/convert.hpp"
#include "tile_source.hpp"

namespace tessera::run {

namespace {

/// One thread's terrain tiles: heights as float64 rows, converted to the output type.
class TerrainTiles : public TileSource {
 public:
  TerrainTiles(const plan::Plan& plan, const ops::TerrainParams& terrain)
      : plan_(plan),
        spec_(plan.outputs.front().spec),
        terrain_(terrain),
        heights_(static_cast<size_t>(spec_.tile_width)),
        cells_(spec_.type, spec_.tile_width, spec_.tile_height) {}

  void process(int64_t tile, TileOutlet& out) override {
    {
      Timed timed(times_.compute);
      fill_tile(plan_.grid.owned(tile));
    }
    out.put(0, 0, cells_.bytes().data());
  }
  const PhaseTimes& times() const override { return times_; }
  int64_t bytes_read() const override { return 0; }

 private:
  /// Cells past the raster's edge are NaN, which the conversion writes as nodata (or 0).
  void fill_tile(Window owned) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const auto width = static_cast<size_t>(owned.width);
    const BandView cells = cells_.view();
    for (int64_t y = 0; y < spec_.tile_height; ++y) {
      std::fill(heights_.begin(), heights_.end(), nan);
      if (y < owned.height)
        ops::terrain_row(terrain_, owned.x, owned.y + y, std::span(heights_).first(width));
      expr::convert_row(heights_, spec_.nodata.value_or(0), expr::out_cells(cells, y));
    }
  }

  const plan::Plan& plan_;
  const OutputSpec& spec_;
  ops::TerrainParams terrain_;
  std::vector<double> heights_;
  TileBuffer cells_;
  PhaseTimes times_;
};

}  // namespace

std::unique_ptr<TileSource> terrain_tiles(const plan::Plan& plan,
                                          const ops::TerrainParams& terrain) {
  return std::make_unique<TerrainTiles>(plan, terrain);
}

}  // namespace tessera::run
