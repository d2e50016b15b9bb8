// fill: each tile flooded alone from its perimeter (phase 1, and phase 2 unless kept), and the op.
#include "tessera/ops/fill.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <queue>
#include <string>
#include <utility>

#include "option_reader.hpp"

namespace tessera::ops {
namespace {

/// Rank 0's solve (parsing the summaries, linking the regions, the minimax Dijkstra), a rate
/// measured on one machine (docs/hydrology.md) for the plan's estimate.
constexpr double kSolveSecondsPerPerimeterCell = 0.6e-6;

// Labels of cells not yet reached, and of perimeter cells queued as seeds of their own region.
constexpr int32_t kUnseen = -2;
constexpr int32_t kSeed = -3;

/// The 8 neighbours, as (dx, dy).
constexpr int kDx[8] = {-1, 0, 1, -1, 1, -1, 0, 1};
constexpr int kDy[8] = {-1, -1, -1, 0, 0, 1, 1, 1};

/// The owned cells of a tile read with a halo, and which of them are voids.
class TileCells {
 public:
  explicit TileCells(const TileIn& in) : in_(in), cells_(std::get<ConstView<float>>(in.cells)) {
    if (in.nodata && !std::isnan(*in.nodata)) {
      has_nodata_ = true;
      nodata_ = static_cast<float>(*in.nodata);
    }
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
  /// Row y of the tile from its column 0 (columns -halo to width + halo - 1 are readable).
  const float* row(int64_t y) const { return cells_.row(y + in_.halo) + in_.halo; }
  /// Whether cell (x, y), inside the raster, is a void; throws for NaN without a nodata value.
  bool is_void(int64_t x, int64_t y) const { return is_void(z(x, y), x, y); }
  /// The same for v, the height of cell (x, y).
  bool is_void(float v, int64_t x, int64_t y) const {
    if (std::isnan(v)) {
      if (in_.nodata) return true;
      throw Error("fill: the DEM has voids (NaN at cell " + std::to_string(in_.owned.x + x) + ", " +
                  std::to_string(in_.owned.y + y) +
                  ") but no nodata value; give it one (gdal_edit.py -a_nodata VALUE)");
    }
    return has_nodata_ && v == nodata_;
  }

 private:
  const TileIn& in_;
  ConstView<float> cells_;
  bool has_nodata_ = false;
  float nodata_ = 0;
};

/// A float's bits as an unsigned key of the same order (NaN never reaches the queue).
uint32_t order_key(float level) {
  uint32_t bits = 0;
  std::memcpy(&bits, &level, sizeof bits);
  return (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
}

/// 65536 lists of cells linked through a `next` array, and a two-level bitmap of the non-empty
/// ones, so that the lowest non-empty list from a place on is found in a few word scans.
class BucketLists {
 public:
  static constexpr uint32_t kCount = 65536;
  static constexpr uint32_t kNone = 0xFFFFFFFFu;
  BucketLists() : head_(kCount, kNone) {}
  void clear() {
    std::fill(head_.begin(), head_.end(), kNone);
    bits_.fill(0);
    words_.fill(0);
  }
  void add(uint32_t b, uint32_t cell, uint32_t* next) {
    next[cell] = head_[b];
    head_[b] = cell;
    bits_[b >> 6] |= uint64_t{1} << (b & 63);
    words_[b >> 12] |= uint64_t{1} << ((b >> 6) & 63);
  }
  uint32_t take(uint32_t b, const uint32_t* next) {
    const uint32_t cell = head_[b];
    head_[b] = next[cell];
    if (head_[b] == kNone) forget(b);
    return cell;
  }
  /// The whole list b (its first cell), which is then empty.
  uint32_t take_all(uint32_t b) {
    const uint32_t first = head_[b];
    head_[b] = kNone;
    forget(b);
    return first;
  }
  /// The lowest non-empty list at or after `from`, or kCount.
  uint32_t first_from(uint32_t from) const {
    const uint32_t word = from >> 6;
    const uint64_t here = bits_[word] & (~uint64_t{0} << (from & 63));
    if (here != 0) return (word << 6) | static_cast<uint32_t>(__builtin_ctzll(here));
    for (uint32_t w = word + 1; w < kCount / 64;) {
      const uint64_t rest = words_[w >> 6] & (~uint64_t{0} << (w & 63));
      if (rest != 0) {
        const uint32_t found = (w & ~63u) | static_cast<uint32_t>(__builtin_ctzll(rest));
        return (found << 6) | static_cast<uint32_t>(__builtin_ctzll(bits_[found]));
      }
      w = (w & ~63u) + 64;
    }
    return kCount;
  }

 private:
  void forget(uint32_t b) {
    bits_[b >> 6] &= ~(uint64_t{1} << (b & 63));
    if (bits_[b >> 6] == 0) words_[b >> 12] &= ~(uint64_t{1} << ((b >> 6) & 63));
  }
  std::vector<uint32_t> head_;
  std::array<uint64_t, kCount / 64> bits_{};
  std::array<uint64_t, kCount / 4096> words_{};
};

/// A monotone priority queue of cells keyed by their level (the Priority-Flood never pushes a
/// level below the last one popped, and a queued cell's level does not change): a two-level
/// bucket queue on the key's bits. Cells whose key's upper 16 bits are above the last popped
/// key's wait in one list per upper half; those that share them are in one list per lower half,
/// so a cell moves at most once before it is popped, and nothing is compared. Cells of one key
/// pop last in first out. Its lists are the caller's (allocated once per thread).
class MinQueue {
 public:
  struct Lists {
    BucketLists upper, lower;
    std::vector<uint32_t> next;  // per cell of the tile
    size_t size = 0;             // left by a flood that stopped early: cleared first
  };
  MinQueue(Lists& lists, const float* level, size_t cells) : lists_(lists), level_(level) {
    if (lists_.size != 0) lists_.upper.clear(), lists_.lower.clear(), lists_.size = 0;
    lists_.next.resize(cells);
    next_ = lists_.next.data();
  }
  bool empty() const { return lists_.size == 0; }
  void push(float level, size_t cell) {
    const uint32_t key = order_key(level);
    const auto c = static_cast<uint32_t>(cell);
    if ((key >> 16) == high_)
      lists_.lower.add(key & 0xFFFFu, c, next_);
    else
      lists_.upper.add(key >> 16, c, next_);
    ++lists_.size;
  }
  uint32_t pop() {
    uint32_t b = lists_.lower.first_from(low_);
    if (b == BucketLists::kCount) {
      refill();
      b = lists_.lower.first_from(0);
    }
    low_ = b;
    --lists_.size;
    return lists_.lower.take(b, next_);
  }

 private:
  /// Moves the lowest upper list into the lower lists by the lower halves of its keys.
  void refill() {
    high_ = lists_.upper.first_from(high_);
    for (uint32_t c = lists_.upper.take_all(high_); c != BucketLists::kNone;) {
      const uint32_t after = next_[c];
      lists_.lower.add(order_key(level_[c]) & 0xFFFFu, c, next_);
      c = after;
    }
  }

  Lists& lists_;
  const float* level_;
  uint32_t* next_ = nullptr;
  uint32_t high_ = 0;  // the upper half of the last popped key
  uint32_t low_ = 0;   // its lower half
};

/// Marks voids, the ocean (raster edge, next to a void) and the perimeter's seeds; queues both.
class Seeder {
 public:
  Seeder(const TileCells& cells, TileFlood& out, MinQueue& queue)
      : cells_(cells), out_(out), queue_(queue) {}

  void run(int64_t halo) {
    bool any_void = false;
    for (int64_t y = 0; y < out_.height; ++y) any_void |= mark_row(y);
    if (halo > 0) ocean_around_ring();
    if (any_void)
      for (int64_t y = 0; y < out_.height; ++y)
        for (int64_t x = 0; x < out_.width; ++x)
          if (label(x, y) == kVoidLabel) ocean_around(x, y);
    seed_perimeter();
  }

 private:
  int32_t& label(int64_t x, int64_t y) { return out_.label[out_.at(x, y)]; }
  /// The ocean next to the voids of the ring of halo cells around the tile.
  void ocean_around_ring() {
    const auto check = [&](int64_t x, int64_t y) {
      if (cells_.inside_raster(x, y) && cells_.is_void(x, y)) ocean_around(x, y);
    };
    for (int64_t x = -1; x <= out_.width; ++x) check(x, -1), check(x, out_.height);
    for (int64_t y = 0; y < out_.height; ++y) check(-1, y), check(out_.width, y);
  }
  /// Copies row y's heights to the levels and labels its voids; returns whether it has one.
  bool mark_row(int64_t y) {
    const float* z = cells_.row(y);
    float* level = out_.level.data() + out_.at(0, y);
    int32_t* label = out_.label.data() + out_.at(0, y);
    bool any = false;
    for (int64_t x = 0; x < out_.width; ++x) {
      const bool v = cells_.is_void(z[x], x, y);
      level[x] = z[x];
      label[x] = v ? kVoidLabel : kUnseen;
      any |= v;
    }
    return any;
  }
  void push(int64_t x, int64_t y, int32_t as) {
    label(x, y) = as;
    queue_.push(cells_.z(x, y), out_.at(x, y));
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

/// The spill edges of one flood, one per pair of regions (the lowest spill), found again through
/// a hash table of the pairs as they come: a tile meets its regions' boundaries thousands of
/// times for a few dozen pairs, and keeping every spill to sort them took 3 % of fill's CPU.
class SpillPairs {
 public:
  /// Starts a flood whose edges go to `edges` (emptied).
  void reset(std::vector<SpillEdge>& edges) {
    edges.clear();
    edges_ = &edges;
    if (slots_.empty()) slots_.assign(64, kEmpty);
    std::fill(slots_.begin(), slots_.end(), kEmpty);
  }
  /// Regions a < b spill into each other at `level`; keeps the lower of it and the pair's edge.
  void add(int32_t a, int32_t b, float level) {
    std::vector<SpillEdge>& edges = *edges_;
    if (2 * (edges.size() + 1) > slots_.size()) grow();
    for (size_t i = slot_of(a, b);; i = (i + 1) & (slots_.size() - 1)) {
      if (slots_[i] == kEmpty) {
        slots_[i] = static_cast<uint32_t>(edges.size());
        edges.push_back({a, b, level});
        return;
      }
      SpillEdge& e = edges[slots_[i]];
      if (e.a == a && e.b == b) {
        e.spill = std::min(e.spill, level);
        return;
      }
    }
  }

 private:
  static constexpr uint32_t kEmpty = 0xFFFFFFFFu;
  size_t slot_of(int32_t a, int32_t b) const {
    const uint64_t key = uint64_t{static_cast<uint32_t>(a)} << 32 | static_cast<uint32_t>(b);
    return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & (slots_.size() - 1);
  }
  void grow() {
    slots_.assign(2 * slots_.size(), kEmpty);
    const std::vector<SpillEdge>& edges = *edges_;
    for (size_t e = 0; e < edges.size(); ++e) {
      size_t i = slot_of(edges[e].a, edges[e].b);
      while (slots_[i] != kEmpty) i = (i + 1) & (slots_.size() - 1);
      slots_[i] = static_cast<uint32_t>(e);
    }
  }
  std::vector<uint32_t> slots_;  // indices into *edges_, a power of two of them
  std::vector<SpillEdge>* edges_ = nullptr;
};

/// Priority-Flood+ (Barnes 2014): cells of a depression go through a plain FIFO queue at the
/// level of the cell that reached them; the bucket queue orders only the rising terrain. (Zhou
/// et al.'s 2016 variant, which climbs a rising cell at once and queues it only when it has a
/// lower neighbour not reached yet, queued 93 % of the cells it climbed on the generated DEMs of
/// the benchmarks and was 6 % slower for its second look at each.) The ring around the tile is
/// labelled void, so neighbours need no bounds checks.
class Flood {
 public:
  Flood(TileFlood& out, std::vector<uint32_t>& pit, MinQueue& queue, SpillPairs* spills)
      : out_(out), pit_(pit), queue_(queue), spills_(spills) {
    if (spills_ != nullptr) spills_->reset(out.edges);
    const auto s = static_cast<ptrdiff_t>(out.stride);
    for (int k = 0; k < 8; ++k) offset_[k] = kDy[k] * s + kDx[k];
  }

  void run() {
    pit_.clear();
    size_t pit_at = 0;
    for (;;) {
      if (pit_at < pit_.size()) {
        visit(pit_[pit_at++]);
        if (pit_at == pit_.size()) pit_.clear(), pit_at = 0;
      } else if (!queue_.empty()) {
        const uint32_t c = queue_.pop();
        if (out_.label[c] == kSeed) out_.label[c] = out_.labels++;
        visit(c);
      } else {
        break;
      }
    }
    if (spills_ != nullptr) sort_edges();
  }

 private:
  /// Labels the unreached neighbours of c (a cell popped at the flood's current level, or one
  /// of a depression): lower ones join the depression, higher ones are queued at their height.
  void visit(uint32_t c) {
    int32_t* label = out_.label.data();
    float* level = out_.level.data();
    const int32_t own = label[c];
    const float at = level[c];
#pragma GCC unroll 8
    for (ptrdiff_t d : offset_) {
      const size_t n = static_cast<size_t>(static_cast<ptrdiff_t>(c) + d);
      const int32_t theirs = label[n];
      if (theirs == own || theirs == kVoidLabel) continue;
      if (theirs == kUnseen) {
        label[n] = own;
        if (level[n] <= at) {
          level[n] = at;
          pit_.push_back(static_cast<uint32_t>(n));
        } else {
          queue_.push(level[n], n);
        }
      } else if (theirs == kSeed) {
        label[n] = own;  // still queued at its own height, which is >= at
      } else {
        spill(own, theirs, std::max(at, level[n]));
      }
    }
  }

  /// Keeps a spill between two regions (the lowest per pair).
  void spill(int32_t a, int32_t b, float level) {
    if (spills_ == nullptr) return;
    if (a > b) std::swap(a, b);
    spills_->add(a, b, level);
  }

  void sort_edges() {
    std::sort(out_.edges.begin(), out_.edges.end(), [](const SpillEdge& l, const SpillEdge& r) {
      return std::tie(l.a, l.b) < std::tie(r.a, r.b);
    });
  }

  TileFlood& out_;
  std::vector<uint32_t>& pit_;
  MinQueue& queue_;
  SpillPairs* spills_;  // nullptr: no spill edges kept
  ptrdiff_t offset_[8];
};

/// One flood's arrays per thread, which phase 1 and phase 2 share.
TileFlood& thread_flood() {
  thread_local TileFlood flood;
  return flood;
}

/// Phase 2: each tile finished from what phase 1 kept of it, or flooded again; each cell raised
/// to its region's level from the solve.
class FinishFill : public Op {
 public:
  FinishFill(std::optional<double> nodata, TileGrid grid, std::shared_ptr<const Bytes> solution,
             const KeptTiles* kept)
      : nodata_(nodata), grid_(grid), solution_(*solution), kept_(kept) {}
  int64_t halo() const override { return 1; }
  PixelType output_type() const override { return PixelType::Float32; }
  std::optional<double> output_nodata() const override { return nodata_; }
  CellType input_cells(PixelType) const override { return CellType::Float32; }
  void run(const TileIn& in, const TileOut& out) const override {
    const int64_t tile =
        (in.owned.y / grid_.tile_height()) * grid_.across() + in.owned.x / grid_.tile_width();
    const View<float> cells = out.bands.at(0).as<float>();
    const float none = nodata_ ? static_cast<float>(*nodata_) : 0.0f;
    thread_local Bytes kept;
    if (kept_ != nullptr && kept_->take(tile, kept)) {
      finish_kept(kept, in, solution_, tile, none, cells);
      return;
    }
    TileFlood& flood = thread_flood();
    flood_tile(in, flood, false);
    thread_local std::vector<float> region_level;
    region_level.resize(static_cast<size_t>(flood.labels));
    for (int32_t l = 0; l < flood.labels; ++l) region_level[l] = solution_.level_of(tile, l);
    for (int64_t y = 0; y < flood.height; ++y) {
      float* row = cells.row(y);
      const float* level = flood.level.data() + flood.at(0, y);
      const int32_t* label = flood.label.data() + flood.at(0, y);
      for (int64_t x = 0; x < flood.width; ++x)
        row[x] = label[x] == kVoidLabel ? none : std::max(level[x], region_level[label[x]]);
    }
  }

 private:
  std::optional<double> nodata_;
  TileGrid grid_;
  FillSolution solution_;
  const KeptTiles* kept_;
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
  /// Levels, labels and queue links of the padded tile (4 bytes each, one set for both phases),
  /// the depression FIFO (at most a cell each), phase 1's and phase 2's buffers of kept runs
  /// (kKeptBytesPerCell each) and the queue's two levels of 65536 lists (about 0.5 MiB).
  int64_t work_bytes(int64_t cells) const override {
    return cells * (4 + 4 + 4 + 4 + 2 * kKeptBytesPerCell) + 2 * (65536 * 4 + 8192 + 128);
  }
  int64_t kept_bytes(int64_t cells) const override { return 4 + kKeptBytesPerCell * cells; }
  /// Rank 0: each perimeter cell received and parsed (8 bytes each), about one link between
  /// regions (24 bytes) and its two adjacency entries (16 each) per perimeter cell at most, and
  /// Dijkstra's queue (a place and a heap entry, 8 bytes a region). Every rank: a level (4 bytes)
  /// per region, at most one per perimeter cell. The summaries as received: 8 bytes a perimeter
  /// cell, 12 a spill edge (at most about one a perimeter cell), and each tile's lengths.
  GraphMemory graph_memory(const TileGrid& grid) const override {
    const int64_t perimeter = perimeter_cells(grid);
    return {perimeter * (8 + 8 + 24 + 32 + 8), perimeter * 4 + grid.count() * 8,
            perimeter * (8 + 12) + grid.count() * 48};
  }
  /// Rank 0's solve at kSolveSecondsPerPerimeterCell.
  double solve_seconds(const TileGrid& grid) const override {
    return static_cast<double>(perimeter_cells(grid)) * kSolveSecondsPerPerimeterCell;
  }
  Bytes summarize(const TileIn& in, const TileGrid& /*grid*/) const override {
    TileFlood& flood = thread_flood();
    flood_tile(in, flood);
    return fill_summary(flood, in);
  }
  Bytes summarize_keeping(const TileIn& in, const TileGrid& /*grid*/, Bytes& kept) const override {
    TileFlood& flood = thread_flood();
    flood_tile(in, flood);
    keep_flood(flood, in, kept);
    return fill_summary(flood, in);
  }
  Bytes solve(const TileGrid& grid, const Summaries& tiles) const override {
    return solve_fill(grid, tiles);
  }
  std::shared_ptr<const Op> with_solution(const TileGrid& grid,
                                          std::shared_ptr<const Bytes> solution) const override {
    return std::make_shared<FinishFill>(nodata_, grid, std::move(solution), nullptr);
  }
  std::shared_ptr<const Op> with_kept_solution(const TileGrid& grid,
                                               std::shared_ptr<const Bytes> solution,
                                               const KeptTiles* kept) const override {
    return std::make_shared<FinishFill>(nodata_, grid, std::move(solution), kept);
  }

 private:
  std::optional<double> nodata_;
};

/// The ring of cells around the tile: voids at level 0 (the Seeder writes every cell inside).
void void_ring(TileFlood& out) {
  const auto row = static_cast<ptrdiff_t>(out.stride);
  const auto last = static_cast<ptrdiff_t>(out.label.size()) - row;
  std::fill_n(out.level.begin(), row, 0.0f);
  std::fill_n(out.label.begin(), row, kVoidLabel);
  std::fill_n(out.level.begin() + last, row, 0.0f);
  std::fill_n(out.label.begin() + last, row, kVoidLabel);
  for (ptrdiff_t at = row; at < last; at += row) {
    out.level[at] = out.level[at + row - 1] = 0.0f;
    out.label[at] = out.label[at + row - 1] = kVoidLabel;
  }
}

}  // namespace

void TileGraphOp::run(const TileIn& /*in*/, const TileOut& /*out*/) const {
  throw Error("internal error: a tile-graph op ran before its global solve");
}

void flood_tile(const TileIn& in, TileFlood& out, bool spills) {
  const TileCells cells(in);
  out.width = in.owned.width;
  out.height = in.owned.height;
  out.stride = out.width + 2;
  const auto padded = static_cast<size_t>(out.stride * (out.height + 2));
  if (padded > std::numeric_limits<uint32_t>::max())
    throw Error("fill: a tile of " + std::to_string(out.width) + " x " +
                std::to_string(out.height) + " cells is too large; use [run] tile = 4096 or less");
  out.level.resize(padded);
  out.label.resize(padded);
  void_ring(out);
  out.labels = 1;
  out.edges.clear();
  thread_local MinQueue::Lists lists;
  thread_local std::vector<uint32_t> pit;
  thread_local SpillPairs pairs;
  MinQueue queue(lists, out.level.data(), padded);
  Seeder(cells, out, queue).run(in.halo);
  Flood(out, pit, queue, spills ? &pairs : nullptr).run();
}

bool fill_epsilon(const Options& options) {
  OptionReader r("fill", options, {"epsilon"});
  const bool epsilon = r.flag("epsilon", false);
  r.finish();
  return epsilon;
}

std::unique_ptr<Op> make_fill(const Options& options) {
  if (fill_epsilon(options))
    throw Error(
        "fill: epsilon = true is planned as four passes (fill, flowdir, fill_epsilon_bound, "
        "fill_epsilon), which a job plans from the step; it is no op of its own");
  return std::make_unique<FillOp>();
}

}  // namespace tessera::ops
