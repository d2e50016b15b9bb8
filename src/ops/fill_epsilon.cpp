// fill_epsilon: the least strictly draining surface above fill's surface F (docs/hydrology.md,
// "fill's epsilon"), given a bound U of it, as a tile graph. Heights are keys (Float32 values in
// order, one apart). Cells with U = K keep their height (fixed); through the others (free) each
// tile keeps fronts of (length, height) pairs between its free perimeter cells, rank 0 runs
// Dijkstra over every tile's free perimeter cells, and each tile is finished by Dijkstra from its
// fixed cells and its perimeter's solved keys.
#include "tessera/ops/fill_epsilon.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "byte_io.hpp"
#include "d8_tile.hpp"
#include "distance_rows.hpp"
#include "fill_epsilon_search.hpp"
#include "lane_lengths.hpp"
#include "node_queue.hpp"
#include "option_reader.hpp"
#include "straight_paths.hpp"
#include "tessera/ops/d8.hpp"

namespace tessera::ops {
namespace {

/// The key of the largest finite Float32 (3.4028235e38).
constexpr int64_t kLargestKey = 0x7F7FFFFF;
/// No key: a cell not reached.
constexpr int64_t kNone = std::numeric_limits<int64_t>::max();
/// The bound of a cell whose bound is +inf (past every finite key): no bound at all, far enough
/// below kNone that a front's length added to it cannot overflow.
constexpr int64_t kUnbounded = kNone / 4;
/// The key of +inf.
constexpr int64_t kInfinityKey = 0x7F800000;
/// No length: a perimeter cell a front does not reach.
constexpr uint32_t kNoLength = std::numeric_limits<uint32_t>::max();

/// A Float32 value's key: its bits from +0 up, minus its magnitude's bits below 0 (so -0 and +0
/// are one key and consecutive values are one apart).
int64_t float_key(float v) {
  const auto bits = std::bit_cast<uint32_t>(v);
  const int64_t magnitude = bits & 0x7FFFFFFFu;
  return (bits >> 31) != 0 ? -magnitude : magnitude;
}

/// The Float32 value of a key (0 is +0).
float key_value(int64_t key) {
  const auto bits =
      key < 0 ? 0x80000000u | static_cast<uint32_t>(-key) : static_cast<uint32_t>(key);
  return std::bit_cast<float>(bits);
}

enum class Kind : uint8_t {
  Outside,   ///< a void or off the raster
  Fixed,     ///< keeps its height: U = K, or an outlet (on the raster's edge or beside a void)
  Free,      ///< a free cell of the tile
  RingFree,  ///< a free cell of the ring around the tile (its own tile's)
};

/// A tile with a ring of one cell around it: cell (x, y), x and y from -1 to width, at(x, y).
struct EpsilonTile {
  int64_t width = 0;
  int64_t height = 0;
  int64_t stride = 0;  ///< width + 2
  size_t at(int64_t x, int64_t y) const { return static_cast<size_t>((y + 1) * stride + x + 1); }
  std::vector<int64_t> key;    ///< F's keys
  std::vector<int64_t> bound;  ///< U's keys
  std::vector<Kind> kind;
  std::vector<float> z;  ///< F's values (written back where a cell keeps its key)
  ptrdiff_t offset[8] = {};
  int64_t free_cells = 0;  ///< the tile's own
};

std::string cell_text(const TileIn& in, int64_t x, int64_t y) {
  return "cell " + std::to_string(in.owned.x + x) + ", " + std::to_string(in.owned.y + y);
}

/// Reads a tile's surface and bound (halo of at least 2: a ring cell is an outlet when beside a
/// void) into `t`; throws for a NaN without a nodata value and for a bound that is no bound.
class TileReader {
 public:
  explicit TileReader(const TileIn& in) : in_(in), cells_(std::get<ConstView<float>>(in.cells)) {
    if (in.bands.size() != 1) throw Error("internal error: fill_epsilon reads one bound band");
    const BandIn& band = in.bands[0];
    if (band.type != PixelType::Float32)
      throw Error("fill_epsilon: the bound is " + std::string(name_of(band.type)) +
                  "; it must be Float32 (the bound op's output)");
    if (in.nodata && !std::isnan(*in.nodata)) nodata_ = static_cast<float>(*in.nodata);
    if (band.nodata && !std::isnan(*band.nodata)) bound_nodata_ = static_cast<float>(*band.nodata);
  }

  void read(EpsilonTile& t) const {
    t.width = in_.owned.width;
    t.height = in_.owned.height;
    t.stride = t.width + 2;
    const auto size = static_cast<size_t>(t.stride * (t.height + 2));
    t.key.assign(size, 0);
    t.bound.assign(size, 0);
    t.kind.assign(size, Kind::Outside);
    t.z.assign(size, 0);
    for (int k = 0; k < 8; ++k) t.offset[k] = kD8Dy[k] * t.stride + kD8Dx[k];
    t.free_cells = 0;
    for (int64_t y = -1; y <= t.height; ++y)
      for (int64_t x = -1; x <= t.width; ++x) read_cell(t, x, y);
    for (int64_t y = 0; y < t.height; ++y)
      for (int64_t x = 0; x < t.width; ++x) check_bound(t, x, y);
  }

 private:
  float z(int64_t x, int64_t y) const { return cells_(x + in_.halo, y + in_.halo); }
  float u(int64_t x, int64_t y) const {
    float v;
    std::memcpy(&v, in_.bands[0].bytes.row(y + in_.halo) + (x + in_.halo) * 4, 4);
    return v;
  }
  bool inside(int64_t x, int64_t y) const {
    const int64_t gx = in_.owned.x + x;
    const int64_t gy = in_.owned.y + y;
    return gx >= 0 && gy >= 0 && gx < in_.raster.width && gy < in_.raster.height;
  }
  bool is_void(int64_t x, int64_t y) const {
    if (!inside(x, y)) return true;
    const float v = z(x, y);
    if (std::isnan(v)) {
      if (in_.nodata) return true;
      throw Error("fill_epsilon: the surface has voids (NaN at " + cell_text(in_, x, y) +
                  ") but no nodata value; give it one (gdal_edit.py -a_nodata VALUE)");
    }
    return nodata_ && v == *nodata_;
  }
  bool is_outlet(int64_t x, int64_t y) const {
    for (int k = 0; k < 8; ++k)
      if (is_void(x + kD8Dx[k], y + kD8Dy[k])) return true;
    return false;
  }

  void read_cell(EpsilonTile& t, int64_t x, int64_t y) const {
    if (is_void(x, y)) return;
    const size_t i = t.at(x, y);
    const float b = u(x, y);
    if (std::isnan(b) || (bound_nodata_ && b == *bound_nodata_))
      throw Error("fill_epsilon: the bound has no value at " + cell_text(in_, x, y) +
                  ", where the surface has " + number_text(z(x, y)));
    t.z[i] = z(x, y);
    t.key[i] = float_key(t.z[i]);
    t.bound[i] =
        float_key(b) == kInfinityKey && t.key[i] != kInfinityKey ? kUnbounded : float_key(b);
    if (t.bound[i] < t.key[i])
      throw Error("fill_epsilon: the bound at " + cell_text(in_, x, y) + " (" + number_text(b) +
                  ") is below the surface there (" + number_text(t.z[i]) + ")");
    const bool own = x >= 0 && y >= 0 && x < t.width && y < t.height;
    if (t.bound[i] == t.key[i] || is_outlet(x, y)) {
      t.kind[i] = Kind::Fixed;
    } else {
      t.kind[i] = own ? Kind::Free : Kind::RingFree;
      if (own) ++t.free_cells;
    }
  }

