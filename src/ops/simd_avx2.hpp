// AVX2 pieces of the terrain kernels, used only where the CPU has AVX2 and FMA (checked at run
// time): row loads, four-lane double atan and atan2, the checks that let a float result built on
// them equal the one built on the C library's bit for bit, and eight-lane float atan, atan2 and
// acos with the check that lets a byte built on them equal gdaldem's. The approximations use
// fused multiply-adds and are compiled for FMA; code that must repeat gdaldem's roundings
// operation for operation is compiled for AVX2 alone, so that nothing in it is fused.
//
// gdaldem computes float(atan(v) * k) with the C library's atan. A vector atan accurate to a
// given relative error gives the same float except where the double product lies within that
// error of a float rounding boundary. slope (degrees) and aspect use a shorter atan polynomial
// (atan_near, 2^-45) after one division: each lane within 2^-44 of the C library's value,
// relative, and to_float_near keeps a lane's float only where the value lies farther than 2^-40
// of itself from a float rounding boundary (16 times the error); the caller recomputes the other
// lanes, and those not finite or outside float's normal range, with the C library. A value
// lands that near a boundary about once in 2^15 (the 2^-40 band on each side of boundaries 2^-24
// to 2^-23 apart): 3e-5 of the cells (tests/bench/count_fallbacks.cpp). slope in percent keeps
// to_float_checked, the value nudged down and up by 2^-43 of itself, around its exact square root.
#pragma once

#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#define TESSERA_HAVE_AVX2_PATHS 1
#include <immintrin.h>
#endif

namespace tessera::ops::simd {

#if defined(TESSERA_HAVE_AVX2_PATHS)

/// True when this CPU runs the AVX2 paths: AVX2 and FMA (checked once; every CPU with AVX2 that
/// tessera targets has both).
inline bool have_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}

/// Cephes' atanf after its reduction: base + atan(t) for |t| <= tan(pi/8) (a degree-9 odd
/// polynomial), fused.
__attribute__((target("avx2,fma"), always_inline)) inline __m256 atan_core8(__m256 t, __m256 base) {
  const __m256 z = _mm256_mul_ps(t, t);
  __m256 p =
      _mm256_fmadd_ps(_mm256_set1_ps(8.05374449538e-2f), z, _mm256_set1_ps(-1.38776856032e-1f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.99777106478e-1f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-3.33329491539e-1f));
  return _mm256_add_ps(base, _mm256_fmadd_ps(_mm256_mul_ps(p, z), t, t));
}

/// atan(x) for x >= 0 in float, eight lanes (Cephes' atanf: reduction to |t| <= tan(pi/8),
/// one division, a degree-9 odd polynomial): within 2e-7 of the true value, relative. NaN in,
/// NaN out.
__attribute__((target("avx2,fma"), always_inline)) inline __m256 atan_nonnegative8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f), quarter_pi = _mm256_set1_ps(0.7853981633974483f);
  const __m256 over = _mm256_cmp_ps(x, _mm256_set1_ps(0.4142135623730950f), _CMP_GT_OQ);
  const __m256 big = _mm256_cmp_ps(x, _mm256_set1_ps(2.414213562373095f), _CMP_GT_OQ);
  // num, den: x, 1 (small); x - 1, x + 1 (over); -1, x (big); masks rather than blends.
  const __m256 num = _mm256_sub_ps(_mm256_andnot_ps(big, x), _mm256_and_ps(over, one));
  const __m256 den = _mm256_add_ps(_mm256_and_ps(over, x), _mm256_andnot_ps(big, one));
  const __m256 base =
      _mm256_add_ps(_mm256_and_ps(over, quarter_pi), _mm256_and_ps(big, quarter_pi));
  return atan_core8(_mm256_div_ps(num, den), base);
}

/// atan(lo / hi) in float for 0 <= lo <= hi (0 where hi is 0), one division for the ratio and
/// the reduction together, as atan_of_ratio.
__attribute__((target("avx2,fma"), always_inline)) inline __m256 atan_of_ratio8(__m256 lo,
                                                                                __m256 hi) {
  const __m256 mid =
      _mm256_cmp_ps(lo, _mm256_mul_ps(hi, _mm256_set1_ps(0.4142135623730950f)), _CMP_GT_OQ);
  const __m256 num = _mm256_sub_ps(lo, _mm256_and_ps(mid, hi));
  // 0 / FLT_MIN where hi (so lo) is 0.
  const __m256 den =
      _mm256_max_ps(_mm256_add_ps(hi, _mm256_and_ps(mid, lo)), _mm256_set1_ps(1.17549435e-38f));
  const __m256 base = _mm256_and_ps(mid, _mm256_set1_ps(0.7853981633974483f));
  return atan_core8(_mm256_div_ps(num, den), base);
}

