// gdaldem's 3x3 window over one tile: edge extrapolation, nodata rules and the per-cell loop.
#pragma once

#include <algorithm>
#include <climits>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "simd_avx2.hpp"
#include "simd_avx512.hpp"
#include "tessera/ops/op.hpp"

namespace tessera::ops::terrain {

/// The cells of one tile addressed in raster coordinates, with gdaldem's view of the nodata.
/// T is int32_t (Byte, Int16, UInt16 sources) or float, as gdaldem reads them.
template <class T>
struct Grid {
  using Cell = T;
  ConstView<T> cells;
  int64_t x0 = 0;  ///< raster column of cells(0, 0)
  int64_t y0 = 0;  ///< raster row of cells(0, 0)
  int64_t width = 0;
  int64_t height = 0;
  bool has_nodata = false;
  bool nodata_nan = false;
  T nodata{};

  /// Row y of the raster; index it with column x - x0.
  const T* row(int64_t y) const { return cells.row(y - y0); }

  /// gdaldem's ARE_REAL_EQUAL for floats, plain equality for integers; NaN matches a NaN nodata.
  bool is_nodata(T v) const {
    if constexpr (std::is_integral_v<T>) {
      return v == nodata;
    } else {
      if (nodata_nan) return std::isnan(v);
      return v == nodata || std::abs(v - nodata) <
                                std::numeric_limits<float>::epsilon() * std::abs(v + nodata) * 2;
    }
  }

  /// gdaldem's INTERPOL: 2a - b, nodata if a or b is, never equal to nodata otherwise (integers).
  T extrapolate(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      if (has_nodata && (a == nodata || b == nodata)) return nodata;
      const auto v =
          static_cast<T>(std::clamp<int64_t>(2 * static_cast<int64_t>(a) - b, INT_MIN, INT_MAX));
      if (has_nodata && v == nodata) return v == INT_MAX ? INT_MAX - 1 : v + 1;
      return v;
    } else {
      if (has_nodata && !nodata_nan && (is_nodata(a) || is_nodata(b))) return nodata;
      return 2 * a - b;
    }
  }
};

/// The grid of a tile: its cells of type T and gdaldem's nodata rules for the source type.
template <class T>
Grid<T> make_grid(const TileIn& in) {
  Grid<T> g;
  g.cells = std::get<ConstView<T>>(in.cells);
  g.x0 = in.owned.x - in.halo;
  g.y0 = in.owned.y - in.halo;
  g.width = in.raster.width;
  g.height = in.raster.height;
  if (!in.nodata) return g;
  const double nd = *in.nodata;
  if constexpr (std::is_integral_v<T>) {
    const double lo = in.source_type == PixelType::Int16 ? -32768 : 0;
    const double hi = in.source_type == PixelType::Byte    ? 255
                      : in.source_type == PixelType::Int16 ? 32767
                                                           : 65535;
    g.has_nodata = std::fabs(nd - std::floor(nd + 0.5)) < 1e-2 && nd >= lo && nd <= hi;
    if (g.has_nodata) g.nodata = static_cast<T>(std::floor(nd + 0.5));
  } else {
    g.has_nodata = true;
    g.nodata = static_cast<T>(nd);
    g.nodata_nan = std::isnan(nd);
  }
  return g;
}

