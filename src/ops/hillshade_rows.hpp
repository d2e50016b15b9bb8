// gdaldem's default hillshade (Horn, square cells) over whole rows, four cells per SSE step.
//
// Every lane repeats the scalar arithmetic of SingleSquare operation for operation: the
// differences in T, the products in double, float(b) through the same reciprocal square root
// estimate (rsqrtps and rsqrtss share one table) and the same Newton step, so the bytes are the
// ones the scalar path (and gdaldem) produce. Measured: the scalar loop ran at ~41 ns a cell.
#pragma once

#include <cstdint>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "simd_avx2.hpp"
#include "simd_avx512.hpp"
#include "terrain_math.hpp"
#include "terrain_rows.hpp"
#include "terrain_rows16.hpp"
#include "terrain_sinks.hpp"
#include "terrain_window.hpp"

namespace tessera::ops::terrain {

/// Coefficients of the default hillshade on square cells (gdaldem's GDALHillshadeAlg_same_res).
struct SquareShade {
  double sin_alt_254;
  double sin_az_254_inv_res;
  double cos_az_254_inv_res;
  double square_z_inv_res2;

  /// One cell: the float gdaldem hands to GDAL before the conversion to Byte.
  template <class T>
  float cell(T w0, T w1, T w2, T w3, T w5, T w6, T w7, T w8) const {
    T acc_x = w0 - w8;
    const T six_minus_two = w6 - w2;
    T acc_y = acc_x;
    const T three_minus_five = w3 - w5;
    const T one_minus_seven = w1 - w7;
    acc_x += three_minus_five;
    acc_y += one_minus_seven;
    acc_x += three_minus_five;
    acc_y += one_minus_seven;
    acc_x += six_minus_two;
    acc_y -= six_minus_two;
    const double x = acc_x;
    const double y = acc_y;
    const double a = sin_alt_254 + (x * sin_az_254_inv_res + y * cos_az_254_inv_res);
    const double b = 1 + square_z_inv_res2 * (x * x + y * y);
    const double cang_254 = approx_a_div_sqrt_b(a, b);
    return static_cast<float>(cang_254 <= 0.0 ? 1.0 : 1.0 + cang_254);
  }

#if defined(__SSE2__)
  /// Two cells from their differences in double; the same steps as cell().
  __m128d pair(__m128d x, __m128d y) const {
    const __m128d a = _mm_add_pd(_mm_set1_pd(sin_alt_254),
                                 _mm_add_pd(_mm_mul_pd(x, _mm_set1_pd(sin_az_254_inv_res)),
                                            _mm_mul_pd(y, _mm_set1_pd(cos_az_254_inv_res))));
    const __m128d xx_yy = _mm_add_pd(_mm_mul_pd(x, x), _mm_mul_pd(y, y));
    const __m128d b =
        _mm_add_pd(_mm_set1_pd(1.0), _mm_mul_pd(_mm_set1_pd(square_z_inv_res2), xx_yy));
    __m128d r = _mm_cvtps_pd(_mm_rsqrt_ps(_mm_cvtpd_ps(b)));
    const __m128d half_b = _mm_mul_pd(b, _mm_set1_pd(0.5));
    r = _mm_mul_pd(r, _mm_sub_pd(_mm_set1_pd(1.5), _mm_mul_pd(half_b, _mm_mul_pd(r, r))));
    const __m128d cang = _mm_mul_pd(a, r);
    const __m128d lit = _mm_add_pd(_mm_set1_pd(1.0), cang);
    const __m128d dark = _mm_cmple_pd(cang, _mm_setzero_pd());
    return _mm_or_pd(_mm_and_pd(dark, _mm_set1_pd(1.0)), _mm_andnot_pd(dark, lit));
  }

