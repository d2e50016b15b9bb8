// gdaldem aspect: azimuth or trigonometric angle of the downslope direction, and the op adapter.
#include "tessera/ops/aspect.hpp"

#include <cmath>

#include "option_reader.hpp"
#include "simd_avx512.hpp"
#include "terrain_math.hpp"
#include "terrain_rows.hpp"
#include "terrain_rows16.hpp"
#include "terrain_sinks.hpp"
#include "terrain_window.hpp"

namespace tessera::ops {
namespace {

/// GDALAspectAlg / GDALAspectZevenbergenThorneAlg, with their float arithmetic.
template <class T, Gradient G, bool Azimuth>
struct AspectAlg {
  float flat;  ///< gdaldem's destination nodata: -9999, or 0 with zero_for_flat
  float operator()(const T* w) const {
    double dx, dy;
    terrain::aspect_differences<T, G>(w, dx, dy);
    float a = static_cast<float>(std::atan2(dy, -dx) / terrain::kDegreesToRadians);
    if (dx == 0 && dy == 0) {
      a = flat;
    } else if constexpr (Azimuth) {
      a = a > 90.0f ? 450.0f - a : 90.0f - a;
    } else if (a < 0) {
      a += 360.0f;
    }
    return a == 360.0f ? 0.0f : a;
  }

  /// A row of nodata-free windows, eight at a time where the CPU has AVX2, in two passes
  /// (terrain::row_by_checked_eights_in_two). The angle comes from a vector atan2 within 2^-44
  /// of the C library's, relative; lanes whose float that could change (to_float_near: within
  /// 2^-40 of a float rounding boundary) are recomputed by operator() after the row. The rest is
  /// float arithmetic, the same in every lane.
  void row_values(const T* r0, const T* r1, const T* r2, int64_t x0, int64_t x1, float* out) const {
#if defined(TESSERA_HAVE_AVX2_PATHS)
    if (simd::have_avx512() && x1 - x0 >= 16)
      return terrain::row_by_checked_sixteens_in_two<Octants16>(
          *this, r0, r1, r2, x0, x1, out,
          [r0, r1, r2](int64_t x, Octants16& mid) { sixteen_first(r0, r1, r2, x, mid); },
          [this](const Octants16& mid, float* to) { return sixteen_second(mid, to); });
    terrain::row_by_checked_eights_in_two<Octants>(
        *this, r0, r1, r2, x0, x1, out,
        [r0, r1, r2](int64_t x, Octants& mid) { eight_first(r0, r1, r2, x, mid); },
        [this](int64_t, const Octants& mid, float* to) { return eight_second(mid, to); });
#else
    terrain::row_by_eights(*this, r0, r1, r2, x0, x1, out, [](int64_t, float*) {});
#endif
  }

#if defined(TESSERA_HAVE_AVX2_PATHS)
  /// Eight cells' angles between the passes: atan2(dy, -dx) in degrees is offset + times
  /// atan(t) 180 / pi.
  struct Octants {
    double t[8];      ///< the ratio reduced to |t| <= tan(pi/8)
    float offset[8];  ///< a multiple of 45
    float times[8];   ///< +-1
    int level;        ///< lanes with dx = dy = 0
    int ranged;       ///< lanes whose |dx| and |dy| are 0 or in [2^-60, 2^60] (NaN is not)
  };

