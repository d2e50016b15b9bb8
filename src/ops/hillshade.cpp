// gdaldem hillshade: the lighting models, their coefficients, and the op adapter.
#include "tessera/ops/hillshade.hpp"

#include <cmath>

#include "hillshade_rows.hpp"
#include "option_reader.hpp"
#include "terrain_math.hpp"
#include "terrain_rows.hpp"
#include "terrain_rows16.hpp"
#include "terrain_sinks.hpp"
#include "terrain_window.hpp"

namespace tessera::ops {
namespace {

using terrain::approx_a_div_sqrt_b;
using terrain::kDegreesToRadians;
using terrain::kPi;
using terrain::kRadiansToDegrees;

/// gdaldem's precomputed hillshade coefficients (GDALHillshadeAlgData and its multidirectional
/// sibling), computed in the same order so that every product rounds the same way.
struct Coeffs {
  double inv_nsres, inv_ewres, sin_alt, az_radians, z_scaled;
  double cos_az_cos_alt_z, sin_az_cos_alt_z, square_z;
  double sin_alt_254, cos_az_cos_alt_z_254, sin_az_cos_alt_z_254;
  double square_z_inv_res2 = 0, cos_az_cos_alt_z_254_inv_res = 0, sin_az_cos_alt_z_254_inv_res = 0;
  double sin_alt_127, cos_alt_z_127, cos225_cos_alt_z_127;
};

Coeffs make_coeffs(const HillshadeParams& p, double ewres, double nsres) {
  Coeffs c{};
  c.inv_nsres = 1.0 / nsres;
  c.inv_ewres = 1.0 / ewres;
  c.sin_alt = std::sin(p.altitude * kDegreesToRadians);
  c.az_radians = p.azimuth * kDegreesToRadians;
  c.z_scaled = p.z / ((p.alg == Gradient::ZevenbergenThorne ? 2 : 8) * p.scale);
  const double cos_alt_z = std::cos(p.altitude * kDegreesToRadians) * c.z_scaled;
  c.cos_az_cos_alt_z = std::cos(c.az_radians) * cos_alt_z;
  c.sin_az_cos_alt_z = std::sin(c.az_radians) * cos_alt_z;
  c.square_z = c.z_scaled * c.z_scaled;
  c.sin_alt_254 = 254.0 * c.sin_alt;
  c.cos_az_cos_alt_z_254 = 254.0 * c.cos_az_cos_alt_z;
  c.sin_az_cos_alt_z_254 = 254.0 * c.sin_az_cos_alt_z;
  if (ewres == -nsres) {
    c.square_z_inv_res2 = c.square_z * c.inv_ewres * c.inv_ewres;
    c.cos_az_cos_alt_z_254_inv_res = c.cos_az_cos_alt_z_254 * -c.inv_ewres;
    c.sin_az_cos_alt_z_254_inv_res = c.sin_az_cos_alt_z_254 * c.inv_ewres;
  }
  c.sin_alt_127 = 127.0 * std::sin(p.altitude * kDegreesToRadians);
  c.cos_alt_z_127 = 127.0 * cos_alt_z;
  c.cos225_cos_alt_z_127 = 127.0 * std::cos(225 * kDegreesToRadians) * cos_alt_z;
  return c;
}

#if defined(TESSERA_HAVE_AVX2_PATHS)
/// approx_a_div_sqrt_b four lanes wide: rsqrtps of float(b) (the table rsqrtss uses), then the
/// same Newton step in double, so the same bits.
__attribute__((target("avx2"))) inline __m256d a_div_sqrt_b(__m256d a, __m256d b) {
  __m256d r = _mm256_cvtps_pd(_mm_rsqrt_ps(_mm256_cvtpd_ps(b)));
  const __m256d half_b = _mm256_mul_pd(b, _mm256_set1_pd(0.5));
  r = _mm256_mul_pd(r,
                    _mm256_sub_pd(_mm256_set1_pd(1.5), _mm256_mul_pd(half_b, _mm256_mul_pd(r, r))));
  return _mm256_mul_pd(a, r);
}

/// v <= 0 ? 0 : v (NaN stays NaN).
__attribute__((target("avx2"))) inline __m256d lit(__m256d v) {
  return _mm256_andnot_pd(_mm256_cmp_pd(v, _mm256_setzero_pd(), _CMP_LE_OQ), v);
}

/// c * k as four lanes.
__attribute__((target("avx2"))) inline __m256d times(__m256d v, double k) {
  return _mm256_mul_pd(v, _mm256_set1_pd(k));
}

/// Eight doubles a vector on AVX-512, each operation rounded on its own: the explicitly
/// rounded intrinsics, which the compiler does not fuse (the passes built on them repeat
/// gdaldem's roundings operation for operation).
namespace exact8 {
constexpr int kRound = _MM_FROUND_CUR_DIRECTION;
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512d add(__m512d a,
                                                                                 __m512d b) {
  return _mm512_add_round_pd(a, b, kRound);
}
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512d sub(__m512d a,
                                                                                 __m512d b) {
  return _mm512_sub_round_pd(a, b, kRound);
}
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512d mul(__m512d a,
                                                                                 __m512d b) {
  return _mm512_mul_round_pd(a, b, kRound);
}
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512d times(__m512d a,
                                                                                   double k) {
  return mul(a, _mm512_set1_pd(k));
}
/// a_div_sqrt_b eight lanes wide: rsqrtps of eight floats (the table rsqrtss uses), the same
/// Newton step.
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512d a_div_sqrt_b(
    __m512d a, __m512d b) {
  __m512d r = _mm512_cvtps_pd(_mm256_rsqrt_ps(_mm512_cvtpd_ps(b)));
  const __m512d half_b = times(b, 0.5);
  r = mul(r, sub(_mm512_set1_pd(1.5), mul(half_b, mul(r, r))));
  return mul(a, r);
}
/// v <= 0 ? 0 : v (NaN stays NaN).
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline __m512d lit(__m512d v) {
  return _mm512_maskz_mov_pd(~_mm512_cmp_pd_mask(v, _mm512_setzero_pd(), _CMP_LE_OQ), v);
}
}  // namespace exact8

/// The gradient of sixteen windows scaled as terrain::gradient does: gx[h], gy[h] for cells
/// 8h..8h+7.
template <class T, Gradient G>
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline void scaled_gradient16(
    const Coeffs& c, const T* r0, const T* r1, const T* r2, int64_t x, __m512d* gx, __m512d* gy) {
  __m512d d[4];
  terrain::gradient_differences16<T, G>(r0, r1, r2, x, d);
  for (int h = 0; h < 2; ++h) {
    gx[h] = exact8::times(d[h], c.inv_ewres);
    gy[h] = exact8::times(d[2 + h], c.inv_nsres);
  }
}

/// The gradient of eight windows scaled as terrain::gradient does: x[h], y[h] for cells
/// 4h..4h+3.
template <class T, Gradient G>
__attribute__((target("avx2"))) inline void scaled_gradient(const Coeffs& c, const T* r0,
                                                            const T* r1, const T* r2, int64_t x,
                                                            __m256d* gx, __m256d* gy) {
  __m256d d[4];
  terrain::gradient_differences<T, G>(r0, r1, r2, x, d);
  for (int h = 0; h < 2; ++h) {
    gx[h] = times(d[h], c.inv_ewres);
    gy[h] = times(d[2 + h], c.inv_nsres);
  }
}
#endif

#if defined(TESSERA_HAVE_AVX2_PATHS)
/// v * float(k), eight lanes.
__attribute__((target("avx2"))) inline __m256 times8(__m256 v, double k) {
  return _mm256_mul_ps(v, _mm256_set1_ps(static_cast<float>(k)));
}

/// The gradient of eight windows in float: the sums in T as terrain::gradient forms them (exact
/// as floats), times the inverse resolutions rounded to float.
template <class T, Gradient G>
__attribute__((target("avx2"))) inline void scaled_gradient8(const Coeffs& c, const T* r0,
                                                             const T* r1, const T* r2, int64_t x,
                                                             __m256& gx, __m256& gy) {
  terrain::gradient_sums8<T, G>(r0, r1, r2, x, gx, gy);
  gx = times8(gx, c.inv_ewres);
  gy = times8(gy, c.inv_nsres);
}
#endif

/// How far the float passes of -combined and -igor may be from gdaldem's double results, bounded
/// above; lanes whose value lies within this of a byte's rounding boundary are recomputed by the
/// scalar algorithm. -combined: the acos argument, formed in double with the same rsqrt estimate
/// as gdaldem's, is within 2^-25 + 2^-50 of it once rounded to float; acos, kept to arguments
/// within 1 - 1/64, magnifies that by at most 1 / sin(10.2 degrees) = 5.7, and 254 times
/// 4 / pi^2 atan(sqrt(slope)) by at most 162: 3e-5. The float acos (4e-7, times 162: 7e-5), the
/// float atan of the slope (3e-7 relative: 1.5e-4) and five float roundings of values up to 255
/// (8e-5) bring 1 + 254 c within 3.3e-4 of gdaldem's. -igor: the atan and atan2 (4e-7 each, on
/// differences exact in float) and the float roundings move 255 s by under 3e-4. Both slacks,
/// 2^-10 = 9.8e-4, are three times those bounds. -igor's sixteen-lane (AVX-512) pass does the
/// same operations with simd_avx512.hpp's functions, within the same bound; -combined's forms
/// the acos argument in float and adds to kCombinedSlack a part per lane (Combined::second16).
inline constexpr float kCombinedSlack = 0x1p-10f;
inline constexpr float kIgorSlack = 0x1p-10f;

/// The rows of a style whose eight(x, to) repeats the scalar arithmetic operation for
/// operation (compiled for AVX2 without FMA, so that nothing is fused).
template <class T, class Alg>
void exact_row(const Alg& alg, const T* r0, const T* r1, const T* r2, int64_t x0, int64_t x1,
               float* out) {
#if defined(TESSERA_HAVE_AVX2_PATHS)
  terrain::row_by_sixteens(
      alg, r0, r1, r2, x0, x1, out,
      [&alg, r0, r1, r2](int64_t x, float* to) { alg.sixteen(r0, r1, r2, x, to); },
      [&alg, r0, r1, r2](int64_t x, float* to) { alg.eight(r0, r1, r2, x, to); });
#else
  terrain::row_by_eights(alg, r0, r1, r2, x0, x1, out,
                         [&](int64_t x, float* to) { alg.eight(r0, r1, r2, x, to); });
#endif
}

/// The rows of a style whose vector pass is split in two (terrain::row_by_checked_eights_in_two):
/// first(r0, r1, r2, x, mid) into an Alg::Mid, then second(mid, to), which returns the lanes it
/// left to the scalar algorithm, which recomputes them after the row.
template <class T, class Alg>
void checked_row(const Alg& alg, const T* r0, const T* r1, const T* r2, int64_t x0, int64_t x1,
                 float* out) {
#if defined(TESSERA_HAVE_AVX2_PATHS)
  if (simd::have_avx512() && x1 - x0 >= 16)
    return terrain::row_by_checked_sixteens_in_two<typename Alg::Mid16>(
        alg, r0, r1, r2, x0, x1, out,
        [&alg, r0, r1, r2](int64_t x, typename Alg::Mid16& mid) {
          alg.first16(r0, r1, r2, x, mid);
        },
        [&alg](const typename Alg::Mid16& mid, float* to) { return alg.second16(mid, to); });
  terrain::row_by_checked_eights_in_two<typename Alg::Mid>(
      alg, r0, r1, r2, x0, x1, out,
      [&alg, r0, r1, r2](int64_t x, typename Alg::Mid& mid) { alg.first(r0, r1, r2, x, mid); },
      [&alg](int64_t, const typename Alg::Mid& mid, float* to) { return alg.second(mid, to); });
#else
  terrain::row_by_eights(alg, r0, r1, r2, x0, x1, out, [](int64_t, float*) {});
#endif
}

/// As checked_row, the two passes one after the other for each eight.
template <class T, class Alg>
void single_pass_row(const Alg& alg, const T* r0, const T* r1, const T* r2, int64_t x0, int64_t x1,
                     float* out) {
#if defined(TESSERA_HAVE_AVX2_PATHS)
  if (simd::have_avx512() && x1 - x0 >= 16)
    return terrain::row_by_checked_sixteens(
        alg, r0, r1, r2, x0, x1, out,
        [&alg, r0, r1, r2](int64_t x, float* to) { return alg.sixteen(r0, r1, r2, x, to); });
#endif
  terrain::row_by_checked_eights(alg, r0, r1, r2, x0, x1, out,
                                 [&alg, r0, r1, r2](int64_t x, float* to) {
#if defined(TESSERA_HAVE_AVX2_PATHS)
                                   typename Alg::Mid mid;
                                   alg.first(r0, r1, r2, x, mid);
                                   return alg.second(mid, to);
#else
                                   (void)x, (void)to;
                                   return 0;
#endif
                                 });
}

/// One light, any cell shape (GDALHillshadeAlg).
template <class T, Gradient G>
struct Single {
  const Coeffs& c;
  float operator()(const T* w) const {
    double x, y;
    terrain::gradient<T, G>(w, c.inv_ewres, c.inv_nsres, x, y);
    const double xx_plus_yy = x * x + y * y;
    const double cang_254 = approx_a_div_sqrt_b(
        c.sin_alt_254 - (y * c.cos_az_cos_alt_z_254 - x * c.sin_az_cos_alt_z_254),
        1 + c.square_z * xx_plus_yy);
    return static_cast<float>(cang_254 <= 0.0 ? 1.0 : 1.0 + cang_254);
  }