  /// Four cells: x and y differences of four windows, in T's SIMD form, to four floats.
  __m128 quad(__m128d x_lo, __m128d y_lo, __m128d x_hi, __m128d y_hi) const {
    const __m128 lo = _mm_cvtpd_ps(pair(x_lo, y_lo));
    const __m128 hi = _mm_cvtpd_ps(pair(x_hi, y_hi));
    return _mm_movelh_ps(lo, hi);
  }
#endif
};

#if defined(__SSE2__)
/// The Horn differences of four adjacent windows whose centres are r1[i..i+3].
inline __m128 square_quad(const SquareShade& s, const float* r0, const float* r1, const float* r2,
                          int64_t i) {
  const auto at = [](const float* row, int64_t k) { return _mm_loadu_ps(row + k); };
  __m128 acc_x = _mm_sub_ps(at(r0, i - 1), at(r2, i + 1));
  const __m128 six_minus_two = _mm_sub_ps(at(r2, i - 1), at(r0, i + 1));
  __m128 acc_y = acc_x;
  const __m128 three_minus_five = _mm_sub_ps(at(r1, i - 1), at(r1, i + 1));
  const __m128 one_minus_seven = _mm_sub_ps(at(r0, i), at(r2, i));
  acc_x = _mm_add_ps(acc_x, three_minus_five);
  acc_y = _mm_add_ps(acc_y, one_minus_seven);
  acc_x = _mm_add_ps(acc_x, three_minus_five);
  acc_y = _mm_add_ps(acc_y, one_minus_seven);
  acc_x = _mm_add_ps(acc_x, six_minus_two);
  acc_y = _mm_sub_ps(acc_y, six_minus_two);
  return s.quad(_mm_cvtps_pd(acc_x), _mm_cvtps_pd(acc_y), _mm_cvtps_pd(_mm_movehl_ps(acc_x, acc_x)),
                _mm_cvtps_pd(_mm_movehl_ps(acc_y, acc_y)));
}

inline __m128 square_quad(const SquareShade& s, const int32_t* r0, const int32_t* r1,
                          const int32_t* r2, int64_t i) {
  const auto at = [](const int32_t* row, int64_t k) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + k));
  };
  __m128i acc_x = _mm_sub_epi32(at(r0, i - 1), at(r2, i + 1));
  const __m128i six_minus_two = _mm_sub_epi32(at(r2, i - 1), at(r0, i + 1));
  __m128i acc_y = acc_x;
  const __m128i three_minus_five = _mm_sub_epi32(at(r1, i - 1), at(r1, i + 1));
  const __m128i one_minus_seven = _mm_sub_epi32(at(r0, i), at(r2, i));
  acc_x = _mm_add_epi32(_mm_add_epi32(_mm_add_epi32(acc_x, three_minus_five), three_minus_five),
                        six_minus_two);
  acc_y = _mm_sub_epi32(_mm_add_epi32(_mm_add_epi32(acc_y, one_minus_seven), one_minus_seven),
                        six_minus_two);
  const auto high = [](__m128i v) { return _mm_cvtepi32_pd(_mm_unpackhi_epi64(v, v)); };
  return s.quad(_mm_cvtepi32_pd(acc_x), _mm_cvtepi32_pd(acc_y), high(acc_x), high(acc_y));
}
#endif

#if defined(TESSERA_HAVE_AVX2_PATHS)
/// Four cells from their differences in double: pair() four lanes wide. The reciprocal square
/// root estimate is still rsqrtps on four floats, the instruction the SSE path and gdaldem use.
__attribute__((target("avx2"))) inline __m128 square_four(const SquareShade& s, __m256d x,
                                                          __m256d y) {
  const __m256d a =
      _mm256_add_pd(_mm256_set1_pd(s.sin_alt_254),
                    _mm256_add_pd(_mm256_mul_pd(x, _mm256_set1_pd(s.sin_az_254_inv_res)),
                                  _mm256_mul_pd(y, _mm256_set1_pd(s.cos_az_254_inv_res))));
  const __m256d xx_yy = _mm256_add_pd(_mm256_mul_pd(x, x), _mm256_mul_pd(y, y));
  const __m256d b =
      _mm256_add_pd(_mm256_set1_pd(1.0), _mm256_mul_pd(_mm256_set1_pd(s.square_z_inv_res2), xx_yy));
  __m256d r = _mm256_cvtps_pd(_mm_rsqrt_ps(_mm256_cvtpd_ps(b)));
  const __m256d half_b = _mm256_mul_pd(b, _mm256_set1_pd(0.5));
  r = _mm256_mul_pd(r,
                    _mm256_sub_pd(_mm256_set1_pd(1.5), _mm256_mul_pd(half_b, _mm256_mul_pd(r, r))));
  const __m256d cang = _mm256_mul_pd(a, r);
  const __m256d lit = _mm256_add_pd(_mm256_set1_pd(1.0), cang);
  const __m256d dark = _mm256_cmp_pd(cang, _mm256_setzero_pd(), _CMP_LE_OQ);
  return _mm256_cvtpd_ps(_mm256_blendv_pd(lit, _mm256_set1_pd(1.0), dark));
}