  /// The bound must satisfy U >= max(K, least neighbour's U + 1) away from the outlets: then it
  /// is at or above the least surface everywhere (which its pruning of fronts relies on).
  void check_bound(const EpsilonTile& t, int64_t x, int64_t y) const {
    const size_t i = t.at(x, y);
    // +infinity: the bound op's saturated value, past the largest finite Float32, bounds nothing.
    if (t.kind[i] == Kind::Outside || is_outlet(x, y) || t.bound[i] > kLargestKey) return;
    int64_t least = kNone;
    for (ptrdiff_t o : t.offset) {
      const auto j = static_cast<size_t>(static_cast<ptrdiff_t>(i) + o);
      if (t.kind[j] != Kind::Outside) least = std::min(least, t.bound[j]);
    }
    if (least >= t.bound[i])
      throw Error("fill_epsilon: the bound at " + cell_text(in_, x, y) + " (" +
                  number_text(key_value(t.bound[i])) +
                  ") is no bound of the draining surface: no neighbour's bound is below it (give "
                  "the bound op's output for this surface)");
  }

  const TileIn& in_;
  ConstView<float> cells_;
  std::optional<float> nodata_;
  std::optional<float> bound_nodata_;
};

/// Each free cell of the tile beside a fixed cell (of the tile or its ring) at the least key a
/// step from one gives it, in `best` (kNone elsewhere).
void fixed_seeds(const EpsilonTile& t, std::vector<int64_t>& best) {
  best.assign(t.key.size(), kNone);
  for (int64_t y = 0; y < t.height; ++y)
    for (int64_t x = 0; x < t.width; ++x) {
      const size_t i = t.at(x, y);
      if (t.kind[i] != Kind::Free) continue;
      for (ptrdiff_t o : t.offset) {
        const auto j = static_cast<size_t>(static_cast<ptrdiff_t>(i) + o);
        if (t.kind[j] == Kind::Fixed) best[i] = std::min(best[i], std::max(t.key[i], t.key[j] + 1));
      }
    }
}

/// Dijkstra's algorithm on keys over the tile's free cells from `best` (kNone: no source): pop
/// the least key, give each free neighbour max(K, key + 1) if lower. Each step only raises a key,
/// so the first key popped at a cell is its least.
void spread(const EpsilonTile& t, std::vector<int64_t>& best) {
  using Entry = std::pair<int64_t, uint32_t>;
  thread_local std::vector<Entry> heap;
  heap.clear();
  for (size_t i = 0; i < best.size(); ++i)
    if (best[i] != kNone) heap.emplace_back(best[i], static_cast<uint32_t>(i));
  const auto later = std::greater<>();
  std::make_heap(heap.begin(), heap.end(), later);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const auto [v, c] = heap.back();
    heap.pop_back();
    if (v != best[c]) continue;
    for (ptrdiff_t o : t.offset) {
      const auto j = static_cast<size_t>(static_cast<ptrdiff_t>(c) + o);
      if (t.kind[j] != Kind::Free) continue;
      const int64_t a = std::max(t.key[j], v + 1);
      if (a >= best[j]) continue;
      best[j] = a;
      heap.emplace_back(a, static_cast<uint32_t>(j));
      std::push_heap(heap.begin(), heap.end(), later);
    }
  }
}

/// The pieces of the tile's free cells (8-connected, inside the tile) that reach its perimeter,
/// labelled from 0 in the order of their first perimeter cell (other cells -1), their perimeter
/// places and their cells (piece l's are members[first_member[l]] to members[first_member[l +
/// 1]]).
struct Pieces {
  std::vector<int32_t> label;
  std::vector<std::vector<int32_t>> places;
  std::vector<uint32_t> members;
  std::vector<size_t> first_member;
  std::span<const uint32_t> cells_of(int32_t piece) const {
    const auto l = static_cast<size_t>(piece);
    return std::span<const uint32_t>(members).subspan(first_member[l],
                                                      first_member[l + 1] - first_member[l]);
  }
};

void label_pieces(const EpsilonTile& t, Pieces& p) {
  p.label.assign(t.key.size(), -1);
  p.places.clear();
  p.members.clear();
  p.first_member.assign(1, 0);
  thread_local std::vector<uint32_t> stack;
  const int64_t count = perimeter_count(t.width, t.height);
  for (int64_t place = 0; place < count; ++place) {
    const auto [x, y] = PerimeterNodes::place_cell(place, t.width, t.height);
    const size_t start = t.at(x, y);
    if (t.kind[start] != Kind::Free) continue;
    if (p.label[start] >= 0) {
      p.places[static_cast<size_t>(p.label[start])].push_back(static_cast<int32_t>(place));
      continue;
    }
    const auto label = static_cast<int32_t>(p.places.size());
    p.places.push_back({static_cast<int32_t>(place)});
    stack.assign(1, static_cast<uint32_t>(start));
    p.label[start] = label;
    while (!stack.empty()) {
      const size_t c = stack.back();
      stack.pop_back();
      p.members.push_back(static_cast<uint32_t>(c));
      for (ptrdiff_t o : t.offset) {
        const auto j = static_cast<size_t>(static_cast<ptrdiff_t>(c) + o);
        if (t.kind[j] == Kind::Free && p.label[j] < 0) {
          p.label[j] = label;
          stack.push_back(static_cast<uint32_t>(j));
        }
      }
    }
    p.first_member.push_back(p.members.size());
  }
}

/// A pair of a front that is not a bare length: from source row `row`'s cell to slot `slot`, a
/// path of `length` steps whose height composes to `height` (entered at v, it arrives at
/// max(v + length, height)), where height > K(source) + length.
struct Pair {
  uint32_t slot = 0;
  uint32_t length = 0;
  int64_t height = 0;
};

/// Eight 16-bit numbers (GCC's vector extension: one SSE2 register), a lane each of 64 sources
/// in eight of them.
using Word16 = LaneLengths::Word;

/// The bits, in 64 lanes, of the lanes of word `index` whose mask (0 or -1 a lane) is set.
uint64_t bits_of(Word16 mask, size_t index) {
#if defined(__SSE2__)
  const auto m = reinterpret_cast<__m128i>(mask);
  const auto bits = static_cast<uint64_t>(_mm_movemask_epi8(_mm_packs_epi16(m, m)) & 0xFF);
  return bits << (index * 8);
#else
  uint64_t bits = 0;
  for (size_t l = 0; l < 8; ++l)
    if (mask[l] != 0) bits |= uint64_t{1} << (index * 8 + l);
  return bits;
#endif
}

/// The bare lengths from up to 64 perimeter cells of a piece that share a key K0 (a batch of
/// FrontBatch), as 64 16-bit lengths in each cell relaxed in the order of a queue until none
/// lowers (flowdir's LaneSearch, with windows): a step to cell y at length L is taken where y's
/// window takes L (K(y) <= K0 + L <= U(y)), and lowers y's length there. The level by level
/// search takes a step only from a cell's first length; a lane relaxed from a queue may have
/// taken one from a length that later lowered (which y's window may not take). So each lane is
/// checked: every length L > 0 of it must be one more than a neighbour's. A lane that passes
/// holds FrontBatch's bare lengths (by induction on L: a cell at L here has a neighbour at L - 1,
/// which the level by level search reached then, and L fits its window, so the search reaches
/// it at L, not earlier; and a cell the search reaches at L, from one at L - 1, is at L here, no
/// higher as its window takes L, no lower as it would then be reached lower) and is *settled*:
/// its row is written here, and its climbs (a step from a cell at L - 1 to a neighbour of the
/// piece above K0 + L, which starts a pair that is not bare) are listed for
/// FrontBatch::run_climbs, the earliest per cell and source (a later one offers the same height,
/// which the first leaves no room for). Lanes that fail, and every lane that reaches a cell at
/// cap - 1 (whose lengths past the cap are not known), are left to FrontBatch::run.
class LaneFronts {
 public:
  /// The largest cap: the lengths and one step more fit 16 signed bits.
  static constexpr int kMaxCap = LaneLengths::kMaxCap;

