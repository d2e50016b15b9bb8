// gdaldem slope: Horn or Zevenbergen-Thorne, in degrees or percent, and the op adapter.
#include "tessera/ops/slope.hpp"

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "option_reader.hpp"
#include "simd_avx2.hpp"
#include "simd_avx512.hpp"
#include "terrain_math.hpp"
#include "terrain_rows.hpp"
#include "terrain_rows16.hpp"
#include "terrain_sinks.hpp"
#include "terrain_window.hpp"

namespace tessera::ops {
namespace {

constexpr float kNoData = -9999.0f;

/// GDALSlopeHornAlg / GDALSlopeZevenbergenThorneAlg: note the division by the resolution.
template <class T, Gradient G, SlopeUnits U>
struct SlopeAlg {
  static constexpr double kSpan = G == Gradient::Horn ? 8 : 2;
  double ewres, nsres, scale;

  float operator()(const T* w) const {
    double dx, dy;
    if constexpr (G == Gradient::Horn) {
      dx = ((w[0] + w[3] + w[3] + w[6]) - (w[2] + w[5] + w[5] + w[8])) / ewres;
      dy = ((w[6] + w[7] + w[7] + w[8]) - (w[0] + w[1] + w[1] + w[2])) / nsres;
    } else {
      dx = (w[3] - w[5]) / ewres;
      dy = (w[7] - w[1]) / nsres;
    }
    return of_key(dx * dx + dy * dy);
  }

  /// The slope from the squared gradient.
  float of_key(double key) const {
    if constexpr (U == SlopeUnits::Degrees)
      return static_cast<float>(std::atan(std::sqrt(key) / (kSpan * scale)) *
                                terrain::kRadiansToDegrees);
    return static_cast<float>(100 * (std::sqrt(key) / (kSpan * scale)));
  }

  /// Cells [x0, x1) of a row whose windows hold no nodata: the values operator() gives, eight
  /// at a time where the CPU has AVX2.
  void row_values(const T* r0, const T* r1, const T* r2, int64_t x0, int64_t x1, float* out) const {
    int64_t x = x0;
    if constexpr (U == SlopeUnits::Degrees) {
      if (passes_apply()) {
#if defined(TESSERA_HAVE_AVX2_PATHS)
        // g = sqrt((d_x k / ewres)^2 + (d_y k / nsres)^2) with k = 1 / (kSpan scale): the
        // products a unit or two in the last place from operator()'s quotients.
        const double inv_span = 1.0 / (kSpan * scale);
        const double x_factor = inv_span / ewres, y_factor = inv_span / nsres;
        if (simd::have_avx512() && x1 - x0 >= 16)
          return terrain::row_by_checked_sixteens_in_two<Tangents16>(
              *this, r0, r1, r2, x0, x1, out,
              [r0, r1, r2, x_factor, y_factor](int64_t x, Tangents16& mid) {
                sixteen_first(r0, r1, r2, x, x_factor, y_factor, mid);
              },
              [](const Tangents16& mid, float* to) { return sixteen_second(mid, to); });
        terrain::row_by_checked_eights_in_two<Tangents>(
            *this, r0, r1, r2, x0, x1, out,
            [r0, r1, r2, x_factor, y_factor](int64_t x, Tangents& mid) {
              eight_first(r0, r1, r2, x, x_factor, y_factor, mid);
            },
            [](int64_t, const Tangents& mid, float* to) { return eight_third(mid, to); },
            [](int64_t, Tangents& mid) { eight_second(mid); });
#endif
        return;
      }
    } else {
#if defined(TESSERA_HAVE_AVX2_PATHS)
      if (simd::have_avx512() && x1 - x0 >= 16) {
        const double inv_span = 1.0 / (kSpan * scale), inv_ew = 1.0 / ewres, inv_ns = 1.0 / nsres;
        return terrain::row_by_checked_sixteens(
            *this, r0, r1, r2, x0, x1, out, [=](int64_t x, float* to) {
              return sixteen_percent(r0, r1, r2, x, inv_ew, inv_ns, inv_span, to);
            });
      }
      if (simd::have_avx2()) x = row_values_avx2(r0, r1, r2, x0, x1, out);
#endif
    }
    for (; x < x1; ++x) {
      const T w[9] = {r0[x - 1], r0[x],     r0[x + 1], r1[x - 1], r1[x],
                      r1[x + 1], r2[x - 1], r2[x],     r2[x + 1]};
      out[x - x0] = (*this)(w);
    }
  }

