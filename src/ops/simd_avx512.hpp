// Sixteen-lane float functions for the terrain passes on CPUs with AVX-512, chosen at run time:
// atan, atan2 and acos as simd_avx2.hpp's eight-lane ones (the same polynomials and reductions,
// masks where those use blends, so within the same bounds), the byte check, and the loads and
// sums the windows' differences are formed with. A pass built on them keeps an exact AVX2 and
// scalar path for every CPU without AVX-512 (and for rows under sixteen cells).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>

#include "simd_avx2.hpp"

// GCC 12 warns that the AVX-512 intrinsics' own _mm512_undefined_* operands are "used
// uninitialized" wherever they are inlined (GCC bug 105593, fixed in GCC 13): off in the files
// that include this one.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#if defined(TESSERA_HAVE_AVX2_PATHS)
/// The target of every function here: AVX-512 F, DQ, BW and VL (every AVX-512 CPU but Xeon Phi
/// has all four), beside the AVX2 and FMA the eight-lane code inlined into it needs.
#define TESSERA_AVX512_TARGET "avx2,fma,avx512f,avx512dq,avx512bw,avx512vl"
#endif

namespace tessera::ops::simd {

/// Whether the sixteen-lane passes may run where the CPU has AVX-512: unless TESSERA_NO_AVX512
/// is set in the environment or allow_avx512(false) was called (tests and benchmarks compare the
/// two paths).
inline std::atomic<bool>& avx512_allowed() {
  static std::atomic<bool> allowed{std::getenv("TESSERA_NO_AVX512") == nullptr};
  return allowed;
}
inline void allow_avx512(bool yes) { avx512_allowed().store(yes, std::memory_order_relaxed); }

#if defined(TESSERA_HAVE_AVX2_PATHS)

/// Whether this CPU has AVX-512 F, DQ, BW and VL (and the AVX2 paths): checked once.
inline bool cpu_has_avx512() {
  static const bool yes = have_avx2() && __builtin_cpu_supports("avx512f") &&
                          __builtin_cpu_supports("avx512dq") &&
                          __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  return yes;
}

/// True when the sixteen-lane passes run: the CPU has AVX-512 and they are allowed.
inline bool have_avx512() {
  return cpu_has_avx512() && avx512_allowed().load(std::memory_order_relaxed);
}

/// v * float(k), sixteen lanes.
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512 times16(__m512 v,
                                                                                    double k) {
  return _mm512_mul_ps(v, _mm512_set1_ps(static_cast<float>(k)));
}

/// atan_core8, sixteen lanes.
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512 atan_core16(
    __m512 t, __m512 base) {
  const __m512 z = _mm512_mul_ps(t, t);
  __m512 p =
      _mm512_fmadd_ps(_mm512_set1_ps(8.05374449538e-2f), z, _mm512_set1_ps(-1.38776856032e-1f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(1.99777106478e-1f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-3.33329491539e-1f));
  return _mm512_add_ps(base, _mm512_fmadd_ps(_mm512_mul_ps(p, z), t, t));
}

/// atan_nonnegative8, sixteen lanes: the same reduction (x, (x - 1) / (x + 1) or -1 / x, with
/// 0, pi/4 or pi/2 added), the same polynomial, so the same bound (2e-7 relative).
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512 atan_nonnegative16(
    __m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f), quarter_pi = _mm512_set1_ps(0.7853981633974483f);
  const __mmask16 over = _mm512_cmp_ps_mask(x, _mm512_set1_ps(0.4142135623730950f), _CMP_GT_OQ);
  const __mmask16 big = _mm512_cmp_ps_mask(x, _mm512_set1_ps(2.414213562373095f), _CMP_GT_OQ);
  const __m512 num =
      _mm512_mask_mov_ps(_mm512_mask_sub_ps(x, over, x, one), big, _mm512_set1_ps(-1.0f));
  const __m512 den = _mm512_mask_mov_ps(_mm512_mask_add_ps(one, over, x, one), big, x);
  const __m512 base = _mm512_mask_add_ps(_mm512_maskz_mov_ps(over, quarter_pi), big,
                                         _mm512_maskz_mov_ps(over, quarter_pi), quarter_pi);
  return atan_core16(_mm512_div_ps(num, den), base);
}

/// atan_of_ratio8, sixteen lanes: atan(lo / hi) for 0 <= lo <= hi (0 where hi is 0).
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512 atan_of_ratio16(
    __m512 lo, __m512 hi) {
  const __mmask16 mid =
      _mm512_cmp_ps_mask(lo, _mm512_mul_ps(hi, _mm512_set1_ps(0.4142135623730950f)), _CMP_GT_OQ);
  const __m512 num = _mm512_mask_sub_ps(lo, mid, lo, hi);
  // 0 / FLT_MIN where hi (so lo) is 0.
  const __m512 den =
      _mm512_max_ps(_mm512_mask_add_ps(hi, mid, hi, lo), _mm512_set1_ps(1.17549435e-38f));
  const __m512 base = _mm512_maskz_mov_ps(mid, _mm512_set1_ps(0.7853981633974483f));
  return atan_core16(_mm512_div_ps(num, den), base);
}

/// The lanes whose sign bit is set (negative numbers, -0 and NaNs with the bit).
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __mmask16 sign_bits16(
    __m512 v) {
  return _mm512_movepi32_mask(_mm512_castps_si512(v));
}

/// atan2_8, sixteen lanes: quadrants and signed zeros as the C library's; within 4e-7 of the
/// true value. NaN in, NaN out.
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512 atan2_16(__m512 y,
                                                                                     __m512 x) {
  const __m512 sign = _mm512_set1_ps(-0.0f);
  const __m512 ay = _mm512_andnot_ps(sign, y), ax = _mm512_andnot_ps(sign, x);
  __m512 r = atan_of_ratio16(_mm512_min_ps(ay, ax), _mm512_max_ps(ay, ax));
  r = _mm512_mask_sub_ps(r, _mm512_cmp_ps_mask(ay, ax, _CMP_GT_OQ),
                         _mm512_set1_ps(1.5707963267948966f), r);
  r = _mm512_mask_sub_ps(r, sign_bits16(x), _mm512_set1_ps(3.141592653589793f), r);
  r = _mm512_or_ps(r, _mm512_and_ps(sign, y));
  return _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(x, y, _CMP_UNORD_Q),
                            _mm512_castsi512_ps(_mm512_set1_epi32(-1)));
}