  void row_values(const T* r0, const T* r1, const T* r2, int64_t x0, int64_t x1, float* out) const {
    exact_row(*this, r0, r1, r2, x0, x1, out);
  }

#if defined(TESSERA_HAVE_AVX2_PATHS)
  /// operator() four lanes wide, operation for operation: the same bits, nothing left over.
  __attribute__((target("avx2"))) int eight(const T* r0, const T* r1, const T* r2, int64_t x,
                                            float* to) const {
    __m256d gx[2], gy[2];
    scaled_gradient<T, G>(c, r0, r1, r2, x, gx, gy);
    for (int h = 0; h < 2; ++h) {
      const __m256d xx_plus_yy =
          _mm256_add_pd(_mm256_mul_pd(gx[h], gx[h]), _mm256_mul_pd(gy[h], gy[h]));
      const __m256d a = _mm256_sub_pd(_mm256_set1_pd(c.sin_alt_254),
                                      _mm256_sub_pd(times(gy[h], c.cos_az_cos_alt_z_254),
                                                    times(gx[h], c.sin_az_cos_alt_z_254)));
      const __m256d b = _mm256_add_pd(_mm256_set1_pd(1.0), times(xx_plus_yy, c.square_z));
      const __m256d cang = a_div_sqrt_b(a, b);
      const __m256d one = _mm256_set1_pd(1.0);
      const __m256d dark = _mm256_cmp_pd(cang, _mm256_setzero_pd(), _CMP_LE_OQ);
      _mm_storeu_ps(to + 4 * h,
                    _mm256_cvtpd_ps(_mm256_blendv_pd(_mm256_add_pd(one, cang), one, dark)));
    }
    return 0;
  }