  /// Whether the vector passes of slope in degrees run: the CPU has AVX2 and FMA, and the scale is
  /// positive (a negative one gives negative tangents, outside atan_degrees_near's domain).
  bool passes_apply() const {
#if defined(TESSERA_HAVE_AVX2_PATHS)
    return simd::have_avx2() && kSpan * scale > 0;
#else
    return false;
#endif
  }

#if defined(TESSERA_HAVE_AVX2_PATHS)
  /// Eight windows' unscaled x and y differences, in T as operator() forms them, as doubles:
  /// d[0], d[1] the x ones of cells x..x+3 and x+4..x+7, d[2], d[3] the y ones.
  __attribute__((target("avx2"))) static void differences(const T* r0, const T* r1, const T* r2,
                                                          int64_t x, __m256d* d) {
    terrain::gradient_differences<T, G>(r0, r1, r2, x, d);
  }

  /// Eight cells' slope tangents between the passes eight_first, eight_second and eight_third
  /// (terrain::row_by_checked_eights_in_two: three short chains of dependent operations rather
  /// than one long one).
  struct Tangents {
    double g[8];     ///< sqrt(key) / (kSpan scale), then reduced
    double base[8];  ///< 0, 45 or 90: the angle's part outside the reduced one
    int ranged;      ///< lanes whose g is 0 or at least 2^-120 (NaN is not)
  };

  /// Slope in degrees, first pass: eight cells' g = sqrt(key) / (kSpan scale), as the root of
  /// the sum of the squared differences times x_factor and y_factor, into `mid`.
  __attribute__((target("avx2,fma"))) static void eight_first(const T* r0, const T* r1, const T* r2,
                                                              int64_t x, double x_factor,
                                                              double y_factor, Tangents& mid) {
    __m256d d[4];
    differences(r0, r1, r2, x, d);
    int ranged = 0;
    for (int half = 0; half < 2; ++half) {
      const __m256d dx = _mm256_mul_pd(d[half], _mm256_set1_pd(x_factor));
      const __m256d dy = _mm256_mul_pd(d[2 + half], _mm256_set1_pd(y_factor));
      const __m256d g = _mm256_sqrt_pd(_mm256_fmadd_pd(dx, dx, _mm256_mul_pd(dy, dy)));
      // Not NaN, and 0 or at least 2^-120 (its degrees in float's normal range); an infinite g
      // reduces to t = -0, 90 degrees, as atan gives.
      const __m256d in_range = _mm256_or_pd(_mm256_cmp_pd(g, _mm256_set1_pd(0x1p-120), _CMP_GE_OQ),
                                            _mm256_cmp_pd(g, _mm256_setzero_pd(), _CMP_EQ_OQ));
      _mm256_storeu_pd(mid.g + 4 * half, g);
      ranged |= _mm256_movemask_pd(in_range) << 4 * half;
    }
    mid.ranged = ranged;
  }

  /// Slope in degrees, second pass: g reduced to t, |t| <= tan(pi/8) (g, (g - 1) / (g + 1) or
  /// -1 / g, one division), in place, and the base of the angle, 0, 45 or 90 degrees.
  __attribute__((target("avx2,fma"))) static void eight_second(Tangents& mid) {
    for (int half = 0; half < 2; ++half) {
      const __m256d g = _mm256_loadu_pd(mid.g + 4 * half);
      const __m256d one = _mm256_set1_pd(1.0), forty_five = _mm256_set1_pd(45.0);
      const __m256d over = _mm256_cmp_pd(g, _mm256_set1_pd(0.41421356237309504880), _CMP_GT_OQ);
      const __m256d big = _mm256_cmp_pd(g, _mm256_set1_pd(2.41421356237309504880), _CMP_GT_OQ);
      const __m256d num = _mm256_sub_pd(_mm256_andnot_pd(big, g), _mm256_and_pd(over, one));
      const __m256d den = _mm256_add_pd(_mm256_and_pd(over, g), _mm256_andnot_pd(big, one));
      _mm256_storeu_pd(mid.g + 4 * half, _mm256_div_pd(num, den));
      _mm256_storeu_pd(mid.base + 4 * half, _mm256_add_pd(_mm256_and_pd(over, forty_five),
                                                          _mm256_and_pd(big, forty_five)));
    }
  }