/// acos8, sixteen lanes: Cephes' asinf polynomial of |a| or sqrt((1 - |a|) / 2), then
/// pi/2 -+ q, 2 q or pi - 2 q. Within 4e-7 of the true value; NaN where |a| > 1.
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512 acos16(__m512 a) {
  const __m512 sign = _mm512_set1_ps(-0.0f), half = _mm512_set1_ps(0.5f);
  const __m512 ax = _mm512_andnot_ps(sign, a);
  const __mmask16 big = _mm512_cmp_ps_mask(ax, half, _CMP_GT_OQ);
  const __m512 s = _mm512_mask_sqrt_ps(ax, big, _mm512_fnmadd_ps(half, ax, half));
  const __m512 z = _mm512_mul_ps(s, s);
  __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(4.2163199048e-2f), z, _mm512_set1_ps(2.4181311049e-2f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(4.5470025998e-2f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(7.4953002686e-2f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(1.6666752422e-1f));
  const __m512 q = _mm512_fmadd_ps(_mm512_mul_ps(p, z), s, s);
  const __m512 near_zero =
      _mm512_sub_ps(_mm512_set1_ps(1.5707963267948966f), _mm512_xor_ps(q, _mm512_and_ps(a, sign)));
  const __m512 two_q = _mm512_add_ps(q, q);
  const __m512 near_one =
      _mm512_mask_sub_ps(two_q, sign_bits16(a), _mm512_set1_ps(3.141592653589793f), two_q);
  return _mm512_mask_mov_ps(near_zero, big, near_one);
}

/// bytes_sure16 with a slack per lane: v + 0.5 at least s from a whole number, or at least s
/// below 1 or above 255. NaN lanes (of v or s) are not sure.
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __mmask16 bytes_sure16(
    __m512 v, __m512 s) {
  const __m512 t = _mm512_add_ps(v, _mm512_set1_ps(0.5f));
  const __m512 nearest = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 off = _mm512_andnot_ps(_mm512_set1_ps(-0.0f), _mm512_sub_ps(t, nearest));
  return _mm512_cmp_ps_mask(off, s, _CMP_GE_OQ) |
         _mm512_cmp_ps_mask(t, _mm512_sub_ps(_mm512_set1_ps(1.0f), s), _CMP_LE_OQ) |
         _mm512_cmp_ps_mask(t, _mm512_add_ps(_mm512_set1_ps(255.0f), s), _CMP_GE_OQ);
}

/// bytes_sure8, sixteen lanes (bits 0-15): v + 0.5 at least `slack` from a whole number, or at
/// least `slack` below 1 or above 255. NaN lanes are not sure.
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __mmask16 bytes_sure16(
    __m512 v, float slack) {
  return bytes_sure16(v, _mm512_set1_ps(slack));
}

/// to_float_near of eight doubles: float(v), and in `sure` the lanes whose float any v' within
/// 2^-40 of v, relative, rounds to as well (v's 29 dropped bits not within 2^13 of half).
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m256 to_float_near8(
    __m512d v, __mmask8& sure) {
  constexpr int64_t kHalf = int64_t{1} << 28, kBand = int64_t{1} << (53 + kNearBandLog2);
  const __m512i dropped =
      _mm512_and_si512(_mm512_sub_epi64(_mm512_castpd_si512(v), _mm512_set1_epi64(kHalf - kBand)),
                       _mm512_set1_epi64(2 * kHalf - 1));
  sure = _mm512_cmpgt_epi64_mask(dropped, _mm512_set1_epi64(2 * kBand - 1));
  return _mm512_cvtpd_ps(v);
}

/// atan_near of eight doubles: the same polynomial, the same fused chains, so the same bound.
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512d atan_near8(__m512d t) {
  const __m512d z = _mm512_mul_pd(t, t);
  const __m512d w = _mm512_mul_pd(z, z);
  __m512d even = _mm512_fmadd_pd(_mm512_set1_pd(-0.058890943564455206), w,
                                 _mm512_set1_pd(-0.09079060267698517));
  __m512d odd =
      _mm512_fmadd_pd(_mm512_set1_pd(0.03086584666557767), w, _mm512_set1_pd(0.07567998615259686));
  even = _mm512_fmadd_pd(even, w, _mm512_set1_pd(-0.14285693341211006));
  odd = _mm512_fmadd_pd(odd, w, _mm512_set1_pd(0.11110443912481978));
  even = _mm512_fmadd_pd(even, w, _mm512_set1_pd(-0.33333333331663006));
  odd = _mm512_fmadd_pd(odd, w, _mm512_set1_pd(0.19999999680550834));
  const __m512d p = _mm512_fmadd_pd(odd, z, even);
  return _mm512_fmadd_pd(_mm512_mul_pd(t, z), p, t);
}

/// 1 / d for 1 <= d <= 2^100 without the divider: rcp14 (within 2^-14), then two Newton steps
/// (2^-28, 2^-56), so within a few units of 2^-53, relative, of the quotient.
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512d reciprocal8(
    __m512d d) {
  const __m512d one = _mm512_set1_pd(1.0);
  __m512d r = _mm512_rcp14_pd(d);
  r = _mm512_fmadd_pd(r, _mm512_fnmadd_pd(d, r, one), r);
  return _mm512_fmadd_pd(r, _mm512_fnmadd_pd(d, r, one), r);
}

/// atan_degrees_near of eight doubles for 0 <= g <= 2^100: the same reduction (masks for the
/// blends), its quotient from reciprocal8 (a few units of 2^-53 where the division gives one
/// half: the reduced t within 2^-50, relative, and atan(t) / t >= 0.93 for |t| <= tan(pi/8), so
/// the bound of 2^-44.5 holds), atan_near8. Callers leave g above 2^100 (and NaN) to the scalar
/// algorithm.
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512d atan_degrees_near8(
    __m512d g) {
  const __m512d one = _mm512_set1_pd(1.0), forty_five = _mm512_set1_pd(45.0);
  const __mmask8 over = _mm512_cmp_pd_mask(g, _mm512_set1_pd(0.41421356237309504880), _CMP_GT_OQ);
  const __mmask8 big = _mm512_cmp_pd_mask(g, _mm512_set1_pd(2.41421356237309504880), _CMP_GT_OQ);
  // num, den: g, 1 (small); g - 1, g + 1 (over); -1, g (big).
  const __m512d num =
      _mm512_mask_mov_pd(_mm512_mask_sub_pd(g, over, g, one), big, _mm512_set1_pd(-1.0));
  const __m512d den = _mm512_mask_mov_pd(_mm512_mask_add_pd(one, over, g, one), big, g);
  const __m512d base =
      _mm512_add_pd(_mm512_maskz_mov_pd(over, forty_five), _mm512_maskz_mov_pd(big, forty_five));
  return _mm512_fmadd_pd(atan_near8(_mm512_mul_pd(num, reciprocal8(den))),
                         _mm512_set1_pd(57.295779513082320876798), base);
}

/// to_float_checked of eight doubles (bits 0-7 of the returned unsure lanes).
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m256 to_float_checked8(
    __m512d v, __mmask8& unsure) {
  const __m512d nudge = _mm512_set1_pd(0x1p-43);
  const __m512d one = _mm512_set1_pd(1.0);
  const __m256 lo = _mm512_cvtpd_ps(_mm512_mul_pd(v, _mm512_sub_pd(one, nudge)));
  const __m256 hi = _mm512_cvtpd_ps(_mm512_mul_pd(v, _mm512_add_pd(one, nudge)));
  const __mmask8 finite = _mm512_cmp_pd_mask(_mm512_andnot_pd(_mm512_set1_pd(-0.0), v),
                                             _mm512_set1_pd(1.7976931348623157e308), _CMP_LE_OQ);
  const __mmask8 same = _mm256_cmp_ps_mask(lo, hi, _CMP_EQ_OQ);
  unsure = static_cast<__mmask8>(~(same & finite));
  return _mm512_cvtpd_ps(v);
}

/// Sixteen cells of a row from column k on.
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512 load16(const float* row,
                                                                                   int64_t k) {
  return _mm512_loadu_ps(row + k);
}
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512i load16(
    const int32_t* row, int64_t k) {
  return _mm512_loadu_si512(row + k);
}

/// Lane-wise sums and differences of sixteen floats or sixteen int32s, as add and sub.
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512 add(__m512 a,
                                                                                __m512 b) {
  return _mm512_add_ps(a, b);
}
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512i add(__m512i a,
                                                                                 __m512i b) {
  return _mm512_add_epi32(a, b);
}
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512 sub(__m512 a,
                                                                                __m512 b) {
  return _mm512_sub_ps(a, b);
}
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512i sub(__m512i a,
                                                                                 __m512i b) {
  return _mm512_sub_epi32(a, b);
}

/// The sixteen lanes as floats: int32s exactly while under 2^24 in magnitude.
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512 to_floats(__m512 v) {
  return v;
}
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512 to_floats(__m512i v) {
  return _mm512_cvtepi32_ps(v);
}

/// Lanes 0-7 (low) or 8-15 (high) as doubles, exactly.
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512d low_doubles(__m512 v) {
  return _mm512_cvtps_pd(_mm512_castps512_ps256(v));
}
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512d low_doubles(
    __m512i v) {
  return _mm512_cvtepi32_pd(_mm512_castsi512_si256(v));
}
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512d high_doubles(
    __m512 v) {
  return _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1));
}
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512d high_doubles(
    __m512i v) {
  return _mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(v, 1));
}

/// Array forms for callers compiled without AVX-512 (tests).
__attribute__((target(TESSERA_AVX512_TARGET))) inline void atan2_16(const float* y, const float* x,
                                                                    float* out) {
  _mm512_storeu_ps(out, atan2_16(_mm512_loadu_ps(y), _mm512_loadu_ps(x)));
}
__attribute__((target(TESSERA_AVX512_TARGET))) inline void acos16(const float* a, float* out) {
  _mm512_storeu_ps(out, acos16(_mm512_loadu_ps(a)));
}
__attribute__((target(TESSERA_AVX512_TARGET))) inline void atan_nonnegative16(const float* x,
                                                                              float* out) {
  _mm512_storeu_ps(out, atan_nonnegative16(_mm512_loadu_ps(x)));
}
__attribute__((target(TESSERA_AVX512_TARGET))) inline int bytes_sure16(const float* v,
                                                                       float slack) {
  return bytes_sure16(_mm512_loadu_ps(v), slack);
}

#else

inline bool have_avx512() { return false; }

#endif

}  // namespace tessera::ops::simd
