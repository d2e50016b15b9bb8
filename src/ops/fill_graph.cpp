// fill's graph: a tile's summary (phase 1), the global solve over every tile's, its solution.
#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

#include "byte_io.hpp"
#include "node_queue.hpp"
#include "tessera/ops/fill.hpp"

namespace tessera::ops {
namespace {

/// A perimeter cell: its height and its region in the tile (kVoidLabel for a void).
struct EdgeCell {
  float z = 0;
  int32_t label = kVoidLabel;
};

/// What the solve reads of one tile's summary.
struct TileSummary {
  int32_t labels = 1;
  std::vector<SpillEdge> edges;
  std::vector<EdgeCell> top, bottom, left, right;
};

TileSummary read_summary(std::span<const std::byte> bytes) {
  ByteReader r(bytes);
  TileSummary s;
  s.labels = r.get<int32_t>();
  s.edges = r.get_all<SpillEdge>();
  s.top = r.get_all<EdgeCell>();
  s.bottom = r.get_all<EdgeCell>();
  s.left = r.get_all<EdgeCell>();
  s.right = r.get_all<EdgeCell>();
  return s;
}

/// An edge of the global graph between two regions, by their global numbers.
struct Link {
  int64_t a = 0;
  int64_t b = 0;
  float spill = 0;
};

/// The graph of every tile's regions: region 0 is the ocean, region l > 0 of tile t is
/// first[t] + l - 1.
class RegionGraph {
 public:
  RegionGraph(const TileGrid& grid, const Summaries& tiles) : grid_(grid) {
    summaries_.reserve(tiles.size());
    first_.reserve(tiles.size());
    int64_t next = 1;
    for (const std::span<const std::byte> bytes : tiles) {
      summaries_.push_back(read_summary(bytes));
      first_.push_back(next);
      next += summaries_.back().labels - 1;
    }
    regions_ = next;
    for (int64_t t = 0; t < grid.count(); ++t) add_tile(t);
  }

  /// The lowest level from which each region drains to the ocean (Dijkstra's order on the
  /// highest spill along a path). Returns FillSolution's bytes.
  Bytes solve() const {
    std::vector<int64_t> start(static_cast<size_t>(regions_ + 1), 0);
    for (const Link& l : links_) ++start[l.a + 1], ++start[l.b + 1];
    for (size_t i = 1; i < start.size(); ++i) start[i] += start[i - 1];
    std::vector<std::pair<int64_t, float>> to(static_cast<size_t>(start.back()));
    std::vector<int64_t> at(start.begin(), start.end() - 1);
    for (const Link& l : links_) {
      to[static_cast<size_t>(at[l.a]++)] = {l.b, l.spill};
      to[static_cast<size_t>(at[l.b]++)] = {l.a, l.spill};
    }
    const float inf = std::numeric_limits<float>::infinity();
    std::vector<float> level(static_cast<size_t>(regions_), inf);
    NodeQueue<float> queue(level);
    level[0] = -inf;
    queue.lowered(0);
    while (!queue.empty()) {
      const uint32_t r = queue.pop();
      const float h = level[r];
      for (int64_t k = start[r]; k < start[r + 1]; ++k) {
        const auto [n, spill] = to[static_cast<size_t>(k)];
        const float through = std::max(h, spill);
        if (through < level[n]) level[n] = through, queue.lowered(static_cast<uint32_t>(n));
      }
    }
    for (float& l : level)
      if (l == inf) l = -inf;  // a region that reaches no outlet is not raised
    return FillSolution::to_bytes(first_, std::vector<float>(level.begin() + 1, level.end()));
  }

 private:
  int64_t global(int64_t tile, int32_t label) const {
    return label == kOceanLabel ? 0 : first_[static_cast<size_t>(tile)] + label - 1;
  }

  void add_tile(int64_t t) {
    const TileSummary& s = summaries_[static_cast<size_t>(t)];
    for (const SpillEdge& e : s.edges) links_.push_back({global(t, e.a), global(t, e.b), e.spill});
    const size_t before = links_.size();
    const int64_t tx = t % grid_.across();
    const int64_t ty = t / grid_.across();
    if (tx + 1 < grid_.across()) link_sides(t, s.right, t + 1, at(t + 1).left);
    if (ty + 1 < grid_.down()) {
      const int64_t below = t + grid_.across();
      link_sides(t, s.bottom, below, at(below).top);
      if (tx + 1 < grid_.across())
        link_cells(t, s.bottom.back(), below + 1, at(below + 1).top.front());
      if (tx > 0) link_cells(t, s.bottom.front(), below - 1, at(below - 1).top.back());
    }
    dedupe_from(before);
  }

