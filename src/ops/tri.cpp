// gdaldem TRI: Riley's root of summed squares or Wilson's mean absolute difference.
#include "tessera/ops/tri.hpp"

#include <cmath>
#include <type_traits>

#include "option_reader.hpp"
#include "terrain_rows.hpp"
#include "terrain_rows16.hpp"
#include "terrain_sinks.hpp"
#include "terrain_window.hpp"

namespace tessera::ops {
namespace {

constexpr float kNoData = -9999.0f;

/// GDALTRIAlgRiley: differences in T, squared and summed in double.
template <class T>
struct Riley {
  float operator()(const T* w) const {
    const auto square = [](double x) { return x * x; };
    return static_cast<float>(std::sqrt(
        square(w[0] - w[4]) + square(w[1] - w[4]) + square(w[2] - w[4]) + square(w[3] - w[4]) +
        square(w[5] - w[4]) + square(w[6] - w[4]) + square(w[7] - w[4]) + square(w[8] - w[4])));
  }

  /// A row of nodata-free windows, eight at a time where the CPU has AVX2: the differences in
  /// T, then squares, sum (left to right) and the correctly rounded square root in double, as
  /// above, four lanes at a time; so the same bits.
  void row_values(const T* r0, const T* r1, const T* r2, int64_t x0, int64_t x1, float* out) const {
#if defined(TESSERA_HAVE_AVX2_PATHS)
    terrain::row_by_sixteens(
        *this, r0, r1, r2, x0, x1, out,
        [r0, r1, r2](int64_t x, float* to) { sixteen(r0, r1, r2, x, to); },
        [r0, r1, r2](int64_t x, float* to) { eight(r0, r1, r2, x, to); });
#else
    terrain::row_by_eights(*this, r0, r1, r2, x0, x1, out, [](int64_t, float*) {});
#endif
  }

#if defined(TESSERA_HAVE_AVX2_PATHS)
  __attribute__((target("avx2"))) static void eight(const T* r0, const T* r1, const T* r2,
                                                    int64_t x, float* to) {
    const terrain::Eight9<T> e(r0, r1, r2, x);
    __m256d sum[2] = {_mm256_setzero_pd(), _mm256_setzero_pd()};
    for (int k = 0; k < 9; ++k) {
      if (k == 4) continue;
      const auto d = simd::sub(e.w[k], e.w[4]);
      const __m256d lo = simd::low_doubles(d), hi = simd::high_doubles(d);
      const __m256d lo2 = _mm256_mul_pd(lo, lo), hi2 = _mm256_mul_pd(hi, hi);
      sum[0] = k == 0 ? lo2 : _mm256_add_pd(sum[0], lo2);
      sum[1] = k == 0 ? hi2 : _mm256_add_pd(sum[1], hi2);
    }
    _mm_storeu_ps(to, _mm256_cvtpd_ps(_mm256_sqrt_pd(sum[0])));
    _mm_storeu_ps(to + 4, _mm256_cvtpd_ps(_mm256_sqrt_pd(sum[1])));
  }

  /// eight, sixteen lanes on AVX-512, eight doubles a vector: the squares and the sum rounded
  /// apart (explicitly rounded intrinsics, which the compiler does not fuse), as above. (Each
  /// square is exact in double anyway: a difference of floats, or of int32s under 2^24, has at
  /// most 24 significant bits.)
  __attribute__((target(TESSERA_AVX512_TARGET))) static void sixteen(const T* r0, const T* r1,
                                                                     const T* r2, int64_t x,
                                                                     float* to) {
    constexpr int kRound = _MM_FROUND_CUR_DIRECTION;
    const terrain::Sixteen9<T> e(r0, r1, r2, x);
    __m512d sum[2] = {_mm512_setzero_pd(), _mm512_setzero_pd()};
    for (int k = 0; k < 9; ++k) {
      if (k == 4) continue;
      const auto d = simd::sub(e.w[k], e.w[4]);
      const __m512d lo = simd::low_doubles(d), hi = simd::high_doubles(d);
      const __m512d lo2 = _mm512_mul_round_pd(lo, lo, kRound);
      const __m512d hi2 = _mm512_mul_round_pd(hi, hi, kRound);
      sum[0] = k == 0 ? lo2 : _mm512_add_round_pd(sum[0], lo2, kRound);
      sum[1] = k == 0 ? hi2 : _mm512_add_round_pd(sum[1], hi2, kRound);
    }
    _mm256_storeu_ps(to, _mm512_cvtpd_ps(_mm512_sqrt_pd(sum[0])));
    _mm256_storeu_ps(to + 8, _mm512_cvtpd_ps(_mm512_sqrt_pd(sum[1])));
  }
#endif
};

/// GDALTRIAlgWilson: absolute differences summed in T, times 0.125f.
template <class T>
struct Wilson {
  static T magnitude(T x) {
    if constexpr (std::is_integral_v<T>)
      return x >= 0 ? x : -x;
    else
      return std::fabs(x);
  }
  float operator()(const T* w) const {
    return (magnitude(w[0] - w[4]) + magnitude(w[1] - w[4]) + magnitude(w[2] - w[4]) +
            magnitude(w[3] - w[4]) + magnitude(w[5] - w[4]) + magnitude(w[6] - w[4]) +
            magnitude(w[7] - w[4]) + magnitude(w[8] - w[4])) *
           0.125f;
  }