/// The window of a border cell with -compute_edges (raster at least 2 x 2): in the first and
/// last rows the x-neighbours are clamped and the missing row is extrapolated; elsewhere the
/// missing column is extrapolated, exactly as gdaldem assembles it.
template <class T>
void edge_window(const Grid<T>& g, int64_t x, int64_t y, T* w) {
  const int64_t last_x = g.width - 1;
  if (y == 0 || y == g.height - 1) {
    const int64_t xs[3] = {x == 0 ? x : x - 1, x, x == last_x ? x : x + 1};
    const bool top = y == 0;
    const T* near = g.row(y);
    const T* far = g.row(top ? 1 : y - 1);
    for (int k = 0; k < 3; ++k) {
      const T a = near[xs[k] - g.x0];
      const T b = far[xs[k] - g.x0];
      w[k] = top ? g.extrapolate(a, b) : b;
      w[3 + k] = a;
      w[6 + k] = top ? b : g.extrapolate(a, b);
    }
    return;
  }
  const int64_t i = x - g.x0;  // x in the row's own indices
  for (int r = 0; r < 3; ++r) {
    const T* row = g.row(y - 1 + r);
    if (x == 0) {
      w[3 * r] = g.extrapolate(row[i], row[i + 1]);
      w[3 * r + 1] = row[i];
      w[3 * r + 2] = row[i + 1];
    } else {
      w[3 * r] = row[i - 1];
      w[3 * r + 1] = row[i];
      w[3 * r + 2] = g.extrapolate(row[i], row[i - 1]);
    }
  }
}

/// gdaldem's ComputeVal: a nodata centre gives `dst_nodata`; a nodata neighbour gives it too,
/// or takes the centre's value with -compute_edges; then `alg` computes the cell.
template <class T, class Alg>
inline float compute(const Grid<T>& g, T* w, bool edges, float dst_nodata, const Alg& alg) {
  if (g.has_nodata) {
    if (g.is_nodata(w[4])) return dst_nodata;
    for (int k = 0; k < 9; ++k) {
      if (!g.is_nodata(w[k])) continue;
      if (!edges) return dst_nodata;
      w[k] = w[4];
    }
  }
  return alg(w);
}

#if defined(TESSERA_HAVE_AVX2_PATHS)
/// Eight lanes of all-ones or zero (a comparison's result) as eight bytes of 1 or 0.
__attribute__((target("avx2"))) inline void store_flags8(__m256i mask, uint8_t* to) {
  simd::store_bytes8(_mm256_and_si256(mask, _mm256_set1_epi32(1)), to);
}

/// flag_row's test eight cells at a time for columns [x, x1), flags[0] being column x0;
/// returns where it stopped.
template <class T>
__attribute__((target("avx2"))) int64_t flag_row_avx2(const Grid<T>& g, const T* cells, int64_t x,
                                                      int64_t x0, int64_t x1, uint8_t* flags) {
  if constexpr (std::is_integral_v<T>) {
    const __m256i nd = _mm256_set1_epi32(g.nodata);
    for (; x + 8 <= x1; x += 8)
      store_flags8(_mm256_cmpeq_epi32(simd::load8(cells, x), nd), flags + (x - x0));
  } else if (g.nodata_nan) {
    for (; x + 8 <= x1; x += 8) {
      const __m256 v = simd::load8(cells, x);
      store_flags8(_mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)), flags + (x - x0));
    }
  } else {
    // (v == nd) | (|v - nd| < tolerance * |v + nd|), as the scalar loop in flag_row.
    const __m256 nd = _mm256_set1_ps(g.nodata);
    const __m256 tolerance = _mm256_set1_ps(std::numeric_limits<float>::epsilon() * 2);
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (; x + 8 <= x1; x += 8) {
      const __m256 v = simd::load8(cells, x);
      const __m256 equal = _mm256_cmp_ps(v, nd, _CMP_EQ_OQ);
      const __m256 off = _mm256_andnot_ps(sign, _mm256_sub_ps(v, nd));
      const __m256 bound = _mm256_mul_ps(tolerance, _mm256_andnot_ps(sign, _mm256_add_ps(v, nd)));
      const __m256 near = _mm256_cmp_ps(off, bound, _CMP_LT_OQ);
      store_flags8(_mm256_castps_si256(_mm256_or_ps(equal, near)), flags + (x - x0));
    }
  }
  return x;
}
#endif

#if defined(TESSERA_HAVE_AVX2_PATHS)
/// Sixteen mask bits as sixteen bytes of 1 or 0.
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline void store_flags16(
    __mmask16 m, uint8_t* to) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(to), _mm_maskz_mov_epi8(m, _mm_set1_epi8(1)));
}

