// flowdir's global solve: the breadth-first distances on flats (from their outlets, from higher
// terrain) at every tile's perimeter cells, by Dijkstra over the graph of the flat perimeter
// cells: linked across tile edges by one step, and inside a tile by their distance there.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <span>
#include <string>
#include <utility>

#include "byte_io.hpp"
#include "d8_tile.hpp"
#include "distance_rows.hpp"
#include "flats.hpp"
#include "node_queue.hpp"

namespace tessera::ops {
namespace {

/// One piece of a flat in one tile, as its summary gives it, with its perimeter cells' nodes.
struct Piece {
  int64_t tile = 0;
  float z = 0;
  bool whole_tile = false;
  std::vector<int32_t> places;
  std::vector<int64_t> nodes;
  std::vector<uint32_t> low, high;
  std::span<const uint8_t> runs;  ///< in the tile's summary, which outlives the graph
  std::vector<uint32_t> escapes, row_run, row_escape;
};

class FlatGraph {
 public:
  FlatGraph(const TileGrid& grid, const Summaries& tiles) : grid_(grid), nodes_(grid) {
    piece_of_.assign(static_cast<size_t>(nodes_.count()), -1);
    slot_of_.assign(static_cast<size_t>(nodes_.count()), -1);
    for (int64_t t = 0; t < grid.count(); ++t) read_tile(t, tiles[static_cast<size_t>(t)]);
  }

  Bytes solve() const {
    ByteWriter out;
    for (const bool high : {false, true}) {
      const std::vector<uint32_t> dist = distances(high);
      out.put_all(std::span<const uint32_t>(dist));
    }
    return out.take();
  }

 private:
  void read_tile(int64_t t, std::span<const std::byte> bytes) {
    ByteReader r(bytes);
    const auto count = r.get<int32_t>();
    for (int32_t l = 0; l < count; ++l) {
      Piece p;
      p.tile = t;
      p.z = r.get<float>();
      p.whole_tile = r.get<uint8_t>() != 0;
      p.places = r.get_all<int32_t>();
      p.low = r.get_all<uint32_t>();
      p.high = r.get_all<uint32_t>();
      if (!p.whole_tile) {
        p.runs = r.view_all();
        p.escapes = r.get_all<uint32_t>();
        p.row_run = r.get_all<uint32_t>();
        p.row_escape = r.get_all<uint32_t>();
      }
      const auto index = static_cast<int32_t>(pieces_.size());
      for (size_t s = 0; s < p.places.size(); ++s) {
        const int64_t n = nodes_.first(t) + p.places[s];
        p.nodes.push_back(n);
        piece_of_[static_cast<size_t>(n)] = index;
        slot_of_[static_cast<size_t>(n)] = static_cast<int32_t>(s);
      }
      pieces_.push_back(std::move(p));
    }
  }

  /// The cell of slot s of piece p, in the tile's coordinates.
  std::pair<int64_t, int64_t> tile_cell(const Piece& p, size_t s) const {
    const Window w = grid_.owned(p.tile);
    return PerimeterNodes::place_cell(p.places[s], w.width, w.height);
  }

  /// Calls f(slot, distance) for every perimeter cell of piece p, the distance inside the tile
  /// from its slot s.
  template <class F>
  void each_in_piece(const Piece& p, size_t s, F f) const {
    const size_t k = p.places.size();
    if (p.whole_tile) {
      const auto [x, y] = tile_cell(p, s);
      for (size_t j = 0; j < k; ++j) {
        const auto [xj, yj] = tile_cell(p, j);
        f(j, static_cast<uint32_t>(std::max(std::abs(xj - x), std::abs(yj - y))));
      }
      return;
    }
    each_in_row(p.runs, p.escapes, p.row_run[s], p.row_escape[s], k, f);
  }

  /// Dijkstra from every piece's own distances over the perimeter cells of the flats.
  std::vector<uint32_t> distances(bool high) const {
    std::vector<uint32_t> dist(static_cast<size_t>(nodes_.count()), kFar);
    NodeQueue<uint32_t> queue(dist);
    const auto lower = [&](int64_t n, uint32_t d) {
      if (d < dist[static_cast<size_t>(n)]) {
        dist[static_cast<size_t>(n)] = d;
        queue.lowered(static_cast<uint32_t>(n));
      }
    };
    for (const Piece& p : pieces_)
      for (size_t s = 0; s < p.nodes.size(); ++s)
        if (const uint32_t d = (high ? p.high : p.low)[s]; d != kFar) lower(p.nodes[s], d);
    while (!queue.empty()) {
      const uint32_t n = queue.pop();
      const uint32_t d = dist[n];
      const Piece& p = pieces_[static_cast<size_t>(piece_of_[static_cast<size_t>(n)])];
      const auto s = static_cast<size_t>(slot_of_[static_cast<size_t>(n)]);
      across_tiles(p, s, [&](int64_t m) { lower(m, d + 1); });
      each_in_piece(p, s, [&](size_t j, uint32_t g) { lower(p.nodes[j], d + g); });
    }
    return dist;
  }

  /// Calls f(node) for each cell of another tile beside slot s of piece p that is on its flat.
  template <class F>
  void across_tiles(const Piece& p, size_t s, F f) const {
    const Window w = grid_.owned(p.tile);
    const auto [x, y] = tile_cell(p, s);
    for (int k = 0; k < 8; ++k) {
      const int64_t nx = x + kD8Dx[k];
      const int64_t ny = y + kD8Dy[k];
      if (nx >= 0 && ny >= 0 && nx < w.width && ny < w.height) continue;
      const int64_t gx = w.x + nx;
      const int64_t gy = w.y + ny;
      if (gx < 0 || gy < 0 || gx >= grid_.raster().width || gy >= grid_.raster().height) continue;
      const int64_t m = nodes_.node(gx, gy);
      const int32_t q = piece_of_[static_cast<size_t>(m)];
      if (q >= 0 && pieces_[static_cast<size_t>(q)].z == p.z) f(m);
    }
  }

  TileGrid grid_;
  PerimeterNodes nodes_;
  std::vector<Piece> pieces_;
  std::vector<int32_t> piece_of_;  ///< per node: its piece, or -1 (not on a flat)
  std::vector<int32_t> slot_of_;   ///< per node: its place among its piece's cells
};

}  // namespace

Bytes solve_flats(const TileGrid& grid, const Summaries& tiles) {
  return FlatGraph(grid, tiles).solve();
}

FlatSolution read_flat_solution(const Bytes& bytes) {
  ByteReader r(bytes);
  FlatSolution s;
  s.low = r.get_all<uint32_t>();
  s.high = r.get_all<uint32_t>();
  return s;
}

}  // namespace tessera::ops