  /// A source's first climb onto a cell: at `length`, onto padded cell `cell`, source bit `bit`.
  struct Climb {
    uint32_t length = 0;
    uint32_t cell = 0;
    uint32_t bit = 0;
  };

  /// Room for a tile of `cells` padded cells (every cell outside a run has no window).
  void reserve(size_t cells) {
    if (lanes_.size() >= cells) return;
    lanes_.resize(cells);
    queued_.assign(cells, 0);
    top_.assign(cells, -1);
    bottom_.assign(cells, 0);
    queue_.reserve(cells);
    climbs_.reserve(cells + 64);  // run() stops listing past `most_climbs` (cells) + 8
  }

  /// Writes row sources[b] of `matrix` (k x k) for each lane b it settles and returns the bits
  /// of the others (every source's when its climbs pass `most_climbs`); `until` is the greatest
  /// length in the written rows (kNoLength where one of them misses a target). `members` are
  /// the piece's cells.
  uint64_t run(const EpsilonTile& t, std::span<const uint32_t> members,
               const std::vector<size_t>& cells, std::span<const uint32_t> sources, int16_t cap,
               size_t most_climbs, std::vector<uint32_t>& matrix, uint32_t& until) {
    const int64_t k0 = t.key[cells[sources[0]]];
    cap_ = cap;
    const Word top = Word{} + cap;
    for (uint32_t c : members) {
      for (Word& w : lanes_[c].word) w = top;
      top_[c] = static_cast<int16_t>(std::clamp<int64_t>(t.bound[c] - k0, -1, cap));
      bottom_[c] = static_cast<int16_t>(std::clamp<int64_t>(t.key[c] - k0, 0, cap + 1));
    }
    relax_all(t, members.size(), cells, sources);
    const uint64_t all = sources.size() == 64 ? ~uint64_t{0} : (uint64_t{1} << sources.size()) - 1;
    uint64_t left = unsupported(t, members) & all;
    climbs_.clear();
    if (!list_climbs(t, members, all & ~left, most_climbs)) {
      climbs_.clear();
      left = all;
    }
    for (uint32_t c : members) top_[c] = -1;
    write_rows(cells, sources, left, matrix, until);
    return left;
  }

  /// The settled sources' first climbs, by length (after run()).
  std::span<const Climb> climbs() const { return climbs_; }
  /// The bits of the lanes that reach padded cell c (of the piece of the last run) at a length
  /// of at most `length`.
  uint64_t reached_by(size_t c, uint32_t length) const {
    // cap_ is a lane not reached (a settled lane is below cap_ - 1 where it reaches).
    const Word most = Word{} + static_cast<int16_t>(std::min<uint32_t>(length, cap_ - 1));
    uint64_t bits = 0;
    for (size_t w = 0; w < kWords; ++w) {
      const Word in = lanes_[c].word[w] <= most;
      if (any(in)) bits |= bits_of(in, w);
    }
    return bits;
  }

 private:
  using Word = LaneLengths::Word;
  using Lanes = LaneLengths;
  static constexpr size_t kPerWord = LaneLengths::kPerWord;
  static constexpr size_t kWords = LaneLengths::kWords;
  static bool any(Word w) { return LaneLengths::any(w); }

  /// Relaxes from the sources until no length lowers (relax_from_queue), a step onto a cell
  /// where its window takes it.
  void relax_all(const EpsilonTile& t, size_t size, const std::vector<size_t>& cells,
                 std::span<const uint32_t> sources) {
    size_t source_cells[LaneLengths::kLanes];
    for (size_t b = 0; b < sources.size(); ++b) source_cells[b] = cells[sources[b]];
    relax_from_queue(
        lanes_, queued_, queue_, size, std::span<const size_t>(source_cells, sources.size()),
        t.offset, cap_, [&](size_t j, const LaneLengths& step) {
          const int16_t most = top_[j];
          if (most <= 0) return false;  // not of the piece, or no length above 0 fits
          return bottom_[j] <= 1 && most >= cap_ ? lanes_[j].relax(step)
                                                 : lanes_[j].relax_within(step, bottom_[j], most);
        });
  }

  /// The bits of the lanes with a length L, 0 < L < cap, that no neighbour's L - 1 gives, or
  /// at cap - 1.
  uint64_t unsupported(const EpsilonTile& t, std::span<const uint32_t> members) const {
    const Word top = Word{} + cap_;
    const Word last = Word{} + static_cast<int16_t>(cap_ - 1);
    const Word zero = {};
    uint64_t bits = 0;
    for (uint32_t c : members) {
      if (top_[c] <= 0) continue;  // no length above 0 fits it: never reached
      const Lanes& own = lanes_[c];
      for (size_t w = 0; w < kWords; ++w) {
        const Word need = own.word[w] - 1;
        Word found = (own.word[w] == zero) | (own.word[w] == top);
        for (ptrdiff_t o : t.offset) {
          const auto j = static_cast<size_t>(static_cast<ptrdiff_t>(c) + o);
          if (top_[j] > 0) found |= lanes_[j].word[w] == need;
        }
        const Word bad = ~found | (own.word[w] == last);
        if (any(bad)) bits |= bits_of(bad, w);
      }
    }
    return bits;
  }

  /// Lists the first climb per cell and settled lane (bits `settled`), sorted by length; false
  /// where they pass `most`.
  bool list_climbs(const EpsilonTile& t, std::span<const uint32_t> members, uint64_t settled,
                   size_t most) {
    if (settled == 0) return true;
    const Word never = Word{} + std::numeric_limits<int16_t>::max();
    for (uint32_t j : members) {
      if (bottom_[j] < 2) continue;  // every step onto it is at a length of 1 or more
      const Word below = Word{} + static_cast<int16_t>(bottom_[j] - 1);
      for (size_t w = 0; w < kWords; ++w) {
        Word first = never;
        for (ptrdiff_t o : t.offset) {
          const auto c = static_cast<size_t>(static_cast<ptrdiff_t>(j) + o);
          if (top_[c] <= 0) continue;
          const Word from = lanes_[c].word[w];
          first = (from < below) & (from < first) ? from : first;
        }
        const uint64_t bits = bits_of(first != never, w) & settled;
        if (bits == 0) continue;
        for (uint64_t b = bits; b != 0; b &= b - 1) {
          const auto bit = static_cast<uint32_t>(std::countr_zero(b));
          climbs_.push_back({static_cast<uint32_t>(first[bit % kPerWord]) + 1, j, bit});
        }
        if (climbs_.size() > most) return false;
      }
    }
    // In place (no buffer); the order of one length's climbs changes nothing (offers keep the
    // least height).
    std::sort(climbs_.begin(), climbs_.end(),
              [](const Climb& a, const Climb& b) { return a.length < b.length; });
    return true;
  }