  /// Slope in degrees, third pass: the eight cells' degrees, base + atan_near(t) 180 / pi,
  /// within 2^-44 of operator()'s double, into to[0..8). Returns the lanes (bit k: cell x + k)
  /// left to operator(): those whose float that could change (to_float_near's 2^-40 band), and
  /// those whose g is NaN or below 2^-120 but not 0 (so that the degrees stay in float's normal
  /// range).
  __attribute__((target("avx2,fma"))) static int eight_third(const Tangents& mid, float* to) {
    int sure[2];
    __m128 f[2];
    for (int half = 0; half < 2; ++half)
      f[half] =
          simd::to_float_near(_mm256_fmadd_pd(simd::atan_near(_mm256_loadu_pd(mid.g + 4 * half)),
                                              _mm256_set1_pd(57.295779513082320876798),
                                              _mm256_loadu_pd(mid.base + 4 * half)),
                              sure[half]);
    _mm256_storeu_ps(to, _mm256_set_m128(f[1], f[0]));
    return ~((sure[0] | sure[1] << 4) & mid.ranged) & 0xFF;
  }

  /// Sixteen cells' slope tangents between sixteen_first and sixteen_second.
  struct Tangents16 {
    double g[16];  ///< sqrt(key) / (kSpan scale)
    int ranged;    ///< lanes whose g is 0, or in [2^-120, 2^100] (NaN is not)
  };

  /// Slope in degrees on AVX-512, first pass: eight_first for sixteen cells, eight doubles a
  /// vector (the same operations), and g at most 2^100 (atan_degrees_near8's domain) added to
  /// the range.
  __attribute__((target(TESSERA_AVX512_TARGET))) static void sixteen_first(const T* r0, const T* r1,
                                                                           const T* r2, int64_t x,
                                                                           double x_factor,
                                                                           double y_factor,
                                                                           Tangents16& mid) {
    __m512d d[4];
    terrain::gradient_differences16<T, G>(r0, r1, r2, x, d);
    int ranged = 0;
    for (int half = 0; half < 2; ++half) {
      const __m512d dx = _mm512_mul_pd(d[half], _mm512_set1_pd(x_factor));
      const __m512d dy = _mm512_mul_pd(d[2 + half], _mm512_set1_pd(y_factor));
      const __m512d g = _mm512_sqrt_pd(_mm512_fmadd_pd(dx, dx, _mm512_mul_pd(dy, dy)));
      const __mmask8 in_range = (_mm512_cmp_pd_mask(g, _mm512_set1_pd(0x1p-120), _CMP_GE_OQ) &
                                 _mm512_cmp_pd_mask(g, _mm512_set1_pd(0x1p100), _CMP_LE_OQ)) |
                                _mm512_cmp_pd_mask(g, _mm512_setzero_pd(), _CMP_EQ_OQ);
      _mm512_storeu_pd(mid.g + 8 * half, g);
      ranged |= static_cast<int>(in_range) << 8 * half;
    }
    mid.ranged = ranged;
  }

  /// Slope in degrees on AVX-512, second pass: eight_second and eight_third for sixteen cells
  /// (atan_degrees_near8, to_float_near8's check). Returns the lanes left to operator().
  __attribute__((target(TESSERA_AVX512_TARGET))) static int sixteen_second(const Tangents16& mid,
                                                                           float* to) {
    int sure = 0;
    for (int half = 0; half < 2; ++half) {
      __mmask8 lanes;
      _mm256_storeu_ps(
          to + 8 * half,
          simd::to_float_near8(simd::atan_degrees_near8(_mm512_loadu_pd(mid.g + 8 * half)), lanes));
      sure |= static_cast<int>(lanes) << 8 * half;
    }
    return ~(sure & mid.ranged) & 0xFFFF;
  }

  /// row_values_avx2's sixteen cells on AVX-512, eight doubles a vector (the same check); returns
  /// the lanes left to operator() (bits 0-15).
  __attribute__((target(TESSERA_AVX512_TARGET))) static int sixteen_percent(
      const T* r0, const T* r1, const T* r2, int64_t x, double inv_ew, double inv_ns,
      double inv_span, float* to) {
    __m512d d[4];
    terrain::gradient_differences16<T, G>(r0, r1, r2, x, d);
    int unsure = 0;
    for (int half = 0; half < 2; ++half) {
      const __m512d dx = _mm512_mul_pd(d[half], _mm512_set1_pd(inv_ew));
      const __m512d dy = _mm512_mul_pd(d[2 + half], _mm512_set1_pd(inv_ns));
      const __m512d key = _mm512_add_pd(_mm512_mul_pd(dx, dx), _mm512_mul_pd(dy, dy));
      const __m512d v = _mm512_mul_pd(_mm512_set1_pd(100),
                                      _mm512_mul_pd(_mm512_sqrt_pd(key), _mm512_set1_pd(inv_span)));
      __mmask8 lanes;
      _mm256_storeu_ps(to + 8 * half, simd::to_float_checked8(v, lanes));
      unsure |= static_cast<int>(lanes) << 8 * half;
    }
    return unsure;
  }

