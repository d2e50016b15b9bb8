// fill: each tile flooded alone from its perimeter (phase 1, recomputed in phase 2), and the op.
#include "tessera/ops/fill.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>
#include <string>
#include <utility>

#include "option_reader.hpp"

namespace tessera::ops {
namespace {

// Labels of cells not yet reached, and of perimeter cells queued as seeds of their own region.
constexpr int32_t kUnseen = -2;
constexpr int32_t kSeed = -3;

/// The 8 neighbours, as (dx, dy).
constexpr int kDx[8] = {-1, 0, 1, -1, 1, -1, 0, 1};
constexpr int kDy[8] = {-1, -1, -1, 0, 0, 1, 1, 1};

/// The owned cells of a tile read with a halo, and which of them are voids.
class TileCells {
 public:
  explicit TileCells(const TileIn& in)
      : in_(in), cells_(std::get<ConstView<float>>(in.cells)) {
    if (in.nodata && !std::isnan(*in.nodata)) nodata_ = static_cast<float>(*in.nodata);
  }
  /// The height of cell (x, y) of the tile (from -halo to width + halo).
  float z(int64_t x, int64_t y) const { return cells_(x + in_.halo, y + in_.halo); }
  bool inside_raster(int64_t x, int64_t y) const {
    const int64_t gx = in_.owned.x + x;
    const int64_t gy = in_.owned.y + y;
    return gx >= 0 && gy >= 0 && gx < in_.raster.width && gy < in_.raster.height;
  }
  bool on_raster_edge(int64_t x, int64_t y) const {
    const int64_t gx = in_.owned.x + x;
    const int64_t gy = in_.owned.y + y;
    return gx == 0 || gy == 0 || gx == in_.raster.width - 1 || gy == in_.raster.height - 1;
  }
  /// Whether cell (x, y), inside the raster, is a void; throws for NaN without a nodata value.
  bool is_void(int64_t x, int64_t y) const {
    const float v = z(x, y);
    if (std::isnan(v)) {
      if (in_.nodata) return true;
      throw Error("fill: the DEM has voids (NaN at cell " + std::to_string(in_.owned.x + x) +
                  ", " + std::to_string(in_.owned.y + y) +
                  ") but no nodata value; give it one (gdal_edit.py -a_nodata VALUE)");
    }
    return nodata_ && v == *nodata_;
  }

 private:
  const TileIn& in_;
  ConstView<float> cells_;
  std::optional<float> nodata_;
};

using Entry = std::pair<float, int64_t>;
using MinQueue = std::priority_queue<Entry, std::vector<Entry>, std::greater<>>;

/// Marks voids, the ocean (raster edge, next to a void) and the perimeter's seeds; queues both.
class Seeder {
 public:
  Seeder(const TileCells& cells, TileFlood& out, MinQueue& queue)
      : cells_(cells), out_(out), queue_(queue) {}

  void run(int64_t halo) {
    bool any_void = false;
    for (int64_t y = 0; y < out_.height; ++y)
      for (int64_t x = 0; x < out_.width; ++x) any_void |= mark(x, y);
    if (halo > 0) ocean_around_ring();
    if (any_void)
      for (int64_t y = 0; y < out_.height; ++y)
        for (int64_t x = 0; x < out_.width; ++x)
          if (label(x, y) == kVoidLabel) ocean_around(x, y);
    seed_perimeter();
  }

 private:
  int32_t& label(int64_t x, int64_t y) { return out_.label[static_cast<size_t>(y * out_.width + x)]; }
  /// The ocean next to the voids of the ring of halo cells around the tile.
  void ocean_around_ring() {
    const auto check = [&](int64_t x, int64_t y) {
      if (cells_.inside_raster(x, y) && cells_.is_void(x, y)) ocean_around(x, y);
    };
    for (int64_t x = -1; x <= out_.width; ++x) check(x, -1), check(x, out_.height);
    for (int64_t y = 0; y < out_.height; ++y) check(-1, y), check(out_.width, y);
  }
  bool mark(int64_t x, int64_t y) {
    const bool v = cells_.is_void(x, y);
    label(x, y) = v ? kVoidLabel : kUnseen;
    out_.level[static_cast<size_t>(y * out_.width + x)] = cells_.z(x, y);
    return v;
  }
  void push(int64_t x, int64_t y, int32_t as) {
    label(x, y) = as;
    queue_.emplace(cells_.z(x, y), y * out_.width + x);
  }
  void ocean_around(int64_t x, int64_t y) {
    for (int k = 0; k < 8; ++k) {
      const int64_t nx = x + kDx[k];
      const int64_t ny = y + kDy[k];
      if (nx < 0 || ny < 0 || nx >= out_.width || ny >= out_.height) continue;
      if (label(nx, ny) == kUnseen) push(nx, ny, kOceanLabel);
    }
  }
  void seed_perimeter() {
    const int64_t w = out_.width;
    const int64_t h = out_.height;
    for (int64_t y = 0; y < h; ++y) {
      const int64_t step = (y == 0 || y == h - 1) ? 1 : std::max<int64_t>(1, w - 1);
      for (int64_t x = 0; x < w; x += step) {
        if (label(x, y) != kUnseen) continue;
        push(x, y, cells_.on_raster_edge(x, y) ? kOceanLabel : kSeed);
      }
    }
  }

  const TileCells& cells_;
  TileFlood& out_;
  MinQueue& queue_;
};

/// Priority-Flood+ (Barnes 2014): cells of a depression go through a plain FIFO queue at the
/// level of the cell that reached them; the heap orders only the rising terrain.
class Flood {
 public:
  Flood(const TileCells& cells, TileFlood& out) : cells_(cells), out_(out) {}