  /// First pass: the differences, exact in float, and from them, eight lanes at once, the
  /// octant: with lo and hi the smaller and larger of |dx| and |dy|, the angle is offset + times
  /// atan(t) with t = lo / hi, or (lo - hi) / (lo + hi) past tan(pi/8) (the sums exact in
  /// double, one division), offset a multiple of 45 from the signs, which magnitude is larger
  /// and the reduction, and times +-1.
  __attribute__((target("avx2,fma"))) static void eight_first(const T* r0, const T* r1, const T* r2,
                                                              int64_t x, Octants& mid) {
    __m256 dx, dy;
    terrain::aspect_sums8<T, G>(r0, r1, r2, x, dx, dy);
    const __m256 sign = _mm256_set1_ps(-0.0f), zero = _mm256_setzero_ps();
    const __m256 ax = _mm256_andnot_ps(sign, dx), ay = _mm256_andnot_ps(sign, dy);
    const __m256 lo = _mm256_min_ps(ax, ay), hi = _mm256_max_ps(ax, ay);
    const __m256 tiny = _mm256_set1_ps(0x1p-60f);
    // ax + ay: NaN stays NaN (min and max would drop it) and fails the ordered tests.
    const __m256 sum = _mm256_add_ps(ax, ay);
    const __m256 level = _mm256_cmp_ps(sum, zero, _CMP_EQ_OQ);
    __m256 ranged = _mm256_cmp_ps(sum, _mm256_set1_ps(0x1p60f), _CMP_LE_OQ);
    ranged = _mm256_and_ps(ranged, _mm256_or_ps(_mm256_cmp_ps(hi, tiny, _CMP_GE_OQ), level));
    ranged = _mm256_and_ps(ranged, _mm256_or_ps(_mm256_cmp_ps(lo, tiny, _CMP_GE_OQ),
                                                _mm256_cmp_ps(lo, zero, _CMP_EQ_OQ)));
    // atan2(dy, -dx) = Q + S r, r = atan(lo / hi) in [0, 45] degrees: Q is 0, 90 (|dy| > |dx|)
    // or 180 (-dx < 0), 90 again for both, with dy's sign; S is -1 where exactly one of the two
    // holds, times dy's sign. Past tan(pi/8), r = 45 + atan(t).
    const __m256 steep = _mm256_cmp_ps(ay, ax, _CMP_GT_OQ);
    const __m256 behind = _mm256_cmp_ps(dx, zero, _CMP_GT_OQ);
    const __m256 y_sign = _mm256_and_ps(dy, sign);
    const __m256 quarter =
        _mm256_add_ps(_mm256_and_ps(steep, _mm256_set1_ps(90.0f)),
                      _mm256_and_ps(_mm256_andnot_ps(steep, behind), _mm256_set1_ps(180.0f)));
    const __m256 times = _mm256_xor_ps(
        _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_and_ps(_mm256_xor_ps(steep, behind), sign)),
        y_sign);
    const __m256 over =
        _mm256_cmp_ps(lo, _mm256_mul_ps(hi, _mm256_set1_ps(0.41421356f)), _CMP_GT_OQ);
    const __m256 offset =
        _mm256_add_ps(_mm256_xor_ps(quarter, y_sign),
                      _mm256_mul_ps(times, _mm256_and_ps(over, _mm256_set1_ps(45.0f))));
    const __m256i over_bits = _mm256_castps_si256(over);
    for (int half = 0; half < 2; ++half) {
      const __m256d small = half ? simd::high_doubles(lo) : simd::low_doubles(lo);
      const __m256d large = half ? simd::high_doubles(hi) : simd::low_doubles(hi);
      const __m256d past = _mm256_castsi256_pd(_mm256_cvtepi32_epi64(
          half ? _mm256_extracti128_si256(over_bits, 1) : _mm256_castsi256_si128(over_bits)));
      const __m256d num = _mm256_sub_pd(small, _mm256_and_pd(past, large));
      const __m256d den = _mm256_add_pd(large, _mm256_and_pd(past, small));
      _mm256_storeu_pd(mid.t + 4 * half, _mm256_div_pd(num, den));
    }
    _mm256_storeu_ps(mid.offset, offset);
    _mm256_storeu_ps(mid.times, times);
    mid.level = _mm256_movemask_ps(level);
    mid.ranged = _mm256_movemask_ps(ranged);
  }

