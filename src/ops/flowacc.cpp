// flowacc: D8 contributing area by Barnes' (2017) tile graph: each tile accumulated alone with
// the links by which its perimeter cells' flow leaves it; the perimeter graph solved on one rank;
// each tile accumulated again with the inflow at its perimeter.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include "byte_io.hpp"
#include "option_reader.hpp"
#include "tessera/ops/d8.hpp"

namespace tessera::ops {
namespace {

/// What a tile's summary says of one perimeter cell whose flow leaves the tile: its place among
/// the perimeter cells, the direction out and the area it carries out (the tile's own cells).
struct ExitCell {
  int32_t place = 0;
  int32_t direction = 0;
  int64_t area = 0;
};

/// `v` as a person writes it: 9, 2.5, 1e+20.
std::string number_text(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", v);
  return text;
}

/// The direction index (kD8Dx's) of each code from 0 to 128 in `encoding` (0: kD8None), -3 for a
/// number that is not one of its codes.
std::array<int8_t, 129> direction_table(D8Encoding encoding) {
  std::array<int8_t, 129> table{};
  for (int code = 0; code <= 128; ++code)
    table[code] = static_cast<int8_t>(d8_index(code, encoding));
  return table;
}

/// The tile's cells as direction indices (kD8Dx's), kD8None or kD8Void; throws for a code that
/// is not one of `encoding`'s.
void read_directions(const TileIn& in, D8Encoding encoding, TileAccumulation& t) {
  t.width = in.owned.width;
  t.height = in.owned.height;
  t.dir.resize(static_cast<size_t>(t.width * t.height));
  const auto table = direction_table(encoding);
  const bool has_nodata = in.nodata.has_value();
  const double nodata = in.nodata.value_or(0.0);
  std::visit(
      [&](const auto& cells) {
        for (int64_t y = 0; y < t.height; ++y) {
          const auto* row = cells.row(y + in.halo) + in.halo;
          int8_t* dir = t.dir.data() + y * t.width;
          for (int64_t x = 0; x < t.width; ++x) {
            const double v = row[x];
            if (std::isnan(v) || (has_nodata && v == nodata)) {
              dir[x] = kD8Void;
              continue;
            }
            const bool small = v >= 0 && v <= 128 && v == static_cast<double>(static_cast<int>(v));
            dir[x] = small ? table[static_cast<size_t>(v)] : int8_t{-3};
            if (dir[x] == -3)
              throw Error("flowacc: cell " + std::to_string(in.owned.x + x) + ", " +
                          std::to_string(in.owned.y + y) + " holds " + number_text(v) +
                          ", which is not a D8 code of the " +
                          (encoding == D8Encoding::Esri ? "esri (1-128)" : "taudem (1-8)") +
                          " encoding, 0 or the raster's nodata");
          }
        }
      },
      in.cells);
}

/// Whether the cell a direction from (x, y) reaches is a valid cell of the raster (beyond the
/// tile when it is not inside it), so that flow goes on there.
bool flows_on(const TileIn& in, const TileAccumulation& t, int64_t x, int64_t y, int k) {
  const int64_t nx = x + kD8Dx[k];
  const int64_t ny = y + kD8Dy[k];
  if (nx >= 0 && ny >= 0 && nx < t.width && ny < t.height)
    return t.dir[static_cast<size_t>(ny * t.width + nx)] != kD8Void;
  const int64_t gx = in.owned.x + nx;
  const int64_t gy = in.owned.y + ny;
  if (gx < 0 || gy < 0 || gx >= in.raster.width || gy >= in.raster.height) return false;
  return std::visit(
      [&](const auto& cells) {
        const double v = cells(nx + in.halo, ny + in.halo);
        return !(std::isnan(v) || (in.nodata && v == *in.nodata));
      },
      in.cells);
}

/// The cell (x, y) of a width x height tile at perimeter place `p` (perimeter_index's inverse).
std::pair<int64_t, int64_t> perimeter_cell(int64_t p, int64_t w, int64_t h) {
  if (p < w) return {p, 0};
  if (h > 1 && p < 2 * w) return {p - w, h - 1};
  const int64_t side = h - 2;
  const int64_t rest = p - (h > 1 ? 2 * w : w);
  if (rest < side) return {0, 1 + rest};
  return {w - 1, 1 + rest - side};
}

/// A tile's working arrays, allocated once per thread.
struct AccumulationWork {
  std::vector<int32_t> target;  // the cell of the tile each cell drains to, or -1
  std::vector<uint8_t> donors;  // cells of the tile draining into each cell, not yet added
  std::vector<int32_t> order;   // the cells in topological order (phase 1 only)
};

/// Each cell's target in the tile (or -1) and donor count; t.exit marks the cells whose flow
/// leaves the tile.
void link_cells(const TileIn& in, TileAccumulation& t, AccumulationWork& work) {
  const int64_t w = t.width;
  const int64_t h = t.height;
  int32_t* target = work.target.data();
  uint8_t* donors = work.donors.data();
  ptrdiff_t offset[8];
  for (int k = 0; k < 8; ++k) offset[k] = kD8Dy[k] * w + kD8Dx[k];
  const auto edge = [&](int64_t x, int64_t y) {
    const size_t c = static_cast<size_t>(y * w + x);
    const int k = t.dir[c];
    if (k < 0 || !flows_on(in, t, x, y, k)) return;
    const int64_t nx = x + kD8Dx[k];
    const int64_t ny = y + kD8Dy[k];
    if (nx < 0 || ny < 0 || nx >= w || ny >= h) {
      t.exit[c] = static_cast<int32_t>(c);  // it leaves the tile here
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
    for (int64_t x = 1; x < w - 1; ++x) {
      const int k = dir[x];
      if (k < 0) continue;
      const ptrdiff_t n = y * w + x + offset[k];
      if (t.dir[static_cast<size_t>(n)] == kD8Void) continue;
      target[y * w + x] = static_cast<int32_t>(n);
      ++donors[n];
    }
    edge(w - 1, y);
  }
}

/// The donor count of a cell whose area is complete and added downstream.
constexpr uint8_t kWalked = 0x80;

/// Throws for the first cell (row-major) the topological order never reached: one on a cycle.
[[noreturn]] void throw_cycle(const TileIn& in, const TileAccumulation& t,
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
void accumulate(const TileIn& in, TileAccumulation& t, std::span<const int64_t> inflow,
                bool exits) {
  const int64_t w = t.width;
  const auto n = static_cast<size_t>(w * t.height);
  thread_local AccumulationWork work;
  work.target.assign(n, -1);
  work.donors.assign(n, 0);
  t.exit.assign(n, -1);
  link_cells(in, t, work);
  const int32_t* target = work.target.data();
  uint8_t* donors = work.donors.data();
  t.area.resize(n);
  int64_t* area = t.area.data();
  size_t valid = 0;
  for (size_t c = 0; c < n; ++c) {
    area[c] = t.dir[c] == kD8Void ? 0 : 1;
    valid += t.dir[c] == kD8Void ? 0 : 1;
  }
  if (!inflow.empty())
    for (size_t p = 0; p < inflow.size(); ++p) {
      const auto [x, y] = perimeter_cell(static_cast<int64_t>(p), w, t.height);
      area[static_cast<size_t>(y * w + x)] += inflow[p];
    }
  // Each cell no other drains into starts a walk downstream, which stops at a cell still
  // waiting for another donor; that cell's last donor walks on from it. A walked cell is marked
  // (kWalked), so that a later start does not take it for a cell without donors.
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
Bytes accumulation_summary(const TileAccumulation& t) {
  const int64_t w = t.width;
  const int64_t count = perimeter_count(w, t.height);
  std::vector<int32_t> exit_of(static_cast<size_t>(count), -1);
  std::vector<ExitCell> exits;
  for (int64_t p = 0; p < count; ++p) {
    const auto [x, y] = perimeter_cell(p, w, t.height);
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
  out.put_all(std::span<const ExitCell>(exits));
  return out.take();
}

/// The global solve: the inflow from other tiles at every perimeter cell of every tile, in the
/// order of the perimeter graph (each cell after every exit that drains into it).
class PerimeterGraph {
 public:
  PerimeterGraph(const TileGrid& grid, const std::vector<Bytes>& tiles) : grid_(grid) {
    first_.reserve(tiles.size() + 1);
    first_.push_back(0);
    for (int64_t t = 0; t < grid.count(); ++t) {
      const Window w = grid.owned(t);
      first_.push_back(first_.back() + perimeter_count(w.width, w.height));
    }
    const auto n = static_cast<size_t>(first_.back());
    exit_of_.assign(n, -1);
    target_.assign(n, -1);
    own_.assign(n, 0);
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
    std::vector<int64_t> inflow(n, 0);
    std::vector<int64_t> through(n, 0);  // for an exit: the inflow of the cells that leave by it
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
      inflow[static_cast<size_t>(target_[p])] += own_[p] + through[p];
      release(target_[p]);
    }
    if (done != n) throw_cycle(waiting);
    ByteWriter out;
    out.put_all(std::span<const int64_t>(inflow));
    return out.take();
  }

 private:
  /// Names a cell the graph could not order: on a cycle across tiles, or downstream of one.
  [[noreturn]] void throw_cycle(const std::vector<int32_t>& waiting) const {
    const auto node = static_cast<int64_t>(
        std::find_if(waiting.begin(), waiting.end(), [](int32_t w) { return w != 0; }) -
        waiting.begin());
    const auto tile = static_cast<int64_t>(std::upper_bound(first_.begin(), first_.end(), node) -
                                           first_.begin() - 1);
    const Window w = grid_.owned(tile);
    const auto [x, y] = perimeter_cell(node - first_[static_cast<size_t>(tile)], w.width, w.height);
    throw Error("flowacc: the flow directions form a cycle across tiles, through cell " +
                std::to_string(w.x + x) + ", " + std::to_string(w.y + y) + " or upstream of it");
  }

  void read_tile(int64_t t, const Bytes& bytes) {
    ByteReader r(bytes);
    const auto exit_of = r.get_all<int32_t>();
    const auto exits = r.get_all<ExitCell>();
    const int64_t base = first_[static_cast<size_t>(t)];
    for (size_t p = 0; p < exit_of.size(); ++p)
      if (exit_of[p] >= 0) exit_of_[static_cast<size_t>(base) + p] = base + exit_of[p];
    const Window w = grid_.owned(t);
    for (const ExitCell& e : exits) {
      const auto p = static_cast<size_t>(base + e.place);
      own_[p] = e.area;
      const auto [x, y] = perimeter_cell(e.place, w.width, w.height);
      target_[p] = global(w.x + x + kD8Dx[e.direction], w.y + y + kD8Dy[e.direction]);
    }
  }

  /// The perimeter node of raster cell (gx, gy), which is on its tile's perimeter.
  int64_t global(int64_t gx, int64_t gy) const {
    const int64_t tx = gx / grid_.tile_width();
    const int64_t ty = gy / grid_.tile_height();
    const int64_t t = ty * grid_.across() + tx;
    const Window w = grid_.owned(t);
    return first_[static_cast<size_t>(t)] + perimeter_index(gx - w.x, gy - w.y, w.width, w.height);
  }

  TileGrid grid_;
  std::vector<int64_t> first_;
  std::vector<int64_t> exit_of_;
  std::vector<int64_t> target_;
  std::vector<int64_t> own_;
};

/// What a count is written as: its pixel type, nodata value and the largest it can hold.
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

/// Phase 2: the tile accumulated with the inflow the solve gives its perimeter cells.
class FinishFlowAcc : public Op {
 public:
  FinishFlowAcc(D8Encoding encoding, AreaType type, TileGrid grid,
                std::shared_ptr<const Bytes> solution)
      : encoding_(encoding), type_(type), grid_(grid) {
    ByteReader r(*solution);
    inflow_ = r.get_all<int64_t>();
    first_.push_back(0);
    for (int64_t t = 0; t < grid.count(); ++t) {
      const Window w = grid.owned(t);
      first_.push_back(first_.back() + perimeter_count(w.width, w.height));
    }
  }
  int64_t halo() const override { return 1; }
  PixelType output_type() const override { return type_.type; }
  std::optional<double> output_nodata() const override { return type_.nodata; }
  void run(const TileIn& in, const TileOut& out) const override {
    thread_local TileAccumulation t;
    read_directions(in, encoding_, t);
    const int64_t tile =
        (in.owned.y / grid_.tile_height()) * grid_.across() + in.owned.x / grid_.tile_width();
    const auto first = static_cast<size_t>(first_[static_cast<size_t>(tile)]);
    accumulate(in, t,
               std::span<const int64_t>(inflow_).subspan(
                   first, static_cast<size_t>(perimeter_count(t.width, t.height))),
               false);
    visit(type_.type, [&]<class T>(std::type_identity<T>) {
      const View<T> cells = out.bands.at(0).as<T>();
      for (int64_t y = 0; y < t.height; ++y)
        for (int64_t x = 0; x < t.width; ++x) {
          const auto c = static_cast<size_t>(y * t.width + x);
          if (t.dir[c] == kD8Void) {
            cells(x, y) = static_cast<T>(type_.nodata);
            continue;
          }
          if (static_cast<double>(t.area[c]) > type_.largest)
            throw Error("flowacc: the area at cell " + std::to_string(in.owned.x + x) + ", " +
                        std::to_string(in.owned.y + y) + " (" + std::to_string(t.area[c]) +
                        " cells) does not fit option type '" + std::string(name_of(type_.type)) +
                        "'; use type = \"float64\"");
          cells(x, y) = static_cast<T>(t.area[c]);
        }
    });
  }

 private:
  D8Encoding encoding_;
  AreaType type_;
  TileGrid grid_;
  std::vector<int64_t> inflow_;
  std::vector<int64_t> first_;
};

class FlowAccOp : public TileGraphOp {
 public:
  FlowAccOp(D8Encoding encoding, AreaType type) : encoding_(encoding), type_(type) {}
  int64_t halo() const override { return 1; }
  PixelType output_type() const override { return type_.type; }
  std::optional<double> output_nodata() const override { return type_.nodata; }
  /// Directions, areas, exits, targets, donors and the order, per cell.
  int64_t work_bytes(int64_t cells) const override { return cells * (1 + 8 + 4 + 4 + 1 + 4); }
  /// Rank 0: each perimeter cell received and parsed (about 20 bytes), its exit, target and area
  /// (24), the order's counts and sums (28). Every rank: each perimeter cell's inflow (8 bytes).
  GraphMemory graph_memory(const TileGrid& grid) const override {
    const int64_t perimeter = perimeter_cells(grid);
    return {perimeter * (20 + 24 + 28), perimeter * 8};
  }
  Bytes summarize(const TileIn& in, const TileGrid& /*grid*/) const override {
    thread_local TileAccumulation t;
    read_directions(in, encoding_, t);
    accumulate(in, t, {}, true);
    return accumulation_summary(t);
  }
  Bytes solve(const TileGrid& grid, const std::vector<Bytes>& tiles) const override {
    return PerimeterGraph(grid, tiles).solve();
  }
  std::shared_ptr<const Op> with_solution(const TileGrid& grid,
                                          std::shared_ptr<const Bytes> solution) const override {
    return std::make_shared<FinishFlowAcc>(encoding_, type_, grid, std::move(solution));
  }

 private:
  D8Encoding encoding_;
  AreaType type_;
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
  OptionReader r("flowacc", options, {"encoding", "type"});
  const auto encoding = static_cast<D8Encoding>(r.choice("encoding", {"taudem", "esri"}, 0));
  const AreaType type =
      area_type(r.choice("type", {"float32", "float64", "uint32", "int32", "uint16"}, 0));
  r.finish();
  return std::make_unique<FlowAccOp>(encoding, type);
}

}  // namespace tessera::ops
