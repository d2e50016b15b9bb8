// watershed: a label per basin of a D8 flow-direction raster, as a tile graph of the kind of
// flowacc's: each tile alone follows its cells' flow to where it ends or leaves the tile; rank 0
// follows the perimeter cells across tiles and numbers the basins; each tile is labelled again.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include "byte_io.hpp"
#include "d8_tile.hpp"
#include "option_reader.hpp"
#include "tessera/ops/d8.hpp"

namespace tessera::ops {
namespace {

/// The output's nodata: TauDEM's (gagewatershed's MISSINGLONG).
constexpr int64_t kNoLabel = -2147483647;
constexpr int64_t kLargestLabel = 2147483647;

/// How a cell's flow path inside its tile ends, at its *end cell*.
enum class End : uint8_t {
  Next,    ///< not an end cell: its flow goes on to a cell of the tile
  Outlet,  ///< at an outlet: the outlet's id (the cell itself, or a void outlet it flows into)
  Sink,    ///< where its flow stops (code 0, off the raster, into a void): a basin of its own
  None,    ///< where its flow stops, when outlets are given and none is reached: no label
  Exit,    ///< into a cell of another tile
};

/// One tile's flow followed: per cell its next cell in the tile and the cell its path ends at.
struct TileBasins : D8Tile {
  std::vector<int32_t> next;       ///< the cell of the tile its flow goes on to, or -1 (an end)
  std::vector<End> end_kind;       ///< per cell: how it ends (End::Next unless an end cell)
  std::vector<int32_t> value;      ///< per end cell: Outlet's id; Sink's place in its row
  std::vector<int32_t> end;        ///< per cell: its end cell, or -1 (a void that is no outlet)
  std::vector<int32_t> row_sinks;  ///< per row: its sinks
  std::vector<int32_t> outlet;     ///< per cell of the tile grown by 1: its outlet id, 0 if none
};

/// The outlet ids of the tile grown by one cell (0: no outlet); a nodata, NaN or 0 cell is no
/// outlet; throws for an owned cell whose id is no integer a label can hold.
void read_outlets(const TileIn& in, TileBasins& t) {
  const int64_t gw = t.width + 2;
  t.outlet.assign(static_cast<size_t>(gw * (t.height + 2)), 0);
  if (in.bands.empty()) return;
  const BandIn& band = in.bands[0];
  visit(band.type, [&]<class T>(std::type_identity<T>) {
    for (int64_t y = -1; y <= t.height; ++y)
      for (int64_t x = -1; x <= t.width; ++x) {
        const int64_t gx = in.owned.x + x;
        const int64_t gy = in.owned.y + y;
        if (gx < 0 || gy < 0 || gx >= in.raster.width || gy >= in.raster.height) continue;
        T v;
        std::memcpy(&v,
                    band.bytes.row(y + in.halo) + (x + in.halo) * static_cast<int64_t>(sizeof(T)),
                    sizeof(T));
        const auto d = static_cast<double>(v);
        if (std::isnan(d) || (band.nodata && d == *band.nodata) || d == 0) continue;
        const bool owned = x >= 0 && y >= 0 && x < t.width && y < t.height;
        if (d != std::floor(d) || d < -kLargestLabel + 1 || d > kLargestLabel) {
          if (!owned) continue;  // its own tile says so
          throw Error("watershed: the outlet at cell " + std::to_string(gx) + ", " +
                      std::to_string(gy) + " holds " + number_text(d) +
                      ", which is not an integer id from -2147483646 to 2147483647 (0 or "
                      "nodata: no outlet)");
        }
        t.outlet[static_cast<size_t>((y + 1) * gw + x + 1)] = static_cast<int32_t>(d);
      }
  });
}

int64_t outlet_at(const TileBasins& t, int64_t x, int64_t y) {
  return t.outlet[static_cast<size_t>((y + 1) * (t.width + 2) + x + 1)];
}

/// How cell (x, y)'s flow goes on: End::Next (and `next`), or the kind of end it is.
End step_from(const TileIn& in, TileBasins& t, int64_t x, int64_t y, bool outlets) {
  const auto c = static_cast<size_t>(y * t.width + x);
  const auto outlet = [&](int64_t id) {
    t.value[c] = static_cast<int32_t>(id);
    return End::Outlet;
  };
  if (outlets)
    if (const int64_t id = outlet_at(t, x, y); id != 0) return outlet(id);
  const int k = t.dir[c];
  if (k == kD8Void) return End::None;  // no end: a void that is no outlet
  const int64_t nx = x + (k >= 0 ? kD8Dx[k] : 0);
  const int64_t ny = y + (k >= 0 ? kD8Dy[k] : 0);
  if (k >= 0 && flows_on(in, t, x, y, k)) {
    if (nx < 0 || ny < 0 || nx >= t.width || ny >= t.height) return End::Exit;
    t.next[c] = static_cast<int32_t>(ny * t.width + nx);
    return End::Next;
  }
  const int64_t gx = in.owned.x + nx;
  const int64_t gy = in.owned.y + ny;
  const bool on_raster = gx >= 0 && gy >= 0 && gx < in.raster.width && gy < in.raster.height;
  if (outlets && k >= 0 && on_raster)  // into a void: an outlet there takes it
    if (const int64_t id = outlet_at(t, nx, ny); id != 0) return outlet(id);
  return outlets ? End::None : End::Sink;
}

/// Follows every cell of the tile to its end cell; throws for a cycle inside the tile.
void follow(const TileIn& in, TileBasins& t, bool outlets) {
  const int64_t w = t.width;
  const auto n = static_cast<size_t>(w * t.height);
  t.next.resize(n);
  t.end_kind.resize(n);
  t.value.resize(n);  // read only at end cells, which set it
  t.row_sinks.assign(static_cast<size_t>(t.height), 0);
  if (outlets) read_outlets(in, t);
  // Inner cells that are no outlet: the cell a direction reaches is in the tile, so whether
  // flow goes on there is whether it is a void.
  int64_t offset[8];
  for (int k = 0; k < 8; ++k) offset[k] = kD8Dy[k] * w + kD8Dx[k];
  for (int64_t y = 0; y < t.height; ++y) {
    const bool inner_row = y > 0 && y + 1 < t.height;
    for (int64_t x = 0; x < w; ++x) {
      const auto c = static_cast<size_t>(y * w + x);
      End kind;
      if (inner_row && x > 0 && x + 1 < w && t.dir[c] >= 0 &&
          t.dir[c + static_cast<size_t>(offset[t.dir[c]])] != kD8Void &&
          (!outlets || outlet_at(t, x, y) == 0)) {
        t.next[c] = static_cast<int32_t>(static_cast<int64_t>(c) + offset[t.dir[c]]);
        kind = End::Next;
      } else {
        t.next[c] = -1;
        kind = step_from(in, t, x, y, outlets);
      }
      t.end_kind[c] = kind;
      if (kind == End::Sink) t.value[c] = t.row_sinks[static_cast<size_t>(y)]++;
    }
  }
  constexpr int32_t kUnknown = -2;
  constexpr int32_t kOnPath = -3;
  t.end.assign(n, kUnknown);
  thread_local std::vector<int32_t> path;
  for (size_t c = 0; c < n; ++c) {
    if (t.end[c] != kUnknown) continue;
    path.clear();
    auto at = static_cast<int32_t>(c);
    while (t.end[static_cast<size_t>(at)] == kUnknown && t.next[static_cast<size_t>(at)] >= 0) {
      t.end[static_cast<size_t>(at)] = kOnPath;
      path.push_back(at);
      at = t.next[static_cast<size_t>(at)];
    }
    if (t.end[static_cast<size_t>(at)] == kOnPath)
      throw Error("watershed: the flow directions form a cycle through cell " +
                  std::to_string(in.owned.x + at % w) + ", " + std::to_string(in.owned.y + at / w));
    if (t.end[static_cast<size_t>(at)] == kUnknown)
      t.end[static_cast<size_t>(at)] = t.end_kind[static_cast<size_t>(at)] == End::None &&
                                               t.dir[static_cast<size_t>(at)] == kD8Void
                                           ? -1
                                           : at;
    for (int32_t p : path) t.end[static_cast<size_t>(p)] = t.end[static_cast<size_t>(at)];
  }
}

/// What the summary says of one perimeter cell: how its path ends. `exit` >= 0: it leaves the
/// tile by the perimeter cell of that place, whose direction is `row`; else `row` >= 0: at the
/// sink `value`-th in the tile's row `row`; else its label is `value` (an id or kNoLabel).
struct PerimeterEnd {
  int32_t exit = -1;
  int32_t row = -1;
  int64_t value = kNoLabel;
};

PerimeterEnd perimeter_end(const TileBasins& t, int32_t e) {
  if (e < 0) return {};
  const auto c = static_cast<size_t>(e);
  const int64_t w = t.width;
  switch (t.end_kind[c]) {
    case End::Outlet:
      return {-1, -1, t.value[c]};
    case End::Sink:
      return {-1, static_cast<int32_t>(e / w), t.value[c]};
    case End::Exit:
      return {static_cast<int32_t>(perimeter_index(e % w, e / w, w, t.height)), t.dir[c], 0};
    default:
      return {};
  }
}

Bytes basins_summary(const TileBasins& t) {
  std::vector<PerimeterEnd> ends(static_cast<size_t>(perimeter_count(t.width, t.height)));
  for (int64_t y = 0; y < t.height; ++y)
    for (int64_t x = 0; x < t.width; ++x) {
      const int64_t p = perimeter_index(x, y, t.width, t.height);
      if (p >= 0)
        ends[static_cast<size_t>(p)] =
            perimeter_end(t, t.end[static_cast<size_t>(y * t.width + x)]);
    }
  ByteWriter out;
  out.put_all(std::span<const PerimeterEnd>(ends));
  out.put_all(std::span<const int32_t>(t.row_sinks));
  return out.take();
}

/// The solution: each perimeter cell's label, and per tile and row the basins numbered before
/// that row's first sink in the tile (those of the rows above and of the tiles to its left).
struct BasinSolution {
  std::vector<int64_t> label;
  std::vector<int64_t> row_first;  ///< per tile, from row_start(t): one per row
};

/// Where tile t's rows start in BasinSolution::row_first.
std::vector<int64_t> row_starts(const TileGrid& grid) {
  std::vector<int64_t> start{0};
  for (int64_t t = 0; t < grid.count(); ++t) start.push_back(start.back() + grid.owned(t).height);
  return start;
}

/// The global solve: sinks numbered in raster order; each perimeter cell followed across tiles
/// to its end.
class BasinGraph {
 public:
  BasinGraph(const TileGrid& grid, const Summaries& tiles)
      : grid_(grid), nodes_(grid), rows_(row_starts(grid)) {
    ends_.resize(static_cast<size_t>(nodes_.count()));
    std::vector<int32_t> sinks(static_cast<size_t>(rows_.back()), 0);
    for (int64_t t = 0; t < grid.count(); ++t) {
      ByteReader r(tiles[static_cast<size_t>(t)]);
      const auto ends = r.get_all<PerimeterEnd>();
      const auto rows = r.get_all<int32_t>();
      std::copy(ends.begin(), ends.end(), ends_.begin() + nodes_.first(t));
      std::copy(rows.begin(), rows.end(), sinks.begin() + rows_[static_cast<size_t>(t)]);
    }
    number_rows(sinks);
  }