/// flag_row_avx2 sixteen cells at a time on AVX-512 (the same tests, as masks), for columns
/// [x, x1); adds to *any the flags set; returns where it stopped.
template <class T>
__attribute__((target(TESSERA_AVX512_TARGET))) int64_t flag_row_avx512(const Grid<T>& g,
                                                                       const T* cells, int64_t x,
                                                                       int64_t x0, int64_t x1,
                                                                       uint8_t* flags, int* any) {
  __mmask16 seen = 0;
  if constexpr (std::is_integral_v<T>) {
    const __m512i nd = _mm512_set1_epi32(g.nodata);
    for (; x + 16 <= x1; x += 16) {
      const __mmask16 m = _mm512_cmpeq_epi32_mask(simd::load16(cells, x), nd);
      store_flags16(m, flags + (x - x0));
      seen |= m;
    }
  } else if (g.nodata_nan) {
    for (; x + 16 <= x1; x += 16) {
      const __m512 v = simd::load16(cells, x);
      const __mmask16 m = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
      store_flags16(m, flags + (x - x0));
      seen |= m;
    }
  } else {
    const __m512 nd = _mm512_set1_ps(g.nodata);
    const __m512 tolerance = _mm512_set1_ps(std::numeric_limits<float>::epsilon() * 2);
    const __m512 sign = _mm512_set1_ps(-0.0f);
    for (; x + 16 <= x1; x += 16) {
      const __m512 v = simd::load16(cells, x);
      const __mmask16 equal = _mm512_cmp_ps_mask(v, nd, _CMP_EQ_OQ);
      const __m512 off = _mm512_andnot_ps(sign, _mm512_sub_ps(v, nd));
      const __m512 bound = _mm512_mul_ps(tolerance, _mm512_andnot_ps(sign, _mm512_add_ps(v, nd)));
      const __mmask16 m = equal | _mm512_cmp_ps_mask(off, bound, _CMP_LT_OQ);
      store_flags16(m, flags + (x - x0));
      seen |= m;
    }
  }
  *any |= seen != 0;
  return x;
}
#endif

/// Flags the nodata cells of raster row `row` between raster columns [x0, x1): flags[k] is
/// column x0 + k. Each cell is tested once here instead of once per window holding it, eight
/// at a time where the CPU has AVX2 (sixteen with AVX-512). Returns whether any is set.
template <class T>
bool flag_row(const Grid<T>& g, const T* row, int64_t x0, int64_t x1, uint8_t* flags) {
  const T* cells = row - g.x0;
  int64_t x = x0;
#if defined(TESSERA_HAVE_AVX2_PATHS)
  if (simd::have_avx512()) {
    int any = 0;
    x = flag_row_avx512(g, cells, x, x0, x1, flags, &any);
    for (; x < x1; ++x) any |= flags[x - x0] = g.is_nodata(cells[x]);
    return any != 0;
  }
  if (simd::have_avx2()) x = flag_row_avx2(g, cells, x, x0, x1, flags);
#endif
  if constexpr (std::is_integral_v<T>) {
    for (; x < x1; ++x) flags[x - x0] = cells[x] == g.nodata;
  } else if (g.nodata_nan) {
    for (; x < x1; ++x) flags[x - x0] = std::isnan(cells[x]);
  } else {
    const T nd = g.nodata;
    const T tolerance = std::numeric_limits<float>::epsilon() * 2;
    for (; x < x1; ++x) {
      const T v = cells[x];
      flags[x - x0] = (v == nd) | (std::abs(v - nd) < tolerance * std::abs(v + nd));
    }
  }
  return std::find(flags, flags + (x1 - x0), uint8_t{1}) != flags + (x1 - x0);
}

/// Nodata flags of the three rows around the current one, for columns [x0 - 1, x1 + 1), kept
/// per thread and rolled down a tile: each row is flagged once, not once per window row.
/// clean(k) tells whether the window centred on column x0 + k holds no nodata.
template <class T>
class FlagRows {
 public:
  /// Forgets the rows held: call before the first row of each tile.
  void restart() { centre_ = INT64_MIN; }