/// atan2(y, x) in float, eight lanes, quadrants and signed zeros as the C library's; within
/// 4e-7 of the true value. NaN in, NaN out.
__attribute__((target("avx2,fma"), always_inline)) inline __m256 atan2_8(__m256 y, __m256 x) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 ay = _mm256_andnot_ps(sign, y), ax = _mm256_andnot_ps(sign, x);
  __m256 r = atan_of_ratio8(_mm256_min_ps(ay, ax), _mm256_max_ps(ay, ax));
  r = _mm256_blendv_ps(r, _mm256_sub_ps(_mm256_set1_ps(1.5707963267948966f), r),
                       _mm256_cmp_ps(ay, ax, _CMP_GT_OQ));
  r = _mm256_blendv_ps(r, _mm256_sub_ps(_mm256_set1_ps(3.141592653589793f), r), x);
  r = _mm256_or_ps(r, _mm256_and_ps(sign, y));
  return _mm256_or_ps(r, _mm256_cmp_ps(x, y, _CMP_UNORD_Q));
}

/// acos(a) in float, eight lanes, without a division: Cephes' asinf polynomial q = asin(s) of
/// s = |a| (|a| <= 1/2) or s = sqrt((1 - |a|) / 2), then pi/2 -+ q, 2 q or pi - 2 q. Within
/// 4e-7 of the true value; NaN where |a| > 1.
__attribute__((target("avx2,fma"), always_inline)) inline __m256 acos8(__m256 a) {
  const __m256 sign = _mm256_set1_ps(-0.0f), half = _mm256_set1_ps(0.5f);
  const __m256 ax = _mm256_andnot_ps(sign, a);
  const __m256 big = _mm256_cmp_ps(ax, half, _CMP_GT_OQ);
  // s = |a|, or sqrt((1 - |a|) / 2) past 1/2; z = s^2 (past 1/2 within a float rounding of
  // (1 - |a|) / 2, which moves asin(s) = s + s z p(z) by far less than an ulp).
  const __m256 s = _mm256_blendv_ps(ax, _mm256_sqrt_ps(_mm256_fnmadd_ps(half, ax, half)), big);
  const __m256 z = _mm256_mul_ps(s, s);
  __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(4.2163199048e-2f), z, _mm256_set1_ps(2.4181311049e-2f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(4.5470025998e-2f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(7.4953002686e-2f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.6666752422e-1f));
  const __m256 q = _mm256_fmadd_ps(_mm256_mul_ps(p, z), s, s);
  const __m256 near_zero =
      _mm256_sub_ps(_mm256_set1_ps(1.5707963267948966f), _mm256_xor_ps(q, _mm256_and_ps(a, sign)));
  const __m256 two_q = _mm256_add_ps(q, q);
  const __m256 near_one =
      _mm256_blendv_ps(two_q, _mm256_sub_ps(_mm256_set1_ps(3.141592653589793f), two_q), a);
  return _mm256_blendv_ps(near_zero, near_one, big);
}

/// The lanes (bits 0-7) whose byte GDAL writes for a float within `slack` of v (to_byte: round
/// half up, clamp to 0..255) is sure: v + 0.5 at least `slack` from a whole number, or v + 0.5
/// at least `slack` below 1 or above 255 (clamped either way). NaN lanes are not sure.
__attribute__((target("avx2"))) inline int bytes_sure8(__m256 v, float slack) {
  const __m256 t = _mm256_add_ps(v, _mm256_set1_ps(0.5f));
  const __m256 nearest = _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 off = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(t, nearest));
  const __m256 s = _mm256_set1_ps(slack);
  __m256 sure = _mm256_cmp_ps(off, s, _CMP_GE_OQ);
  sure = _mm256_or_ps(sure, _mm256_cmp_ps(t, _mm256_sub_ps(_mm256_set1_ps(1.0f), s), _CMP_LE_OQ));
  sure = _mm256_or_ps(sure, _mm256_cmp_ps(t, _mm256_add_ps(_mm256_set1_ps(255.0f), s), _CMP_GE_OQ));
  return _mm256_movemask_ps(sure);
}