  void run(MinQueue& queue) {
    std::vector<int64_t> pit;
    size_t pit_at = 0;
    while (pit_at < pit.size() || !queue.empty()) {
      int64_t c = 0;
      if (pit_at < pit.size()) {
        c = pit[pit_at++];
        if (pit_at == pit.size()) pit.clear(), pit_at = 0;
      } else {
        c = queue.top().second;
        queue.pop();
      }
      visit(c, queue, pit);
    }
    dedupe_edges();
  }

 private:
  void visit(int64_t c, MinQueue& queue, std::vector<int64_t>& pit) {
    auto& label = out_.label;
    auto& level = out_.level;
    if (label[c] == kSeed) label[c] = out_.labels++;
    const int32_t own = label[c];
    const float at = level[c];
    const int64_t x = c % out_.width;
    const int64_t y = c / out_.width;
    for (int k = 0; k < 8; ++k) {
      const int64_t nx = x + kDx[k];
      const int64_t ny = y + kDy[k];
      if (nx < 0 || ny < 0 || nx >= out_.width || ny >= out_.height) continue;
      const int64_t n = ny * out_.width + nx;
      const int32_t theirs = label[n];
      if (theirs == kVoidLabel || theirs == own) continue;
      if (theirs == kUnseen) {
        label[n] = own;
        if (level[n] <= at) {
          level[n] = at;
          pit.push_back(n);
        } else {
          queue.emplace(level[n], n);
        }
      } else if (theirs == kSeed) {
        label[n] = own;  // still queued at its own height, which is >= at
      } else {
        out_.edges.push_back({std::min(own, theirs), std::max(own, theirs), std::max(at, level[n])});
      }
    }
  }

  void dedupe_edges() {
    auto& edges = out_.edges;
    std::sort(edges.begin(), edges.end(), [](const SpillEdge& l, const SpillEdge& r) {
      return std::tie(l.a, l.b, l.spill) < std::tie(r.a, r.b, r.spill);
    });
    edges.erase(std::unique(edges.begin(), edges.end(),
                            [](const SpillEdge& l, const SpillEdge& r) {
                              return l.a == r.a && l.b == r.b;
                            }),
                edges.end());
  }

  const TileCells& cells_;
  TileFlood& out_;
};

/// Phase 2: the tile flooded again, each cell raised to its region's level from the solve.
class FinishFill : public Op {
 public:
  FinishFill(std::optional<double> nodata, TileGrid grid, std::shared_ptr<const Bytes> solution)
      : nodata_(nodata), grid_(grid), solution_(*solution) {}
  int64_t halo() const override { return 1; }
  PixelType output_type() const override { return PixelType::Float32; }
  std::optional<double> output_nodata() const override { return nodata_; }
  CellType input_cells(PixelType) const override { return CellType::Float32; }
  void run(const TileIn& in, const TileOut& out) const override {
    thread_local TileFlood flood;
    flood_tile(in, flood);
    const int64_t tile = (in.owned.y / grid_.tile_height()) * grid_.across() +
                         in.owned.x / grid_.tile_width();
    const View<float> cells = out.bands.at(0).as<float>();
    const float none = nodata_ ? static_cast<float>(*nodata_) : 0.0f;
    for (int64_t y = 0; y < flood.height; ++y) {
      float* row = cells.row(y);
      for (int64_t x = 0; x < flood.width; ++x) {
        const size_t i = static_cast<size_t>(y * flood.width + x);
        const int32_t label = flood.label[i];
        row[x] = label == kVoidLabel ? none
                                     : std::max(flood.level[i], solution_.level_of(tile, label));
      }
    }
  }

 private:
  std::optional<double> nodata_;
  TileGrid grid_;
  FillSolution solution_;
};

class FillOp : public TileGraphOp {
 public:
  int64_t halo() const override { return 1; }
  PixelType output_type() const override { return PixelType::Float32; }
  std::optional<double> output_nodata() const override { return nodata_; }
  CellType input_cells(PixelType) const override { return CellType::Float32; }
  std::shared_ptr<const Op> for_source(const SourceBand& source) const override {
    auto op = std::make_shared<FillOp>(*this);
    op->nodata_ = source.nodata;
    return op;
  }
  Bytes summarize(const TileIn& in, const TileGrid& /*grid*/) const override {
    thread_local TileFlood flood;
    flood_tile(in, flood);
    return fill_summary(flood, in);
  }
  Bytes solve(const TileGrid& grid, const std::vector<Bytes>& tiles) const override {
    return solve_fill(grid, tiles);
  }
  std::shared_ptr<const Op> with_solution(const TileGrid& grid,
                                          std::shared_ptr<const Bytes> solution) const override {
    return std::make_shared<FinishFill>(nodata_, grid, std::move(solution));
  }

 private:
  std::optional<double> nodata_;
};

}  // namespace

void TileGraphOp::run(const TileIn& /*in*/, const TileOut& /*out*/) const {
  throw Error("internal error: a tile-graph op ran before its global solve");
}

void flood_tile(const TileIn& in, TileFlood& out) {
  const TileCells cells(in);
  out.width = in.owned.width;
  out.height = in.owned.height;
  out.level.resize(static_cast<size_t>(out.width * out.height));
  out.label.resize(out.level.size());
  out.labels = 1;
  out.edges.clear();
  MinQueue queue;
  Seeder(cells, out, queue).run(in.halo);
  Flood(cells, out).run(queue);
}

std::unique_ptr<Op> make_fill(const Options& options) {
  OptionReader("fill", options, {}).finish();
  return std::make_unique<FillOp>();
}

}  // namespace tessera::ops