  Bytes solve() {
    const auto n = static_cast<size_t>(nodes_.count());
    label_.assign(n, kUnknown);
    std::vector<int64_t> path;
    for (size_t p = 0; p < n; ++p) {
      path.clear();
      auto at = static_cast<int64_t>(p);
      while (label_[static_cast<size_t>(at)] == kUnknown) {
        const int64_t next = next_node(at);
        if (next < 0) {
          label_[static_cast<size_t>(at)] = end_label(at);
          break;
        }
        label_[static_cast<size_t>(at)] = kOnPath;
        path.push_back(at);
        at = next;
      }
      if (label_[static_cast<size_t>(at)] == kOnPath) throw_cycle(at);
      for (int64_t q : path) label_[static_cast<size_t>(q)] = label_[static_cast<size_t>(at)];
    }
    ByteWriter out;
    out.put_all(std::span<const int64_t>(label_));
    out.put_all(std::span<const int64_t>(row_first_));
    return out.take();
  }

 private:
  static constexpr int64_t kUnknown = std::numeric_limits<int64_t>::min();
  static constexpr int64_t kOnPath = kUnknown + 1;

  /// The basins before each tile row's first sink: raster rows in order, tiles left to right.
  void number_rows(const std::vector<int32_t>& sinks) {
    row_first_.assign(sinks.size(), 0);
    int64_t before = 0;
    for (int64_t ty = 0; ty < grid_.down(); ++ty) {
      const int64_t height = grid_.owned(ty * grid_.across()).height;
      for (int64_t r = 0; r < height; ++r)
        for (int64_t tx = 0; tx < grid_.across(); ++tx) {
          const auto at =
              static_cast<size_t>(rows_[static_cast<size_t>(ty * grid_.across() + tx)] + r);
          row_first_[at] = before;
          before += sinks[at];
        }
    }
  }