  /// eight, sixteen lanes on AVX-512 (eight doubles a vector, nothing fused): the same bits.
  __attribute__((target(TESSERA_AVX512_TARGET))) void sixteen(const T* r0, const T* r1, const T* r2,
                                                              int64_t x, float* to) const {
    using namespace exact8;
    __m512d gx[2], gy[2];
    scaled_gradient16<T, G>(c, r0, r1, r2, x, gx, gy);
    for (int h = 0; h < 2; ++h) {
      const __m512d xx_plus_yy = add(mul(gx[h], gx[h]), mul(gy[h], gy[h]));
      const __m512d a =
          sub(_mm512_set1_pd(c.sin_alt_254),
              sub(times(gy[h], c.cos_az_cos_alt_z_254), times(gx[h], c.sin_az_cos_alt_z_254)));
      const __m512d b = add(_mm512_set1_pd(1.0), times(xx_plus_yy, c.square_z));
      const __m512d cang = a_div_sqrt_b(a, b);
      const __m512d one = _mm512_set1_pd(1.0);
      const __mmask8 dark = _mm512_cmp_pd_mask(cang, _mm512_setzero_pd(), _CMP_LE_OQ);
      _mm256_storeu_ps(to + 8 * h, _mm512_cvtpd_ps(_mm512_mask_mov_pd(add(one, cang), dark, one)));
    }
  }
#else
  int eight(const T*, const T*, const T*, int64_t, float*) const { return 0; }
#endif
};

/// -combined: the shade darkened by the slope (GDALHillshadeCombinedAlg).
template <class T, Gradient G>
struct Combined {
  const Coeffs& c;
  float operator()(const T* w) const {
    static constexpr double kInvSquareOfHalfPi = 1.0 / ((kPi * kPi) / 4);
    double x, y;
    terrain::gradient<T, G>(w, c.inv_ewres, c.inv_nsres, x, y);
    const double xx_plus_yy = x * x + y * y;
    const double slope = xx_plus_yy * c.square_z;
    double cang = std::acos(approx_a_div_sqrt_b(
        c.sin_alt - (y * c.cos_az_cos_alt_z - x * c.sin_az_cos_alt_z), 1 + slope));
    cang = 1 - cang * std::atan(std::sqrt(slope)) * kInvSquareOfHalfPi;
    return cang <= 0.0 ? 1.0f : static_cast<float>(1.0 + (254.0 * cang));
  }

