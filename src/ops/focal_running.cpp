// Square unweighted windows at a cost independent of the radius: running sums (mean, sum,
// count, variance, stddev) and van Herk / Gil-Werman running extremes (minimum, maximum, range).
//
// A window of width w = 2r + 1 spans at most two blocks of w cells that start at multiples of w
// in raster coordinates. Within each block the pass keeps prefix values (from the block's start)
// and suffix values (to the block's end), each combined in one fixed order; a window [a, b] is
// the prefix at b when a starts a block, the suffix at a when b ends a block or the raster, and
// suffix(a) + prefix(b) otherwise. The blocks belong to the raster, not to the tile, so a cell's
// value does not depend on where its tile starts. Columns are done first (window rows), then
// rows of those column values: about three combinations per cell and pass whatever the radius.
// At radius 1 (blocks of 3) the same combinations are written out per window (window3), in one
// pass over the columns and one along the row.
//
// Extremes are taken in the cells' total order (-0 below +0): each cell is mapped to an integer
// key whose order is that order (Key), so a window's minimum or maximum is the same bits in any
// order of combination, and eight Float32 or Int32 keys fit where four doubles did.
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "focal_kernels.hpp"
#include "simd_avx2.hpp"

namespace tessera::ops::focal_detail {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

enum class Combine { Add, Min, Max };
enum class Term { Value, Square, One };  ///< what a valid cell adds to its lane

/// One running quantity: how cells combine and what each valid cell brings.
struct Lane {
  Combine combine;
  Term term;
};

/// What a cell without a value brings to a lane of extremes' keys: the key every other beats.
/// (A sum's lane takes 0.)
template <class V>
constexpr V identity(Combine c) {
  return c == Combine::Min ? std::numeric_limits<V>::max() : std::numeric_limits<V>::lowest();
}

/// The integer whose order is the total order of a cell type's values: the value itself for
/// Int32 cells; for floating cells the bits, with those of negative values (sign set) flipped
/// below the sign, so that -0 < +0 and a larger negative value gets a smaller key. NaN cells
/// never get one (they are nodata). The mapping is its own inverse.
template <class T>
using Key = std::conditional_t<std::is_same_v<T, double>, int64_t, int32_t>;

template <class T>
[[gnu::always_inline]] inline Key<T> key_of(T v) {
  if constexpr (std::is_integral_v<T>) {
    return v;
  } else {
    const auto b = std::bit_cast<Key<T>>(v);
    return b ^ ((b >> (8 * sizeof(T) - 1)) & std::numeric_limits<Key<T>>::max());
  }
}

template <class T>
[[gnu::always_inline]] inline double value_of(Key<T> k) {
  if constexpr (std::is_integral_v<T>)
    return static_cast<double>(k);
  else
    return static_cast<double>(
        std::bit_cast<T>(k ^ ((k >> (8 * sizeof(T) - 1)) & std::numeric_limits<Key<T>>::max())));
}

template <Combine C, class V>
[[gnu::always_inline]] inline V combine(V a, V b) {
  if constexpr (C == Combine::Min) return b < a ? b : a;
  if constexpr (C == Combine::Max) return b > a ? b : a;
  return a + b;
}

/// Up to three lanes per method: [sum, count], [sum, sum of squares, count], [min, max]...
struct Lanes {
  std::array<Lane, 3> lane{};
  int n = 0;
};

Lanes lanes_of(FocalMethod m) {
  const Lane sum{Combine::Add, Term::Value}, squares{Combine::Add, Term::Square},
      count{Combine::Add, Term::One}, min{Combine::Min, Term::Value},
      max{Combine::Max, Term::Value};
  switch (m) {
    case FocalMethod::Mean:
      return {{sum, count}, 2};
    case FocalMethod::Sum:
      return {{sum}, 1};
    case FocalMethod::Count:
      return {{count}, 1};
    case FocalMethod::Variance:
    case FocalMethod::Stddev:
      return {{sum, squares, count}, 3};
    case FocalMethod::Min:
      return {{min}, 1};
    case FocalMethod::Max:
      return {{max}, 1};
    case FocalMethod::Range:
      return {{min, max}, 2};
    default:
      return {};
  }
}

/// The window [a, b] (inside the raster, b - a < w) from block prefixes and suffixes indexed
/// from position `lo`.
template <Combine C, class V>
[[gnu::always_inline]] inline V pick(int64_t a, int64_t b, int64_t w, const V* prefix,
                                     const V* suffix, int64_t lo) {
  if (a % w == 0) return prefix[b - lo];
  if (a / w == b / w) return suffix[a - lo];
  return combine<C>(suffix[a - lo], prefix[b - lo]);
}

/// The prefixes and suffixes of K blocks of w cells side by side, the first at v[b], the others
/// every w cells after it: the same combinations in the same order as one block at a time, but K
/// chains of them that overlap in the CPU instead of each waiting on the one before.
template <Combine C, int K, class V>
[[gnu::always_inline]] inline void scan_blocks(const V* v, int64_t b, int64_t w, V* prefix,
                                               V* suffix) {
  V p[K], s[K];
  for (int k = 0; k < K; ++k) p[k] = prefix[b + k * w] = v[b + k * w];
  for (int64_t j = 1; j < w; ++j)
    for (int k = 0; k < K; ++k) p[k] = prefix[b + k * w + j] = combine<C>(p[k], v[b + k * w + j]);
  for (int k = 0; k < K; ++k) s[k] = suffix[b + k * w + w - 1] = v[b + k * w + w - 1];
  for (int64_t j = w - 1; j-- > 0;)
    for (int k = 0; k < K; ++k) s[k] = suffix[b + k * w + j] = combine<C>(s[k], v[b + k * w + j]);
}

/// Prefixes and suffixes of v over positions [lo, hi) in the blocks of w that start at multiples
/// of w (the blocks cut by lo or hi from the position or up to it).
template <Combine C, class V>
[[gnu::always_inline]] inline void scan_row(const V* v, int64_t lo, int64_t hi, int64_t w,
                                            V* prefix, V* suffix) {
  const auto cut = [&](int64_t start) {
    const int64_t s = std::max(start, lo), e = std::min(start + w, hi);
    prefix[s - lo] = v[s - lo];
    for (int64_t i = s + 1; i < e; ++i) prefix[i - lo] = combine<C>(prefix[i - 1 - lo], v[i - lo]);
    suffix[e - 1 - lo] = v[e - 1 - lo];
    for (int64_t i = e - 1; i-- > s;) suffix[i - lo] = combine<C>(suffix[i + 1 - lo], v[i - lo]);
  };
  int64_t start = lo - lo % w;
  if (start < lo) {
    cut(start);
    start += w;
  }
  for (; start + 4 * w <= hi; start += 4 * w) scan_blocks<C, 4>(v, start - lo, w, prefix, suffix);
  for (; start + 2 * w <= hi; start += 2 * w) scan_blocks<C, 2>(v, start - lo, w, prefix, suffix);
  for (; start < hi; start += w) cut(start);
}

/// Along one row: out[i - olo] for i in [olo, ohi) is the window [i - r, i + r] (clipped to
/// [0, n)) of v, given over positions [lo, hi) that cover every such window.
template <Combine C, class V>
[[gnu::always_inline]] inline void row_windows(const V* v, int64_t lo, int64_t hi, int64_t olo,
                                               int64_t ohi, int64_t r, int64_t n, V* prefix,
                                               V* suffix, V* out) {
  const int64_t w = 2 * r + 1;
  scan_row<C>(v, lo, hi, w, prefix, suffix);
  int64_t i = olo;
  // Left edge (the window starts at 0, a block start), then the interior, where b = a + w - 1
  // lies in the block after a's unless a starts a block; then the right edge. The interior is
  // suffix + prefix everywhere first (a loop that vectorises), then the prefix alone where a
  // starts a block.
  for (; i < ohi && i - r <= 0; ++i) out[i - olo] = prefix[std::min(n - 1, i + r) - lo];
  const int64_t interior = i, interior_end = std::max(i, std::min(ohi, n - r));
  const V* sa = suffix + (interior - r - lo);
  const V* pb = prefix + (interior + r - lo);
  V* to = out + (interior - olo);
  for (int64_t k = 0; k < interior_end - interior; ++k) to[k] = combine<C>(sa[k], pb[k]);
  if (interior < interior_end)
    for (int64_t a = interior - r + (w - (interior - r) % w) % w; a + r < interior_end; a += w)
      out[a + r - olo] = prefix[a + w - 1 - lo];
  for (i = interior_end; i < ohi; ++i)
    out[i - olo] =
        pick<C>(std::max<int64_t>(0, i - r), std::min(n - 1, i + r), w, prefix, suffix, lo);
}

template <Combine C, class V>
void row_windows_plain(const V* v, int64_t lo, int64_t hi, int64_t olo, int64_t ohi, int64_t r,
                       int64_t n, V* prefix, V* suffix, V* out) {
  row_windows<C>(v, lo, hi, olo, ohi, r, n, prefix, suffix, out);
}

#if defined(TESSERA_HAVE_AVX2_PATHS)
/// row_windows with four-lane vectors: the same combinations, so the same values.
template <Combine C, class V>
__attribute__((target("avx2"))) void row_windows_avx2(const V* v, int64_t lo, int64_t hi,
                                                      int64_t olo, int64_t ohi, int64_t r,
                                                      int64_t n, V* prefix, V* suffix, V* out) {
  row_windows<C>(v, lo, hi, olo, ohi, r, n, prefix, suffix, out);
}
#endif

template <Combine C, class V>
void row_windows_of(const V* v, int64_t lo, int64_t hi, int64_t olo, int64_t ohi, int64_t r,
                    int64_t n, V* prefix, V* suffix, V* out) {
#if defined(TESSERA_HAVE_AVX2_PATHS)
  if (simd::have_avx2()) return row_windows_avx2<C>(v, lo, hi, olo, ohi, r, n, prefix, suffix, out);
#endif
  row_windows_plain<C>(v, lo, hi, olo, ohi, r, n, prefix, suffix, out);
}

template <class V>
void row_windows(Combine c, const V* v, int64_t lo, int64_t hi, int64_t olo, int64_t ohi, int64_t r,
                 int64_t n, V* prefix, V* suffix, V* out) {
  if constexpr (std::is_floating_point_v<V>)  // lanes of doubles are sums, of keys extremes
    row_windows_of<Combine::Add>(v, lo, hi, olo, ohi, r, n, prefix, suffix, out);
  else if (c == Combine::Min)
    row_windows_of<Combine::Min>(v, lo, hi, olo, ohi, r, n, prefix, suffix, out);
  else
    row_windows_of<Combine::Max>(v, lo, hi, olo, ohi, r, n, prefix, suffix, out);
}

/// What each cell of `n` cells from `src` brings to a lane: its term where valid, the lane's
/// identity where not. Lanes of keys (extremes) take the cells' keys.
template <class T, class V>
[[gnu::always_inline]] inline void fetch_terms(const T* src, int64_t n, const Valid<T>& valid,
                                               Lane lane, V* dst) {
  const Valid<T> ok = valid;  // a local: the loops vectorise
  if constexpr (!std::is_floating_point_v<V>) {
    const V none = identity<V>(lane.combine);
    for (int64_t i = 0; i < n; ++i) dst[i] = ok(src[i]) ? key_of(src[i]) : none;
    return;
  }
  // Sums (the lanes of doubles; extremes take keys) bring 0 for an invalid cell: selected in
  // the cell's own width first, then widened to double, two loops that vectorise where one
  // select of doubles from a test of floats does not.
  thread_local std::vector<T> kept;
  kept.resize(static_cast<size_t>(n));
  T* k = kept.data();
  if (lane.term == Term::One)
    for (int64_t i = 0; i < n; ++i) k[i] = ok(src[i]) ? T{1} : T{0};
  else
    for (int64_t i = 0; i < n; ++i) k[i] = ok(src[i]) ? src[i] : T{0};
  if (lane.term == Term::Square)
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<double>(k[i]) * static_cast<double>(k[i]);
  else
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<double>(k[i]);
}

/// A ColumnRun's rows of values, kept by each thread from tile to tile.
template <class V>
struct ColumnRows {
  std::vector<V> prefix, row, suffix;
};

/// One lane's column windows, row after row: the prefix of the block holding the window's last
/// row, and the suffixes of the block holding its first row.
template <class T, class V>
class ColumnRun {
 public:
  ColumnRun(const TileIn& in, ConstView<T> cells, Valid<T> valid, Lane lane, int64_t x0,
            int64_t ncols, int64_t r, ColumnRows<V>& rows)
      : in_(in),
        cells_(cells),
        valid_(valid),
        lane_(lane),
        x0_(x0),
        n_(ncols),
        r_(r),
        w_(2 * r + 1),
        prefix_(rows.prefix),
        row_(rows.row),
        suffix_(rows.suffix) {
    prefix_.resize(static_cast<size_t>(n_));
    row_.resize(static_cast<size_t>(n_));
    suffix_.resize(static_cast<size_t>(n_ * std::min(w_, in.raster.height)));
  }

