// flowacc: D8 contributing area by Barnes' (2017) tile graph: each tile accumulated alone with
// the links by which its perimeter cells' flow leaves it; the perimeter graph solved on one rank;
// each tile accumulated again with the inflow at its perimeter. Areas are counts of cells in
// 64-bit integers, or with a weight raster exact sums of the weights (ExactSum): either way the
// same bits in any order.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include "byte_io.hpp"
#include "d8_tile.hpp"
#include "exact_sum.hpp"
#include "option_reader.hpp"
#include "tessera/ops/d8.hpp"

namespace tessera::ops {
namespace {

/// A tile's directions, each cell's area (Sum: int64_t cells or an ExactSum of weights) and the
/// cell where its flow leaves the tile (-1: it ends inside).
template <class Sum>
struct TileAccumulation : D8Tile {
  std::vector<Sum> area;
  std::vector<int32_t> exit;
};

/// What a tile's summary says of one perimeter cell whose flow leaves the tile: its place among
/// the perimeter cells, the direction out and the area it carries out (the tile's own cells).
template <class Sum>
struct ExitCell {
  int32_t place = 0;
  int32_t direction = 0;
  Sum area{};
};

/// Each owned cell's weight (a nodata or NaN weight counts 0); throws for a weight an ExactSum
/// cannot take.
void read_weights(const TileIn& in, std::vector<double>& weights) {
  const BandIn& band = in.bands.at(0);
  weights.resize(static_cast<size_t>(in.owned.width * in.owned.height));
  visit(band.type, [&]<class T>(std::type_identity<T>) {
    for (int64_t y = 0; y < in.owned.height; ++y) {
      const std::byte* row = band.bytes.row(y + in.halo);
      for (int64_t x = 0; x < in.owned.width; ++x) {
        T v;
        std::memcpy(&v, row + (x + in.halo) * static_cast<int64_t>(sizeof(T)), sizeof(T));
        auto w = static_cast<double>(v);
        if (std::isnan(w) || (band.nodata && w == *band.nodata)) w = 0;
        if (!ExactSum::fits(w))
          throw Error("flowacc: the weight at cell " + std::to_string(in.owned.x + x) + ", " +
                      std::to_string(in.owned.y + y) + " (" + number_text(w) +
                      ") is not a finite number below 2^160 in magnitude");
        weights[static_cast<size_t>(y * in.owned.width + x)] = w;
      }
    }
  });
}

/// Each cell's own area: 1, or its weight.
template <class Sum>
void own_areas(const TileIn& in, TileAccumulation<Sum>& t) {
  const auto n = static_cast<size_t>(t.width * t.height);
  t.area.resize(n);
  Sum* area = t.area.data();
  if constexpr (std::is_same_v<Sum, int64_t>) {
    for (size_t c = 0; c < n; ++c) area[c] = t.dir[c] == kD8Void ? 0 : 1;
  } else {
    thread_local std::vector<double> weights;
    read_weights(in, weights);
    for (size_t c = 0; c < n; ++c) {
      area[c] = Sum{};
      if (t.dir[c] != kD8Void) area[c].add(weights[c]);
    }
  }
}

/// A tile's working arrays, allocated once per thread.
struct AccumulationWork {
  std::vector<int32_t> target;  // the cell of the tile each cell drains to, or -1
  std::vector<uint8_t> donors;  // cells of the tile draining into each cell, not yet added
  std::vector<int32_t> order;   // the cells in topological order (phase 1 only)
};

/// Each cell's target in the tile (or -1) and donor count; t.exit marks the cells whose flow
/// leaves the tile. Returns the number of valid cells.
size_t link_cells(const TileIn& in, D8Tile& t, std::vector<int32_t>& exit, AccumulationWork& work) {
  const int64_t w = t.width;
  const int64_t h = t.height;
  int32_t* target = work.target.data();
  uint8_t* donors = work.donors.data();
  ptrdiff_t offset[8];
  for (int k = 0; k < 8; ++k) offset[k] = kD8Dy[k] * w + kD8Dx[k];
  size_t valid = 0;
  const auto edge = [&](int64_t x, int64_t y) {
    const size_t c = static_cast<size_t>(y * w + x);
    const int k = t.dir[c];
    if (k != kD8Void) ++valid;
    if (k < 0 || !flows_on(in, t, x, y, k)) return;
    const int64_t nx = x + kD8Dx[k];
    const int64_t ny = y + kD8Dy[k];
    if (nx < 0 || ny < 0 || nx >= w || ny >= h) {
      exit[c] = static_cast<int32_t>(c);  // it leaves the tile here
      return;
    }
    target[c] = static_cast<int32_t>(ny * w + nx);
    ++donors[static_cast<size_t>(target[c])];
  };
  for (int64_t y = 0; y < h; ++y) {
    if (y == 0 || y == h - 1 || w <= 2) {
      for (int64_t x = 0; x < w; ++x) edge(x, y);
      continue;
    }
    edge(0, y);
    const int8_t* dir = t.dir.data() + y * w;
    for (int64_t x = 1; x < w - 1; ++x) {  // the neighbours of an inner cell are in the tile
      const int k = dir[x];
      if (k == kD8Void) continue;
      ++valid;
      if (k < 0) continue;
      const ptrdiff_t n = y * w + x + offset[k];
      if (t.dir[static_cast<size_t>(n)] == kD8Void) continue;
      target[y * w + x] = static_cast<int32_t>(n);
      ++donors[n];
    }
    edge(w - 1, y);
  }
  return valid;
}

/// The donor count of a cell whose area is complete and added downstream.
constexpr uint8_t kWalked = 0x80;

/// Throws for the first cell (row-major) the walks never reached: one on a cycle, or downstream
/// of one.
[[noreturn]] void throw_cycle(const TileIn& in, const D8Tile& t,
                              const std::vector<uint8_t>& donors) {
  const auto c = static_cast<int64_t>(
      std::find_if(donors.begin(), donors.end(), [](uint8_t d) { return d != 0 && d != kWalked; }) -
      donors.begin());
  throw Error("flowacc: the flow directions form a cycle through cell " +
              std::to_string(in.owned.x + c % t.width) + ", " +
              std::to_string(in.owned.y + c / t.width));
}

/// Accumulates the tile in topological order (each cell after every cell of the tile that
/// drains into it); `inflow` is added at the perimeter cells (empty: none). With `exits`, each
/// cell's exit is found (phase 1); without, t.exit only marks the cells that leave the tile.
template <class Sum>
void accumulate(const TileIn& in, TileAccumulation<Sum>& t, std::span<const Sum> inflow,
                bool exits) {
  const int64_t w = t.width;
  const auto n = static_cast<size_t>(w * t.height);
  thread_local AccumulationWork work;
  work.target.assign(n, -1);
  work.donors.assign(n, 0);
  t.exit.assign(n, -1);
  const size_t valid = link_cells(in, t, t.exit, work);
  own_areas(in, t);
  Sum* area = t.area.data();
  for (size_t p = 0; p < inflow.size(); ++p) {
    const auto [x, y] = PerimeterNodes::place_cell(static_cast<int64_t>(p), w, t.height);
    area[static_cast<size_t>(y * w + x)] += inflow[p];
  }
  // Each cell no other drains into starts a walk downstream, which stops at a cell still
  // waiting for another donor; that cell's last donor walks on from it. A walked cell is marked
  // (kWalked), so that a later start does not take it for a cell without donors.
  const int32_t* target = work.target.data();
  uint8_t* donors = work.donors.data();
  auto& order = work.order;
  order.clear();
  size_t done = 0;
  for (size_t s = 0; s < n; ++s) {
    if (donors[s] != 0 || t.dir[s] == kD8Void) continue;
    for (size_t c = s;;) {
      ++done;
      donors[c] = kWalked;
      if (exits) order.push_back(static_cast<int32_t>(c));
      const int32_t to = target[c];
      if (to < 0) break;
      area[to] += area[c];
      if (--donors[to] != 0) break;
      c = static_cast<size_t>(to);
    }
  }
  if (done != valid) throw_cycle(in, t, work.donors);
  if (!exits) return;
  for (size_t i = order.size(); i-- > 0;) {  // downstream first: each cell's exit is its target's
    const auto c = static_cast<size_t>(order[i]);
    if (target[c] >= 0) t.exit[c] = t.exit[static_cast<size_t>(target[c])];
  }
}

/// Phase 1's summary: per perimeter cell, the place of the perimeter cell its flow leaves the
/// tile by (-1: it ends inside); and each such exit's direction and area.
template <class Sum>
Bytes accumulation_summary(const TileAccumulation<Sum>& t) {
  const int64_t w = t.width;
  const int64_t count = perimeter_count(w, t.height);
  std::vector<int32_t> exit_of(static_cast<size_t>(count), -1);
  std::vector<ExitCell<Sum>> exits;
  for (int64_t p = 0; p < count; ++p) {
    const auto [x, y] = PerimeterNodes::place_cell(p, w, t.height);
    const int32_t e = t.exit[static_cast<size_t>(y * w + x)];
    if (e < 0) continue;
    exit_of[static_cast<size_t>(p)] =
        static_cast<int32_t>(perimeter_index(e % w, e / w, w, t.height));
    if (e == y * w + x)
      exits.push_back(
          {static_cast<int32_t>(p), t.dir[static_cast<size_t>(e)], t.area[static_cast<size_t>(e)]});
  }
  ByteWriter out;
  out.put_all(std::span<const int32_t>(exit_of));
  out.put_all(std::span<const ExitCell<Sum>>(exits));
  return out.take();
}

/// The global solve: the inflow from other tiles at every perimeter cell of every tile, in the
/// order of the perimeter graph (each cell after every exit that drains into it).
template <class Sum>
class PerimeterGraph {
 public:
  PerimeterGraph(const TileGrid& grid, const Summaries& tiles) : grid_(grid), nodes_(grid) {
    const auto n = static_cast<size_t>(nodes_.count());
    exit_of_.assign(n, -1);
    target_.assign(n, -1);
    own_.assign(n, Sum{});
    for (int64_t t = 0; t < grid.count(); ++t) read_tile(t, tiles[static_cast<size_t>(t)]);
  }