  void write_rows(const std::vector<size_t>& cells, std::span<const uint32_t> sources,
                  uint64_t left, std::vector<uint32_t>& matrix, uint32_t& until) const {
    const size_t k = cells.size();
    until = 0;
    for (size_t b = 0; b < sources.size(); ++b) {
      if ((left >> b & 1) != 0) continue;
      uint32_t* row = matrix.data() + sources[b] * k;
      for (size_t j = 0; j < k; ++j) {
        const int16_t length = lanes_[cells[j]].lane(b);
        row[j] = length >= cap_ ? kNoLength : static_cast<uint32_t>(length);
        until = std::max(until, row[j]);
      }
    }
  }

  int16_t cap_ = kMaxCap;
  std::vector<Lanes> lanes_;
  std::vector<uint8_t> queued_;
  std::vector<int16_t> top_;     ///< per cell: the greatest length its window takes (cap at most)
  std::vector<int16_t> bottom_;  ///< per cell: the least (0 at least, cap + 1 at most)
  std::vector<uint32_t> queue_;
  std::vector<Climb> climbs_;
};

/// The fronts from up to 64 perimeter cells of a piece that have one key K0, a bit each, level
/// by level in the length L. A front's pair (L, H) is taken with H at least K0 + L (which changes
/// nothing for an entry at v >= K0); a step to y makes (L + 1, max(H + 1, K(y))), kept only where
/// it is at most U(y) (an entry at K0 arrives at H, and no least path arrives above U) and its H
/// is below that of every pair of the same source there with a length no greater.
///
/// A *bare* pair (H = K0 + L: entered at v, it arrives at v + L) enters y only where K(y) <= K0 +
/// L <= U(y), which does not depend on the source: the bare pairs are breadth-first searches that
/// share their levels (Then et al. 2014's multi-source search, as flowdir's flats), and a
/// target's first bare pair is the least bare length its row holds. A step that climbs (K(y) >
/// K0 + L) starts a pair that is not bare, and a pair that is not bare stays so; those (from a
/// lake's free banks) are followed per source beside the levels of the bare search, dropped
/// where the source's bare search has reached the cell at a length no greater (its bare pair
/// there is lower).
class FrontBatch {
 public:
  /// Sizes the per-cell words for tiles of up to `cells` cells (with their ring), once per thread.
  void reserve(size_t cells) {
    if (seen_.size() >= cells) return;
    seen_.assign(cells, 0);
    now_.assign(cells, 0);
    next_.assign(cells, 0);
    has_best_.assign(cells, 0);
    offered_.assign(cells, 0);
    window_.assign(cells, kNoWindow);
    // Left unset: only its words where has_best_ says so are read, and the pages of the cells no
    // pair that is not bare reaches are never touched.
    best_ = std::make_unique_for_overwrite<uint32_t[]>(cells * 64);
  }

  /// Row sources[b] of `matrix` (k x k) for each source b, and the pairs that are not bare,
  /// tagged with their row. The levels go on while a source misses a target: past a source's
  /// last target, its bare search has reached every target, which drops its pairs there, so a
  /// source's pairs do not depend on the other sources of its batch.
  void run(const EpsilonTile& t, const Pieces& p, int32_t piece, const std::vector<int32_t>& slot,
           const std::vector<size_t>& cells, std::span<const uint32_t> sources,
           std::vector<uint32_t>& matrix, std::vector<std::pair<uint32_t, Pair>>& pairs) {
    k_ = cells.size();
    k0_ = t.key[cells[sources[0]]];
    missing_ = sources.size() * (k_ - 1);
    set_windows(t, p.cells_of(piece));
    touched_.clear();
    level_.clear();
    steep_.clear();
    for (size_t b = 0; b < sources.size(); ++b) {
      const size_t c = cells[sources[b]];
      seen_[c] |= uint64_t{1} << b;
      now_[c] |= uint64_t{1} << b;
      touched_.push_back(static_cast<uint32_t>(c));
      level_.push_back(static_cast<uint32_t>(c));
      matrix[sources[b] * k_ + sources[b]] = 0;
    }
    for (uint32_t length = 1; missing_ > 0 && (!level_.empty() || !steep_.empty()); ++length) {
      bare_level(t, slot, sources, length, matrix);
      steep_level(t, p, piece);
      commit_steep(slot, sources, length, pairs, [&](size_t c) { return seen_[c]; });
    }
    for (uint32_t c : p.cells_of(piece)) window_[c] = kNoWindow;
    for (uint32_t c : touched_) seen_[c] = now_[c] = next_[c] = 0;
    for (uint32_t c : best_cells_) has_best_[c] = 0;
    best_cells_.clear();
  }

  /// The pairs that are not bare of the sources `lanes` settled (bits of `sources`), tagged with
  /// their row, as run() finds them: level by level to length `until` (the greatest length of
  /// their rows, kNoLength where a target is missed), but with the bare levels taken from
  /// `lanes` (its climbs, and the lengths at which each cell is reached) instead of searched.
  void run_climbs(const EpsilonTile& t, const Pieces& p, int32_t piece,
                  const std::vector<int32_t>& slot, const std::vector<size_t>& cells,
                  std::span<const uint32_t> sources, uint32_t until, const LaneFronts& lanes,
                  std::vector<std::pair<uint32_t, Pair>>& pairs) {
    k0_ = t.key[cells[sources[0]]];
    steep_.clear();
    const std::span<const LaneFronts::Climb> climbs = lanes.climbs();
    size_t next = 0;
    for (uint32_t length = 1; length <= until && (next < climbs.size() || !steep_.empty());
         ++length) {
      for (; next < climbs.size() && climbs[next].length == length; ++next)
        offer(climbs[next].cell, climbs[next].bit, t.key[climbs[next].cell]);
      steep_level(t, p, piece);
      commit_steep(slot, sources, length, pairs,
                   [&](size_t c) { return lanes.reached_by(c, length); });
    }
    for (uint32_t c : best_cells_) has_best_[c] = 0;
    best_cells_.clear();
  }

 private:
  /// The lengths from first to last at which a cell takes a bare pair.
  struct Window {
    int32_t first = 0;
    int32_t last = 0;
  };
  /// A cell of no piece, or of another: no length.
  static constexpr Window kNoWindow{std::numeric_limits<int32_t>::max(),
                                    std::numeric_limits<int32_t>::min()};
  /// A pair that is not bare, of source bit `bit`, at `cell`.
  struct Steep {
    uint32_t cell = 0;
    uint32_t bit = 0;
    int64_t height = 0;
  };

  /// The bare searches' level `length`; climbs start pairs that are not bare (offer()).
  void bare_level(const EpsilonTile& t, const std::vector<int32_t>& slot,
                  std::span<const uint32_t> sources, uint32_t length,
                  std::vector<uint32_t>& matrix) {
    after_.clear();
    const int64_t at = length;
    const Window* window = window_.data();
    uint64_t* seen = seen_.data();
    uint64_t* next = next_.data();
    for (uint32_t c : level_) {
      const uint64_t from = now_[c];
      now_[c] = 0;
      for (ptrdiff_t o : t.offset) {
        const auto j = static_cast<size_t>(static_cast<ptrdiff_t>(c) + o);
        const Window w = window[j];
        if (at > w.last) continue;  // not of the piece, or past its bound
        if (at < w.first) {         // a climb: K(j) > K0 + length
          for (uint64_t bits = from; bits != 0; bits &= bits - 1)
            offer(j, static_cast<uint32_t>(std::countr_zero(bits)), t.key[j]);
          continue;
        }
        const uint64_t fresh = from & ~seen[j];
        if (fresh == 0) continue;
        if (seen[j] == 0) touched_.push_back(static_cast<uint32_t>(j));
        if (next[j] == 0) after_.push_back(static_cast<uint32_t>(j));
        seen[j] |= fresh;
        next[j] |= fresh;
        if (slot[j] < 0) continue;
        for (uint64_t bits = fresh; bits != 0; bits &= bits - 1) {
          const size_t row = sources[static_cast<size_t>(std::countr_zero(bits))];
          matrix[row * k_ + static_cast<size_t>(slot[j])] = length;
          --missing_;
        }
      }
    }
    std::swap(now_, next_);
    std::swap(level_, after_);
  }