  /// The windows of raster row y for columns x0 .. x0 + ncols - 1 (rows called in order).
  const V* windows(int64_t y) {
#if defined(TESSERA_HAVE_AVX2_PATHS)
    if (simd::have_avx2()) return windows_avx2(y);
#endif
    return windows_of(y);
  }

 private:
#if defined(TESSERA_HAVE_AVX2_PATHS)
  /// windows_of with four-lane vectors: the same combinations, so the same values.
  __attribute__((target("avx2"))) const V* windows_avx2(int64_t y) { return windows_of(y); }
#endif

  [[gnu::always_inline]] const V* windows_of(int64_t y) {
    const int64_t height = in_.raster.height;
    const int64_t a = std::max<int64_t>(0, y - r_), b = std::min(height - 1, y + r_);
    advance_prefix(b);
    if (a % w_ == 0) return prefix_.data();
    if (a < s_lo_ || a > s_hi_) fill_suffix(a, std::min(a - a % w_ + w_ - 1, height - 1));
    const V* s = suffix_.data() + (a - s_lo_) * n_;
    if (a / w_ == b / w_) return s;
    combine_rows(row_.data(), s, prefix_.data());
    return row_.data();
  }

  /// What each cell of raster row y brings to the lane, into dst.
  [[gnu::always_inline]] void fetch(int64_t y, V* dst) const {
    fetch_terms(row_at(in_, cells_, x0_, y), n_, valid_, lane_, dst);
  }