  void row_values(const T* r0, const T* r1, const T* r2, int64_t x0, int64_t x1, float* out) const {
    checked_row(*this, r0, r1, r2, x0, x1, out);
  }

#if defined(TESSERA_HAVE_AVX2_PATHS)
  /// Eight cells between the two passes.
  struct Mid {
    float cosine[8];  ///< the acos argument
    float slope[8];   ///< zf^2 (x^2 + y^2)
    int same_b;       ///< lanes whose float of 1 + slope is surely gdaldem's
  };

  /// First pass: the acos argument in double as gdaldem forms it: within a few double units of
  /// gdaldem's, and its rsqrt estimate the same, since it is taken of the same float of
  /// 1 + slope (lanes where that float could differ, within 2^-40 of a rounding boundary, are
  /// left to operator()).
  __attribute__((target("avx2,fma"))) void first(const T* r0, const T* r1, const T* r2, int64_t x,
                                                 Mid& mid) const {
    __m256d gx[2], gy[2];
    scaled_gradient<T, G>(c, r0, r1, r2, x, gx, gy);
    int same_b[2];
    for (int h = 0; h < 2; ++h) {
      const __m256d xx_plus_yy = _mm256_fmadd_pd(gx[h], gx[h], _mm256_mul_pd(gy[h], gy[h]));
      const __m256d slope = times(xx_plus_yy, c.square_z);
      const __m256d a = _mm256_sub_pd(_mm256_set1_pd(c.sin_alt),
                                      _mm256_fmsub_pd(gy[h], _mm256_set1_pd(c.cos_az_cos_alt_z),
                                                      times(gx[h], c.sin_az_cos_alt_z)));
      const __m256d b = _mm256_add_pd(_mm256_set1_pd(1.0), slope);
      // approx_a_div_sqrt_b: rsqrtps of float(b), one Newton step in double.
      const __m128 b_float = simd::to_float_near(b, same_b[h]);
      __m256d r = _mm256_cvtps_pd(_mm_rsqrt_ps(b_float));
      r = _mm256_mul_pd(r,
                        _mm256_fnmadd_pd(times(b, 0.5), _mm256_mul_pd(r, r), _mm256_set1_pd(1.5)));
      _mm_storeu_ps(mid.cosine + 4 * h, _mm256_cvtpd_ps(_mm256_mul_pd(a, r)));
      _mm_storeu_ps(mid.slope + 4 * h, _mm256_cvtpd_ps(slope));
    }
    mid.same_b = same_b[0] | same_b[1] << 4;
  }