  /// The lengths at which each cell of the piece (`members`) takes a bare pair of this batch
  /// (K(j) <= K0 + length <= U(j)), as K(j) - K0 and U(j) - K0 clamped to 32 bits (lengths are
  /// far below their limits); cells of other pieces and of the ring keep kNoWindow: they take
  /// none, nor climb.
  void set_windows(const EpsilonTile& t, std::span<const uint32_t> members) {
    constexpr int64_t low = std::numeric_limits<int32_t>::min();
    constexpr int64_t high = std::numeric_limits<int32_t>::max();
    const auto clamp = [&](int64_t v) { return static_cast<int32_t>(std::clamp(v, low, high)); };
    for (uint32_t j : members) window_[j] = {clamp(t.key[j] - k0_), clamp(t.bound[j] - k0_)};
  }

  /// The pairs that are not bare, one step on to this level (offer()).
  void steep_level(const EpsilonTile& t, const Pieces& p, int32_t piece) {
    for (const Steep& s : steep_)
      for (ptrdiff_t o : t.offset) {
        const auto j = static_cast<size_t>(static_cast<ptrdiff_t>(s.cell) + o);
        if (p.label[j] != piece) continue;
        const int64_t h = std::max(s.height + 1, t.key[j]);
        if (h <= t.bound[j]) offer(j, s.bit, h);
      }
  }

  /// Offers a pair that is not bare at cell j for source `bit` at this level: kept in best_ (and
  /// listed for commit_steep()) where it is below every pair of that source there so far.
  void offer(size_t j, uint32_t bit, int64_t height) {
    const uint64_t mask = uint64_t{1} << bit;
    // height > K0 + length >= K0, and both are keys of Float32 values: the difference fits.
    const auto above = static_cast<uint32_t>(height - k0_);
    uint32_t& best = best_[j * 64 + bit];
    if ((has_best_[j] & mask) != 0 && best <= above) return;
    if (has_best_[j] == 0) best_cells_.push_back(static_cast<uint32_t>(j));
    has_best_[j] |= mask;
    best = above;
    if (offered_[j] == 0) offered_cells_.push_back(static_cast<uint32_t>(j));
    offered_[j] |= mask;
  }

  /// This level's pairs that are not bare, where the source's bare search has not reached the
  /// cell at a length no greater, become the next level's; those at targets are recorded, by
  /// cell and source (the same order on every run).
  template <class Reached>
  void commit_steep(const std::vector<int32_t>& slot, std::span<const uint32_t> sources,
                    uint32_t length, std::vector<std::pair<uint32_t, Pair>>& pairs,
                    Reached reached) {
    steep_.clear();
    at_slots_.clear();
    for (uint32_t c : offered_cells_) {
      const uint64_t bits = offered_[c] & ~reached(c);
      offered_[c] = 0;
      if (bits == 0) continue;
      if (slot[c] >= 0) at_slots_.emplace_back(c, bits);
      for (uint64_t b = bits; b != 0; b &= b - 1) {
        const auto bit = static_cast<uint32_t>(std::countr_zero(b));
        steep_.push_back({c, bit, k0_ + best_[size_t{c} * 64 + bit]});
      }
    }
    offered_cells_.clear();
    std::sort(at_slots_.begin(), at_slots_.end());
    for (const auto& [c, bits] : at_slots_)
      for (uint64_t b = bits; b != 0; b &= b - 1) {
        const auto bit = static_cast<uint32_t>(std::countr_zero(b));
        pairs.push_back(
            {sources[bit],
             {static_cast<uint32_t>(slot[c]), length, k0_ + best_[size_t{c} * 64 + bit]}});
      }
  }