  /// dst[i] = combine(a[i], b[i]) for the lane's combination.
  [[gnu::always_inline]] void combine_rows(V* dst, const V* a, const V* b) const {
    if constexpr (std::is_floating_point_v<V>)
      for (int64_t i = 0; i < n_; ++i) dst[i] = combine<Combine::Add>(a[i], b[i]);
    else if (lane_.combine == Combine::Min)
      for (int64_t i = 0; i < n_; ++i) dst[i] = combine<Combine::Min>(a[i], b[i]);
    else
      for (int64_t i = 0; i < n_; ++i) dst[i] = combine<Combine::Max>(a[i], b[i]);
  }

  [[gnu::always_inline]] void advance_prefix(int64_t b) {
    if (b == p_row_) return;
    int64_t y = p_row_ < 0 ? std::max(b - b % w_, in_.owned.y - in_.halo) : p_row_ + 1;
    for (; y <= b; ++y) {
      if (y % w_ == 0 || p_row_ < 0) {
        fetch(y, prefix_.data());
      } else {
        fetch(y, row_.data());
        combine_rows(prefix_.data(), prefix_.data(), row_.data());
      }
      p_row_ = y;
    }
  }

  /// Suffixes of rows lo .. hi (hi the end of lo's block or of the raster), from hi up.
  [[gnu::always_inline]] void fill_suffix(int64_t lo, int64_t hi) {
    s_lo_ = lo;
    s_hi_ = hi;
    V* s = suffix_.data();
    fetch(hi, s + (hi - lo) * n_);
    for (int64_t y = hi; y-- > lo;) {
      V* dst = s + (y - lo) * n_;
      fetch(y, dst);
      combine_rows(dst, dst + n_, dst);
    }
  }

