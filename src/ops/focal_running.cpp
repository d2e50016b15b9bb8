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
#include <algorithm>
#include <array>
#include <limits>
#include <type_traits>
#include <vector>

#include "focal_kernels.hpp"

namespace tessera::ops::focal_detail {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

enum class Combine { Add, Min, Max };
enum class Term { Value, Square, One };  ///< what a valid cell adds to its lane

/// One running quantity: how cells combine and what each valid cell brings.
struct Lane {
  Combine combine;
  Term term;
};

constexpr double identity(Combine c) {
  return c == Combine::Min ? kInf : c == Combine::Max ? -kInf : 0.0;
}

template <Combine C>
inline double combine(double a, double b) {
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
template <Combine C>
inline double pick(int64_t a, int64_t b, int64_t w, const double* prefix, const double* suffix,
                   int64_t lo) {
  if (a % w == 0) return prefix[b - lo];
  if (a / w == b / w) return suffix[a - lo];
  return combine<C>(suffix[a - lo], prefix[b - lo]);
}

/// Along one row: out[i - olo] for i in [olo, ohi) is the window [i - r, i + r] (clipped to
/// [0, n)) of v, given over positions [lo, hi) that cover every such window.
template <Combine C>
void row_windows(const double* v, int64_t lo, int64_t hi, int64_t olo, int64_t ohi, int64_t r,
                 int64_t n, double* prefix, double* suffix, double* out) {
  const int64_t w = 2 * r + 1;
  for (int64_t start = lo - lo % w; start < hi; start += w) {
    const int64_t s = std::max(start, lo), e = std::min(start + w, hi);
    prefix[s - lo] = v[s - lo];
    for (int64_t i = s + 1; i < e; ++i) prefix[i - lo] = combine<C>(prefix[i - 1 - lo], v[i - lo]);
    suffix[e - 1 - lo] = v[e - 1 - lo];
    for (int64_t i = e - 1; i-- > s;) suffix[i - lo] = combine<C>(suffix[i + 1 - lo], v[i - lo]);
  }
  int64_t i = olo;
  // Left edge (the window starts at 0, a block start), then the interior, where b = a + w - 1
  // lies in the block after a's unless a starts a block; then the right edge.
  for (; i < ohi && i - r <= 0; ++i) out[i - olo] = prefix[std::min(n - 1, i + r) - lo];
  const int64_t interior_end = std::min(ohi, n - r);
  int64_t phase = i < interior_end ? (i - r) % w : 0;
  for (; i < interior_end; ++i) {
    const double* sa = suffix + (i - r - lo);
    const double* pb = prefix + (i + r - lo);
    out[i - olo] = phase == 0 ? *pb : combine<C>(*sa, *pb);
    phase = phase + 1 == w ? 0 : phase + 1;
  }
  for (; i < ohi; ++i)
    out[i - olo] =
        pick<C>(std::max<int64_t>(0, i - r), std::min(n - 1, i + r), w, prefix, suffix, lo);
}

void row_windows(Combine c, const double* v, int64_t lo, int64_t hi, int64_t olo, int64_t ohi,
                 int64_t r, int64_t n, double* prefix, double* suffix, double* out) {
  switch (c) {
    case Combine::Add:
      return row_windows<Combine::Add>(v, lo, hi, olo, ohi, r, n, prefix, suffix, out);
    case Combine::Min:
      return row_windows<Combine::Min>(v, lo, hi, olo, ohi, r, n, prefix, suffix, out);
    case Combine::Max:
      return row_windows<Combine::Max>(v, lo, hi, olo, ohi, r, n, prefix, suffix, out);
  }
}

/// One lane's column windows, row after row: the prefix of the block holding the window's last
/// row, and the suffixes of the block holding its first row.
template <class T>
class ColumnRun {
 public:
  ColumnRun(const TileIn& in, ConstView<T> cells, Valid<T> valid, Lane lane, int64_t x0,
            int64_t ncols, int64_t r)
      : in_(in),
        cells_(cells),
        valid_(valid),
        lane_(lane),
        x0_(x0),
        n_(ncols),
        r_(r),
        w_(2 * r + 1) {
    prefix_.resize(static_cast<size_t>(n_));
    row_.resize(static_cast<size_t>(n_));
    suffix_.resize(static_cast<size_t>(n_ * std::min(w_, in.raster.height)));
  }

  /// The windows of raster row y for columns x0 .. x0 + ncols - 1 (rows called in order).
  const double* windows(int64_t y) {
    const int64_t height = in_.raster.height;
    const int64_t a = std::max<int64_t>(0, y - r_), b = std::min(height - 1, y + r_);
    advance_prefix(b);
    if (a % w_ == 0) return prefix_.data();
    if (a < s_lo_ || a > s_hi_) fill_suffix(a, std::min(a - a % w_ + w_ - 1, height - 1));
    const double* s = suffix_.data() + (a - s_lo_) * n_;
    if (a / w_ == b / w_) return s;
    combine_rows(row_.data(), s, prefix_.data());
    return row_.data();
  }

 private:
  /// What each cell of raster row y brings to the lane, into dst.
  void fetch(int64_t y, double* dst) const {
    const T* src = row_at(in_, cells_, x0_, y);
    const double none = identity(lane_.combine);
    const Valid<T> valid = valid_;
    const auto each = [&](auto term) {
      for (int64_t i = 0; i < n_; ++i)
        dst[i] = valid(src[i]) ? term(static_cast<double>(src[i])) : none;
    };
    switch (lane_.term) {
      case Term::Value:
        return each([](double v) { return v; });
      case Term::Square:
        return each([](double v) { return v * v; });
      case Term::One:
        return each([](double) { return 1.0; });
    }
  }

  /// dst[i] = combine(a[i], b[i]) for the lane's combination.
  void combine_rows(double* dst, const double* a, const double* b) const {
    const auto each = [&]<Combine C>(std::integral_constant<Combine, C>) {
      for (int64_t i = 0; i < n_; ++i) dst[i] = combine<C>(a[i], b[i]);
    };
    switch (lane_.combine) {
      case Combine::Add:
        return each(std::integral_constant<Combine, Combine::Add>{});
      case Combine::Min:
        return each(std::integral_constant<Combine, Combine::Min>{});
      case Combine::Max:
        return each(std::integral_constant<Combine, Combine::Max>{});
    }
  }

  void advance_prefix(int64_t b) {
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
  void fill_suffix(int64_t lo, int64_t hi) {
    s_lo_ = lo;
    s_hi_ = hi;
    double* s = suffix_.data();
    fetch(hi, s + (hi - lo) * n_);
    for (int64_t y = hi; y-- > lo;) {
      double* dst = s + (y - lo) * n_;
      fetch(y, dst);
      combine_rows(dst, dst + n_, dst);
    }
  }

  const TileIn& in_;
  ConstView<T> cells_;
  Valid<T> valid_;
  Lane lane_;
  int64_t x0_, n_, r_, w_;
  std::vector<double> prefix_, row_, suffix_;
  int64_t p_row_ = -1;
  int64_t s_lo_ = 1, s_hi_ = 0;
};

/// The method's value from its lanes' window values (the centre valid, so the window is not
/// empty for any method but those whose count says otherwise).
double finish(FocalMethod m, const double* v) {
  switch (m) {
    case FocalMethod::Mean:
      return v[0] / v[1];
    case FocalMethod::Variance:
    case FocalMethod::Stddev: {
      const double variance = std::max(0.0, (v[1] - v[0] * (v[0] / v[2])) / v[2]);
      return m == FocalMethod::Variance ? variance : std::sqrt(variance);
    }
    case FocalMethod::Range:
      return v[1] - v[0];
    default:
      return v[0];
  }
}

/// Whether every cell of columns [x0, x1) and rows [y0, y1) of the tile's buffer is valid.
template <class T>
bool all_valid(const TileIn& in, ConstView<T> cells, const Valid<T>& valid, int64_t x0, int64_t x1,
               int64_t y0, int64_t y1) {
  for (int64_t y = y0; y < y1; ++y) {
    const T* src = row_at(in, cells, x0, y);
    bool row_valid = true;
    for (int64_t i = 0; i < x1 - x0; ++i) row_valid &= valid(src[i]);
    if (!row_valid) return false;
  }
  return true;
}

/// The number of raster cells in the window of each cell x0 .. x1 - 1 of row y.
void cells_inside(Extent raster, int64_t r, int64_t x0, int64_t x1, int64_t y, double* out) {
  const int64_t rows = std::min(raster.height - 1, y + r) - std::max<int64_t>(0, y - r) + 1;
  for (int64_t x = x0; x < x1; ++x)
    out[x - x0] = static_cast<double>(
        rows * (std::min(raster.width - 1, x + r) - std::max<int64_t>(0, x - r) + 1));
}

}  // namespace

bool runs(const FocalParams& p) {
  return !p.circle && p.weights.empty() && lanes_of(p.method).n > 0;
}

template <class T>
void focal_running(const TileIn& in, ConstView<T> cells, View<double> out, const FocalParams& p) {
  const Valid<T> valid(in.nodata);
  const Lanes lanes = lanes_of(p.method);
  const int64_t r = p.radius;
  const Window& o = in.owned;
  const int64_t x0 = std::max<int64_t>(0, o.x - r);
  const int64_t x1 = std::min(in.raster.width, o.right() + r);
  const int64_t y0 = std::max<int64_t>(0, o.y - r);
  const int64_t y1 = std::min(in.raster.height, o.bottom() + r);
  const int64_t ncols = x1 - x0;
  // Without nodata in reach, a window's count is its cells inside the raster: the same integer
  // the count lane would add up, for one lane less of work.
  const bool counted = all_valid(in, cells, valid, x0, x1, y0, y1);
  std::vector<ColumnRun<T>> columns;
  for (int l = 0; l < lanes.n; ++l)
    columns.emplace_back(in, cells, valid, lanes.lane[static_cast<size_t>(l)], x0, ncols, r);
  std::vector<double> prefix(static_cast<size_t>(ncols)), suffix(static_cast<size_t>(ncols));
  std::vector<double> window(static_cast<size_t>(o.width * 3));
  for (int64_t y = o.y; y < o.bottom(); ++y) {
    for (int l = 0; l < lanes.n; ++l) {
      double* lane_out = window.data() + l * o.width;
      if (counted && lanes.lane[static_cast<size_t>(l)].term == Term::One) {
        cells_inside(in.raster, r, o.x, o.right(), y, lane_out);
        continue;
      }
      row_windows(lanes.lane[static_cast<size_t>(l)].combine,
                  columns[static_cast<size_t>(l)].windows(y), x0, x1, o.x, o.right(), r,
                  in.raster.width, prefix.data(), suffix.data(), lane_out);
    }
    const T* centre = row_at(in, cells, o.x, y);
    double* dst = out.row(y - o.y);
    for (int64_t i = 0; i < o.width; ++i) {
      const std::array<double, 3> v{window[i], window[o.width + i], window[2 * o.width + i]};
      dst[i] = valid(centre[i]) ? finish(p.method, v.data()) : kNaN;
    }
  }
}

template void focal_running<int32_t>(const TileIn&, ConstView<int32_t>, View<double>,
                                     const FocalParams&);
template void focal_running<float>(const TileIn&, ConstView<float>, View<double>,
                                   const FocalParams&);

}  // namespace tessera::ops::focal_detail