  Bytes solve() const {
    const size_t n = exit_of_.size();
    std::vector<int32_t> waiting(n, 0);
    for (size_t p = 0; p < n; ++p) {
      if (exit_of_[p] >= 0 && exit_of_[p] != static_cast<int64_t>(p))
        ++waiting[static_cast<size_t>(exit_of_[p])];
      if (target_[p] >= 0) ++waiting[static_cast<size_t>(target_[p])];
    }
    std::vector<Sum> inflow(n, Sum{});
    std::vector<Sum> through(n, Sum{});  // for an exit: the inflow of the cells that leave by it
    std::vector<int64_t> ready;
    for (size_t p = 0; p < n; ++p)
      if (waiting[p] == 0) ready.push_back(static_cast<int64_t>(p));
    size_t done = 0;
    const auto release = [&](int64_t q) {
      if (--waiting[static_cast<size_t>(q)] == 0) ready.push_back(q);
    };
    while (!ready.empty()) {
      const auto p = static_cast<size_t>(ready.back());
      ready.pop_back();
      ++done;
      const int64_t e = exit_of_[p];
      if (e < 0) continue;
      through[static_cast<size_t>(e)] += inflow[p];
      if (e != static_cast<int64_t>(p)) {
        release(e);
        continue;
      }
      Sum& in = inflow[static_cast<size_t>(target_[p])];
      in += own_[p];
      in += through[p];
      release(target_[p]);
    }
    if (done != n) throw_cycle(waiting);
    ByteWriter out;
    out.put_all(std::span<const Sum>(inflow));
    return out.take();
  }