  size_t k_ = 0;
  int64_t k0_ = 0;
  size_t missing_ = 0;
  std::vector<uint64_t> seen_, now_, next_;
  std::vector<uint32_t> touched_, level_, after_;
  std::vector<Window> window_;
  std::vector<Steep> steep_;
  std::vector<uint64_t> has_best_, offered_;
  std::unique_ptr<uint32_t[]> best_;
  std::vector<uint32_t> best_cells_, offered_cells_;
  std::vector<std::pair<uint32_t, uint64_t>> at_slots_;
};

/// The rows of the sources of a batch (one key K0; `sources` index `cells`) that Chebyshev's
/// distance gives, written to `matrix`, and their bits.
/// A source's row is Chebyshev's distance to each target where every cell y of the piece fits
/// its window at Chebyshev's distance from the source (K(y) - K0 <= cheb <= U(y) - K0) and a
/// straight path inside the piece (`straight`) joins it to every target: the level by level
/// search reaches each cell of such a path at its Chebyshev distance (never earlier), and never
/// climbs (no length of it is below Chebyshev's, nor so below any bottom).
uint64_t chebyshev_rows(const EpsilonTile& t, std::span<const uint32_t> members,
                        const std::vector<size_t>& cells, std::span<const uint32_t> sources,
                        const StraightPaths& straight, std::vector<uint32_t>& matrix) {
  const auto stride = static_cast<int64_t>(t.stride);
  if (stride > 32767 || t.height + 2 > 32767) return 0;  // coordinates in 16 bits
  const int64_t k0 = t.key[cells[sources[0]]];
  Word16 sx[8], sy[8];
  for (size_t b = 0; b < 64; ++b) {
    const auto c = static_cast<int64_t>(cells[sources[std::min(b, sources.size() - 1)]]);
    sx[b / 8][b % 8] = static_cast<int16_t>(c % stride);
    sy[b / 8][b % 8] = static_cast<int16_t>(c / stride);
  }
  const auto clamp16 = [](int64_t v) {
    return static_cast<int16_t>(std::clamp<int64_t>(v, -1, 32767));
  };
  Word16 bad[8] = {};
  for (size_t i = 0; i < members.size(); ++i) {
    const auto y = static_cast<int64_t>(members[i]);
    const Word16 x = Word16{} + static_cast<int16_t>(y % stride);
    const Word16 row = Word16{} + static_cast<int16_t>(y / stride);
    const Word16 low = Word16{} + clamp16(t.key[static_cast<size_t>(y)] - k0);
    const Word16 high = Word16{} + clamp16(t.bound[static_cast<size_t>(y)] - k0);
    for (size_t w = 0; w < 8; ++w) {
      const Word16 dx = sx[w] > x ? sx[w] - x : x - sx[w];
      const Word16 dy = sy[w] > row ? sy[w] - row : row - sy[w];
      const Word16 d = dx > dy ? dx : dy;
      bad[w] |= (d < low) | (d > high);
    }
  }
  uint64_t open = sources.size() == 64 ? ~uint64_t{0} : (uint64_t{1} << sources.size()) - 1;
  for (size_t w = 0; w < 8; ++w) open &= ~bits_of(bad[w], w);
  const size_t k = cells.size();
  for (uint64_t b = open; b != 0; b &= b - 1) {
    const auto bit = static_cast<size_t>(std::countr_zero(b));
    const size_t source = cells[sources[bit]];
    for (size_t j = 0; j < k; ++j)
      if (!straight.straight(source, cells[j])) {
        open &= ~(uint64_t{1} << bit);
        break;
      }
  }
  for (uint64_t b = open; b != 0; b &= b - 1) {
    const auto bit = static_cast<size_t>(std::countr_zero(b));
    const auto source = static_cast<int64_t>(cells[sources[bit]]);
    uint32_t* row = matrix.data() + size_t{sources[bit]} * k;
    for (size_t j = 0; j < k; ++j) {
      const auto c = static_cast<int64_t>(cells[j]);
      row[j] = static_cast<uint32_t>(
          std::max(std::abs(c % stride - source % stride), std::abs(c / stride - source / stride)));
    }
  }
  return open;
}

/// The fronts of one batch of a piece's perimeter cells (`batch`, of one key, indices into
/// `cells`): the rows of `matrix` and the pairs that climb that FrontBatch::run would give the
/// batch, from Chebyshev's distance where chebyshev_rows() vouches for it, else from LaneFronts
/// (with `how.lane_cap`), else level by level. Each source's pairs are its own (FrontBatch::run),
/// whichever sources share its search.
void batch_fronts(const EpsilonTile& t, const Pieces& p, int32_t piece,
                  const std::vector<int32_t>& slot, const std::vector<size_t>& cells,
                  std::span<const uint32_t> batch, const EpsilonSearch& how,
                  const StraightPaths& straight, std::vector<uint32_t>& matrix,
                  std::vector<std::pair<uint32_t, Pair>>& pairs) {
  thread_local FrontBatch batches;
  batches.reserve(t.key.size());
  thread_local LaneFronts lanes;
  lanes.reserve(t.key.size());
  thread_local std::vector<uint32_t> rest, left;
  const std::span<const uint32_t> members = p.cells_of(piece);
  const uint64_t done =
      how.straight_paths ? chebyshev_rows(t, members, cells, batch, straight, matrix) : 0;
  rest.clear();
  for (size_t b = 0; b < batch.size(); ++b)
    if ((done >> b & 1) == 0) rest.push_back(batch[b]);
  if (rest.empty()) return;
  if (how.lane_cap == 0) {
    batches.run(t, p, piece, slot, cells, rest, matrix, pairs);
    return;
  }
  uint32_t until = 0;
  const uint64_t bits = lanes.run(t, members, cells, rest, static_cast<int16_t>(how.lane_cap),
                                  t.key.size(), matrix, until);
  if (bits != 0) {
    left.clear();
    for (size_t b = 0; b < rest.size(); ++b)
      if ((bits >> b & 1) != 0) left.push_back(rest[b]);
    batches.run(t, p, piece, slot, cells, left, matrix, pairs);
  }
  if (!lanes.climbs().empty())
    batches.run_climbs(t, p, piece, slot, cells, rest, until, lanes, pairs);
}

/// The fronts of a piece's k perimeter cells (`cells`) to each other: each source's least bare
/// length to each of them in row `source` of `matrix` (k x k, kNoLength where none), and its
/// other pairs tagged with its row. Sources of one key are searched 64 at a time (batch_fronts).
void piece_fronts(const EpsilonTile& t, const Pieces& p, int32_t piece,
                  const std::vector<int32_t>& slot, const std::vector<size_t>& cells,
                  const EpsilonSearch& how, const StraightPaths& straight,
                  std::vector<uint32_t>& matrix, std::vector<std::pair<uint32_t, Pair>>& pairs) {
  const size_t k = cells.size();
  matrix.assign(k * k, kNoLength);
  pairs.clear();
  thread_local std::vector<uint32_t> order;
  order.resize(k);
  for (size_t s = 0; s < k; ++s) order[s] = static_cast<uint32_t>(s);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return t.key[cells[a]] < t.key[cells[b]]; });
  for (size_t first = 0; first < k;) {
    size_t last = first + 1;
    while (last < k && last - first < 64 && t.key[cells[order[last]]] == t.key[cells[order[first]]])
      ++last;
    batch_fronts(t, p, piece, slot, cells,
                 std::span<const uint32_t>(order.data() + first, last - first), how, straight,
                 matrix, pairs);
    first = last;
  }
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
}

/// Writes one piece: its perimeter places, their keys and least arrivals from the tile's fixed
/// cells, and its fronts (rows of bare lengths, run-coded; the other pairs by row).
void put_piece(ByteWriter& out, const EpsilonTile& t, const Pieces& p, int32_t piece,
               const std::vector<int64_t>& arrival, const EpsilonSearch& how,
               const StraightPaths& straight, std::vector<int32_t>& slot) {
  const auto& places = p.places[static_cast<size_t>(piece)];
  const size_t k = places.size();
  std::vector<size_t> cells;
  std::vector<int64_t> keys, arrivals;
  for (size_t s = 0; s < k; ++s) {
    const auto [x, y] = PerimeterNodes::place_cell(places[s], t.width, t.height);
    cells.push_back(t.at(x, y));
    keys.push_back(t.key[cells.back()]);
    arrivals.push_back(arrival[cells.back()]);
    slot[cells.back()] = static_cast<int32_t>(s);
  }
  thread_local std::vector<uint32_t> matrix;
  thread_local std::vector<std::pair<uint32_t, Pair>> tagged;
  piece_fronts(t, p, piece, slot, cells, how, straight, matrix, tagged);
  for (size_t c : cells) slot[c] = -1;
  DistanceRows rows;
  std::vector<Pair> pairs;
  std::vector<uint32_t> pair_row{0};
  size_t e = 0;
  for (size_t i = 0; i < k; ++i) {
    rows.add_row(std::span<const uint32_t>(matrix.data() + i * k, k));
    for (; e < tagged.size() && tagged[e].first == i; ++e) pairs.push_back(tagged[e].second);
    pair_row.push_back(static_cast<uint32_t>(pairs.size()));
  }
  out.put_all(std::span<const int32_t>(places));
  out.put_all(std::span<const int64_t>(keys));
  out.put_all(std::span<const int64_t>(arrivals));
  out.put_all(std::span<const uint8_t>(rows.runs));
  out.put_all(std::span<const uint32_t>(rows.escapes));
  out.put_all(std::span<const uint32_t>(rows.row_run));
  out.put_all(std::span<const uint32_t>(rows.row_escape));
  out.put_all(std::span<const uint32_t>(pair_row));
  out.put_all(std::span<const Pair>(pairs));
}

/// Phase 1: each piece of free cells that reaches the tile's perimeter (PieceSummary's fields).
Bytes epsilon_summary(const EpsilonTile& t, const EpsilonSearch& how) {
  ByteWriter out;
  if (t.free_cells == 0) {
    out.put<int32_t>(0);
    return out.take();
  }
  thread_local Pieces pieces;
  label_pieces(t, pieces);
  out.put(static_cast<int32_t>(pieces.places.size()));
  if (pieces.places.empty()) return out.take();
  thread_local std::vector<int64_t> arrival;
  fixed_seeds(t, arrival);
  spread(t, arrival);
  thread_local std::vector<int32_t> slot;
  slot.assign(t.key.size(), -1);
  thread_local StraightPaths straight;
  if (how.straight_paths) straight.build(t.stride, t.height + 2, pieces.label);
  for (size_t l = 0; l < pieces.places.size(); ++l)
    put_piece(out, t, pieces, static_cast<int32_t>(l), arrival, how, straight, slot);
  return out.take();
}

