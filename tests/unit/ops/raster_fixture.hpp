// Synthetic rasters for op tests: run an op over a whole raster, cut into tiles of any size.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include <memory>

#include "tessera/ops/op.hpp"
#include "tessera/ops/tile_graph.hpp"

namespace tessera::ops::testing {

/// A raster held whole in memory, with what TileIn carries about its source.
template <class T>
struct Raster {
  int64_t width = 0;
  int64_t height = 0;
  std::vector<T> cells;
  std::optional<double> nodata;
  PixelType type = std::is_integral_v<T> ? PixelType::Int16 : PixelType::Float32;
  double ewres = 10.0;
  double nsres = -10.0;

  T& at(int64_t x, int64_t y) { return cells[static_cast<size_t>(y * width + x)]; }
};

template <class T>
Raster<T> make_raster(int64_t width, int64_t height, T (*value)(int64_t x, int64_t y)) {
  Raster<T> r;
  r.width = width;
  r.height = height;
  r.cells.resize(static_cast<size_t>(width * height));
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x) r.at(x, y) = value(x, y);
  return r;
}

/// The op's output bands over the whole raster, computed tile by tile (tile_w x tile_h).
/// Cells of a tile buffer outside the raster hold garbage, which the op must never read.
template <class T, class Out>
std::vector<std::vector<Out>> run_tiled(const Op& op, const Raster<T>& r, int64_t tile_w,
                                        int64_t tile_h) {
  const int64_t halo = op.halo();
  std::vector<std::vector<Out>> bands(static_cast<size_t>(op.output_bands()),
                                      std::vector<Out>(static_cast<size_t>(r.width * r.height)));
  const TileGrid grid(Extent{r.width, r.height}, tile_w, tile_h);
  for (int64_t t = 0; t < grid.count(); ++t) {
    const Window owned = grid.owned(t);
    const Window g = grow(owned, halo);
    const T garbage = std::is_integral_v<T> ? T(-77777) : std::numeric_limits<T>::quiet_NaN();
    std::vector<T> buffer(static_cast<size_t>(g.cells()), garbage);
    for (int64_t y = 0; y < g.height; ++y)
      for (int64_t x = 0; x < g.width; ++x)
        if (whole(Extent{r.width, r.height}).contains(g.x + x, g.y + y))
          buffer[static_cast<size_t>(y * g.width + x)] =
              r.cells[static_cast<size_t>((g.y + y) * r.width + g.x + x)];
    TileIn in;
    in.raster = {r.width, r.height};
    in.owned = owned;
    in.halo = halo;
    in.cells = ConstView<T>(buffer.data(), g.width, g.height);
    in.nodata = r.nodata;
    in.source_type = r.type;
    in.ewres = r.ewres;
    in.nsres = r.nsres;
    TileOut out;
    for (auto& band : bands)
      out.bands.emplace_back(
          View<Out>(band.data() + owned.y * r.width + owned.x, owned.width, owned.height, r.width));
    op.run(in, out);
  }
  return bands;
}

/// Band 0 of the op over the whole raster as one tile.
template <class T, class Out>
std::vector<Out> run_whole(const Op& op, const Raster<T>& r) {
  return run_tiled<T, Out>(op, r, r.width, r.height).at(0);
}

/// Phase 1 of a tile-graph op as an op: run() keeps the tile's summary and writes nothing.
class SummaryOf : public Op {
 public:
  SummaryOf(const TileGraphOp& op, TileGrid grid) : op_(op), grid_(grid) {
    summaries.resize(static_cast<size_t>(grid.count()));
  }
  int64_t halo() const override { return op_.halo(); }
  PixelType output_type() const override { return PixelType::Byte; }
  std::optional<double> output_nodata() const override { return std::nullopt; }
  CellType input_cells(PixelType source) const override { return op_.input_cells(source); }
  void run(const TileIn& in, const TileOut&) const override {
    const int64_t t =
        (in.owned.y / grid_.tile_height()) * grid_.across() + in.owned.x / grid_.tile_width();
    summaries[static_cast<size_t>(t)] = op_.summarize(in, grid_);
  }
  mutable std::vector<Bytes> summaries;

 private:
  const TileGraphOp& op_;
  TileGrid grid_;
};

/// Band 0 of a tile-graph op over the whole raster at `tile` x `tile` cells, its phases run as
/// the executor runs them (here in one process).
template <class T, class Out>
std::vector<Out> run_graph(const TileGraphOp& op, const Raster<T>& r, int64_t tile) {
  const TileGrid grid(Extent{r.width, r.height}, tile, tile);
  SummaryOf first(op, grid);
  run_tiled<T, uint8_t>(first, r, tile, tile);
  const auto finish = op.with_solution(
      grid, std::make_shared<const Bytes>(op.solve(grid, summaries_of(first.summaries))));
  return run_tiled<T, Out>(*finish, r, tile, tile).at(0);
}

}  // namespace tessera::ops::testing