 private:
  /// Names a cell the graph could not order: on a cycle across tiles, or downstream of one.
  [[noreturn]] void throw_cycle(const std::vector<int32_t>& waiting) const {
    const auto node = static_cast<int64_t>(
        std::find_if(waiting.begin(), waiting.end(), [](int32_t w) { return w != 0; }) -
        waiting.begin());
    const auto [x, y] = nodes_.cell(node);
    throw Error("flowacc: the flow directions form a cycle across tiles, through cell " +
                std::to_string(x) + ", " + std::to_string(y) + " or upstream of it");
  }

  void read_tile(int64_t t, std::span<const std::byte> bytes) {
    ByteReader r(bytes);
    const auto exit_of = r.get_all<int32_t>();
    const auto exits = r.get_all<ExitCell<Sum>>();
    const int64_t base = nodes_.first(t);
    for (size_t p = 0; p < exit_of.size(); ++p)
      if (exit_of[p] >= 0) exit_of_[static_cast<size_t>(base) + p] = base + exit_of[p];
    const Window w = grid_.owned(t);
    for (const ExitCell<Sum>& e : exits) {
      const auto p = static_cast<size_t>(base + e.place);
      own_[p] = e.area;
      const auto [x, y] = PerimeterNodes::place_cell(e.place, w.width, w.height);
      target_[p] = nodes_.node(w.x + x + kD8Dx[e.direction], w.y + y + kD8Dy[e.direction]);
    }
  }

