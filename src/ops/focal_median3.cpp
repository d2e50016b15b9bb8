// Medians of 3 x 3 windows without a walk: the three cells of each column of a row's windows are
// sorted once (three compare-exchanges), and a window's median is then
// med3(max3 of the columns' smallest, med3 of their middles, min3 of their largest), the 5th of
// its 9 values exactly. Those rows of minima and maxima vectorise; the windows that hold a
// nodata cell or reach past the raster's edge, whose count is not 9, walk as focal_walk does.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "focal_kernels.hpp"

namespace tessera::ops::focal_detail {
namespace {

template <class T>
inline T lower(T a, T b) {
  return b < a ? b : a;
}

template <class T>
inline T upper(T a, T b) {
  return b > a ? b : a;
}

template <class T>
inline T middle(T a, T b, T c) {
  return upper(lower(a, b), lower(upper(a, b), c));
}

/// A row's columns of three cells sorted (lo <= mid <= hi), and whether all three are valid.
template <class T>
struct SortedColumns {
  std::vector<T> lo, mid, hi;
  std::vector<uint8_t> valid;

  void resize(int64_t n) {
    const auto size = static_cast<size_t>(n);
    lo.resize(size);
    mid.resize(size);
    hi.resize(size);
    valid.resize(size);
  }
};

template <class T>
void sort_columns(const T* a, const T* b, const T* c, int64_t n, const Valid<T>& valid,
                  SortedColumns<T>& s) {
  for (int64_t i = 0; i < n; ++i) {
    const T l = lower(a[i], b[i]), h = upper(a[i], b[i]);
    s.lo[static_cast<size_t>(i)] = lower(l, c[i]);
    s.mid[static_cast<size_t>(i)] = upper(l, lower(h, c[i]));
    s.hi[static_cast<size_t>(i)] = upper(h, c[i]);
  }
  for (int64_t i = 0; i < n; ++i)
    s.valid[static_cast<size_t>(i)] = valid(a[i]) && valid(b[i]) && valid(c[i]);
}

/// dst[i] for i in [0, n): the median of the columns i, i + 1 and i + 2 of `s`.
template <class T>
void medians(const SortedColumns<T>& s, int64_t n, double* dst) {
  const T* lo = s.lo.data();
  const T* mid = s.mid.data();
  const T* hi = s.hi.data();
  for (int64_t i = 0; i < n; ++i) {
    const T low = upper(upper(lo[i], lo[i + 1]), lo[i + 2]);
    const T high = lower(lower(hi[i], hi[i + 1]), hi[i + 2]);
    dst[i] = static_cast<double>(middle(low, middle(mid[i], mid[i + 1], mid[i + 2]), high));
  }
}

}  // namespace

bool median3(const FocalParams& p) {
  return p.method == FocalMethod::Median && p.radius == 1 && !p.circle && p.weights.empty();
}

template <class T>
void focal_median3(const TileIn& in, ConstView<T> cells, View<double> out, const FocalParams& p) {
  const Window& o = in.owned;
  const Valid<T> valid(in.nodata);
  WindowWalk<T> walk(in, cells, p);
  // Columns whose windows lie inside the raster: [inner_x0, inner_x1).
  const int64_t inner_x0 = std::max<int64_t>(o.x, 1);
  const int64_t inner_x1 = std::min(o.right(), in.raster.width - 1);
  thread_local SortedColumns<T> s;
  s.resize(std::max<int64_t>(0, inner_x1 - inner_x0 + 2));
  for (int64_t y = o.y; y < o.bottom(); ++y) {
    double* dst = out.row(y - o.y);
    const bool inner_row = y >= 1 && y + 1 < in.raster.height && inner_x0 < inner_x1;
    if (!inner_row) {
      for (int64_t x = o.x; x < o.right(); ++x) dst[x - o.x] = walk.at(x, y);
      continue;
    }
    const int64_t n = inner_x1 - inner_x0;
    sort_columns(row_at(in, cells, inner_x0 - 1, y - 1), row_at(in, cells, inner_x0 - 1, y),
                 row_at(in, cells, inner_x0 - 1, y + 1), n + 2, valid, s);
    medians(s, n, dst + (inner_x0 - o.x));
    for (int64_t x = inner_x0; x < inner_x1; ++x) {
      const auto i = static_cast<size_t>(x - inner_x0);
      if (!(s.valid[i] && s.valid[i + 1] && s.valid[i + 2])) dst[x - o.x] = walk.at(x, y);
    }
    for (int64_t x = o.x; x < inner_x0; ++x) dst[x - o.x] = walk.at(x, y);
    for (int64_t x = inner_x1; x < o.right(); ++x) dst[x - o.x] = walk.at(x, y);
  }
}

template void focal_median3<int32_t>(const TileIn&, ConstView<int32_t>, View<double>,
                                     const FocalParams&);
template void focal_median3<float>(const TileIn&, ConstView<float>, View<double>,
                                   const FocalParams&);
template void focal_median3<double>(const TileIn&, ConstView<double>, View<double>,
                                    const FocalParams&);

}  // namespace tessera::ops::focal_detail