  /// The node node `n`'s flow goes on to, or -1 where its path ends in its tile.
  int64_t next_node(int64_t n) const {
    const PerimeterEnd& e = ends_[static_cast<size_t>(n)];
    if (e.exit < 0) return -1;
    const int64_t t = nodes_.tile(n);
    const int64_t exit = nodes_.first(t) + e.exit;
    if (exit != n) return exit;
    const auto [x, y] = nodes_.cell(n);
    return nodes_.node(x + kD8Dx[e.row], y + kD8Dy[e.row]);
  }

  int64_t end_label(int64_t n) const {
    const PerimeterEnd& e = ends_[static_cast<size_t>(n)];
    if (e.row < 0) return e.value;
    const int64_t t = nodes_.tile(n);
    return row_first_[static_cast<size_t>(rows_[static_cast<size_t>(t)] + e.row)] + e.value + 1;
  }

  [[noreturn]] void throw_cycle(int64_t n) const {
    const auto [x, y] = nodes_.cell(n);
    throw Error("watershed: the flow directions form a cycle across tiles, through cell " +
                std::to_string(x) + ", " + std::to_string(y));
  }

  TileGrid grid_;
  PerimeterNodes nodes_;
  std::vector<int64_t> rows_;
  std::vector<PerimeterEnd> ends_;
  std::vector<int64_t> row_first_;
  std::vector<int64_t> label_;
};

struct WatershedParams {
  D8Encoding encoding = D8Encoding::TauDem;
  std::string outlets;  ///< the input or step whose band holds outlet ids; empty: none
};

/// Phase 2: each cell labelled as its end cell, with the solution's numbers.
class FinishWatershed : public Op {
 public:
  FinishWatershed(WatershedParams p, TileGrid grid, std::shared_ptr<const Bytes> solution)
      : p_(std::move(p)), grid_(grid), nodes_(grid), rows_(row_starts(grid)) {
    ByteReader r(*solution);
    label_ = r.get_all<int64_t>();
    row_first_ = r.get_all<int64_t>();
  }
  int64_t halo() const override { return 1; }
  CellType input_cells(PixelType source) const override { return direction_cells(source); }
  PixelType output_type() const override { return PixelType::Int32; }
  std::optional<double> output_nodata() const override { return static_cast<double>(kNoLabel); }
  void run(const TileIn& in, const TileOut& out) const override {
    thread_local TileBasins t;
    read_directions(in, p_.encoding, "watershed", t);
    follow(in, t, !p_.outlets.empty());
    const int64_t tile = tile_of(grid_, in.owned);
    const View<int32_t> cells = out.bands.at(0).as<int32_t>();
    int32_t last_end = -1;  // neighbouring cells mostly share their end cell
    int64_t last_label = kNoLabel;
    for (int64_t y = 0; y < t.height; ++y)
      for (int64_t x = 0; x < t.width; ++x) {
        const int32_t e = t.end[static_cast<size_t>(y * t.width + x)];
        if (e >= 0 && e != last_end) {
          last_end = e;
          last_label = end_label(t, tile, e);
        }
        const int64_t label = e < 0 ? kNoLabel : last_label;
        if (label > kLargestLabel)
          throw Error("watershed: more than 2147483647 basins (at cell " +
                      std::to_string(in.owned.x + x) + ", " + std::to_string(in.owned.y + y) +
                      "); an Int32 label cannot number them");
        cells(x, y) = static_cast<int32_t>(label);
      }
  }