/// The Horn differences of eight adjacent windows, computed in T as gdaldem does, as floats:
/// exact for float cells, and for int32 ones (from Byte, Int16 or UInt16 sources, differences
/// of at most 4 x 65535) too.
template <class T>
__attribute__((target("avx2"))) inline void square_differences(const T* r0, const T* r1,
                                                               const T* r2, int64_t i, __m256& x,
                                                               __m256& y) {
  using simd::add, simd::load8, simd::sub;
  auto acc_x = sub(load8(r0, i - 1), load8(r2, i + 1));
  const auto six_minus_two = sub(load8(r2, i - 1), load8(r0, i + 1));
  auto acc_y = acc_x;
  const auto three_minus_five = sub(load8(r1, i - 1), load8(r1, i + 1));
  const auto one_minus_seven = sub(load8(r0, i), load8(r2, i));
  acc_x = add(add(add(acc_x, three_minus_five), three_minus_five), six_minus_two);
  acc_y = sub(add(add(acc_y, one_minus_seven), one_minus_seven), six_minus_two);
  x = simd::to_floats(acc_x);
  y = simd::to_floats(acc_y);
}

/// The coefficients of SquareShade rounded to float, for the float pass.
struct SquareShadeFloat {
  __m256 sin_alt_254, sin_az_254_inv_res, cos_az_254_inv_res, square_z_inv_res2;
  __attribute__((target("avx2"))) explicit SquareShadeFloat(const SquareShade& s)
      : sin_alt_254(_mm256_set1_ps(static_cast<float>(s.sin_alt_254))),
        sin_az_254_inv_res(_mm256_set1_ps(static_cast<float>(s.sin_az_254_inv_res))),
        cos_az_254_inv_res(_mm256_set1_ps(static_cast<float>(s.cos_az_254_inv_res))),
        square_z_inv_res2(_mm256_set1_ps(static_cast<float>(s.square_z_inv_res2))) {}
};

/// How far the float pass's 1 + cang may be from gdaldem's double one, bounded above: the
/// float roundings of a (terms of at most 254 / r each) and of the Newton step (a few units of
/// 2^-24 relative, on values up to 255) stay under 3e-4; a rsqrt estimate taken from float(b)
/// one unit away moves gdaldem's step by under 4e-7 relative, 1e-4 more. Lanes whose
/// v + 0.5 lies within this of a whole number (where the byte could change), or whose cang lies
/// within it of 0 (the dark test), are left to the double pass.
inline constexpr float kShadeSlack = 0x1p-9f;

/// Eight cells of the default hillshade in float arithmetic into values[0..8), the floats whose
/// bytes (to_byte) are gdaldem's. Returns false, having stored nothing, when a lane is too close
/// to a rounding boundary, or not finite, for float arithmetic to be sure of its byte.
__attribute__((target("avx2"))) inline bool square_eight_float(const SquareShadeFloat& f, __m256 x,
                                                               __m256 y, float* values) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 a =
      _mm256_add_ps(f.sin_alt_254, _mm256_add_ps(_mm256_mul_ps(x, f.sin_az_254_inv_res),
                                                 _mm256_mul_ps(y, f.cos_az_254_inv_res)));
  const __m256 xx_yy = _mm256_add_ps(_mm256_mul_ps(x, x), _mm256_mul_ps(y, y));
  const __m256 b = _mm256_add_ps(one, _mm256_mul_ps(f.square_z_inv_res2, xx_yy));
  __m256 r = _mm256_rsqrt_ps(b);
  const __m256 half_b = _mm256_mul_ps(b, _mm256_set1_ps(0.5f));
  r = _mm256_mul_ps(
      r, _mm256_sub_ps(_mm256_set1_ps(1.5f), _mm256_mul_ps(half_b, _mm256_mul_ps(r, r))));
  const __m256 cang = _mm256_mul_ps(a, r);
  const __m256 dark = _mm256_cmp_ps(cang, _mm256_setzero_ps(), _CMP_LE_OQ);
  const __m256 v = _mm256_blendv_ps(_mm256_add_ps(one, cang), one, dark);
  const __m256 t = _mm256_add_ps(v, _mm256_set1_ps(0.5f));
  const __m256 nearest = _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 magnitude = _mm256_set1_ps(-0.0f);
  const __m256 slack = _mm256_set1_ps(kShadeSlack);
  // Ordered comparisons: NaN anywhere makes the lane unsure.
  const __m256 far_from_whole =
      _mm256_cmp_ps(_mm256_andnot_ps(magnitude, _mm256_sub_ps(t, nearest)), slack, _CMP_GE_OQ);
  const __m256 far_from_dark = _mm256_cmp_ps(_mm256_andnot_ps(magnitude, cang), slack, _CMP_GE_OQ);
  const __m256 finite = _mm256_cmp_ps(b, _mm256_set1_ps(3.0e38f), _CMP_LE_OQ);
  const __m256 sure = _mm256_and_ps(_mm256_and_ps(far_from_whole, far_from_dark), finite);
  if (_mm256_movemask_ps(sure) != 0xFF) return false;
  _mm256_storeu_ps(values, v);
  return true;
}