  const TileSummary& at(int64_t t) const { return summaries_[static_cast<size_t>(t)]; }

  /// Links each cell of `mine` (a side of tile t) to the up to 3 cells of `theirs` (the facing
  /// side of tile u) it touches.
  void link_sides(int64_t t, const std::vector<EdgeCell>& mine, int64_t u,
                  const std::vector<EdgeCell>& theirs) {
    const auto n = static_cast<int64_t>(mine.size());
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = std::max<int64_t>(0, i - 1); j <= std::min(n - 1, i + 1); ++j)
        link_cells(t, mine[static_cast<size_t>(i)], u, theirs[static_cast<size_t>(j)]);
  }

  void link_cells(int64_t t, const EdgeCell& p, int64_t u, const EdgeCell& q) {
    if (p.label == kVoidLabel || q.label == kVoidLabel) return;
    const int64_t a = global(t, p.label);
    const int64_t b = global(u, q.label);
    if (a == b) return;
    const Link link{std::min(a, b), std::max(a, b), std::max(p.z, q.z)};
    // Cells along a side mostly link the same two regions: merged here, fewer links to sort.
    if (!links_.empty() && links_.back().a == link.a && links_.back().b == link.b) {
      links_.back().spill = std::min(links_.back().spill, link.spill);
      return;
    }
    links_.push_back(link);
  }

  /// Keeps one link, the lowest, per pair of regions among the links from `before` on.
  void dedupe_from(size_t before) {
    const auto first = links_.begin() + static_cast<std::ptrdiff_t>(before);
    std::sort(first, links_.end(), [](const Link& l, const Link& r) {
      return std::tie(l.a, l.b, l.spill) < std::tie(r.a, r.b, r.spill);
    });
    links_.erase(std::unique(first, links_.end(),
                             [](const Link& l, const Link& r) { return l.a == r.a && l.b == r.b; }),
                 links_.end());
  }

  TileGrid grid_;
  std::vector<TileSummary> summaries_;
  std::vector<int64_t> first_;
  int64_t regions_ = 1;
  std::vector<Link> links_;
};

/// The perimeter cells of a side: `count` cells from (x, y) in steps of (dx, dy).
std::vector<EdgeCell> side(const TileFlood& flood, int64_t x, int64_t y, int64_t dx, int64_t dy,
                           int64_t count) {
  std::vector<EdgeCell> cells;
  cells.reserve(static_cast<size_t>(count));
  for (int64_t k = 0; k < count; ++k, x += dx, y += dy) {
    const size_t i = flood.at(x, y);
    cells.push_back({flood.level[i], flood.label[i]});
  }
  return cells;
}

}  // namespace

Bytes fill_summary(const TileFlood& flood, const TileIn& /*in*/) {
  const int64_t w = flood.width;
  const int64_t h = flood.height;
  ByteWriter out;
  out.put(flood.labels);
  out.put_all(std::span<const SpillEdge>(flood.edges));
  for (const auto& cells : {side(flood, 0, 0, 1, 0, w), side(flood, 0, h - 1, 1, 0, w),
                            side(flood, 0, 0, 0, 1, h), side(flood, w - 1, 0, 0, 1, h)})
    out.put_all(std::span<const EdgeCell>(cells));
  return out.take();
}

Bytes solve_fill(const TileGrid& grid, const Summaries& tiles) {
  return RegionGraph(grid, tiles).solve();
}

FillSolution::FillSolution(const Bytes& bytes) {
  ByteReader r(bytes);
  first_ = r.get_all<int64_t>();
  levels_ = r.get_all<float>();
}

float FillSolution::level_of(int64_t tile, int32_t label) const {
  if (label == kOceanLabel) return -std::numeric_limits<float>::infinity();
  return levels_[static_cast<size_t>(first_[static_cast<size_t>(tile)] + label - 2)];
}

Bytes FillSolution::to_bytes(const std::vector<int64_t>& first, const std::vector<float>& levels) {
  ByteWriter out;
  out.put_all(std::span<const int64_t>(first));
  out.put_all(std::span<const float>(levels));
  return out.take();
}

}  // namespace tessera::ops