/// One piece as rank 0 reads it: its fields where they lie in its tile's summary.
struct PieceSummary {
  int64_t tile = 0;
  Packed<int32_t> places;
  Packed<int64_t> keys, arrivals;
  std::span<const uint8_t> runs;
  Packed<uint32_t> escapes, row_run, row_escape, pair_row;
  Packed<Pair> pairs;
};

/// Where one piece lies in its tile's summary (16 bytes a piece: rank 0 reads its fields there
/// each time it takes them, and holds no copy of them).
struct PieceAt {
  const std::byte* at = nullptr;  ///< its first field
  uint32_t size = 0;              ///< its bytes
  uint32_t tile = 0;
};

/// Reads the piece at the start of `r` in place and moves `r` past it.
PieceSummary read_piece(ByteReader& r, int64_t tile) {
  PieceSummary p;
  p.tile = tile;
  p.places = r.view<int32_t>();
  p.keys = r.view<int64_t>();
  p.arrivals = r.view<int64_t>();
  p.runs = r.view_all();
  p.escapes = r.view<uint32_t>();
  p.row_run = r.view<uint32_t>();
  p.row_escape = r.view<uint32_t>();
  p.pair_row = r.view<uint32_t>();
  p.pairs = r.view<Pair>();
  const size_t k = p.places.size();
  if (p.keys.size() != k || p.arrivals.size() != k || p.row_run.size() != k ||
      p.row_escape.size() != k || p.pair_row.size() != k + 1)
    throw Error("internal error: a piece of a tile summary does not hold its perimeter cells");
  return p;
}

/// The global solve: Dijkstra over every tile's free perimeter cells, from their arrivals; a step
/// across a tile's edge gives max(K, v + 1), a front inside a tile the least of max(v + L, H).
/// The summaries are read in place (they must outlive the graph); per perimeter cell of any
/// tile it holds its piece and slot, its key and its place in the queue.
class EpsilonGraph {
 public:
  EpsilonGraph(const TileGrid& grid, const Summaries& tiles) : grid_(grid), nodes_(grid) {
    piece_of_.assign(static_cast<size_t>(nodes_.count()), -1);
    slot_of_.assign(static_cast<size_t>(nodes_.count()), -1);
    for (int64_t t = 0; t < grid.count(); ++t) read_tile(t, tiles[static_cast<size_t>(t)]);
  }

  Bytes solve() const {
    const std::vector<int64_t> key = keys();
    ByteWriter out;
    out.put_all(std::span<const int64_t>(key));
    return out.take();
  }

 private:
  /// Each node's least key (kNone for a node that is no free cell).
  std::vector<int64_t> keys() const {
    std::vector<int64_t> key(static_cast<size_t>(nodes_.count()), kNone);
    NodeQueue<int64_t> queue(key);
    const auto lower = [&](int64_t n, int64_t v) {
      if (v < key[static_cast<size_t>(n)]) {
        key[static_cast<size_t>(n)] = v;
        queue.lowered(static_cast<uint32_t>(n));
      }
    };
    for (size_t q = 0; q < pieces_.size(); ++q) {
      const PieceSummary p = piece(q);
      for (size_t s = 0; s < p.places.size(); ++s)
        if (p.arrivals[s] != kNone) lower(nodes_.first(p.tile) + p.places[s], p.arrivals[s]);
    }
    while (!queue.empty()) {
      const uint32_t n = queue.pop();
      const int64_t v = key[n];
      const PieceSummary p = piece(static_cast<size_t>(piece_of_[n]));
      const auto s = static_cast<size_t>(slot_of_[n]);
      across_tiles(p, s, [&](int64_t m, int64_t k) { lower(m, std::max(k, v + 1)); });
      const int64_t first = nodes_.first(p.tile);
      each_in_row(p.runs, p.escapes, p.row_run[s], p.row_escape[s], p.places.size(),
                  [&](size_t j, uint32_t length) {
                    if (length != kNoLength) lower(first + p.places[j], v + length);
                  });
      for (size_t e = p.pair_row[s]; e < p.pair_row[s + 1]; ++e) {
        const Pair pair = p.pairs[e];
        lower(first + p.places[pair.slot], std::max(v + pair.length, pair.height));
      }
    }
    return key;
  }

  void read_tile(int64_t t, std::span<const std::byte> bytes) {
    ByteReader r(bytes);
    const auto count = r.get<int32_t>();
    for (int32_t l = 0; l < count; ++l) {
      const std::byte* at = r.here();
      const PieceSummary p = read_piece(r, t);
      const auto index = static_cast<int32_t>(pieces_.size());
      for (size_t s = 0; s < p.places.size(); ++s) {
        const auto n = static_cast<size_t>(nodes_.first(t) + p.places[s]);
        piece_of_[n] = index;
        slot_of_[n] = static_cast<int32_t>(s);
      }
      pieces_.push_back({at, static_cast<uint32_t>(r.here() - at), static_cast<uint32_t>(t)});
    }
  }

  PieceSummary piece(size_t q) const {
    ByteReader r(std::span<const std::byte>(pieces_[q].at, pieces_[q].size));
    return read_piece(r, pieces_[q].tile);
  }

  /// Calls f(node, key) for each free cell of another tile beside slot s of piece p.
  template <class F>
  void across_tiles(const PieceSummary& p, size_t s, F f) const {
    const Window w = grid_.owned(p.tile);
    const auto [x, y] = PerimeterNodes::place_cell(p.places[s], w.width, w.height);
    for (int k = 0; k < 8; ++k) {
      const int64_t nx = x + kD8Dx[k];
      const int64_t ny = y + kD8Dy[k];
      if (nx >= 0 && ny >= 0 && nx < w.width && ny < w.height) continue;
      const int64_t gx = w.x + nx;
      const int64_t gy = w.y + ny;
      if (gx < 0 || gy < 0 || gx >= grid_.raster().width || gy >= grid_.raster().height) continue;
      const int64_t m = nodes_.node(gx, gy);
      const int32_t q = piece_of_[static_cast<size_t>(m)];
      if (q < 0) continue;
      f(m,
        piece(static_cast<size_t>(q)).keys[static_cast<size_t>(slot_of_[static_cast<size_t>(m)])]);
    }
  }

  TileGrid grid_;
  PerimeterNodes nodes_;
  std::vector<PieceAt> pieces_;
  std::vector<int32_t> piece_of_;  ///< per node: its piece, or -1 (not a free cell)
  std::vector<int32_t> slot_of_;   ///< per node: its place among its piece's perimeter cells
};

