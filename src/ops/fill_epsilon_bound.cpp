// fill_epsilon_bound: the bound U of fill's epsilon surface (docs/hydrology.md, "fill's
// epsilon"), U(c) = max(K(c), U(next) + 1) along each cell's D8 flow path on fill's surface F,
// U = K where the flow leaves the raster (K: F's keys). A tile graph of watershed's kind: each
// tile follows its cells' flow to where it leaves the tile, and a path's raise composes to one
// pair (L, H), U(c) = max(U(n) + L, H) for the cell n it leaves to; rank 0 composes the pairs
// across tiles in path order; each tile is finished with the U of the cells its flow leaves to.
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
#include "tessera/ops/fill_epsilon_bound.hpp"

namespace tessera::ops {

namespace {

constexpr const char* kName = "fill_epsilon_bound";

/// The key of the largest finite Float32 (3.4028235e38).
constexpr int64_t kLargestFloatKey = 0x7F7FFFFF;

/// A Float32 height as its key: -0 and +0 one key, consecutive values one apart.
int64_t float_key(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  const auto magnitude = static_cast<int64_t>(bits & 0x7FFFFFFFu);
  return (bits >> 31) != 0 ? -magnitude : magnitude;
}

/// The Float32 value of key `key`, +infinity past the largest finite one.
float key_value(int64_t key) {
  if (key > kLargestFloatKey) return std::numeric_limits<float>::infinity();
  const auto bits =
      key < 0 ? 0x80000000u | static_cast<uint32_t>(-key) : static_cast<uint32_t>(key);
  float v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

/// How a cell's flow path inside its tile goes on.
enum class Step : uint8_t {
  Void,  ///< a void of F: no bound
  Next,  ///< to a cell of the tile
  Stop,  ///< its flow leaves the raster here: U = K
  Exit,  ///< to a cell of another tile
};

/// One tile's flow followed: per cell how its path goes on and its pair to its tile end: U(c) =
/// max(U(n) + length, high) for the cell n its path leaves the tile to (length >= 1), or U(c) =
/// high where the path stops in the tile (length -1).
struct BoundTile {
  int64_t width = 0;
  int64_t height = 0;
  std::vector<int8_t> dir;  ///< direction index, or kD8Void (no code: the cell is an outlet)
  std::vector<Step> step;
  std::vector<int32_t> next;  ///< Next: the cell of the tile; else -1
  std::vector<int32_t> end;   ///< the last cell of its path in the tile (an Exit or Stop cell)
  std::vector<int32_t> length;
  std::vector<int64_t> high;
};

bool is_void(float v, const std::optional<double>& nodata) {
  // As the Float32 nodata fill and flowdir compare with: a value no Float32 holds (-1.797e308 of
  // a Float64 DEM) is the Float32 it rounds to (-inf), as the cells are.
  return std::isnan(v) || (nodata && v == static_cast<float>(*nodata));
}

/// Whether raster cell (gx, gy) is a valid cell of F (the tile read with a halo of 1).
bool valid_at(const TileIn& in, const ConstView<float>& f, int64_t x, int64_t y) {
  const int64_t gx = in.owned.x + x;
  const int64_t gy = in.owned.y + y;
  if (gx < 0 || gy < 0 || gx >= in.raster.width || gy >= in.raster.height) return false;
  return !is_void(f(x + in.halo, y + in.halo), in.nodata);
}

[[noreturn]] void refuse(const TileIn& in, int64_t x, int64_t y, const std::string& what) {
  throw Error(std::string(kName) + ": cell " + std::to_string(in.owned.x + x) + ", " +
              std::to_string(in.owned.y + y) + " " + what);
}

/// The direction codes of the owned cells (in.bands[0]) as indices, kD8Void for none; throws for
/// a value that is no code of `encoding`, and for code 0 (flow that stops: F is not filled).
void read_codes(const TileIn& in, D8Encoding encoding, BoundTile& t) {
  const BandIn& band = in.bands.at(0);
  t.dir.resize(static_cast<size_t>(t.width * t.height));
  visit(band.type, [&]<class T>(std::type_identity<T>) {
    for (int64_t y = 0; y < t.height; ++y) {
      const std::byte* row =
          band.bytes.row(y + in.halo) + in.halo * static_cast<int64_t>(sizeof(T));
      for (int64_t x = 0; x < t.width; ++x) {
        T code;
        std::memcpy(&code, row + x * static_cast<int64_t>(sizeof(T)), sizeof(T));
        const auto v = static_cast<double>(code);
        int8_t& dir = t.dir[static_cast<size_t>(y * t.width + x)];
        if (band.nodata && (std::isnan(v) || v == *band.nodata)) {
          dir = kD8Void;
          continue;
        }
        if (std::isnan(v))
          refuse(in, x, y,
                 "holds direction NaN, which is not a D8 code, and the directions have no "
                 "nodata value to make it a void");
        const bool small = v >= 0 && v <= 128 && v == std::floor(v);
        const int k = small ? d8_index(static_cast<int64_t>(v), encoding) : -3;
        if (k == -3)
          refuse(in, x, y,
                 "holds direction " + number_text(v) + ", which is not a D8 code of the " +
                     (encoding == D8Encoding::Esri ? "esri (1-128)" : "taudem (1-8)") +
                     " encoding or the directions' nodata");
        dir = static_cast<int8_t>(k);
      }
    }
  });
}

/// Whether valid cell (x, y) is an outlet of F: on the raster's edge or beside a void.
bool is_outlet(const TileIn& in, const ConstView<float>& f, int64_t x, int64_t y) {
  for (int k = 0; k < 8; ++k)
    if (!valid_at(in, f, x + kD8Dx[k], y + kD8Dy[k])) return true;
  return false;
}

/// How each cell's flow goes on, and each cell's pair to the end of its path in the tile.
void follow(const TileIn& in, D8Encoding encoding, BoundTile& t) {
  t.width = in.owned.width;
  t.height = in.owned.height;
  const auto n = static_cast<size_t>(t.width * t.height);
  read_codes(in, encoding, t);
  const auto& f = std::get<ConstView<float>>(in.cells);
  t.step.resize(n);
  t.next.assign(n, -1);
  t.high.resize(n);
  t.length.resize(n);
  t.end.resize(n);
  for (int64_t y = 0; y < t.height; ++y)
    for (int64_t x = 0; x < t.width; ++x) {
      const auto c = static_cast<size_t>(y * t.width + x);
      const float v = f(x + in.halo, y + in.halo);
      t.high[c] = float_key(v);
      if (is_void(v, in.nodata)) {
        t.step[c] = Step::Void;
        continue;
      }
      const int k = t.dir[c];
      if (k == kD8None)
        refuse(in, x, y,
               "has direction 0 (its flow stops there): the directions are not those of a "
               "filled surface");
      if (k == kD8Void) {
        if (!is_outlet(in, f, x, y))
          refuse(in, x, y,
                 "has no direction but is not on the raster's edge or beside a void: the "
                 "directions are not those of this surface");
        t.step[c] = Step::Stop;
        continue;
      }
      const int64_t nx = x + kD8Dx[k];
      const int64_t ny = y + kD8Dy[k];
      if (!valid_at(in, f, nx, ny)) {
        t.step[c] = Step::Stop;  // off the raster or into a void
      } else if (nx < 0 || ny < 0 || nx >= t.width || ny >= t.height) {
        t.step[c] = Step::Exit;
      } else {
        t.step[c] = Step::Next;
        t.next[c] = static_cast<int32_t>(ny * t.width + nx);
      }
    }
  // Each path followed to a cell whose pair is known, then composed back along it.
  constexpr int32_t kUnknown = -2;
  constexpr int32_t kOnPath = -3;
  std::fill(t.end.begin(), t.end.end(), kUnknown);
  thread_local std::vector<int32_t> path;
  for (size_t c = 0; c < n; ++c) {
    if (t.end[c] != kUnknown) continue;
    path.clear();
    auto at = static_cast<int32_t>(c);
    while (t.end[static_cast<size_t>(at)] == kUnknown &&
           t.step[static_cast<size_t>(at)] == Step::Next) {
      t.end[static_cast<size_t>(at)] = kOnPath;
      path.push_back(at);
      at = t.next[static_cast<size_t>(at)];
    }
    const auto a = static_cast<size_t>(at);
    if (t.end[a] == kOnPath)
      refuse(in, at % t.width, at / t.width, "lies on a cycle of the flow directions");
    if (t.end[a] == kUnknown) {  // an end: Stop, Exit or Void
      t.end[a] = at;
      t.length[a] = t.step[a] == Step::Exit ? 1 : -1;
    }
    for (auto p = path.rbegin(); p != path.rend(); ++p) {
      const auto q = static_cast<size_t>(*p);
      const auto after = static_cast<size_t>(t.next[q]);
      t.end[q] = t.end[after];
      t.length[q] = t.length[after] < 0 ? -1 : t.length[after] + 1;
      t.high[q] = std::max(t.high[q], t.high[after] + 1);
    }
  }
}

/// What the summary says of one perimeter cell: U = max(U(n) + length, high) for the cell n
/// direction `dir` reaches from the perimeter cell at place `exit` of the tile; or U = high
/// (exit -1).
struct PerimeterPath {
  int32_t exit = -1;
  int32_t dir = -1;
  int64_t length = -1;
  int64_t high = 0;
};

Bytes bound_summary(const BoundTile& t) {
  std::vector<PerimeterPath> paths(static_cast<size_t>(perimeter_count(t.width, t.height)));
  for (int64_t y = 0; y < t.height; ++y)
    for (int64_t x = 0; x < t.width; ++x) {
      const int64_t p = perimeter_index(x, y, t.width, t.height);
      if (p < 0) continue;
      const auto c = static_cast<size_t>(y * t.width + x);
      PerimeterPath& path = paths[static_cast<size_t>(p)];
      path.high = t.high[c];
      if (t.step[c] == Step::Void || t.length[c] < 0) continue;
      const int32_t e = t.end[c];
      path.exit =
          static_cast<int32_t>(perimeter_index(e % t.width, e / t.width, t.width, t.height));
      path.dir = t.dir[static_cast<size_t>(e)];
      path.length = t.length[c];
    }
  ByteWriter out;
  out.put_all(std::span<const PerimeterPath>(paths));
  return out.take();
}

/// The node of the cell the path of perimeter place `exit` of tile `tile` leaves to.
int64_t exit_node(const PerimeterNodes& nodes, const TileGrid& grid, int64_t tile, int32_t exit,
                  int32_t dir) {
  const Window w = grid.owned(tile);
  const auto [x, y] = PerimeterNodes::place_cell(exit, w.width, w.height);
  return nodes.node(w.x + x + kD8Dx[dir], w.y + y + kD8Dy[dir]);
}

/// The global solve: each perimeter cell's U, its path followed across tiles to where it stops
/// and the pairs composed back along it.
Bytes solve_bounds(const TileGrid& grid, const Summaries& tiles) {
  const PerimeterNodes nodes(grid);
  std::vector<PerimeterPath> paths(static_cast<size_t>(nodes.count()));
  for (int64_t t = 0; t < grid.count(); ++t) {
    ByteReader r(tiles[static_cast<size_t>(t)]);
    const auto part = r.get_all<PerimeterPath>();
    std::copy(part.begin(), part.end(), paths.begin() + nodes.first(t));
  }
  constexpr int64_t kUnknown = std::numeric_limits<int64_t>::min();
  constexpr int64_t kOnPath = kUnknown + 1;
  std::vector<int64_t> bound(paths.size(), kUnknown);
  std::vector<int64_t> path;
  const auto next_of = [&](int64_t n) {
    const PerimeterPath& p = paths[static_cast<size_t>(n)];
    return exit_node(nodes, grid, nodes.tile(n), p.exit, p.dir);
  };
  for (size_t start = 0; start < paths.size(); ++start) {
    path.clear();
    auto at = static_cast<int64_t>(start);
    while (bound[static_cast<size_t>(at)] == kUnknown) {
      if (paths[static_cast<size_t>(at)].exit < 0) {
        bound[static_cast<size_t>(at)] = paths[static_cast<size_t>(at)].high;
        break;
      }
      bound[static_cast<size_t>(at)] = kOnPath;
      path.push_back(at);
      at = next_of(at);
    }
    if (bound[static_cast<size_t>(at)] == kOnPath) {
      const auto [x, y] = nodes.cell(at);
      throw Error(std::string(kName) + ": cell " + std::to_string(x) + ", " + std::to_string(y) +
                  " lies on a cycle of the flow directions across tiles");
    }
    for (auto q = path.rbegin(); q != path.rend(); ++q) {
      const PerimeterPath& p = paths[static_cast<size_t>(*q)];
      bound[static_cast<size_t>(*q)] =
          std::max(bound[static_cast<size_t>(next_of(*q))] + p.length, p.high);
    }
  }
  ByteWriter out;
  out.put_all(std::span<const int64_t>(bound));
  return out.take();
}

struct BoundParams {
  std::string directions;
  D8Encoding encoding = D8Encoding::TauDem;
};

/// The output's nodata: NaN, which no bound is (a bound of F's nodata value would be read as a
/// void where a flat's raise reaches it).
constexpr double kNoBound = std::numeric_limits<double>::quiet_NaN();

/// Phase 2: each cell's U from its pair and the U of the cell its path leaves the tile to.
class FinishBound : public Op {
 public:
  FinishBound(BoundParams p, TileGrid grid, std::shared_ptr<const Bytes> solution)
      : p_(std::move(p)), grid_(grid), nodes_(grid) {
    ByteReader r(*solution);
    bound_ = r.get_all<int64_t>();
  }
  int64_t halo() const override { return 1; }
  PixelType output_type() const override { return PixelType::Float32; }
  std::optional<double> output_nodata() const override { return kNoBound; }
  CellType input_cells(PixelType) const override { return CellType::Float32; }
  void run(const TileIn& in, const TileOut& out) const override {
    thread_local BoundTile t;
    follow(in, p_.encoding, t);
    const int64_t tile = tile_of(grid_, in.owned);
    const auto none = static_cast<float>(kNoBound);
    const View<float> cells = out.bands.at(0).as<float>();
    for (int64_t y = 0; y < t.height; ++y)
      for (int64_t x = 0; x < t.width; ++x) {
        const auto c = static_cast<size_t>(y * t.width + x);
        if (t.step[c] == Step::Void) {
          cells(x, y) = none;
          continue;
        }
        int64_t u = t.high[c];
        if (t.length[c] > 0) {
          const int32_t e = t.end[c];
          const int64_t exit = perimeter_index(e % t.width, e / t.width, t.width, t.height);
          const int64_t n = exit_node(nodes_, grid_, tile, static_cast<int32_t>(exit),
                                      t.dir[static_cast<size_t>(e)]);
          u = std::max(bound_[static_cast<size_t>(n)] + t.length[c], u);
        }
        cells(x, y) = key_value(u);
      }
  }

 private:
  BoundParams p_;
  TileGrid grid_;
  PerimeterNodes nodes_;
  std::vector<int64_t> bound_;
};

class BoundOp : public TileGraphOp {
 public:
  explicit BoundOp(BoundParams p) : p_(std::move(p)) {}
  int64_t halo() const override { return 1; }
  PixelType output_type() const override { return PixelType::Float32; }
  std::optional<double> output_nodata() const override { return kNoBound; }
  CellType input_cells(PixelType) const override { return CellType::Float32; }
  std::vector<BandRef> band_inputs() const override {
    BandRef ref;
    ref.name = p_.directions;
    ref.option = "directions";
    return {ref};
  }
  /// Directions, steps, next and end cells, lengths and keys, per cell.
  int64_t work_bytes(int64_t cells) const override { return cells * (1 + 1 + 4 + 4 + 4 + 8); }
  /// Rank 0: each perimeter cell received and parsed (24 + 24 bytes), its bound and the path
  /// (16). Every rank: each perimeter cell's bound. The summaries as received: 24 bytes a
  /// perimeter cell and each tile's lengths.
  GraphMemory graph_memory(const TileGrid& grid) const override {
    const int64_t perimeter = perimeter_cells(grid);
    return {perimeter * (24 + 24 + 16), perimeter * 8, perimeter * 24 + grid.count() * 24};
  }
  Bytes summarize(const TileIn& in, const TileGrid& /*grid*/) const override {
    thread_local BoundTile t;
    follow(in, p_.encoding, t);
    return bound_summary(t);
  }
  Bytes solve(const TileGrid& grid, const Summaries& tiles) const override {
    return solve_bounds(grid, tiles);
  }
  std::shared_ptr<const Op> with_solution(const TileGrid& grid,
                                          std::shared_ptr<const Bytes> solution) const override {
    return std::make_shared<FinishBound>(p_, grid, std::move(solution));
  }

 private:
  BoundParams p_;
};

}  // namespace

std::unique_ptr<Op> make_fill_epsilon_bound(const Options& options) {
  OptionReader r(kName, options, {"directions", "encoding"});
  BoundParams p;
  p.directions = r.text("directions", "");
  p.encoding = static_cast<D8Encoding>(r.choice("encoding", {"taudem", "esri"}, 0));
  r.finish();
  if (p.directions.empty())
    throw OptionError("directions", std::string(kName) +
                                        ": option 'directions' (the step or input of flowdir's "
                                        "directions of the surface) is required");
  return std::make_unique<BoundOp>(std::move(p));
}

}  // namespace tessera::ops