  /// Second pass, in float with float acos and atan: the eight cells into to[0..8). Returns the
  /// lanes whose byte float arithmetic cannot be sure of: an acos argument within 1/64 of +-1
  /// (where acos magnifies errors), 1 + 254 c within kCombinedSlack of a rounding boundary,
  /// overflow or NaN, or the first pass's.
  __attribute__((target("avx2,fma"))) int second(const Mid& mid, float* to) const {
    static constexpr double kInvSquareOfHalfPi = 1.0 / ((kPi * kPi) / 4);
    const __m256 cosine = _mm256_loadu_ps(mid.cosine), slope = _mm256_loadu_ps(mid.slope);
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 angle = simd::acos8(cosine);
    const __m256 steepness = simd::atan_nonnegative8(_mm256_sqrt_ps(slope));
    const __m256 cang =
        _mm256_sub_ps(one, times8(_mm256_mul_ps(angle, steepness), kInvSquareOfHalfPi));
    const __m256 dark = _mm256_cmp_ps(cang, _mm256_setzero_ps(), _CMP_LE_OQ);
    const __m256 v = _mm256_blendv_ps(_mm256_add_ps(one, times8(cang, 254.0)), one, dark);
    _mm256_storeu_ps(to, v);
    const __m256 safe = _mm256_and_ps(_mm256_cmp_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), cosine),
                                                    _mm256_set1_ps(1.0f - 1.0f / 64), _CMP_LE_OQ),
                                      _mm256_cmp_ps(slope, _mm256_set1_ps(1e30f), _CMP_LE_OQ));
    return ~(simd::bytes_sure8(v, kCombinedSlack) & _mm256_movemask_ps(safe) & mid.same_b) & 0xFF;
  }

  /// Sixteen cells between the two passes of the AVX-512 path.
  struct Mid16 {
    float cosine[16];  ///< the acos argument, within 21 u of gdaldem's (first16)
    float slope[16];   ///< zf^2 (x^2 + y^2), within 10 u, relative, of gdaldem's
  };

  /// First pass of the AVX-512 path, sixteen floats a vector: the gradient's sums in T as
  /// terrain::gradient forms them (exact in float, within u = 2^-24 for int32 sums over 2^24),
  /// x and y within 3 u of gdaldem's doubles, the slope within 10 u, 1 + slope within 11 u; the
  /// reciprocal root from rsqrt14 and one float Newton step (within 9 u of 1 / sqrt(1 + slope),
  /// where gdaldem's, one double step from rsqrtss, is within 1.5 (1.5 2^-12)^2 = 3.4 u); the
  /// numerator within 7 u of sqrt(1 + slope) (its terms' magnitudes add up to at most that: sin
  /// alt + cos alt sqrt(slope) <= sqrt(1 + slope)). So the cosine is within 21 u of gdaldem's.
  __attribute__((target(TESSERA_AVX512_TARGET))) void first16(const T* r0, const T* r1, const T* r2,
                                                              int64_t x, Mid16& mid) const {
    __m512 sx, sy;
    terrain::gradient_sums16<T, G>(r0, r1, r2, x, sx, sy);
    const __m512 gx = simd::times16(sx, c.inv_ewres), gy = simd::times16(sy, c.inv_nsres);
    const __m512 slope = simd::times16(_mm512_fmadd_ps(gx, gx, _mm512_mul_ps(gy, gy)), c.square_z);
    const __m512 b = _mm512_add_ps(_mm512_set1_ps(1.0f), slope);
    const __m512 r0_estimate = _mm512_rsqrt14_ps(b);
    const __m512 half_error = _mm512_mul_ps(
        _mm512_fnmadd_ps(_mm512_mul_ps(b, r0_estimate), r0_estimate, _mm512_set1_ps(1.0f)),
        _mm512_set1_ps(0.5f));
    const __m512 r = _mm512_fmadd_ps(r0_estimate, half_error, r0_estimate);
    const __m512 a =
        _mm512_sub_ps(_mm512_set1_ps(static_cast<float>(c.sin_alt)),
                      _mm512_fmsub_ps(gy, _mm512_set1_ps(static_cast<float>(c.cos_az_cos_alt_z)),
                                      simd::times16(gx, c.sin_az_cos_alt_z)));
    _mm512_storeu_ps(mid.cosine, _mm512_mul_ps(a, r));
    _mm512_storeu_ps(mid.slope, slope);
  }

  /// Second pass of the AVX-512 path, in float with float acos and atan: the sixteen cells into
  /// to[0..16). Returns the lanes (bits 0-15) whose byte it cannot be sure of: an acos argument
  /// within 1/64 of +-1, a slope over 1e30 or NaN, or 1 + 254 c within the lane's slack of a
  /// rounding boundary. The slack bounds 1 + 254 c's distance from gdaldem's, three times over:
  /// 254 (4 / pi^2) = 103 times the error of acos(cosine) atan(sqrt(slope)); acos16 (4e-7) and
  /// atan_nonnegative16 (2e-7 relative, and 3 u from the slope's error), and seven float
  /// roundings of values up to 255 or pi^2 / 2, bring 3.1e-4; the cosine's 21 u become
  /// 21 u / sqrt(1 - cosine^2) in the angle, times the steepness atan(sqrt(slope)) and 103:
  /// 1.3e-4 steepness / sqrt(1 - cosine^2). The slack is kCombinedSlack (9.8e-4) plus 2^-11
  /// (4.9e-4) times that steepness / sqrt(1 - cosine^2), from rsqrt14.
  __attribute__((target(TESSERA_AVX512_TARGET))) int second16(const Mid16& mid, float* to) const {
    static constexpr double kInvSquareOfHalfPi = 1.0 / ((kPi * kPi) / 4);
    const __m512 cosine = _mm512_loadu_ps(mid.cosine), slope = _mm512_loadu_ps(mid.slope);
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 angle = simd::acos16(cosine);
    const __m512 steepness = simd::atan_nonnegative16(_mm512_sqrt_ps(slope));
    const __m512 cang =
        _mm512_sub_ps(one, simd::times16(_mm512_mul_ps(angle, steepness), kInvSquareOfHalfPi));
    const __mmask16 dark = _mm512_cmp_ps_mask(cang, _mm512_setzero_ps(), _CMP_LE_OQ);
    const __m512 v = _mm512_mask_mov_ps(_mm512_add_ps(one, simd::times16(cang, 254.0)), dark, one);
    _mm512_storeu_ps(to, v);
    const __mmask16 safe = _mm512_cmp_ps_mask(_mm512_andnot_ps(_mm512_set1_ps(-0.0f), cosine),
                                              _mm512_set1_ps(1.0f - 1.0f / 64), _CMP_LE_OQ) &
                           _mm512_cmp_ps_mask(slope, _mm512_set1_ps(1e30f), _CMP_LE_OQ);
    const __m512 magnified =
        _mm512_mul_ps(steepness, _mm512_rsqrt14_ps(_mm512_fnmadd_ps(cosine, cosine, one)));
    const __m512 slack =
        _mm512_fmadd_ps(magnified, _mm512_set1_ps(0x1p-11f), _mm512_set1_ps(kCombinedSlack));
    return ~(simd::bytes_sure16(v, slack) & safe) & 0xFFFF;
  }
#endif
};