/// float(v) of four doubles, and in `unsure` (bits 0-3) the lanes whose float could differ had v
/// been computed by another function within 2^-43 of it, or that are not finite.
__attribute__((target("avx2"))) inline __m128 to_float_checked(__m256d v, int& unsure) {
  const __m256d nudge = _mm256_set1_pd(0x1p-43);
  const __m256d one = _mm256_set1_pd(1.0);
  const __m128 f = _mm256_cvtpd_ps(v);
  const __m128 lo = _mm256_cvtpd_ps(_mm256_mul_pd(v, _mm256_sub_pd(one, nudge)));
  const __m128 hi = _mm256_cvtpd_ps(_mm256_mul_pd(v, _mm256_add_pd(one, nudge)));
  // Ordered equality: NaN lanes are unsure too; infinities are, via the finite check.
  const __m256d finite = _mm256_cmp_pd(_mm256_andnot_pd(_mm256_set1_pd(-0.0), v),
                                       _mm256_set1_pd(1.7976931348623157e308), _CMP_LE_OQ);
  const int same = _mm_movemask_ps(_mm_cmp_ps(lo, hi, _CMP_EQ_OQ));
  unsure = ~(same & _mm256_movemask_pd(finite)) & 0xF;
  return f;
}

/// atan(t) for |t| <= tan(pi/8) within 2^-45 of it, relative: t + t^3 P(t^2), P a degree-7
/// polynomial fitted to atan's relative error over that range (tests/unit/ops checks the bound
/// against the C library), its even and odd coefficients in two fused chains: 8 terms where
/// fdlibm's (atan_small) takes 11 to be within an ulp, enough for to_float_near's 2^-40 band.
__attribute__((target("avx2,fma"), always_inline)) inline __m256d atan_near(__m256d t) {
  const __m256d z = _mm256_mul_pd(t, t);
  const __m256d w = _mm256_mul_pd(z, z);
  // P(z) = E(w) + z O(w): E the even-indexed coefficients, O the odd ones, w = z^2.
  __m256d even = _mm256_fmadd_pd(_mm256_set1_pd(-0.058890943564455206), w,
                                 _mm256_set1_pd(-0.09079060267698517));
  __m256d odd =
      _mm256_fmadd_pd(_mm256_set1_pd(0.03086584666557767), w, _mm256_set1_pd(0.07567998615259686));
  even = _mm256_fmadd_pd(even, w, _mm256_set1_pd(-0.14285693341211006));
  odd = _mm256_fmadd_pd(odd, w, _mm256_set1_pd(0.11110443912481978));
  even = _mm256_fmadd_pd(even, w, _mm256_set1_pd(-0.33333333331663006));
  odd = _mm256_fmadd_pd(odd, w, _mm256_set1_pd(0.19999999680550834));
  const __m256d p = _mm256_fmadd_pd(odd, z, even);
  return _mm256_fmadd_pd(_mm256_mul_pd(t, z), p, t);
}

/// atan(g) in degrees for g >= 0 (NaN where g is NaN), within 2^-44.5 of it, relative: the
/// reduction to |t| <= tan(pi/8) (g, (g - 1) / (g + 1) or -1 / g) by one division, atan_near,
/// and 45 or 90 added.
__attribute__((target("avx2,fma"), always_inline)) inline __m256d atan_degrees_near(__m256d g) {
  const __m256d one = _mm256_set1_pd(1.0), forty_five = _mm256_set1_pd(45.0);
  const __m256d over = _mm256_cmp_pd(g, _mm256_set1_pd(0.41421356237309504880), _CMP_GT_OQ);
  const __m256d big = _mm256_cmp_pd(g, _mm256_set1_pd(2.41421356237309504880), _CMP_GT_OQ);
  // num, den: g, 1 (small); g - 1, g + 1 (over); -1, g (big).
  const __m256d num = _mm256_sub_pd(_mm256_andnot_pd(big, g), _mm256_and_pd(over, one));
  const __m256d den = _mm256_add_pd(_mm256_and_pd(over, g), _mm256_andnot_pd(big, one));
  const __m256d base =
      _mm256_add_pd(_mm256_and_pd(over, forty_five), _mm256_and_pd(big, forty_five));
  return _mm256_fmadd_pd(atan_near(_mm256_div_pd(num, den)),
                         _mm256_set1_pd(57.295779513082320876798), base);
}

/// The band of to_float_near: 2^-40 of the value, relative.
inline constexpr int kNearBandLog2 = -40;