 private:
  int64_t end_label(const TileBasins& t, int64_t tile, int32_t e) const {
    const auto c = static_cast<size_t>(e);
    switch (t.end_kind[c]) {
      case End::Outlet:
        return t.value[c];
      case End::Sink:
        return row_first_[static_cast<size_t>(rows_[static_cast<size_t>(tile)] + e / t.width)] +
               t.value[c] + 1;
      case End::Exit:
        return label_[static_cast<size_t>(
            nodes_.first(tile) + perimeter_index(e % t.width, e / t.width, t.width, t.height))];
      default:
        return kNoLabel;
    }
  }

  WatershedParams p_;
  TileGrid grid_;
  PerimeterNodes nodes_;
  std::vector<int64_t> rows_;
  std::vector<int64_t> label_;
  std::vector<int64_t> row_first_;
};

class WatershedOp : public TileGraphOp {
 public:
  explicit WatershedOp(WatershedParams p) : p_(std::move(p)) {}
  int64_t halo() const override { return 1; }
  CellType input_cells(PixelType source) const override { return direction_cells(source); }
  PixelType output_type() const override { return PixelType::Int32; }
  std::optional<double> output_nodata() const override { return static_cast<double>(kNoLabel); }
  std::vector<BandRef> band_inputs() const override {
    if (p_.outlets.empty()) return {};
    BandRef ref;
    ref.name = p_.outlets;
    ref.option = "outlets";
    return {ref};
  }
  /// Directions, next and end cells, end kinds and values, outlet ids, per cell.
  int64_t work_bytes(int64_t cells) const override { return cells * (1 + 4 + 4 + 1 + 4 + 4); }
  /// Rank 0: each perimeter cell received and parsed (16 + 16 bytes), its label and the path
  /// (16), and per tile row (about a quarter of the perimeter cells) its sinks and number (12).
  /// Every rank: each perimeter cell's label and each tile row's number.
  GraphMemory graph_memory(const TileGrid& grid) const override {
    const int64_t perimeter = perimeter_cells(grid);
    return {perimeter * (16 + 16 + 16 + 3), perimeter * (8 + 2), std::nullopt};
  }
  Bytes summarize(const TileIn& in, const TileGrid& /*grid*/) const override {
    thread_local TileBasins t;
    read_directions(in, p_.encoding, "watershed", t);
    follow(in, t, !p_.outlets.empty());
    return basins_summary(t);
  }
  Bytes solve(const TileGrid& grid, const Summaries& tiles) const override {
    return BasinGraph(grid, tiles).solve();
  }
  std::shared_ptr<const Op> with_solution(const TileGrid& grid,
                                          std::shared_ptr<const Bytes> solution) const override {
    return std::make_shared<FinishWatershed>(p_, grid, std::move(solution));
  }

 private:
  WatershedParams p_;
};

}  // namespace

std::unique_ptr<Op> make_watershed(const Options& options) {
  OptionReader r("watershed", options, {"encoding", "outlets"});
  WatershedParams p;
  p.encoding = static_cast<D8Encoding>(r.choice("encoding", {"taudem", "esri"}, 0));
  p.outlets = r.text("outlets", "");
  r.finish();
  return std::make_unique<WatershedOp>(std::move(p));
}

}  // namespace tessera::ops