  const TileIn& in_;
  ConstView<T> cells_;
  Valid<T> valid_;
  Lane lane_;
  int64_t x0_, n_, r_, w_;
  std::vector<V>&prefix_, &row_, &suffix_;
  int64_t p_row_ = -1;
  int64_t s_lo_ = 1, s_hi_ = 0;
};

/// The window [a, b] of a line (b - a < 3, v[0] at position a) combined as the blocks of 3 cells
/// combine it (prefix, suffix or suffix + prefix, each in its order): a window starting a block
/// is (v0 v1) v2; one starting at a block's second cell (v1 v0) v2; one starting at its last
/// v0 (v1 v2); a window of two cells cut by the edge is the suffix (v1 v0) when it starts at a
/// block's second cell, else the prefix or suffix + prefix (v0 v1).
template <Combine C, class V>
[[gnu::always_inline]] inline V window3(const V* v, int64_t a, int64_t b) {
  if (b - a == 2) {
    switch (a % 3) {
      case 0:
        return combine<C>(combine<C>(v[0], v[1]), v[2]);
      case 1:
        return combine<C>(combine<C>(v[1], v[0]), v[2]);
      default:
        return combine<C>(v[0], combine<C>(v[1], v[2]));
    }
  }
  if (b - a == 1) return a % 3 == 1 ? combine<C>(v[1], v[0]) : combine<C>(v[0], v[1]);
  return v[0];
}

/// One lane's terms of the last three raster rows it fetched, row y in slot y % 3, so that
/// each row is fetched once for the three rows of windows it belongs to.
template <class V>
struct TermRows {
  std::vector<V> slots;
  std::array<int64_t, 3> row{-1, -1, -1};

