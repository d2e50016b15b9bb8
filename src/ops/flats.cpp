// flowdir's flats inside one tile: the steepest descent of every cell, the breadth-first distances
// on the flats, the direction of a flat cell, and phase 1's summary of the pieces of flats that
// reach the tile's perimeter.
#include "flats.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <span>
#include <string>
#include <tuple>

#include "byte_io.hpp"
#include "d8_tile.hpp"
#include "distance_rows.hpp"
#include "lane_lengths.hpp"
#include "straight_paths.hpp"

namespace tessera::ops {
namespace {

/// d8flowdir's order of trial: the cardinal directions, then the diagonals; the first of equal
/// slopes wins.
constexpr int kTrialOrder[8] = {0, 2, 4, 6, 1, 3, 5, 7};

/// The tile's heights with a ring of two cells, NaN at voids and off the raster (stride width + 4).
void read_heights(const TileIn& in, std::vector<float>& z2) {
  const auto cells = std::get<ConstView<float>>(in.cells);
  const int64_t w = in.owned.width + 4;
  const int64_t h = in.owned.height + 4;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const bool has_nodata = in.nodata && !std::isnan(*in.nodata);
  const float nodata = has_nodata ? static_cast<float>(*in.nodata) : 0.0f;
  z2.assign(static_cast<size_t>(w * h), nan);
  for (int64_t y = 0; y < h; ++y) {
    const int64_t gy = in.owned.y + y - 2;
    if (gy < 0 || gy >= in.raster.height) continue;
    const float* row = cells.row(y - 2 + in.halo) + in.halo - 2;
    float* out = z2.data() + y * w;
    for (int64_t x = 0; x < w; ++x) {
      const int64_t gx = in.owned.x + x - 2;
      if (gx < 0 || gx >= in.raster.width) continue;
      const float v = row[x];
      out[x] = has_nodata && v == nodata ? nan : v;
    }
  }
}

/// The steepest descent from cell c of the twice-padded heights (as FlatTile::dir says).
int8_t steepest(const float* z2, ptrdiff_t c, const ptrdiff_t (&offset)[8], bool on_edge,
                const double (&factor)[8]) {
  const float centre = z2[c];
  if (std::isnan(centre)) return kD8Outside;
  if (on_edge) return kD8Void;
  for (ptrdiff_t d : offset)
    if (std::isnan(z2[c + d])) return kD8Void;
  float best = 0;
  int8_t chosen = kD8None;
  for (int k : kTrialOrder) {
    const auto slope = static_cast<float>(factor[k] * (centre - z2[c + offset[k]]));
    if (slope > best) best = slope, chosen = static_cast<int8_t>(k);
  }
  return chosen;
}

}  // namespace

void analyse_tile(const TileIn& in, FlatTile& t) {
  t.width = in.owned.width;
  t.height = in.owned.height;
  t.stride = t.width + 2;
  for (int k = 0; k < 8; ++k) {
    t.factor[k] = 1.0 / std::sqrt(kD8Dx[k] * kD8Dx[k] * in.ewres * in.ewres +
                                  kD8Dy[k] * kD8Dy[k] * in.nsres * in.nsres);
    t.offset[k] = kD8Dy[k] * t.stride + kD8Dx[k];
  }
  thread_local std::vector<float> z2;
  read_heights(in, z2);
  const int64_t stride2 = t.width + 4;
  ptrdiff_t offset2[8];
  for (int k = 0; k < 8; ++k) offset2[k] = kD8Dy[k] * stride2 + kD8Dx[k];
  const auto padded = static_cast<size_t>(t.stride * (t.height + 2));
  t.z.resize(padded);
  t.dir.resize(padded);
  t.flat.assign(padded, 0);
  t.flat_cells = 0;
  for (int64_t y = -1; y <= t.height; ++y) {
    const int64_t gy = in.owned.y + y;
    for (int64_t x = -1; x <= t.width; ++x) {
      const int64_t gx = in.owned.x + x;
      const bool on_edge =
          gx == 0 || gy == 0 || gx == in.raster.width - 1 || gy == in.raster.height - 1;
      const ptrdiff_t c = (y + 2) * stride2 + x + 2;
      const size_t i = t.at(x, y);
      t.z[i] = z2[static_cast<size_t>(c)];
      t.dir[i] = steepest(z2.data(), c, offset2, on_edge, t.factor);
      const bool own = x >= 0 && y >= 0 && x < t.width && y < t.height;
      if (own && t.dir[i] == kD8None) t.flat[i] = 1, ++t.flat_cells;
    }
  }
}

void local_seeds(const FlatTile& t, bool high, std::vector<Seed>& seeds,
                 const std::vector<int32_t>* piece) {
  for (int64_t y = 0; y < t.height; ++y)
    for (int64_t x = 0; x < t.width; ++x) {
      const size_t i = t.at(x, y);
      if (!t.flat[i] || (piece && (*piece)[i] < 0)) continue;
      for (ptrdiff_t d : t.offset) {
        const auto j = static_cast<size_t>(static_cast<ptrdiff_t>(i) + d);
        if (high ? is_higher(t, i, j) : is_outlet(t, i, j)) {
          seeds.push_back({high ? 0u : 1u, static_cast<uint32_t>(i)});
          break;
        }
      }
    }
}

void spread(const FlatTile& t, std::vector<Seed>& seeds, std::vector<uint32_t>& dist) {
  std::sort(seeds.begin(), seeds.end(), [](const Seed& a, const Seed& b) {
    return std::tie(a.distance, a.cell) < std::tie(b.distance, b.cell);
  });
  // Seeds and the breadth-first queue are merged in order of distance. A cell lowered after it
  // was queued is queued again, so that every lowering reaches its neighbours.
  thread_local std::vector<uint32_t> queue;
  queue.clear();
  size_t head = 0;
  size_t next_seed = 0;
  for (;;) {
    size_t c = 0;
    if (head < queue.size() &&
        (next_seed == seeds.size() || dist[queue[head]] <= seeds[next_seed].distance)) {
      c = queue[head++];
    } else if (next_seed < seeds.size()) {
      const Seed& s = seeds[next_seed++];
      if (s.distance >= dist[s.cell]) continue;
      c = s.cell;
      dist[c] = s.distance;
    } else {
      break;
    }
    const uint32_t d = dist[c] + 1;
    for (ptrdiff_t o : t.offset) {
      const auto j = static_cast<size_t>(static_cast<ptrdiff_t>(c) + o);
      if (t.flat[j] && dist[j] > d && t.z[j] == t.z[c]) {
        dist[j] = d;
        queue.push_back(static_cast<uint32_t>(j));
      }
    }
  }
}

int flat_direction(const FlatTile& t, size_t i) {
  if (t.low[i] == kFar) return kD8None;
  for (int k : kTrialOrder)
    if (is_outlet(t, i, static_cast<size_t>(static_cast<ptrdiff_t>(i) + t.offset[k]))) return k;
  const bool has_high = t.high[i] != kFar;
  const auto mask = [&](size_t c) {
    return 2 * static_cast<int64_t>(t.low[c]) - (has_high ? static_cast<int64_t>(t.high[c]) : 0);
  };
  const int64_t own = mask(i);
  double best = 0;
  int chosen = kD8None;
  for (int k : kTrialOrder) {
    const auto j = static_cast<size_t>(static_cast<ptrdiff_t>(i) + t.offset[k]);
    if (!on_same_flat(t, i, j) || t.low[j] == kFar) continue;
    const double slope = t.factor[k] * static_cast<double>(own - mask(j));
    if (slope > best) best = slope, chosen = k;
  }
  return chosen;
}

namespace {

/// The pieces of the tile's flats (8-connected flat cells of one height, inside the tile) that
/// reach its perimeter, labelled from 0 in the order of their first perimeter cell; other cells
/// -1. Returns each piece's number of cells; `members` lists the cells piece by piece.
std::vector<int64_t> label_pieces(const FlatTile& t, std::vector<int32_t>& piece,
                                  std::vector<uint32_t>& members) {
  piece.assign(t.z.size(), -1);
  members.clear();
  std::vector<int64_t> sizes;
  thread_local std::vector<uint32_t> stack;
  const int64_t count = perimeter_count(t.width, t.height);
  for (int64_t p = 0; p < count; ++p) {
    const auto [x, y] = PerimeterNodes::place_cell(p, t.width, t.height);
    const size_t start = t.at(x, y);
    if (!t.flat[start] || piece[start] >= 0) continue;
    const auto label = static_cast<int32_t>(sizes.size());
    int64_t size = 0;
    stack.assign(1, static_cast<uint32_t>(start));
    piece[start] = label;
    while (!stack.empty()) {
      const size_t c = stack.back();
      stack.pop_back();
      members.push_back(static_cast<uint32_t>(c));
      ++size;
      for (ptrdiff_t o : t.offset) {
        const auto j = static_cast<size_t>(static_cast<ptrdiff_t>(c) + o);
        if (t.flat[j] && piece[j] < 0 && t.z[j] == t.z[c]) {
          piece[j] = label;
          stack.push_back(static_cast<uint32_t>(j));
        }
      }
    }
    sizes.push_back(size);
  }
  return sizes;
}

/// A cell of another piece, or of none, in the distances of PieceWriter: never entered.
constexpr uint32_t kWall = kFar - 1;

/// The searches of one batch of MultiSearch, a bit each: 64 x kWords perimeter cells at once
/// (two words cost more than they saved on the benchmark's lakes).
constexpr int kWords = 1;
struct Searches {
  uint64_t word[kWords] = {};
  bool any() const {
    uint64_t all = 0;
    for (uint64_t w : word) all |= w;
    return all != 0;
  }
};

/// Breadth-first searches from a batch of a piece's perimeter cells at once, level by level, a
/// bit per search in each cell (Then et al. 2014's multi-source search): a cell that several
/// searches reach at one level is visited once for all of them. It finds the same distances as
/// one search per cell. Searches from neighbouring perimeter cells share the levels of the cells
/// ahead of them, not of those beside them along the side: on the benchmark's lakes a batch of 64
/// made 2.7 times fewer visits than its 64 searches (docs/results/2026-12-06-flats-2.md).
class MultiSearch {
 public:
  /// Room for a tile of `cells` padded cells (every cell holds no search between runs).
  void reserve(size_t cells) {
    if (seen_.size() >= cells) return;
    seen_.resize(cells);
    now_.resize(cells);
    next_.resize(cells);
  }