  /// Second pass: the eight cells into to[0..8); returns the lanes (bit k: cell x + k) left to
  /// operator(): those to_float_near is not sure of and those out of range, flat ones excepted.
  __attribute__((target("avx2,fma"))) int eight_second(const Octants& mid, float* to) const {
    int sure[2];
    __m128 angle[2];
    for (int half = 0; half < 2; ++half) {
      const __m256d degrees = _mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(mid.times + 4 * half)),
                                            _mm256_set1_pd(57.295779513082320876798));
      const __m256d v = _mm256_fmadd_pd(simd::atan_near(_mm256_loadu_pd(mid.t + 4 * half)), degrees,
                                        _mm256_cvtps_pd(_mm_loadu_ps(mid.offset + 4 * half)));
      angle[half] = simd::to_float_near(v, sure[half]);
    }
    __m256 a = _mm256_set_m128(angle[1], angle[0]);
    if constexpr (Azimuth) {
      const __m256 east = _mm256_cmp_ps(a, _mm256_set1_ps(90.0f), _CMP_GT_OQ);
      a = _mm256_blendv_ps(_mm256_sub_ps(_mm256_set1_ps(90.0f), a),
                           _mm256_sub_ps(_mm256_set1_ps(450.0f), a), east);
    } else {
      const __m256 negative = _mm256_cmp_ps(a, _mm256_setzero_ps(), _CMP_LT_OQ);
      a = _mm256_blendv_ps(a, _mm256_add_ps(a, _mm256_set1_ps(360.0f)), negative);
    }
    if (mid.level) {
      const __m256i lanes = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
      const __m256i is_flat =
          _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(mid.level), lanes), lanes);
      a = _mm256_blendv_ps(a, _mm256_set1_ps(flat), _mm256_castsi256_ps(is_flat));
    }
    const __m256 full = _mm256_cmp_ps(a, _mm256_set1_ps(360.0f), _CMP_EQ_OQ);
    _mm256_storeu_ps(to, _mm256_andnot_ps(full, a));
    return ~((sure[0] | sure[1] << 4) & mid.ranged) & ~mid.level & 0xFF;
  }

  /// Sixteen cells' angles between the AVX-512 passes, as Octants.
  struct Octants16 {
    double t[16];
    float offset[16];
    float times[16];
    int level;
    int ranged;
  };

  /// eight_first for sixteen cells on AVX-512: the same float operations (masks where it uses
  /// blends and ands), the same quotients in double, eight a vector.
  __attribute__((target(TESSERA_AVX512_TARGET))) static void sixteen_first(const T* r0, const T* r1,
                                                                           const T* r2, int64_t x,
                                                                           Octants16& mid) {
    __m512 dx, dy;
    terrain::aspect_sums16<T, G>(r0, r1, r2, x, dx, dy);
    const __m512 sign = _mm512_set1_ps(-0.0f), zero = _mm512_setzero_ps();
    const __m512 ax = _mm512_andnot_ps(sign, dx), ay = _mm512_andnot_ps(sign, dy);
    const __m512 lo = _mm512_min_ps(ax, ay), hi = _mm512_max_ps(ax, ay);
    const __m512 tiny = _mm512_set1_ps(0x1p-60f);
    const __m512 sum = _mm512_add_ps(ax, ay);
    const __mmask16 level = _mm512_cmp_ps_mask(sum, zero, _CMP_EQ_OQ);
    const __mmask16 ranged =
        _mm512_cmp_ps_mask(sum, _mm512_set1_ps(0x1p60f), _CMP_LE_OQ) &
        (_mm512_cmp_ps_mask(hi, tiny, _CMP_GE_OQ) | level) &
        (_mm512_cmp_ps_mask(lo, tiny, _CMP_GE_OQ) | _mm512_cmp_ps_mask(lo, zero, _CMP_EQ_OQ));
    const __mmask16 steep = _mm512_cmp_ps_mask(ay, ax, _CMP_GT_OQ);
    const __mmask16 behind = _mm512_cmp_ps_mask(dx, zero, _CMP_GT_OQ);
    const __m512 y_sign = _mm512_and_ps(dy, sign);
    const __m512 quarter = _mm512_add_ps(
        _mm512_maskz_mov_ps(steep, _mm512_set1_ps(90.0f)),
        _mm512_maskz_mov_ps(static_cast<__mmask16>(~steep & behind), _mm512_set1_ps(180.0f)));
    const __m512 times = _mm512_xor_ps(
        _mm512_or_ps(_mm512_set1_ps(1.0f),
                     _mm512_maskz_mov_ps(static_cast<__mmask16>(steep ^ behind), sign)),
        y_sign);
    const __mmask16 over =
        _mm512_cmp_ps_mask(lo, _mm512_mul_ps(hi, _mm512_set1_ps(0.41421356f)), _CMP_GT_OQ);
    // times is +-1: the product is exact, fused or not.
    const __m512 offset =
        _mm512_add_ps(_mm512_xor_ps(quarter, y_sign),
                      _mm512_mul_ps(times, _mm512_maskz_mov_ps(over, _mm512_set1_ps(45.0f))));
    for (int half = 0; half < 2; ++half) {
      const __m512d small = half ? simd::high_doubles(lo) : simd::low_doubles(lo);
      const __m512d large = half ? simd::high_doubles(hi) : simd::low_doubles(hi);
      const auto past = static_cast<__mmask8>(over >> 8 * half);
      const __m512d num = _mm512_mask_sub_pd(small, past, small, large);
      const __m512d den = _mm512_mask_add_pd(large, past, large, small);
      _mm512_storeu_pd(mid.t + 8 * half, _mm512_div_pd(num, den));
    }
    _mm512_storeu_ps(mid.offset, offset);
    _mm512_storeu_ps(mid.times, times);
    mid.level = level;
    mid.ranged = ranged;
  }

  /// eight_second for sixteen cells on AVX-512 (the same operations, masks for the blends);
  /// returns the lanes left to operator() (bits 0-15).
  __attribute__((target(TESSERA_AVX512_TARGET))) int sixteen_second(const Octants16& mid,
                                                                    float* to) const {
    __mmask16 sure = 0;
    __m256 angle[2];
    for (int half = 0; half < 2; ++half) {
      const __m512d degrees = _mm512_mul_pd(_mm512_cvtps_pd(_mm256_loadu_ps(mid.times + 8 * half)),
                                            _mm512_set1_pd(57.295779513082320876798));
      const __m512d v =
          _mm512_fmadd_pd(simd::atan_near8(_mm512_loadu_pd(mid.t + 8 * half)), degrees,
                          _mm512_cvtps_pd(_mm256_loadu_ps(mid.offset + 8 * half)));
      __mmask8 lanes;
      angle[half] = simd::to_float_near8(v, lanes);
      sure |= static_cast<__mmask16>(lanes) << 8 * half;
    }
    __m512 a = _mm512_insertf32x8(_mm512_castps256_ps512(angle[0]), angle[1], 1);
    if constexpr (Azimuth) {
      const __mmask16 east = _mm512_cmp_ps_mask(a, _mm512_set1_ps(90.0f), _CMP_GT_OQ);
      a = _mm512_mask_mov_ps(_mm512_sub_ps(_mm512_set1_ps(90.0f), a), east,
                             _mm512_sub_ps(_mm512_set1_ps(450.0f), a));
    } else {
      const __mmask16 negative = _mm512_cmp_ps_mask(a, _mm512_setzero_ps(), _CMP_LT_OQ);
      a = _mm512_mask_add_ps(a, negative, a, _mm512_set1_ps(360.0f));
    }
    a = _mm512_mask_mov_ps(a, static_cast<__mmask16>(mid.level), _mm512_set1_ps(flat));
    const __mmask16 full = _mm512_cmp_ps_mask(a, _mm512_set1_ps(360.0f), _CMP_EQ_OQ);
    _mm512_storeu_ps(to, _mm512_maskz_mov_ps(static_cast<__mmask16>(~full), a));
    return ~(sure & mid.ranged) & ~mid.level & 0xFFFF;
  }