/// Cells [x, x1) of a row eight at a time into values[x - x0 ..]; returns where it stopped.
/// Float arithmetic first; the eights it is unsure of again in gdaldem's double arithmetic.
template <class T>
__attribute__((target("avx2"))) int64_t square_row_avx2(const SquareShade& s, const T* const* r,
                                                        int64_t x0, int64_t x, int64_t x1,
                                                        float* values) {
  const SquareShadeFloat f(s);
  for (; x + 8 <= x1; x += 8) {
    __m256 dx, dy;
    square_differences(r[0], r[1], r[2], x, dx, dy);
    float* to = values + (x - x0);
    if (square_eight_float(f, dx, dy, to)) continue;
    fallback_cells += 8;
    _mm_storeu_ps(to, square_four(s, _mm256_cvtps_pd(_mm256_castps256_ps128(dx)),
                                  _mm256_cvtps_pd(_mm256_castps256_ps128(dy))));
    _mm_storeu_ps(to + 4, square_four(s, _mm256_cvtps_pd(_mm256_extractf128_ps(dx, 1)),
                                      _mm256_cvtps_pd(_mm256_extractf128_ps(dy, 1))));
  }
  return x;
}
#endif

#if defined(TESSERA_HAVE_AVX2_PATHS)
/// square_differences of sixteen windows: the same operations in the same order.
template <class T>
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline void square_differences16(
    const T* r0, const T* r1, const T* r2, int64_t i, __m512& x, __m512& y) {
  using simd::add, simd::load16, simd::sub;
  auto acc_x = sub(load16(r0, i - 1), load16(r2, i + 1));
  const auto six_minus_two = sub(load16(r2, i - 1), load16(r0, i + 1));
  auto acc_y = acc_x;
  const auto three_minus_five = sub(load16(r1, i - 1), load16(r1, i + 1));
  const auto one_minus_seven = sub(load16(r0, i), load16(r2, i));
  acc_x = add(add(add(acc_x, three_minus_five), three_minus_five), six_minus_two);
  acc_y = sub(add(add(acc_y, one_minus_seven), one_minus_seven), six_minus_two);
  x = simd::to_floats(acc_x);
  y = simd::to_floats(acc_y);
}

/// The coefficients of SquareShade rounded to float, sixteen lanes, for the AVX-512 float pass.
struct SquareShadeFloat16 {
  __m512 sin_alt_254, sin_az_254_inv_res, cos_az_254_inv_res, square_z_inv_res2;
  __attribute__((target(TESSERA_AVX512_TARGET))) explicit SquareShadeFloat16(const SquareShade& s)
      : sin_alt_254(_mm512_set1_ps(static_cast<float>(s.sin_alt_254))),
        sin_az_254_inv_res(_mm512_set1_ps(static_cast<float>(s.sin_az_254_inv_res))),
        cos_az_254_inv_res(_mm512_set1_ps(static_cast<float>(s.cos_az_254_inv_res))),
        square_z_inv_res2(_mm512_set1_ps(static_cast<float>(s.square_z_inv_res2))) {}
};