  void reset(int64_t n) {
    slots.resize(static_cast<size_t>(3 * n));
    row = {-1, -1, -1};
  }
  template <class T>
  [[gnu::always_inline]] const V* at(const TileIn& in, ConstView<T> cells, const Valid<T>& valid,
                                     Lane lane, int64_t x0, int64_t n, int64_t y) {
    const auto k = static_cast<size_t>(y % 3);
    V* slot = slots.data() + static_cast<int64_t>(k) * n;
    if (row[k] != y) fetch_terms(row_at(in, cells, x0, y), n, valid, lane, slot);
    row[k] = y;
    return slot;
  }
};

/// The row windows of `column` (positions x0 ..) for the owned columns, in window3's order.
template <Combine C, class V>
[[gnu::always_inline]] inline void rows3(const TileIn& in, const V* column, int64_t x0, V* out) {
  const Window& o = in.owned;
  const int64_t width = in.raster.width;
  const auto edge = [&](int64_t x) {
    const int64_t l = std::max<int64_t>(0, x - 1), r = std::min(width - 1, x + 1);
    out[x - o.x] = window3<C>(column + (l - x0), l, r);
  };
  int64_t x = o.x;
  for (; x < o.right() && x < 1; ++x) edge(x);
  const int64_t inner_end = std::max(x, std::min(o.right(), width - 1));
  // Every window in the first order, (v0 v1) v2, in a loop that vectorises; then the windows
  // that start at a block's second cell, (v1 v0) v2 (the same for sums: a + b is b + a exactly),
  // and those that start at its last, v0 (v1 v2): every third window each. Extremes of keys are
  // the same in every order.
  const V* v = column + (x - 1 - x0);
  V* to = out + (x - o.x);
  const int64_t n = inner_end - x, phase = (x - 1) % 3;
  for (int64_t k = 0; k < n; ++k) to[k] = combine<C>(combine<C>(v[k], v[k + 1]), v[k + 2]);
  if constexpr (std::is_floating_point_v<V>) {
    if constexpr (C != Combine::Add)
      for (int64_t k = (4 - phase) % 3; k < n; k += 3)
        to[k] = combine<C>(combine<C>(v[k + 1], v[k]), v[k + 2]);
    for (int64_t k = (5 - phase) % 3; k < n; k += 3)
      to[k] = combine<C>(v[k], combine<C>(v[k + 1], v[k + 2]));
  }
  for (x = inner_end; x < o.right(); ++x) edge(x);
}

/// Radius 1: a lane's column windows of row y over columns [x0, x0 + n), then its row windows
/// of those for the owned columns, with window3's order (the general path's sums, in two passes
/// without prefix and suffix rows). `column` holds n values.
template <class T, Combine C, class V>
[[gnu::always_inline]] inline void lane3(const TileIn& in, ConstView<T> cells,
                                         const Valid<T>& valid, Lane lane, int64_t x0, int64_t n,
                                         int64_t y, TermRows<V>& terms, V* column, V* out) {
  const int64_t a = std::max<int64_t>(0, y - 1), b = std::min(in.raster.height - 1, y + 1);
  const V* t[3] = {nullptr, nullptr, nullptr};
  for (int64_t k = 0; k <= b - a; ++k) t[k] = terms.at(in, cells, valid, lane, x0, n, a + k);
  const V *v0 = t[0], *v1 = t[1], *v2 = t[2];
  if (b - a == 2 && a % 3 == 0) {
    for (int64_t i = 0; i < n; ++i) column[i] = combine<C>(combine<C>(v0[i], v1[i]), v2[i]);
  } else if (b - a == 2 && a % 3 == 1) {
    for (int64_t i = 0; i < n; ++i) column[i] = combine<C>(combine<C>(v1[i], v0[i]), v2[i]);
  } else if (b - a == 2) {
    for (int64_t i = 0; i < n; ++i) column[i] = combine<C>(v0[i], combine<C>(v1[i], v2[i]));
  } else if (b - a == 1 && a % 3 == 1) {
    for (int64_t i = 0; i < n; ++i) column[i] = combine<C>(v1[i], v0[i]);
  } else if (b - a == 1) {
    for (int64_t i = 0; i < n; ++i) column[i] = combine<C>(v0[i], v1[i]);
  } else {
    std::copy_n(v0, n, column);
  }
  rows3<C>(in, column, x0, out);
}

template <class T, Combine C, class V>
void lane3_plain(const TileIn& in, ConstView<T> cells, const Valid<T>& valid, Lane lane, int64_t x0,
                 int64_t n, int64_t y, TermRows<V>& terms, V* column, V* out) {
  lane3<T, C>(in, cells, valid, lane, x0, n, y, terms, column, out);
}

#if defined(TESSERA_HAVE_AVX2_PATHS)
/// lane3 with four-lane vectors: the same combinations, so the same values.
template <class T, Combine C, class V>
__attribute__((target("avx2"))) void lane3_avx2(const TileIn& in, ConstView<T> cells,
                                                const Valid<T>& valid, Lane lane, int64_t x0,
                                                int64_t n, int64_t y, TermRows<V>& terms, V* column,
                                                V* out) {
  lane3<T, C>(in, cells, valid, lane, x0, n, y, terms, column, out);
}
#endif

template <class T, Combine C, class V>
void lane3_of(const TileIn& in, ConstView<T> cells, const Valid<T>& valid, Lane lane, int64_t x0,
              int64_t n, int64_t y, TermRows<V>& terms, V* column, V* out) {
#if defined(TESSERA_HAVE_AVX2_PATHS)
  if (simd::have_avx2())
    return lane3_avx2<T, C>(in, cells, valid, lane, x0, n, y, terms, column, out);
#endif
  lane3_plain<T, C>(in, cells, valid, lane, x0, n, y, terms, column, out);
}

template <class T, class V>
void lane3(Combine c, const TileIn& in, ConstView<T> cells, const Valid<T>& valid, Lane lane,
           int64_t x0, int64_t n, int64_t y, TermRows<V>& terms, V* column, V* out) {
  if constexpr (std::is_floating_point_v<V>)  // lanes of doubles are sums, of keys extremes
    lane3_of<T, Combine::Add>(in, cells, valid, lane, x0, n, y, terms, column, out);
  else if (c == Combine::Min)
    lane3_of<T, Combine::Min>(in, cells, valid, lane, x0, n, y, terms, column, out);
  else
    lane3_of<T, Combine::Max>(in, cells, valid, lane, x0, n, y, terms, column, out);
}

/// v[i] = sqrt(v[i]) for i < n: two lanes at once with SSE2 where there is SSE2 (correctly
/// rounded, as std::sqrt, so the same bits), one at a time elsewhere.
void roots(double* v, int64_t n) {
  int64_t i = 0;
#if defined(__SSE2__)
  for (; i + 2 <= n; i += 2) _mm_storeu_pd(v + i, _mm_sqrt_pd(_mm_loadu_pd(v + i)));
#endif
  for (; i < n; ++i) v[i] = std::sqrt(v[i]);
}

/// One row's values from its lanes' window values (lane l at lanes + l * n; `lanes` may be `dst`
/// for a method of one lane), NaN where the centre is nodata when `check` (without nodata in the
/// tile's reach no centre is); a loop per method, so that each vectorises.
template <class T>
void finish_row(FocalMethod m, const T* centre, const Valid<T>& valid, bool check,
                const double* lanes, int64_t n, double* dst) {
  const double *v0 = lanes, *v1 = lanes + n, *v2 = lanes + 2 * n;
  switch (m) {
    case FocalMethod::Mean:
      for (int64_t i = 0; i < n; ++i) dst[i] = v0[i] / v1[i];
      break;
    case FocalMethod::Variance:
      for (int64_t i = 0; i < n; ++i)
        dst[i] = std::max(0.0, (v1[i] - v0[i] * (v0[i] / v2[i])) / v2[i]);
      break;
    case FocalMethod::Stddev:
      for (int64_t i = 0; i < n; ++i)
        dst[i] = std::max(0.0, (v1[i] - v0[i] * (v0[i] / v2[i])) / v2[i]);
      roots(dst, n);
      break;
    case FocalMethod::Range:
      for (int64_t i = 0; i < n; ++i) dst[i] = v1[i] - v0[i];
      break;
    default:
      if (v0 != dst) std::copy_n(v0, n, dst);
  }
  if (check)
    for (int64_t i = 0; i < n; ++i)
      if (!valid(centre[i])) dst[i] = kNaN;
}

template <class T>
[[gnu::always_inline]] inline void values_of_keys_of(const Key<T>* keys, int64_t n, double* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = value_of<T>(keys[i]);
}

#if defined(TESSERA_HAVE_AVX2_PATHS)
template <class T>
__attribute__((target("avx2"))) void values_of_keys_avx2(const Key<T>* keys, int64_t n,
                                                         double* out) {
  values_of_keys_of<T>(keys, n, out);
}
#endif

/// out[i] = the value whose key is keys[i], for i < n.
template <class T>
void values_of_keys(const Key<T>* keys, int64_t n, double* out) {
#if defined(TESSERA_HAVE_AVX2_PATHS)
  if (simd::have_avx2()) return values_of_keys_avx2<T>(keys, n, out);
#endif
  values_of_keys_of<T>(keys, n, out);
}

/// The number of raster cells in the window of each cell x0 .. x1 - 1 of row y: the same number
/// for the cells whose windows reach no side of the raster, [r, width - r).
void cells_inside(Extent raster, int64_t r, int64_t x0, int64_t x1, int64_t y, double* out) {
  const int64_t rows = std::min(raster.height - 1, y + r) - std::max<int64_t>(0, y - r) + 1;
  const auto at = [&](int64_t x) {
    return static_cast<double>(
        rows * (std::min(raster.width - 1, x + r) - std::max<int64_t>(0, x - r) + 1));
  };
  const int64_t inner0 = std::clamp(r, x0, x1), inner1 = std::clamp(raster.width - r, inner0, x1);
  for (int64_t x = x0; x < inner0; ++x) out[x - x0] = at(x);
  std::fill(out + (inner0 - x0), out + (inner1 - x0), static_cast<double>(rows * (2 * r + 1)));
  for (int64_t x = inner1; x < x1; ++x) out[x - x0] = at(x);
}

}  // namespace

