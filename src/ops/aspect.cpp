// gdaldem aspect: azimuth or trigonometric angle of the downslope direction, and the op adapter.
#include "tessera/ops/aspect.hpp"

#include <cmath>

#include "option_reader.hpp"
#include "terrain_math.hpp"
#include "terrain_rows.hpp"
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

  /// A row of nodata-free windows, eight at a time where the CPU has AVX2. The angle comes from
  /// a vector atan2 within a few units in the last place of the C library's; lanes whose float
  /// that could change (to_float_checked: within 2^-43 of a float rounding boundary) are
  /// recomputed by operator() after the row. The rest is float arithmetic, the same in every
  /// lane.
  void row_values(const T* r0, const T* r1, const T* r2, int64_t x0, int64_t x1, float* out) const {
    terrain::row_by_checked_eights(
        *this, r0, r1, r2, x0, x1, out,
        [this, r0, r1, r2](int64_t x, float* to) { return eight(r0, r1, r2, x, to); });
  }

#if defined(TESSERA_HAVE_AVX2_PATHS)
  /// Eight cells into to[0..8); returns the lanes (bit k: cell x + k) left to operator().
  __attribute__((target("avx2,fma"))) int eight(const T* r0, const T* r1, const T* r2, int64_t x,
                                                float* to) const {
    __m256d d[4];
    terrain::aspect_differences<T, G>(r0, r1, r2, x, d);
    const __m256d zero = _mm256_setzero_pd(), sign = _mm256_set1_pd(-0.0);
    // A product instead of operator()'s quotient: one more rounding, far inside the check's 2^-43.
    const __m256d to_degrees = _mm256_set1_pd(1 / terrain::kDegreesToRadians);
    int unsure[2], flat_lanes[2];
    __m128 angle[2];
    for (int half = 0; half < 2; ++half) {
      const __m256d dx = d[half], dy = d[2 + half];
      const __m256d v = _mm256_mul_pd(simd::atan2(dy, _mm256_xor_pd(dx, sign)), to_degrees);
      angle[half] = simd::to_float_checked(v, unsure[half]);
      flat_lanes[half] = _mm256_movemask_pd(
          _mm256_and_pd(_mm256_cmp_pd(dx, zero, _CMP_EQ_OQ), _mm256_cmp_pd(dy, zero, _CMP_EQ_OQ)));
    }
    __m256 a = _mm256_set_m128(angle[1], angle[0]);
    const int flats = flat_lanes[0] | flat_lanes[1] << 4;
    if constexpr (Azimuth) {
      const __m256 steep = _mm256_cmp_ps(a, _mm256_set1_ps(90.0f), _CMP_GT_OQ);
      a = _mm256_blendv_ps(_mm256_sub_ps(_mm256_set1_ps(90.0f), a),
                           _mm256_sub_ps(_mm256_set1_ps(450.0f), a), steep);
    } else {
      const __m256 negative = _mm256_cmp_ps(a, _mm256_setzero_ps(), _CMP_LT_OQ);
      a = _mm256_blendv_ps(a, _mm256_add_ps(a, _mm256_set1_ps(360.0f)), negative);
    }
    if (flats) {
      const __m256i lanes = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
      const __m256i is_flat =
          _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(flats), lanes), lanes);
      a = _mm256_blendv_ps(a, _mm256_set1_ps(flat), _mm256_castsi256_ps(is_flat));
    }
    const __m256 full = _mm256_cmp_ps(a, _mm256_set1_ps(360.0f), _CMP_EQ_OQ);
    _mm256_storeu_ps(to, _mm256_andnot_ps(full, a));
    return (unsure[0] | unsure[1] << 4) & ~flats;
  }
#else
  int eight(const T*, const T*, const T*, int64_t, float*) const { return 0; }
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