#endif
};

float flat_value(const AspectParams& p) { return p.zero_for_flat ? 0.0f : -9999.0f; }

template <class T, Gradient G>
void aspect_of(const terrain::Grid<T>& g, const TileIn& in, View<float> out,
               const AspectParams& p) {
  const float flat = flat_value(p);
  const auto run = [&](const auto& alg) {
    terrain::for_each_cell(g, in.owned, p.compute_edges, flat, alg, terrain::FloatSink{out});
  };
  if (p.trigonometric)
    run(AspectAlg<T, G, false>{flat});
  else
    run(AspectAlg<T, G, true>{flat});
}

class AspectOp : public Op {
 public:
  explicit AspectOp(AspectParams p) : p_(p) {}
  int64_t halo() const override { return 1; }
  PixelType output_type() const override { return PixelType::Float32; }
  std::optional<double> output_nodata() const override {
    if (p_.zero_for_flat) return std::nullopt;
    return flat_value(p_);
  }
  void run(const TileIn& in, const TileOut& out) const override {
    aspect(in, out.bands.at(0).as<float>(), p_);
  }

 private:
  AspectParams p_;
};

}  // namespace

AspectParams aspect_params(const Options& options) {
  OptionReader r("aspect", options, {"alg", "trigonometric", "zero_for_flat", "compute_edges"});
  AspectParams p;
  p.alg = static_cast<Gradient>(r.choice("alg", {"Horn", "ZevenbergenThorne"}, 0));
  p.trigonometric = r.flag("trigonometric", false);
  p.zero_for_flat = r.flag("zero_for_flat", false);
  p.compute_edges = r.flag("compute_edges", false);
  r.finish();
  return p;
}

void aspect(const TileIn& in, View<float> out, const AspectParams& p) {
  terrain::with_grid(in, [&](const auto& g) {
    using T = typename std::decay_t<decltype(g)>::Cell;
    if (p.alg == Gradient::Horn)
      aspect_of<T, Gradient::Horn>(g, in, out, p);
    else
      aspect_of<T, Gradient::ZevenbergenThorne>(g, in, out, p);
  });
}

std::unique_ptr<Op> make_aspect(const Options& options) {
  return std::make_unique<AspectOp>(aspect_params(options));
}

}  // namespace tessera::ops