bool runs(const FocalParams& p) {
  return !p.circle && p.weights.empty() && lanes_of(p.method).n > 0;
}

/// A method's lanes over one tile, each with the buffers its thread keeps from tile to tile:
/// sums in double, extremes in keys of the cell type.
template <class T, class V>
struct LaneRuns {
  std::vector<ColumnRun<T, V>> columns;  // radius > 1: lane l's is columns[run[l]]
  std::array<size_t, 3> run{};
  std::array<TermRows<V>, 3>& terms;  // radius 1, by lane
  std::vector<V> prefix, suffix, out;

  LaneRuns(const TileIn& in, ConstView<T> cells, const Valid<T>& valid, const Lanes& lanes,
           int64_t x0, int64_t ncols, int64_t r)
      : terms(term_rows()) {
    thread_local std::array<ColumnRows<V>, 3> column_rows;
    for (size_t l = 0; l < static_cast<size_t>(lanes.n); ++l) {
      const Lane lane = lanes.lane[l];
      if ((lane.combine == Combine::Add) != std::is_floating_point_v<V>) continue;  // not of V
      run[l] = columns.size();
      if (r > 1) columns.emplace_back(in, cells, valid, lane, x0, ncols, r, column_rows[l]);
      terms[l].reset(r == 1 ? ncols : 0);
    }
    prefix.resize(static_cast<size_t>(ncols));
    suffix.resize(static_cast<size_t>(ncols));
    out.resize(static_cast<size_t>(in.owned.width));
  }