  /// Makes the rows y - 1, y, y + 1 of g between columns [x0 - 1, x1 + 1) current.
  void move_to(const Grid<T>& g, int64_t y, int64_t x0, int64_t x1) {
    const auto n = static_cast<size_t>(x1 - x0 + 2);
    const bool next = centre_ == y - 1 && x0 == x0_ && x1 == x1_;
    if (next) {
      std::swap(rows_[0], rows_[1]);
      std::swap(rows_[1], rows_[2]);
      std::swap(any_[0], any_[1]);
      std::swap(any_[1], any_[2]);
    }
    for (int i = next ? 2 : 0; i < 3; ++i) {
      rows_[i].resize(n);
      any_[i] = flag_row(g, g.row(y - 1 + i), x0 - 1, x1 + 1, rows_[i].data());
    }
    centre_ = y;
    x0_ = x0;
    x1_ = x1;
  }

  /// No nodata anywhere in the three rows.
  bool all_clean() const { return !(any_[0] || any_[1] || any_[2]); }

  /// dirty()[k] is 1 where the window centred on column x0 + k holds nodata: the columns' flags
  /// OR-ed down the three rows, then across three columns (two loops the compiler vectorises).
  const uint8_t* dirty() {
    const size_t n = rows_[0].size();
    columns_.resize(n);
    dirty_.resize(n - 2);
    const uint8_t* f0 = rows_[0].data();
    const uint8_t* f1 = rows_[1].data();
    const uint8_t* f2 = rows_[2].data();
    uint8_t* c = columns_.data();
    for (size_t k = 0; k < n; ++k) c[k] = f0[k] | f1[k] | f2[k];
    uint8_t* d = dirty_.data();
    for (size_t k = 0; k + 2 < n; ++k) d[k] = c[k] | c[k + 1] | c[k + 2];
    return d;
  }

 private:
  std::vector<uint8_t> rows_[3];
  std::vector<uint8_t> columns_;
  std::vector<uint8_t> dirty_;
  bool any_[3] = {false, false, false};
  int64_t centre_ = INT64_MIN;
  int64_t x0_ = 0;
  int64_t x1_ = 0;
};

/// An algorithm that also computes a whole row of nodata-free windows at once (SIMD):
/// row_values(r0, r1, r2, x0, x1, out) gives out[x - x0] = alg(window at x) for x in [x0, x1),
/// where r0, r1, r2 are the rows above, at and below, indexed by raster column.
template <class Alg, class T>
concept RowAlg = requires(const Alg& alg, const T* row, float* out) {
  alg.row_values(row, row, row, int64_t{0}, int64_t{0}, out);
};

/// The first column in [x, x1) whose window holds nodata (dirty[column - x0] set), or x1; memchr
/// skips the clean stretches many bytes at a time.
inline int64_t next_dirty(const uint8_t* dirty, int64_t x0, int64_t x, int64_t x1) {
  if (x >= x1) return x1;
  const void* hit = std::memchr(dirty + (x - x0), 1, static_cast<size_t>(x1 - x));
  return hit ? x0 + (static_cast<const uint8_t*>(hit) - dirty) : x1;
}

/// A sink that also takes a run of a row at once: row(x, y, values, n).
template <class Store>
concept RowStore = requires(Store& store, const float* values) {
  store.row(int64_t{0}, int64_t{0}, values, int64_t{0});
};

/// A sink holding float cells in memory: a row's values can be computed straight into it.
template <class Store>
concept DirectRows = requires(Store& store) {
  { store.row_pointer(int64_t{0}, int64_t{0}) } -> std::same_as<float*>;
};