  TileGrid grid_;
  PerimeterNodes nodes_;
  std::vector<int64_t> exit_of_;
  std::vector<int64_t> target_;
  std::vector<Sum> own_;
};

/// What an area is written as: its pixel type, nodata value and the largest it can hold.
struct AreaType {
  PixelType type = PixelType::Float32;
  double nodata = -1;
  double largest = std::numeric_limits<double>::infinity();
};

AreaType area_type(int choice) {
  switch (choice) {
    case 1:
      return {PixelType::Float64, -1, std::numeric_limits<double>::infinity()};
    case 2:
      return {PixelType::UInt32, 0, 4294967295.0};
    case 3:
      return {PixelType::Int32, -1, 2147483647.0};
    case 4:
      return {PixelType::UInt16, 0, 65535.0};
    default:
      return {};
  }
}

/// An area as a number: the count, or the weights' exact sum rounded to a double.
double area_value(int64_t area) { return static_cast<double>(area); }
double area_value(const ExactSum& area) { return area.value(); }

/// What flowacc's phases share: the directions' encoding, the output type and whether areas are
/// sums of a weight band's cells (Sum = ExactSum) or counts (Sum = int64_t).
struct FlowAccParams {
  D8Encoding encoding = D8Encoding::TauDem;
  AreaType type;
  std::string weight;  ///< the input or step whose band weighs each cell; empty: none
};

/// Phase 2: the tile accumulated with the inflow the solve gives its perimeter cells.
template <class Sum>
class FinishFlowAcc : public Op {
 public:
  FinishFlowAcc(FlowAccParams p, TileGrid grid, std::shared_ptr<const Bytes> solution)
      : p_(std::move(p)), grid_(grid), nodes_(grid) {
    ByteReader r(*solution);
    inflow_ = r.get_all<Sum>();
  }
  int64_t halo() const override { return 1; }
  CellType input_cells(PixelType source) const override { return direction_cells(source); }
  PixelType output_type() const override { return p_.type.type; }
  std::optional<double> output_nodata() const override { return p_.type.nodata; }
  void run(const TileIn& in, const TileOut& out) const override {
    thread_local TileAccumulation<Sum> t;
    read_directions(in, p_.encoding, "flowacc", t);
    const auto first = static_cast<size_t>(nodes_.first(tile_of(grid_, in.owned)));
    accumulate<Sum>(in, t,
                    std::span<const Sum>(inflow_).subspan(
                        first, static_cast<size_t>(perimeter_count(t.width, t.height))),
                    false);
    write(in, t, out);
  }

 private:
  void write(const TileIn& in, const TileAccumulation<Sum>& t, const TileOut& out) const {
    visit(p_.type.type, [&]<class T>(std::type_identity<T>) {
      const View<T> cells = out.bands.at(0).as<T>();
      for (int64_t y = 0; y < t.height; ++y)
        for (int64_t x = 0; x < t.width; ++x) {
          const auto c = static_cast<size_t>(y * t.width + x);
          if (t.dir[c] == kD8Void) {
            cells(x, y) = static_cast<T>(p_.type.nodata);
            continue;
          }
          const double area = area_value(t.area[c]);
          // A Float32 sum of weights past its range would be written as an infinity.
          if (std::abs(area) > p_.type.largest ||
              (p_.type.type == PixelType::Float32 && std::isinf(static_cast<float>(area))))
            throw Error("flowacc: the area at cell " + std::to_string(in.owned.x + x) + ", " +
                        std::to_string(in.owned.y + y) + " (" + number_text(area) +
                        (std::is_same_v<Sum, int64_t> ? " cells" : "") +
                        ") does not fit option type '" + std::string(name_of(p_.type.type)) +
                        "'; use type = \"float64\"");
          cells(x, y) = static_cast<T>(area);
        }
    });
  }