/// -multidirectional: four lights weighted by the aspect, USGS OF92-422.
template <class T, Gradient G>
struct Multidirectional {
  const Coeffs& c;
  float operator()(const T* w) const {
    double x, y;
    terrain::gradient<T, G>(w, c.inv_ewres, c.inv_nsres, x, y);
    const double xx = x * x;
    const double yy = y * y;
    const double xx_plus_yy = xx + yy;
    if (xx_plus_yy == 0.0) return static_cast<float>(1.0 + c.sin_alt_254);
    const auto lit = [](double v) { return v <= 0.0 ? 0.0 : v; };
    const double val225 = lit(c.sin_alt_127 + (x - y) * c.cos225_cos_alt_z_127);
    const double val270 = lit(c.sin_alt_127 - x * c.cos_alt_z_127);
    const double val315 = lit(c.sin_alt_127 + (x + y) * c.cos225_cos_alt_z_127);
    const double val360 = lit(c.sin_alt_127 - y * c.cos_alt_z_127);
    const double weight_225 = 0.5 * xx_plus_yy - x * y;
    const double weight_315 = xx_plus_yy - weight_225;
    const double cang_127 = approx_a_div_sqrt_b(
        (weight_225 * val225 + xx * val270 + weight_315 * val315 + yy * val360) / xx_plus_yy,
        1 + c.square_z * xx_plus_yy);
    return static_cast<float>(1.0 + cang_127);
  }

  void row_values(const T* r0, const T* r1, const T* r2, int64_t x0, int64_t x1, float* out) const {
    exact_row(*this, r0, r1, r2, x0, x1, out);
  }

#if defined(TESSERA_HAVE_AVX2_PATHS)
  /// operator() four lanes wide, operation for operation: the same bits, nothing left over.
  __attribute__((target("avx2"))) int eight(const T* r0, const T* r1, const T* r2, int64_t x,
                                            float* to) const {
    __m256d gx[2], gy[2];
    scaled_gradient<T, G>(c, r0, r1, r2, x, gx, gy);
    for (int h = 0; h < 2; ++h) {
      const __m256d px = gx[h], py = gy[h];
      const __m256d xx = _mm256_mul_pd(px, px), yy = _mm256_mul_pd(py, py);
      const __m256d xx_plus_yy = _mm256_add_pd(xx, yy);
      const __m256d sin_alt_127 = _mm256_set1_pd(c.sin_alt_127);
      const __m256d val225 =
          lit(_mm256_add_pd(sin_alt_127, times(_mm256_sub_pd(px, py), c.cos225_cos_alt_z_127)));
      const __m256d val270 = lit(_mm256_sub_pd(sin_alt_127, times(px, c.cos_alt_z_127)));
      const __m256d val315 =
          lit(_mm256_add_pd(sin_alt_127, times(_mm256_add_pd(px, py), c.cos225_cos_alt_z_127)));
      const __m256d val360 = lit(_mm256_sub_pd(sin_alt_127, times(py, c.cos_alt_z_127)));
      const __m256d weight_225 = _mm256_sub_pd(times(xx_plus_yy, 0.5), _mm256_mul_pd(px, py));
      const __m256d weight_315 = _mm256_sub_pd(xx_plus_yy, weight_225);
      __m256d sum = _mm256_mul_pd(weight_225, val225);
      sum = _mm256_add_pd(sum, _mm256_mul_pd(xx, val270));
      sum = _mm256_add_pd(sum, _mm256_mul_pd(weight_315, val315));
      sum = _mm256_add_pd(sum, _mm256_mul_pd(yy, val360));
      const __m256d one = _mm256_set1_pd(1.0);
      const __m256d cang = a_div_sqrt_b(_mm256_div_pd(sum, xx_plus_yy),
                                        _mm256_add_pd(one, times(xx_plus_yy, c.square_z)));
      const __m256d flat = _mm256_cmp_pd(xx_plus_yy, _mm256_setzero_pd(), _CMP_EQ_OQ);
      const __m256d v =
          _mm256_blendv_pd(_mm256_add_pd(one, cang), _mm256_set1_pd(1.0 + c.sin_alt_254), flat);
      _mm_storeu_ps(to + 4 * h, _mm256_cvtpd_ps(v));
    }
    return 0;
  }

  /// eight, sixteen lanes on AVX-512 (eight doubles a vector, nothing fused): the same bits.
  __attribute__((target(TESSERA_AVX512_TARGET))) void sixteen(const T* r0, const T* r1, const T* r2,
                                                              int64_t x, float* to) const {
    using namespace exact8;
    __m512d gx[2], gy[2];
    scaled_gradient16<T, G>(c, r0, r1, r2, x, gx, gy);
    for (int h = 0; h < 2; ++h) {
      const __m512d px = gx[h], py = gy[h];
      const __m512d xx = mul(px, px), yy = mul(py, py);
      const __m512d xx_plus_yy = add(xx, yy);
      const __m512d sin_alt_127 = _mm512_set1_pd(c.sin_alt_127);
      const __m512d val225 = lit(add(sin_alt_127, times(sub(px, py), c.cos225_cos_alt_z_127)));
      const __m512d val270 = lit(sub(sin_alt_127, times(px, c.cos_alt_z_127)));
      const __m512d val315 = lit(add(sin_alt_127, times(add(px, py), c.cos225_cos_alt_z_127)));
      const __m512d val360 = lit(sub(sin_alt_127, times(py, c.cos_alt_z_127)));
      const __m512d weight_225 = sub(times(xx_plus_yy, 0.5), mul(px, py));
      const __m512d weight_315 = sub(xx_plus_yy, weight_225);
      __m512d sum = mul(weight_225, val225);
      sum = add(sum, mul(xx, val270));
      sum = add(sum, mul(weight_315, val315));
      sum = add(sum, mul(yy, val360));
      const __m512d one = _mm512_set1_pd(1.0);
      const __m512d cang = a_div_sqrt_b(_mm512_div_round_pd(sum, xx_plus_yy, kRound),
                                        add(one, times(xx_plus_yy, c.square_z)));
      const __mmask8 flat = _mm512_cmp_pd_mask(xx_plus_yy, _mm512_setzero_pd(), _CMP_EQ_OQ);
      const __m512d v =
          _mm512_mask_mov_pd(add(one, cang), flat, _mm512_set1_pd(1.0 + c.sin_alt_254));
      _mm256_storeu_ps(to + 8 * h, _mm512_cvtpd_ps(v));
    }
  }
#else
  int eight(const T*, const T*, const T*, int64_t, float*) const { return 0; }
#endif
};