/// square_eight_float sixteen lanes wide on AVX-512, with rsqrt14 (2^-14) in place of rsqrtps
/// (1.5 x 2^-12) before the same Newton step: gdaldem's double step from its rsqrtps estimate
/// is within 1.5 (1.5 x 2^-12)^2 = 2e-7 of the true a / sqrt(b), relative (5e-5 on values up to
/// 255), and the float step from rsqrt14 within 1e-8 of it before the float roundings (which
/// FMA, where the compiler fuses, only makes smaller), so the float value stays within the
/// bound kShadeSlack was set from (3e-4 + 1e-4). The same checks: lanes within kShadeSlack of a
/// byte's rounding boundary or of the dark test, and b not finite, are unsure. Stores v into
/// values[0..16) and returns the unsure lanes (bits 0-15).
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline int square_sixteen_float(
    const SquareShadeFloat16& f, __m512 x, __m512 y, float* values) {
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 a =
      _mm512_add_ps(f.sin_alt_254, _mm512_add_ps(_mm512_mul_ps(x, f.sin_az_254_inv_res),
                                                 _mm512_mul_ps(y, f.cos_az_254_inv_res)));
  const __m512 xx_yy = _mm512_add_ps(_mm512_mul_ps(x, x), _mm512_mul_ps(y, y));
  const __m512 b = _mm512_add_ps(one, _mm512_mul_ps(f.square_z_inv_res2, xx_yy));
  __m512 r = _mm512_rsqrt14_ps(b);
  const __m512 half_b = _mm512_mul_ps(b, _mm512_set1_ps(0.5f));
  r = _mm512_mul_ps(
      r, _mm512_sub_ps(_mm512_set1_ps(1.5f), _mm512_mul_ps(half_b, _mm512_mul_ps(r, r))));
  const __m512 cang = _mm512_mul_ps(a, r);
  const __mmask16 dark = _mm512_cmp_ps_mask(cang, _mm512_setzero_ps(), _CMP_LE_OQ);
  const __m512 v = _mm512_mask_mov_ps(_mm512_add_ps(one, cang), dark, one);
  _mm512_storeu_ps(values, v);
  const __m512 slack = _mm512_set1_ps(kShadeSlack);
  const __m512 t = _mm512_add_ps(v, _mm512_set1_ps(0.5f));
  const __m512 nearest = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 magnitude = _mm512_set1_ps(-0.0f);
  // Ordered comparisons: NaN anywhere makes the lane unsure.
  const __mmask16 far_from_whole =
      _mm512_cmp_ps_mask(_mm512_andnot_ps(magnitude, _mm512_sub_ps(t, nearest)), slack, _CMP_GE_OQ);
  const __mmask16 far_from_dark =
      _mm512_cmp_ps_mask(_mm512_andnot_ps(magnitude, cang), slack, _CMP_GE_OQ);
  const __mmask16 finite = _mm512_cmp_ps_mask(b, _mm512_set1_ps(3.0e38f), _CMP_LE_OQ);
  return ~(far_from_whole & far_from_dark & finite) & 0xFFFF;
}

/// The vector loop of square_row_avx512: the groups with unsure lanes listed in unsure[0..n),
/// without a branch (as checked_sixteens). Returns n.
template <class T>
__attribute__((target(TESSERA_AVX512_TARGET))) size_t square_sixteens(const SquareShade& s,
                                                                      const T* const* r, int64_t x0,
                                                                      int64_t x1, float* values,
                                                                      UnsureLanes* unsure) {
  const SquareShadeFloat16 f(s);
  const T *r0 = r[0], *r1 = r[1], *r2 = r[2];
  const Sixteens groups{x0, x1};
  size_t n = 0;
  for (int64_t k = 0; k < groups.count(); ++k) {
    const int64_t x = groups.start(k);
    __m512 dx, dy;
    square_differences16(r0, r1, r2, x, dx, dy);
    const int lanes = square_sixteen_float(f, dx, dy, values + (x - x0)) & groups.fresh(k);
    unsure[n] = {x, lanes};
    n += lanes != 0;
  }
  return n;
}

/// square_row_avx2 sixteen cells at a time on AVX-512, for cells [x0, x1), x1 - x0 >= 16 (the
/// last group ends at x1, overlapping the one before it). The lanes the float pass is unsure of
/// are recomputed after the row, one by one, by SquareShade::cell, gdaldem's double arithmetic.
/// Returns x1.
template <class T>
int64_t square_row_avx512(const SquareShade& s, const T* const* r, int64_t x0, int64_t x1,
                          float* values) {
  thread_local std::vector<UnsureLanes> unsure;
  unsure.resize(static_cast<size_t>(Sixteens{x0, x1}.count()));
  const size_t n = square_sixteens(s, r, x0, x1, values, unsure.data());
  for (size_t k = 0; k < n; ++k) {
    int lanes = unsure[k].lanes;
    fallback_cells += __builtin_popcount(static_cast<unsigned>(lanes));
    for (int64_t c = unsure[k].x; lanes; ++c, lanes >>= 1)
      if (lanes & 1)
        values[c - x0] = s.cell(r[0][c - 1], r[0][c], r[0][c + 1], r[1][c - 1], r[1][c + 1],
                                r[2][c - 1], r[2][c], r[2][c + 1]);
  }
  return x1;
}
#endif