/// float(v) of four doubles, and in `sure` (bits 0-3) the lanes whose float any v' within 2^-40
/// of v, relative, rounds to as well: v's 29 bits below float's last place are not within 2^13
/// (2^-40 of values up to twice the place's power of two) of half that place. Only for v in
/// float's normal range or 0 (callers check): below it float keeps fewer bits. Integer
/// operations on v's bits, not two more conversions.
__attribute__((target("avx2"))) inline __m128 to_float_near(__m256d v, int& sure) {
  constexpr int64_t kHalf = int64_t{1} << 28, kBand = int64_t{1} << (53 + kNearBandLog2);
  const __m256i dropped =
      _mm256_and_si256(_mm256_sub_epi64(_mm256_castpd_si256(v), _mm256_set1_epi64x(kHalf - kBand)),
                       _mm256_set1_epi64x(2 * kHalf - 1));
  const __m256i far = _mm256_cmpgt_epi64(dropped, _mm256_set1_epi64x(2 * kBand - 1));
  sure = _mm256_movemask_pd(_mm256_castsi256_pd(far));
  return _mm256_cvtpd_ps(v);
}

/// Array forms of the vector functions above, for callers compiled without AVX2 (tests).
__attribute__((target("avx2,fma"))) inline void atan_degrees_near(const double* g, double* out) {
  _mm256_storeu_pd(out, atan_degrees_near(_mm256_loadu_pd(g)));
}
__attribute__((target("avx2"))) inline int to_float_near(const double* v, float* out) {
  int sure = 0;
  _mm_storeu_ps(out, to_float_near(_mm256_loadu_pd(v), sure));
  return sure;
}
__attribute__((target("avx2"))) inline int to_float_checked(const double* v, float* out) {
  int unsure = 0;
  _mm_storeu_ps(out, to_float_checked(_mm256_loadu_pd(v), unsure));
  return unsure;
}

__attribute__((target("avx2,fma"))) inline void atan2_8(const float* y, const float* x,
                                                        float* out) {
  _mm256_storeu_ps(out, atan2_8(_mm256_loadu_ps(y), _mm256_loadu_ps(x)));
}
__attribute__((target("avx2,fma"))) inline void acos8(const float* a, float* out) {
  _mm256_storeu_ps(out, acos8(_mm256_loadu_ps(a)));
}
__attribute__((target("avx2"))) inline int bytes_sure8(const float* v, float slack) {
  return bytes_sure8(_mm256_loadu_ps(v), slack);
}

/// Eight cells of a row from column k on.
__attribute__((target("avx2"))) inline __m256 load8(const float* row, int64_t k) {
  return _mm256_loadu_ps(row + k);
}
__attribute__((target("avx2"))) inline __m256i load8(const int32_t* row, int64_t k) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + k));
}

/// Lane-wise sums and differences of eight floats or eight int32s, so that a window's
/// arithmetic is written once for both cell types, in the same order as the scalar code.
__attribute__((target("avx2"))) inline __m256 add(__m256 a, __m256 b) {
  return _mm256_add_ps(a, b);
}
__attribute__((target("avx2"))) inline __m256i add(__m256i a, __m256i b) {
  return _mm256_add_epi32(a, b);
}
__attribute__((target("avx2"))) inline __m256 sub(__m256 a, __m256 b) {
  return _mm256_sub_ps(a, b);
}
__attribute__((target("avx2"))) inline __m256i sub(__m256i a, __m256i b) {
  return _mm256_sub_epi32(a, b);
}

/// The eight lanes as floats: int32s exactly while under 2^24 in magnitude.
__attribute__((target("avx2"))) inline __m256 to_floats(__m256 v) { return v; }
__attribute__((target("avx2"))) inline __m256 to_floats(__m256i v) { return _mm256_cvtepi32_ps(v); }

/// Lanes 0-3 (low) or 4-7 (high) as doubles, exactly.
__attribute__((target("avx2"))) inline __m256d low_doubles(__m256 v) {
  return _mm256_cvtps_pd(_mm256_castps256_ps128(v));
}
__attribute__((target("avx2"))) inline __m256d low_doubles(__m256i v) {
  return _mm256_cvtepi32_pd(_mm256_castsi256_si128(v));
}
__attribute__((target("avx2"))) inline __m256d high_doubles(__m256 v) {
  return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
}
__attribute__((target("avx2"))) inline __m256d high_doubles(__m256i v) {
  return _mm256_cvtepi32_pd(_mm256_extracti128_si256(v, 1));
}

/// Eight int32s of 0 to 255 stored as eight bytes.
__attribute__((target("avx2"))) inline void store_bytes8(__m256i v, uint8_t* to) {
  const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(to), _mm_packus_epi16(words, words));
}

#endif

}  // namespace tessera::ops::simd