double normalize_angle(double angle, double normalizer) {
  angle = std::fmod(angle, normalizer);
  return angle < 0 ? normalizer + angle : angle;
}

/// -igor: shading from slope and aspect only (GDALHillshadeIgorAlg).
template <class T, Gradient G>
struct Igor {
  const Coeffs& c;
  /// The light's direction normalised as gdaldem normalises it, in [0, 2 pi): once a tile.
  double toward = normalize_angle(kPi * 3 / 2 - c.az_radians, kPi * 2);
  /// The same, as the float pass compares aspects with it.
  float light = static_cast<float>(toward);
  float operator()(const T* w) const {
    double x, y;
    terrain::gradient<T, G>(w, c.inv_ewres, c.inv_nsres, x, y);
    const double slope_degrees =
        std::atan(std::sqrt(x * x + y * y) * c.z_scaled) * kRadiansToDegrees;
    double dx, dy;
    terrain::aspect_differences<T, G>(w, dx, dy);
    const double aspect = std::atan2(dy, -dx);
    const double slope_strength = slope_degrees / 90;
    // gdaldem's angle between the aspect and the light, each normalised by fmod to [0, 2 pi),
    // without the fmods: |aspect| <= pi, which fmod by 2 pi returns as it is, and the light's
    // direction normalised once.
    double aspect_diff = std::abs((aspect < 0 ? kPi * 2 + aspect : aspect) - toward);
    if (aspect_diff > kPi * 2 / 2) aspect_diff = kPi * 2 - aspect_diff;
    const double aspect_strength = 1 - aspect_diff / kPi;
    const double shadowness = 1.0 - slope_strength * aspect_strength;
    return static_cast<float>(255.0 * shadowness);
  }

  void row_values(const T* r0, const T* r1, const T* r2, int64_t x0, int64_t x1, float* out) const {
    single_pass_row(*this, r0, r1, r2, x0, x1, out);
  }

#if defined(TESSERA_HAVE_AVX2_PATHS)
  /// Eight cells between the two passes.
  struct Mid {
    float slope_strength[8];  ///< the slope in degrees / 90
    float dx[8], dy[8];       ///< the aspect's differences, exact in float
    int finite;               ///< lanes within the float pass's range
  };

  /// First pass, in float: the slope's strength (float atan), and the aspect's differences.
  __attribute__((target("avx2,fma"))) void first(const T* r0, const T* r1, const T* r2, int64_t x,
                                                 Mid& mid) const {
    __m256 gx, gy, dx, dy;
    scaled_gradient8<T, G>(c, r0, r1, r2, x, gx, gy);
    terrain::aspect_sums8<T, G>(r0, r1, r2, x, dx, dy);
    const __m256 xx_plus_yy = _mm256_add_ps(_mm256_mul_ps(gx, gx), _mm256_mul_ps(gy, gy));
    const __m256 slope_radians =
        simd::atan_nonnegative8(times8(_mm256_sqrt_ps(xx_plus_yy), c.z_scaled));
    _mm256_storeu_ps(mid.slope_strength, times8(slope_radians, kRadiansToDegrees / 90));
    _mm256_storeu_ps(mid.dx, dx);
    _mm256_storeu_ps(mid.dy, dy);
    mid.finite = _mm256_movemask_ps(_mm256_cmp_ps(xx_plus_yy, _mm256_set1_ps(1e30f), _CMP_LE_OQ));
  }