/// Phase 2: the tile's free cells by Dijkstra from its fixed cells and its perimeter's solved
/// keys, written as Float32; refuses a key past the largest finite Float32, a raised cell on the
/// nodata value and a free cell nothing reaches.
class FinishEpsilon : public Op {
 public:
  FinishEpsilon(std::optional<double> nodata, TileGrid grid, std::shared_ptr<const Bytes> solution)
      : nodata_(nodata), grid_(grid), nodes_(grid) {
    ByteReader r(*solution);
    key_ = r.get_all<int64_t>();
  }
  int64_t halo() const override { return 2; }
  PixelType output_type() const override { return PixelType::Float32; }
  std::optional<double> output_nodata() const override { return nodata_; }
  CellType input_cells(PixelType) const override { return CellType::Float32; }
  void run(const TileIn& in, const TileOut& out) const override {
    thread_local EpsilonTile t;
    TileReader(in).read(t);
    thread_local std::vector<int64_t> best;
    fixed_seeds(t, best);
    const int64_t first = nodes_.first(tile_of(grid_, in.owned));
    const int64_t count = perimeter_count(t.width, t.height);
    for (int64_t p = 0; p < count && t.free_cells > 0; ++p) {
      const auto [x, y] = PerimeterNodes::place_cell(p, t.width, t.height);
      const size_t i = t.at(x, y);
      if (t.kind[i] == Kind::Free)
        best[i] = std::min(best[i], key_[static_cast<size_t>(first + p)]);
    }
    spread(t, best);
    const View<float> cells = out.bands.at(0).as<float>();
    const float none = nodata_ ? static_cast<float>(*nodata_) : 0.0f;
    for (int64_t y = 0; y < t.height; ++y)
      for (int64_t x = 0; x < t.width; ++x) {
        const size_t i = t.at(x, y);
        cells(x, y) = t.kind[i] == Kind::Outside ? none : value(in, t, best, x, y);
      }
  }

 private:
  float value(const TileIn& in, const EpsilonTile& t, const std::vector<int64_t>& best, int64_t x,
              int64_t y) const {
    const size_t i = t.at(x, y);
    const int64_t key = t.kind[i] == Kind::Fixed ? t.key[i] : best[i];
    if (key == kNone)
      throw Error("fill_epsilon: " + cell_text(in, x, y) +
                  " is reached from no outlet through the cells its bound frees; the bound does "
                  "not belong to this surface");
    if (t.key[i] > kLargestKey)
      throw Error("fill_epsilon: " + cell_text(in, x, y) +
                  " holds +infinity; a strictly draining surface needs finite heights");
    if (key > kLargestKey)
      throw Error("fill_epsilon: " + cell_text(in, x, y) +
                  " would rise past the largest finite Float32 (3.4028235e+38)");
    if (key == t.key[i]) return t.z[i];
    const float v = key_value(key);
    if (nodata_ && v == static_cast<float>(*nodata_))
      throw Error("fill_epsilon: " + cell_text(in, x, y) +
                  " would be raised onto the nodata value " + number_text(v) +
                  " and read as a void; give the surface another nodata value");
    return v;
  }

  std::optional<double> nodata_;
  TileGrid grid_;
  PerimeterNodes nodes_;
  std::vector<int64_t> key_;
};

/// Bytes of a row of bare lengths beside its first run and escape: counted as flowdir's rows
/// (kRowBytes there, received and parsed; here received only), whose codes these are.
constexpr int64_t kRowBytes = 24;
/// Perimeter cells a piece holds, at least, on average (47 on a 4096 x 4096 window of the
/// benchmark DEM): each piece's header (9 lengths and its row of pairs' end, 76 bytes) and
/// where rank 0 keeps it (16) are counted as shares of its perimeter cells'.
constexpr int64_t kPieceCells = 8;
/// A free perimeter cell's bytes in its tile's summary: its place, key and arrival (20), its
/// row's first run, first escape and their indices, and its row of pairs' start (17, counted
/// 16 + kRowBytes with the rest of the row), and its piece's header's share.
constexpr int64_t kSummaryBytes = 20 + 16 + kRowBytes + 76 / kPieceCells;

class FillEpsilonOp : public TileGraphOp {
 public:
  explicit FillEpsilonOp(std::string bound) : bound_(std::move(bound)) {}
  int64_t halo() const override { return 2; }
  PixelType output_type() const override { return PixelType::Float32; }
  std::optional<double> output_nodata() const override { return nodata_; }
  CellType input_cells(PixelType) const override { return CellType::Float32; }
  std::shared_ptr<const Op> for_source(const SourceBand& source) const override {
    auto op = std::make_shared<FillEpsilonOp>(*this);
    op->nodata_ = source.nodata;
    return op;
  }
  std::vector<BandRef> band_inputs() const override {
    BandRef ref;
    ref.name = bound_;
    ref.option = "bound";
    return {ref};
  }
  /// Per padded cell: keys, bound, values, kind (21 bytes); arrivals, piece labels, slots and
  /// the labelling's stack (20) and its list of the pieces' cells (4); the heap (16); a batch's
  /// 16-bit lengths (LaneFronts: 64 x 2; its queue, windows and marks, 9; its list of climbs, at
  /// most one a cell, 12); the straight paths' counts (16); the level by level
  /// search's three words, lists and windows (24 + 12 + 8); the pairs that climb: the least
  /// height per cell and source (64 x 4, whose pages only the cells such pairs reach touch), two
  /// words and two lists (16 + 8); and the lengths between a piece's k perimeter cells, 4 k^2
  /// bytes, k at most 4 x the side of a square tile: 64 bytes a cell, as flowdir's. A level's
  /// list of pairs that climb (16 bytes each) and the pairs a piece's summary records are not
  /// counted (docs/hydrology.md gives them as measured).
  int64_t work_bytes(int64_t cells) const override {
    return cells * (21 + 20 + 4 + 16 + 149 + 16 + 44 + 256 + 24 + 64);
  }
  /// Rank 0, counting every perimeter cell as free. The summaries as received, each held once
  /// and read in place (kSummaryBytes a perimeter cell). The solve's, per perimeter cell of every
  /// tile (24): its piece and slot, its key and the queue (each node at most once, and its
  /// place); and where each piece lies (16 bytes a piece, 4 a perimeter cell at kPieceCells).
  /// Pairs that are not bare lengths are not counted (none on the four real DEMs; on the
  /// benchmark DEM up to 47 a free perimeter cell of the tiles richest in free banks,
  /// docs/hydrology.md). Every rank: a key per perimeter cell.
  GraphMemory graph_memory(const TileGrid& grid) const override {
    const int64_t perimeter = perimeter_cells(grid);
    const int64_t summaries = perimeter * kSummaryBytes + 16 * grid.count();
    return {summaries + perimeter * (24 + 16 / kPieceCells), perimeter * 8 + 8, summaries};
  }
  Bytes summarize(const TileIn& in, const TileGrid& /*grid*/) const override {
    return fill_epsilon_summary(in);
  }
  Bytes solve(const TileGrid& grid, const Summaries& tiles) const override {
    return EpsilonGraph(grid, tiles).solve();
  }
  std::shared_ptr<const Op> with_solution(const TileGrid& grid,
                                          std::shared_ptr<const Bytes> solution) const override {
    return std::make_shared<FinishEpsilon>(nodata_, grid, std::move(solution));
  }

 private:
  std::string bound_;
  std::optional<double> nodata_;
};

}  // namespace

Bytes fill_epsilon_summary(const TileIn& in, const EpsilonSearch& how) {
  if (how.lane_cap < 0 || how.lane_cap > LaneFronts::kMaxCap)
    throw Error("internal error: fill_epsilon's lane cap " + std::to_string(how.lane_cap));
  thread_local EpsilonTile t;
  TileReader(in).read(t);
  return epsilon_summary(t, how);
}

std::unique_ptr<Op> make_fill_epsilon(const Options& options) {
  OptionReader r("fill_epsilon", options, {"bound"});
  if (!r.has("bound"))
    throw OptionError("bound",
                      "option 'bound' is required (the bound op's output for the surface)");
  std::string bound = r.text("bound", "");
  r.finish();
  return std::make_unique<FillEpsilonOp>(std::move(bound));
}

}  // namespace tessera::ops