  /// The distance inside the piece (the cells whose `inside` is not kWall) from each source
  /// cells[i], i in `sources`, to each cell of `cells` after it, in row i * k + j of `matrix`,
  /// where that entry holds kFar (other entries of those rows may be written too, with the same
  /// distances); `slot` gives each perimeter cell's index in `cells`, -1 elsewhere. Stops once
  /// every such entry is found.
  void run(const FlatTile& t, const std::vector<uint32_t>& inside, const std::vector<int32_t>& slot,
           const std::vector<size_t>& cells, std::span<const uint32_t> sources,
           std::vector<uint32_t>& matrix) {
    const size_t k = cells.size();
    size_t missing = 0;  // entries (i, j), j > i, of the batch not found yet
    touched_.clear();
    level_.clear();
    for (size_t b = 0; b < sources.size(); ++b) {
      const size_t i = sources[b];
      const size_t c = cells[i];
      set(seen_[c], b);
      set(now_[c], b);
      touched_.push_back(static_cast<uint32_t>(c));
      level_.push_back(static_cast<uint32_t>(c));
      matrix[i * k + i] = 0;
      missing +=
          static_cast<size_t>(std::count(matrix.begin() + static_cast<ptrdiff_t>(i * k + i + 1),
                                         matrix.begin() + static_cast<ptrdiff_t>(i * k + k), kFar));
    }
    for (uint32_t distance = 1; missing > 0 && !level_.empty(); ++distance) {
      after_.clear();
      for (uint32_t c : level_) {
        const Searches from = now_[c];
        now_[c] = {};
        for (ptrdiff_t o : t.offset) {
          const auto j = static_cast<size_t>(static_cast<ptrdiff_t>(c) + o);
          if (inside[j] == kWall) continue;
          Searches fresh;
          for (int w = 0; w < kWords; ++w) fresh.word[w] = from.word[w] & ~seen_[j].word[w];
          if (!fresh.any()) continue;
          if (!seen_[j].any()) touched_.push_back(static_cast<uint32_t>(j));
          if (!next_[j].any()) after_.push_back(static_cast<uint32_t>(j));
          for (int w = 0; w < kWords; ++w) {
            seen_[j].word[w] |= fresh.word[w];
            next_[j].word[w] |= fresh.word[w];
          }
          if (slot[j] < 0) continue;
          const auto target = static_cast<size_t>(slot[j]);
          for (int w = 0; w < kWords; ++w)
            for (uint64_t bits = fresh.word[w]; bits != 0; bits &= bits - 1) {
              const size_t i = sources[static_cast<size_t>(64 * w + std::countr_zero(bits))];
              uint32_t& entry = matrix[i * k + target];
              if (target > i && entry == kFar) --missing;
              entry = distance;
            }
        }
      }
      std::swap(now_, next_);
      std::swap(level_, after_);
    }
    for (uint32_t c : touched_) seen_[c] = now_[c] = next_[c] = {};
  }