  /// Second pass, in float: the aspect (float atan2), its angle to the light, the eight cells
  /// into to[0..8) (the angles' normalisation written out: |aspect| <= pi, so fmod leaves it as
  /// it is). Returns the lanes whose 255 s lies within kIgorSlack of a rounding boundary, or that
  /// overflow or are NaN.
  __attribute__((target("avx2,fma"))) int second(const Mid& mid, float* to) const {
    const __m256 dx = _mm256_loadu_ps(mid.dx), dy = _mm256_loadu_ps(mid.dy);
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 two_pi = _mm256_set1_ps(static_cast<float>(kPi * 2));
    const __m256 toward = _mm256_set1_ps(light);
    const __m256 aspect = simd::atan2_8(dy, _mm256_xor_ps(dx, _mm256_set1_ps(-0.0f)));
    // The aspect in [0, 2 pi), its distance to the light's direction, and past pi the other way
    // round: 2 pi - diff, the smaller of the two.
    const __m256 around = _mm256_add_ps(
        aspect, _mm256_and_ps(_mm256_cmp_ps(aspect, _mm256_setzero_ps(), _CMP_LT_OQ), two_pi));
    __m256 diff = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(around, toward));
    diff = _mm256_min_ps(diff, _mm256_sub_ps(two_pi, diff));
    const __m256 aspect_strength = _mm256_sub_ps(one, times8(diff, 1 / kPi));
    const __m256 v = times8(
        _mm256_sub_ps(one, _mm256_mul_ps(_mm256_loadu_ps(mid.slope_strength), aspect_strength)),
        255.0);
    _mm256_storeu_ps(to, v);
    return ~(simd::bytes_sure8(v, kIgorSlack) & mid.finite) & 0xFF;
  }

  /// first and second for sixteen cells, in one: the same float arithmetic, the same checks
  /// (bits 0-15).
  __attribute__((target(TESSERA_AVX512_TARGET))) int sixteen(const T* r0, const T* r1, const T* r2,
                                                             int64_t x, float* to) const {
    using simd::times16;
    __m512 gx, gy, dx, dy;
    terrain::gradient_sums16<T, G>(r0, r1, r2, x, gx, gy);
    gx = times16(gx, c.inv_ewres);
    gy = times16(gy, c.inv_nsres);
    terrain::aspect_sums16<T, G>(r0, r1, r2, x, dx, dy);
    const __m512 one = _mm512_set1_ps(1.0f), sign = _mm512_set1_ps(-0.0f);
    const __m512 two_pi = _mm512_set1_ps(static_cast<float>(kPi * 2));
    const __m512 xx_plus_yy = _mm512_add_ps(_mm512_mul_ps(gx, gx), _mm512_mul_ps(gy, gy));
    const __m512 slope_radians =
        simd::atan_nonnegative16(times16(_mm512_sqrt_ps(xx_plus_yy), c.z_scaled));
    const __m512 slope_strength = times16(slope_radians, kRadiansToDegrees / 90);
    const __mmask16 finite = _mm512_cmp_ps_mask(xx_plus_yy, _mm512_set1_ps(1e30f), _CMP_LE_OQ);
    const __m512 aspect = simd::atan2_16(dy, _mm512_xor_ps(dx, sign));
    const __m512 around = _mm512_mask_add_ps(
        aspect, _mm512_cmp_ps_mask(aspect, _mm512_setzero_ps(), _CMP_LT_OQ), aspect, two_pi);
    __m512 diff = _mm512_andnot_ps(sign, _mm512_sub_ps(around, _mm512_set1_ps(light)));
    diff = _mm512_min_ps(diff, _mm512_sub_ps(two_pi, diff));
    const __m512 aspect_strength = _mm512_sub_ps(one, times16(diff, 1 / kPi));
    const __m512 v =
        times16(_mm512_sub_ps(one, _mm512_mul_ps(slope_strength, aspect_strength)), 255.0);
    _mm512_storeu_ps(to, v);
    return ~(simd::bytes_sure16(v, kIgorSlack) & finite) & 0xFFFF;
  }
#endif
};

template <class T, Gradient G>
void shade(const terrain::Grid<T>& g, const TileIn& in, View<uint8_t> out, const HillshadeParams& p,
           const Coeffs& c) {
  const auto run = [&](const auto& alg) {
    terrain::for_each_cell(g, in.owned, p.compute_edges, 0.0f, alg, terrain::ByteSink{out});
  };
  switch (p.style) {
    case ShadeStyle::Combined:
      return run(Combined<T, G>{c});
    case ShadeStyle::Multidirectional:
      return run(Multidirectional<T, G>{c});
    case ShadeStyle::Igor:
      return run(Igor<T, G>{c});
    case ShadeStyle::Single:
      break;
  }
  if (G == Gradient::Horn && in.ewres == -in.nsres) {
    const terrain::SquareShade square{c.sin_alt_254, c.sin_az_cos_alt_z_254_inv_res,
                                      c.cos_az_cos_alt_z_254_inv_res, c.square_z_inv_res2};
    return terrain::shade_square(g, in.owned, p.compute_edges, square, out);
  }
  run(Single<T, G>{c});
}

class HillshadeOp : public Op {
 public:
  explicit HillshadeOp(HillshadeParams p) : p_(p) {}
  int64_t halo() const override { return 1; }
  PixelType output_type() const override { return PixelType::Byte; }
  std::optional<double> output_nodata() const override { return 0.0; }
  void run(const TileIn& in, const TileOut& out) const override {
    hillshade(in, out.bands.at(0).as<uint8_t>(), p_);
  }

 private:
  HillshadeParams p_;
};

}  // namespace

HillshadeParams hillshade_params(const Options& options) {
  OptionReader r("hillshade", options,
                 {"z", "scale", "azimuth", "altitude", "alg", "combined", "multidirectional",
                  "igor", "compute_edges"});
  HillshadeParams p;
  p.z = r.number("z", p.z);
  p.scale = r.nonzero_number("scale", p.scale);
  p.azimuth = r.number("azimuth", p.azimuth);
  p.altitude = r.number("altitude", p.altitude);
  p.alg = static_cast<Gradient>(r.choice("alg", {"Horn", "ZevenbergenThorne"}, 0));
  const bool combined = r.flag("combined", false);
  const bool multi = r.flag("multidirectional", false);
  const bool igor = r.flag("igor", false);
  p.compute_edges = r.flag("compute_edges", false);
  r.finish();
  if (combined + multi + igor > 1) {
    const char* key = multi ? "multidirectional" : "combined";
    throw OptionError(key,
                      "only one of options 'multidirectional', 'combined' or 'igor' can be used");
  }
  p.style = combined ? ShadeStyle::Combined
            : multi  ? ShadeStyle::Multidirectional
            : igor   ? ShadeStyle::Igor
                     : ShadeStyle::Single;
  return p;
}

void hillshade(const TileIn& in, View<uint8_t> out, const HillshadeParams& p) {
  const Coeffs c = make_coeffs(p, in.ewres, in.nsres);
  terrain::with_grid(in, [&](const auto& g) {
    using T = typename std::decay_t<decltype(g)>::Cell;
    if (p.alg == Gradient::Horn)
      shade<T, Gradient::Horn>(g, in, out, p, c);
    else
      shade<T, Gradient::ZevenbergenThorne>(g, in, out, p, c);
  });
}

std::unique_ptr<Op> make_hillshade(const Options& options) {
  return std::make_unique<HillshadeOp>(hillshade_params(options));
}

}  // namespace tessera::ops