  /// The AVX2 part of row_values in percent; returns the first cell it left for the scalar loop.
  /// It multiplies by reciprocals instead of dividing, so each lane is only within a few units in
  /// the last place of operator()'s double; lanes whose float that could change
  /// (to_float_checked) are recomputed by operator().
  __attribute__((target("avx2"))) int64_t row_values_avx2(const T* r0, const T* r1, const T* r2,
                                                          int64_t x0, int64_t x1,
                                                          float* out) const {
    const __m256d inv_span = _mm256_set1_pd(1.0 / (kSpan * scale));
    const __m256d inv_ew = _mm256_set1_pd(1.0 / ewres), inv_ns = _mm256_set1_pd(1.0 / nsres);
    int64_t x = x0;
    for (; x + 8 <= x1; x += 8) {
      __m256d d[4];
      differences(r0, r1, r2, x, d);
      // The two halves are independent chains, written side by side so they overlap.
      __m256d v[2];
      for (int half = 0; half < 2; ++half) {
        const __m256d dx = _mm256_mul_pd(d[half], inv_ew);
        const __m256d dy = _mm256_mul_pd(d[2 + half], inv_ns);
        const __m256d key = _mm256_add_pd(_mm256_mul_pd(dx, dx), _mm256_mul_pd(dy, dy));
        v[half] = _mm256_mul_pd(_mm256_sqrt_pd(key), inv_span);
      }
      for (int half = 0; half < 2; ++half) v[half] = _mm256_mul_pd(_mm256_set1_pd(100), v[half]);
      int unsure[2] = {0, 0};
      float* to = out + (x - x0);
      _mm_storeu_ps(to, simd::to_float_checked(v[0], unsure[0]));
      _mm_storeu_ps(to + 4, simd::to_float_checked(v[1], unsure[1]));
      if (unsure[0] | unsure[1])
        terrain::recompute_lanes(*this, unsure[0] | unsure[1] << 4, r0, r1, r2, x, to);
    }
    return x;
  }
#endif
};

template <class T, Gradient G>
void slope_of(const terrain::Grid<T>& g, const TileIn& in, View<float> out, const SlopeParams& p) {
  const auto run = [&](const auto& alg) {
    terrain::for_each_cell(g, in.owned, p.compute_edges, kNoData, alg, terrain::FloatSink{out});
  };
  if (p.units == SlopeUnits::Degrees)
    run(SlopeAlg<T, G, SlopeUnits::Degrees>{in.ewres, in.nsres, p.scale});
  else
    run(SlopeAlg<T, G, SlopeUnits::Percent>{in.ewres, in.nsres, p.scale});
}

class SlopeOp : public Op {
 public:
  explicit SlopeOp(SlopeParams p) : p_(p) {}
  int64_t halo() const override { return 1; }
  PixelType output_type() const override { return PixelType::Float32; }
  std::optional<double> output_nodata() const override { return kNoData; }
  void run(const TileIn& in, const TileOut& out) const override {
    slope(in, out.bands.at(0).as<float>(), p_);
  }

 private:
  SlopeParams p_;
};

}  // namespace

SlopeParams slope_params(const Options& options) {
  OptionReader r("slope", options, {"scale", "alg", "units", "compute_edges"});
  SlopeParams p;
  p.scale = r.nonzero_number("scale", p.scale);
  p.alg = static_cast<Gradient>(r.choice("alg", {"Horn", "ZevenbergenThorne"}, 0));
  p.units = static_cast<SlopeUnits>(r.choice("units", {"degrees", "percent"}, 0));
  p.compute_edges = r.flag("compute_edges", false);
  r.finish();
  return p;
}

void slope(const TileIn& in, View<float> out, const SlopeParams& p) {
  terrain::with_grid(in, [&](const auto& g) {
    using T = typename std::decay_t<decltype(g)>::Cell;
    if (p.alg == Gradient::Horn)
      slope_of<T, Gradient::Horn>(g, in, out, p);
    else
      slope_of<T, Gradient::ZevenbergenThorne>(g, in, out, p);
  });
}

std::unique_ptr<Op> make_slope(const Options& options) {
  return std::make_unique<SlopeOp>(slope_params(options));
}

}  // namespace tessera::ops