  static constexpr size_t kBatch = 64 * kWords;

 private:
  static void set(Searches& s, size_t bit) { s.word[bit / 64] |= uint64_t{1} << (bit % 64); }

  std::vector<Searches> seen_, now_, next_;
  std::vector<uint32_t> touched_, level_, after_;
};

/// Breadth-first distances from up to 64 perimeter cells of a piece at once as 64 16-bit
/// distances in each cell, relaxed in the order of a queue until none lowers (a label-correcting
/// search: a cell is queued again whenever one of its distances lowers, so each ends at its
/// least). MultiSearch visits a cell once per level at which its searches reach it, which beside
/// a batch along a side (in the direction of the side) is once per search; here a cell is
/// visited once or a few times (2.7 times a cell on the lakes of a 3072 x 3072 DEM of the
/// benchmark's generator, against 20 for MultiSearch), each visit taking all its distances at once.
/// Distances stop at `cap` (a path of `cap` steps or more reads `cap`), so a target at the cap is
/// not known: the batch is then left to MultiSearch.
class LaneSearch {
 public:
  static constexpr size_t kLanes = LaneLengths::kLanes;
  static constexpr int kMaxCap = LaneLengths::kMaxCap;

  /// As MultiSearch::run (every entry (i, j), j > i, of the batch's rows written), over the
  /// piece's cells `members`; false where a target is at the cap (the rows partly written).
  bool run(const FlatTile& t, const std::vector<uint32_t>& inside,
           std::span<const uint32_t> members, const std::vector<size_t>& cells,
           std::span<const uint32_t> sources, int16_t cap, std::vector<uint32_t>& matrix) {
    if (lanes_.size() < t.z.size()) {
      lanes_.resize(t.z.size());
      queued_.assign(t.z.size(), 0);
    }
    const LaneLengths::Word top = LaneLengths::Word{} + cap;
    for (uint32_t c : members)
      for (LaneLengths::Word& w : lanes_[c].word) w = top;
    size_t source_cells[kLanes];
    for (size_t b = 0; b < sources.size(); ++b) source_cells[b] = cells[sources[b]];
    relax_from_queue(lanes_, queued_, queue_, members.size(),
                     std::span<const size_t>(source_cells, sources.size()), t.offset, cap,
                     [&](size_t j, const LaneLengths& step) {
                       return inside[j] != kWall && lanes_[j].relax(step);
                     });
    const size_t k = cells.size();
    for (size_t b = 0; b < sources.size(); ++b) {
      const size_t i = sources[b];
      matrix[i * k + i] = 0;
      for (size_t j = i + 1; j < k; ++j) {
        const int16_t d = lanes_[cells[j]].lane(b);
        if (d >= cap) return false;
        matrix[i * k + j] = static_cast<uint32_t>(d);
      }
    }
    return true;
  }

