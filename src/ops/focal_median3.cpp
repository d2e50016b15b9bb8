// Medians of 3 x 3 windows without a walk: the three cells of each column of a row's windows are
// sorted once (three compare-exchanges), and a window's median is then
// med3(max3 of the columns' smallest, med3 of their middles, min3 of their largest), the 5th of
// its 9 values exactly. Those rows of minima and maxima vectorise (eight floats at a time where the
// CPU has AVX2); the windows that hold a nodata cell or reach past the raster's edge, whose count
// is not 9, walk as focal_walk does.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "focal_kernels.hpp"
#include "simd_avx2.hpp"

namespace tessera::ops::focal_detail {
namespace {

template <class T>
[[gnu::always_inline]] inline T lower(T a, T b) {
  return b < a ? b : a;
}

template <class T>
[[gnu::always_inline]] inline T upper(T a, T b) {
  return b > a ? b : a;
}

template <class T>
[[gnu::always_inline]] inline T middle(T a, T b, T c) {
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

/// dst[i] for i in [0, n): the median of the windows of rows a, b, c centred on column i + 1,
/// through the n + 2 columns sorted into lo, mid and hi.
template <class T>
[[gnu::always_inline]] inline void row_medians(const T* a, const T* b, const T* c, int64_t n, T* lo,
                                               T* mid, T* hi, double* dst) {
  for (int64_t i = 0; i < n + 2; ++i) {
    const T l = lower(a[i], b[i]), h = upper(a[i], b[i]);
    lo[i] = lower(l, c[i]);
    mid[i] = upper(l, lower(h, c[i]));
    hi[i] = upper(h, c[i]);
  }
  for (int64_t i = 0; i < n; ++i) {
    const T low = upper(upper(lo[i], lo[i + 1]), lo[i + 2]);
    const T high = lower(lower(hi[i], hi[i + 1]), hi[i + 2]);
    dst[i] = static_cast<double>(middle(low, middle(mid[i], mid[i + 1], mid[i + 2]), high));
  }
}

#if defined(TESSERA_HAVE_AVX2_PATHS)
/// row_medians in eight-lane (float, int32) or four-lane (double) vectors: the same minima and
/// maxima, so the same values.
template <class T>
__attribute__((target("avx2"))) void row_medians_avx2(const T* a, const T* b, const T* c, int64_t n,
                                                      T* lo, T* mid, T* hi, double* dst) {
  row_medians(a, b, c, n, lo, mid, hi, dst);
}
#endif

template <class T>
void medians(const T* a, const T* b, const T* c, int64_t n, SortedColumns<T>& s, double* dst) {
#if defined(TESSERA_HAVE_AVX2_PATHS)
  if (simd::have_avx2())
    return row_medians_avx2(a, b, c, n, s.lo.data(), s.mid.data(), s.hi.data(), dst);
#endif
  row_medians(a, b, c, n, s.lo.data(), s.mid.data(), s.hi.data(), dst);
}

/// Whether each of the n columns of rows a, b, c holds three valid cells.
template <class T>
void valid_columns(const T* a, const T* b, const T* c, int64_t n, const Valid<T>& valid,
                   SortedColumns<T>& s) {
  for (int64_t i = 0; i < n; ++i)
    s.valid[static_cast<size_t>(i)] = valid(a[i]) & valid(b[i]) & valid(c[i]);
}

}  // namespace

bool median3(const FocalParams& p) {
  return p.method == FocalMethod::Median && p.radius == 1 && !p.circle && p.weights.empty();
}

template <class T>
void focal_median3(const TileIn& in, ConstView<T> cells, RowsOut& out, const FocalParams& p) {
  const Window& o = in.owned;
  const Valid<T> valid(in.nodata);
  WindowWalk<T> walk(in, cells, p);
  // Without nodata in reach, no window needs the check of its nine cells.
  const bool checked = !all_valid(
      in, cells, valid, std::max<int64_t>(0, o.x - 1), std::min(in.raster.width, o.right() + 1),
      std::max<int64_t>(0, o.y - 1), std::min(in.raster.height, o.bottom() + 1));
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
    const T* a = row_at(in, cells, inner_x0 - 1, y - 1);
    const T* b = row_at(in, cells, inner_x0 - 1, y);
    const T* c = row_at(in, cells, inner_x0 - 1, y + 1);
    medians(a, b, c, n, s, dst + (inner_x0 - o.x));
    if (checked) {
      valid_columns(a, b, c, n + 2, valid, s);
      for (int64_t x = inner_x0; x < inner_x1; ++x) {
        const auto i = static_cast<size_t>(x - inner_x0);
        if (!(s.valid[i] && s.valid[i + 1] && s.valid[i + 2])) dst[x - o.x] = walk.at(x, y);
      }
    }
    for (int64_t x = o.x; x < inner_x0; ++x) dst[x - o.x] = walk.at(x, y);
    for (int64_t x = inner_x1; x < o.right(); ++x) dst[x - o.x] = walk.at(x, y);
  }
}

template void focal_median3<int32_t>(const TileIn&, ConstView<int32_t>, RowsOut&,
                                     const FocalParams&);
template void focal_median3<float>(const TileIn&, ConstView<float>, RowsOut&, const FocalParams&);
template void focal_median3<double>(const TileIn&, ConstView<double>, RowsOut&, const FocalParams&);

}  // namespace tessera::ops::focal_detail