  /// Lane l's windows of row y for the owned columns, at `dst`.
  void windows(const TileIn& in, ConstView<T> cells, const Valid<T>& valid, Lane lane, size_t l,
               int64_t x0, int64_t x1, int64_t r, int64_t y, V* dst) {
    if (r == 1)
      lane3(lane.combine, in, cells, valid, lane, x0, x1 - x0, y, terms[l], prefix.data(), dst);
    else
      row_windows(lane.combine, columns[run[l]].windows(y), x0, x1, in.owned.x, in.owned.right(), r,
                  in.raster.width, prefix.data(), suffix.data(), dst);
  }

 private:
  static std::array<TermRows<V>, 3>& term_rows() {
    thread_local std::array<TermRows<V>, 3> rows;
    return rows;
  }
};

template <class T>
void focal_running(const TileIn& in, ConstView<T> cells, RowsOut& out, const FocalParams& p) {
  const Valid<T> valid(in.nodata);
  const Lanes lanes = lanes_of(p.method);
  const int64_t r = p.radius;
  const Window& o = in.owned;
  const int64_t x0 = std::max<int64_t>(0, o.x - r);
  const int64_t x1 = std::min(in.raster.width, o.right() + r);
  const int64_t y0 = std::max<int64_t>(0, o.y - r);
  const int64_t y1 = std::min(in.raster.height, o.bottom() + r);
  // Without nodata in reach, a window's count is its cells inside the raster: the same integer
  // the count lane would add up, for one lane less of work.
  const bool counted = all_valid(in, cells, valid, x0, x1, y0, y1);
  LaneRuns<T, double> sums(in, cells, valid, lanes, x0, x1 - x0, r);
  LaneRuns<T, Key<T>> extremes(in, cells, valid, lanes, x0, x1 - x0, r);
  thread_local std::vector<double> window;
  window.resize(static_cast<size_t>(o.width * 3));
  // A method of one lane (sum, count, min, max) has its lane's windows as its values: written
  // straight into the output row (extremes through their keys).
  const bool direct = lanes.n == 1;
  for (int64_t y = o.y; y < o.bottom(); ++y) {
    double* dst = out.row(y - o.y);
    double* lanes_out = direct ? dst : window.data();
    for (size_t l = 0; l < static_cast<size_t>(lanes.n); ++l) {
      const Lane lane = lanes.lane[l];
      double* lane_out = lanes_out + static_cast<int64_t>(l) * o.width;
      if (counted && lane.term == Term::One) {
        cells_inside(in.raster, r, o.x, o.right(), y, lane_out);
      } else if (lane.combine == Combine::Add) {
        sums.windows(in, cells, valid, lane, l, x0, x1, r, y, lane_out);
      } else {
        Key<T>* keys = extremes.out.data();
        extremes.windows(in, cells, valid, lane, l, x0, x1, r, y, keys);
        values_of_keys<T>(keys, o.width, lane_out);
      }
    }
    finish_row(p.method, row_at(in, cells, o.x, y), valid, !counted, lanes_out, o.width, dst);
  }
}

template void focal_running<int32_t>(const TileIn&, ConstView<int32_t>, RowsOut&,
                                     const FocalParams&);
template void focal_running<float>(const TileIn&, ConstView<float>, RowsOut&, const FocalParams&);
template void focal_running<double>(const TileIn&, ConstView<double>, RowsOut&, const FocalParams&);

}  // namespace tessera::ops::focal_detail