/// The interior cells [x0, x1) of raster row y: every neighbour exists. Windows free of nodata
/// go straight to `alg`; the others through gdaldem's ComputeVal rules.
template <class T, class Alg, class Store>
void interior_row(const Grid<T>& g, Window owned, int64_t y, int64_t x0, int64_t x1, bool edges,
                  float dst_nodata, const Alg& alg, Store& store, FlagRows<T>& flags) {
  const T* r0 = g.row(y - 1) - g.x0;
  const T* r1 = g.row(y) - g.x0;
  const T* r2 = g.row(y + 1) - g.x0;
  if (g.has_nodata) flags.move_to(g, y, x0, x1);
  const uint8_t* dirty = !g.has_nodata || flags.all_clean() ? nullptr : flags.dirty();
  const auto window = [&](int64_t x, T* w) {
    const T cells[9] = {r0[x - 1], r0[x],     r0[x + 1], r1[x - 1], r1[x],
                        r1[x + 1], r2[x - 1], r2[x],     r2[x + 1]};
    std::copy(cells, cells + 9, w);
  };
  if constexpr (RowAlg<Alg, T> && RowStore<Store>) {
    // The whole row at once as if free of nodata, then gdaldem's rules where it is not.
    if constexpr (DirectRows<Store>) {
      alg.row_values(r0, r1, r2, x0, x1, store.row_pointer(x0 - owned.x, y - owned.y));
    } else {
      thread_local std::vector<float> values;
      values.resize(static_cast<size_t>(x1 - x0));
      alg.row_values(r0, r1, r2, x0, x1, values.data());
      store.row(x0 - owned.x, y - owned.y, values.data(), x1 - x0);
    }
    if (!dirty) return;
    for (int64_t x = next_dirty(dirty, x0, x0, x1); x < x1; x = next_dirty(dirty, x0, x + 1, x1)) {
      T w[9];
      window(x, w);
      store(x - owned.x, y - owned.y, compute(g, w, edges, dst_nodata, alg));
    }
  } else {
    for (int64_t x = x0; x < x1; ++x) {
      T w[9];
      window(x, w);
      const bool clean = !dirty || !dirty[x - x0];
      store(x - owned.x, y - owned.y, clean ? alg(w) : compute(g, w, edges, dst_nodata, alg));
    }
  }
}

/// Runs `alg` (float(const T* window)) over every owned cell and hands each result to
/// `store(column, row, value)` in owned-window coordinates. Border cells are `dst_nodata`
/// unless `edges` (and the raster is at least 2 x 2); the result never depends on the tile cut.
template <class T, class Alg, class Store>
void for_each_cell(const Grid<T>& g, Window owned, bool edges, float dst_nodata, const Alg& alg,
                   Store&& store) {
  const bool can_edge = edges && g.width >= 2 && g.height >= 2;
  const auto border_cell = [&](int64_t x, int64_t y) {
    if (!can_edge) return store(x - owned.x, y - owned.y, dst_nodata);
    T w[9];
    edge_window(g, x, y, w);
    store(x - owned.x, y - owned.y, compute(g, w, edges, dst_nodata, alg));
  };
  thread_local FlagRows<T> flags;
  flags.restart();
  const int64_t inner_x0 = std::max<int64_t>(owned.x, 1);
  const int64_t inner_x1 = std::min<int64_t>(owned.right(), g.width - 1);
  for (int64_t y = owned.y; y < owned.bottom(); ++y) {
    if (y == 0 || y == g.height - 1) {
      for (int64_t x = owned.x; x < owned.right(); ++x) border_cell(x, y);
      continue;
    }
    for (int64_t x = owned.x; x < inner_x0; ++x) border_cell(x, y);
    if (inner_x0 < inner_x1)
      interior_row(g, owned, y, inner_x0, inner_x1, edges, dst_nodata, alg, store, flags);
    for (int64_t x = std::max(inner_x1, owned.x); x < owned.right(); ++x) border_cell(x, y);
  }
}

/// Dispatches on the tile's cell type: calls fn(grid) with a Grid<int32_t> or Grid<float>.
template <class Fn>
void with_grid(const TileIn& in, Fn&& fn) {
  if (std::holds_alternative<ConstView<int32_t>>(in.cells))
    fn(make_grid<int32_t>(in));
  else
    fn(make_grid<float>(in));
}

}  // namespace tessera::ops::terrain