 private:
  std::vector<LaneLengths> lanes_;
  std::vector<uint8_t> queued_;
  std::vector<uint32_t> queue_;
};

/// What the summary says of one piece: its height, its perimeter places (in perimeter order),
/// their distances from the tile's own seeds, and the distances between them inside the tile
/// (none when the piece is the whole tile: the Chebyshev distance, max(|dx|, |dy|)).
class PieceWriter {
 public:
  /// With `straight`, the pairs it shows at Chebyshev's distance are not searched; with a
  /// `lane_cap`, batches are first searched by LaneSearch (FlatSearch).
  PieceWriter(const FlatTile& t, const StraightPaths* straight, int lane_cap)
      : t_(t), straight_(straight), lane_cap_(static_cast<int16_t>(lane_cap)) {
    slot_.assign(t.z.size(), -1);
    dist_.assign(t.z.size(), kWall);
  }

  /// Writes the piece whose cells are `members` and perimeter places `places`.
  void put(ByteWriter& out, std::span<const uint32_t> members, const std::vector<int32_t>& places,
           bool whole_tile) {
    std::vector<size_t> cells;
    for (int32_t p : places) {
      const auto [x, y] = PerimeterNodes::place_cell(p, t_.width, t_.height);
      cells.push_back(t_.at(x, y));
    }
    out.put(t_.z[cells[0]]);
    out.put<uint8_t>(whole_tile ? 1 : 0);
    out.put_all(std::span<const int32_t>(places));
    for (const auto* field : {&t_.low, &t_.high}) {
      std::vector<uint32_t> own;
      for (size_t c : cells) own.push_back((*field)[c]);
      out.put_all(std::span<const uint32_t>(own));
    }
    if (whole_tile) return;
    for (uint32_t c : members) dist_[c] = kFar;
    members_ = members;
    put_distances(out, cells);
    for (uint32_t c : members) dist_[c] = kWall;
  }