/// Reusable per-thread buffers of the row loop.
template <class T>
struct RowScratch {
  std::vector<float> values;
  FlagRows<T> flags;
};

/// Shades interior cells [x0, x1) of raster row y (all nine neighbours inside the raster) into
/// `out`, one byte per cell, with gdaldem's nodata rules (ComputeVal) for windows holding nodata.
template <class T>
void shade_square_row(const Grid<T>& g, const SquareShade& s, bool edges, int64_t y, int64_t x0,
                      int64_t x1, uint8_t* out, RowScratch<T>& scratch) {
  const T* r[3] = {g.row(y - 1) - g.x0, g.row(y) - g.x0, g.row(y + 1) - g.x0};
  const auto n = static_cast<size_t>(x1 - x0);
  if (scratch.values.size() < n) scratch.values.resize(n);
  float* values = scratch.values.data();
  int64_t x = x0;
#if defined(TESSERA_HAVE_AVX2_PATHS)
  if (simd::have_avx512() && x1 - x0 >= 16)
    x = square_row_avx512(s, r, x0, x1, values);
  else if (simd::have_avx2())
    x = square_row_avx2(s, r, x0, x, x1, values);
#endif
#if defined(__SSE2__)
  for (; x + 4 <= x1; x += 4) _mm_storeu_ps(values + (x - x0), square_quad(s, r[0], r[1], r[2], x));
#endif
  for (; x < x1; ++x)
    values[x - x0] = s.cell(r[0][x - 1], r[0][x], r[0][x + 1], r[1][x - 1], r[1][x + 1],
                            r[2][x - 1], r[2][x], r[2][x + 1]);
  to_bytes(values, out, static_cast<int64_t>(n));
  if (!g.has_nodata) return;
  scratch.flags.move_to(g, y, x0, x1);
  if (scratch.flags.all_clean()) return;
  const auto alg = [&](const T* w) {
    return s.cell(w[0], w[1], w[2], w[3], w[5], w[6], w[7], w[8]);
  };
  const uint8_t* dirty = scratch.flags.dirty();
  for (int64_t c = next_dirty(dirty, x0, x0, x1); c < x1; c = next_dirty(dirty, x0, c + 1, x1)) {
    const auto k = static_cast<size_t>(c - x0);
    T w[9] = {r[0][c - 1], r[0][c],     r[0][c + 1], r[1][c - 1], r[1][c],
              r[1][c + 1], r[2][c - 1], r[2][c],     r[2][c + 1]};
    out[k] = to_byte(compute(g, w, edges, 0.0f, alg));
  }
}

/// The default hillshade of the owned cells: interior rows through shade_square_row, the
/// raster's border cells through the generic window (edges and extrapolation).
template <class T>
void shade_square(const Grid<T>& g, Window owned, bool edges, const SquareShade& s,
                  View<uint8_t> out) {
  const auto alg = [&](const T* w) {
    return s.cell(w[0], w[1], w[2], w[3], w[5], w[6], w[7], w[8]);
  };
  const auto generic = [&](Window part) {
    if (part.empty()) return;
    const auto sink =
        ByteSink{out.sub(part.x - owned.x, part.y - owned.y, part.width, part.height)};
    for_each_cell(g, part, edges, 0.0f, alg, sink);
  };
  const Window interior = intersect(owned, {1, 1, g.width - 2, g.height - 2});
  if (interior.empty()) return generic(owned);
  thread_local RowScratch<T> scratch;
  scratch.flags.restart();
  for (int64_t y = interior.y; y < interior.bottom(); ++y)
    shade_square_row(g, s, edges, y, interior.x, interior.right(),
                     &out(interior.x - owned.x, y - owned.y), scratch);
  generic({owned.x, owned.y, owned.width, interior.y - owned.y});
  generic({owned.x, interior.bottom(), owned.width, owned.bottom() - interior.bottom()});
  generic({owned.x, interior.y, interior.x - owned.x, interior.height});
  generic({interior.right(), interior.y, owned.right() - interior.right(), interior.height});
}

}  // namespace tessera::ops::terrain