  /// A row of nodata-free windows, eight at a time where the CPU has AVX2: the same absolute
  /// differences summed in T left to right, times 0.125f; so the same bits.
  void row_values(const T* r0, const T* r1, const T* r2, int64_t x0, int64_t x1, float* out) const {
#if defined(TESSERA_HAVE_AVX2_PATHS)
    terrain::row_by_sixteens(
        *this, r0, r1, r2, x0, x1, out,
        [r0, r1, r2](int64_t x, float* to) { sixteen(r0, r1, r2, x, to); },
        [r0, r1, r2](int64_t x, float* to) { eight(r0, r1, r2, x, to); });
#else
    terrain::row_by_eights(*this, r0, r1, r2, x0, x1, out, [](int64_t, float*) {});
#endif
  }

#if defined(TESSERA_HAVE_AVX2_PATHS)
  __attribute__((target("avx2"))) static __m256i magnitude8(__m256i d) {
    return _mm256_abs_epi32(d);
  }
  __attribute__((target("avx2"))) static __m256 magnitude8(__m256 d) {
    return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), d);
  }
  __attribute__((target("avx2"))) static void eight(const T* r0, const T* r1, const T* r2,
                                                    int64_t x, float* to) {
    const terrain::Eight9<T> e(r0, r1, r2, x);
    auto sum = magnitude8(simd::sub(e.w[0], e.w[4]));
    for (int k = 1; k < 9; ++k)
      if (k != 4) sum = simd::add(sum, magnitude8(simd::sub(e.w[k], e.w[4])));
    _mm256_storeu_ps(to, _mm256_mul_ps(simd::to_floats(sum), _mm256_set1_ps(0.125f)));
  }

  /// eight, sixteen lanes on AVX-512: the same sums in T, the same product.
  __attribute__((target(TESSERA_AVX512_TARGET))) static __m512i magnitude16(__m512i d) {
    return _mm512_abs_epi32(d);
  }
  __attribute__((target(TESSERA_AVX512_TARGET))) static __m512 magnitude16(__m512 d) {
    return _mm512_andnot_ps(_mm512_set1_ps(-0.0f), d);
  }
  __attribute__((target(TESSERA_AVX512_TARGET))) static void sixteen(const T* r0, const T* r1,
                                                                     const T* r2, int64_t x,
                                                                     float* to) {
    const terrain::Sixteen9<T> e(r0, r1, r2, x);
    auto sum = magnitude16(simd::sub(e.w[0], e.w[4]));
    for (int k = 1; k < 9; ++k)
      if (k != 4) sum = simd::add(sum, magnitude16(simd::sub(e.w[k], e.w[4])));
    _mm512_storeu_ps(to, _mm512_mul_round_ps(simd::to_floats(sum), _mm512_set1_ps(0.125f),
                                             _MM_FROUND_CUR_DIRECTION));
  }
#endif
};

class TriOp : public Op {
 public:
  explicit TriOp(TriParams p) : p_(p) {}
  int64_t halo() const override { return 1; }
  PixelType output_type() const override { return PixelType::Float32; }
  std::optional<double> output_nodata() const override { return kNoData; }
  void run(const TileIn& in, const TileOut& out) const override {
    tri(in, out.bands.at(0).as<float>(), p_);
  }

 private:
  TriParams p_;
};

}  // namespace

TriParams tri_params(const Options& options) {
  OptionReader r("TRI", options, {"alg", "compute_edges"});
  TriParams p;
  p.alg = static_cast<TriAlg>(r.choice("alg", {"Riley", "Wilson"}, 0));
  p.compute_edges = r.flag("compute_edges", false);
  r.finish();
  return p;
}

void tri(const TileIn& in, View<float> out, const TriParams& p) {
  terrain::with_grid(in, [&](const auto& g) {
    using T = typename std::decay_t<decltype(g)>::Cell;
    const terrain::FloatSink sink{out};
    if (p.alg == TriAlg::Riley)
      terrain::for_each_cell(g, in.owned, p.compute_edges, kNoData, Riley<T>{}, sink);
    else
      terrain::for_each_cell(g, in.owned, p.compute_edges, kNoData, Wilson<T>{}, sink);
  });
}

std::unique_ptr<Op> make_tri(const Options& options) {
  return std::make_unique<TriOp>(tri_params(options));
}

}  // namespace tessera::ops