  FlowAccParams p_;
  TileGrid grid_;
  PerimeterNodes nodes_;
  std::vector<Sum> inflow_;
};

template <class Sum>
class FlowAccOp : public TileGraphOp {
 public:
  explicit FlowAccOp(FlowAccParams p) : p_(std::move(p)) {}
  int64_t halo() const override { return 1; }
  CellType input_cells(PixelType source) const override { return direction_cells(source); }
  PixelType output_type() const override { return p_.type.type; }
  std::optional<double> output_nodata() const override { return p_.type.nodata; }
  std::vector<BandRef> band_inputs() const override {
    if (p_.weight.empty()) return {};
    BandRef ref;
    ref.name = p_.weight;
    ref.option = "weight";
    return {ref};
  }
  /// Directions, areas, exits, targets, donors and the order, per cell (and a weight).
  int64_t work_bytes(int64_t cells) const override {
    return cells * (1 + static_cast<int64_t>(sizeof(Sum)) + 4 + 4 + 1 + 4 +
                    (std::is_same_v<Sum, int64_t> ? 0 : 8));
  }
  /// Rank 0: each perimeter cell received and parsed (about 12 bytes and an area), its exit,
  /// target and area, the order's counts and sums. Every rank: each perimeter cell's inflow.
  GraphMemory graph_memory(const TileGrid& grid) const override {
    const int64_t perimeter = perimeter_cells(grid);
    const auto sum = static_cast<int64_t>(sizeof(Sum));
    return {perimeter * (12 + sum + 16 + sum + 12 + 2 * sum), perimeter * sum, std::nullopt};
  }
  Bytes summarize(const TileIn& in, const TileGrid& /*grid*/) const override {
    thread_local TileAccumulation<Sum> t;
    read_directions(in, p_.encoding, "flowacc", t);
    accumulate<Sum>(in, t, {}, true);
    return accumulation_summary(t);
  }
  Bytes solve(const TileGrid& grid, const Summaries& tiles) const override {
    return PerimeterGraph<Sum>(grid, tiles).solve();
  }
  std::shared_ptr<const Op> with_solution(const TileGrid& grid,
                                          std::shared_ptr<const Bytes> solution) const override {
    return std::make_shared<FinishFlowAcc<Sum>>(p_, grid, std::move(solution));
  }

 private:
  FlowAccParams p_;
};

}  // namespace

int64_t perimeter_cells(const TileGrid& grid) {
  int64_t cells = 0;
  for (int64_t ty = 0; ty < grid.down(); ++ty) {
    const Window w = grid.owned(ty * grid.across());
    const Window last = grid.owned(ty * grid.across() + grid.across() - 1);
    cells += (grid.across() - 1) * perimeter_count(w.width, w.height) +
             perimeter_count(last.width, last.height);
  }
  return cells;
}

int64_t perimeter_count(int64_t width, int64_t height) {
  if (height == 1) return width;
  if (width == 1) return height;
  return 2 * width + 2 * (height - 2);
}

int64_t perimeter_index(int64_t x, int64_t y, int64_t width, int64_t height) {
  if (y == 0) return x;
  if (y == height - 1) return width + x;
  if (x == 0) return (height > 1 ? 2 * width : width) + (y - 1);
  if (x == width - 1) return (height > 1 ? 2 * width : width) + (height - 2) + (y - 1);
  return -1;
}

std::unique_ptr<Op> make_flowacc(const Options& options) {
  OptionReader r("flowacc", options, {"encoding", "type", "weight"});
  FlowAccParams p;
  p.encoding = static_cast<D8Encoding>(r.choice("encoding", {"taudem", "esri"}, 0));
  const int type = r.choice("type", {"float32", "float64", "uint32", "int32", "uint16"}, 0);
  p.type = area_type(type);
  p.weight = r.text("weight", "");
  r.finish();
  if (p.weight.empty()) return std::make_unique<FlowAccOp<int64_t>>(std::move(p));
  if (type > 1)
    throw OptionError("type", "option 'type': weighted areas are float32 or float64, not '" +
                                  std::string(name_of(p.type.type)) + "'");
  return std::make_unique<FlowAccOp<ExactSum>>(std::move(p));
}

}  // namespace tessera::ops