 private:
  /// The distances from each perimeter cell to those after it: Chebyshev's where a straight
  /// path shows it, else by batches of searches from the cells that have such pairs (the matrix
  /// is symmetric: the entries before come from earlier rows).
  void put_distances(ByteWriter& out, const std::vector<size_t>& cells) {
    const size_t k = cells.size();
    for (size_t j = 0; j < k; ++j) slot_[cells[j]] = static_cast<int32_t>(j);
    thread_local std::vector<uint32_t> matrix;
    matrix.assign(k * k, kFar);
    thread_local std::vector<uint32_t> sources;
    sources.clear();
    const auto s = static_cast<int64_t>(t_.stride);
    for (size_t i = 0; i < k; ++i) {
      bool search = false;
      const auto ci = static_cast<int64_t>(cells[i]);
      for (size_t j = i + 1; j < k; ++j) {
        if (straight_ && straight_->straight(cells[i], cells[j])) {
          const auto cj = static_cast<int64_t>(cells[j]);
          matrix[i * k + j] =
              static_cast<uint32_t>(std::max(std::abs(cj % s - ci % s), std::abs(cj / s - ci / s)));
        } else {
          search = true;
        }
      }
      if (search) sources.push_back(static_cast<uint32_t>(i));
    }
    thread_local LaneSearch lanes;
    thread_local MultiSearch search;
    search.reserve(t_.z.size());
    for (size_t first = 0; first < sources.size(); first += MultiSearch::kBatch) {
      const size_t n = std::min(sources.size() - first, MultiSearch::kBatch);
      const auto batch = std::span<const uint32_t>(sources).subspan(first, n);
      if (lane_cap_ > 0 && lanes.run(t_, dist_, members_, cells, batch, lane_cap_, matrix))
        continue;
      search.run(t_, dist_, slot_, cells, batch, matrix);
    }
    DistanceRows rows;
    for (size_t i = 0; i < k; ++i) {
      uint32_t* row = matrix.data() + i * k;
      row[i] = 0;
      for (size_t j = 0; j < i; ++j) row[j] = matrix[j * k + i];
      rows.add_row(std::span<const uint32_t>(row, k));
    }
    for (size_t c : cells) slot_[c] = -1;
    out.put_all(std::span<const uint8_t>(rows.runs));
    out.put_all(std::span<const uint32_t>(rows.escapes));
    out.put_all(std::span<const uint32_t>(rows.row_run));
    out.put_all(std::span<const uint32_t>(rows.row_escape));
  }

  const FlatTile& t_;
  const StraightPaths* straight_;
  int16_t lane_cap_;
  std::span<const uint32_t> members_;
  std::vector<int32_t> slot_;
  std::vector<uint32_t> dist_;
};

}  // namespace

Bytes flats_summary(FlatTile& t, const FlatSearch& how) {
  if (how.lane_cap < 0 || how.lane_cap > LaneSearch::kMaxCap)
    throw Error("internal error: flats' lane cap " + std::to_string(how.lane_cap));
  ByteWriter out;
  if (t.flat_cells == 0) {
    out.put<int32_t>(0);
    return out.take();
  }
  thread_local std::vector<int32_t> piece;
  thread_local std::vector<uint32_t> members;
  const std::vector<int64_t> sizes = label_pieces(t, piece, members);
  out.put(static_cast<int32_t>(sizes.size()));
  if (sizes.empty()) return out.take();
  // The tile's own distances, from its own seeds (only the labelled pieces matter here).
  for (const bool high : {false, true}) {
    thread_local std::vector<Seed> seeds;
    seeds.clear();
    local_seeds(t, high, seeds, &piece);
    auto& dist = high ? t.high : t.low;
    dist.assign(t.z.size(), kFar);
    spread(t, seeds, dist);
  }
  std::vector<std::vector<int32_t>> places(sizes.size());
  const int64_t count = perimeter_count(t.width, t.height);
  for (int64_t p = 0; p < count; ++p) {
    const auto [x, y] = PerimeterNodes::place_cell(p, t.width, t.height);
    const int32_t label = piece[t.at(x, y)];
    if (label >= 0) places[static_cast<size_t>(label)].push_back(static_cast<int32_t>(p));
  }
  thread_local StraightPaths straight;
  if (how.straight_paths) straight.build(t.stride, t.height + 2, piece);
  PieceWriter writer(t, how.straight_paths ? &straight : nullptr, how.lane_cap);
  size_t first = 0;
  for (size_t l = 0; l < sizes.size(); ++l) {
    const auto size = static_cast<size_t>(sizes[l]);
    writer.put(out, std::span<const uint32_t>(members).subspan(first, size), places[l],
               sizes[l] == t.width * t.height);
    first += size;
  }
  return out.take();
}

}  // namespace tessera::ops
