// gdaldem roughness: the range of the 3x3 window, and the op adapter.
#include "tessera/ops/roughness.hpp"

#include <type_traits>

#include "option_reader.hpp"
#include "terrain_rows.hpp"
#include "terrain_rows16.hpp"
#include "terrain_sinks.hpp"
#include "terrain_window.hpp"

namespace tessera::ops {
namespace {

constexpr float kNoData = -9999.0f;

/// GDALRoughnessAlg: max - min in T.
template <class T>
struct Roughness {
  float operator()(const T* w) const {
    T lo = w[0];
    T hi = w[0];
    for (int k = 1; k < 9; ++k) {
      if (w[k] > hi) hi = w[k];
      if (w[k] < lo) lo = w[k];
    }
    return static_cast<float>(hi - lo);
  }

  /// A row of nodata-free windows, eight at a time where the CPU has AVX2. maxps(a, b) is
  /// a > b ? a : b and minps(a, b) a < b ? a : b, the scalar tests above (NaN included).
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
  /// eight, sixteen lanes on AVX-512: the same max and min, operands in the same order.
  __attribute__((target(TESSERA_AVX512_TARGET))) static void sixteen(const T* r0, const T* r1,
                                                                     const T* r2, int64_t x,
                                                                     float* to) {
    const terrain::Sixteen9<T> e(r0, r1, r2, x);
    auto lo = e.w[0], hi = e.w[0];
    for (int k = 1; k < 9; ++k) {
      if constexpr (std::is_integral_v<T>) {
        hi = _mm512_max_epi32(e.w[k], hi);
        lo = _mm512_min_epi32(e.w[k], lo);
      } else {
        hi = _mm512_max_ps(e.w[k], hi);
        lo = _mm512_min_ps(e.w[k], lo);
      }
    }
    _mm512_storeu_ps(to, simd::to_floats(simd::sub(hi, lo)));
  }

  __attribute__((target("avx2"))) static void eight(const T* r0, const T* r1, const T* r2,
                                                    int64_t x, float* to) {
    const terrain::Eight9<T> e(r0, r1, r2, x);
    auto lo = e.w[0], hi = e.w[0];
    for (int k = 1; k < 9; ++k) {
      if constexpr (std::is_integral_v<T>) {
        hi = _mm256_max_epi32(e.w[k], hi);
        lo = _mm256_min_epi32(e.w[k], lo);
      } else {
        hi = _mm256_max_ps(e.w[k], hi);
        lo = _mm256_min_ps(e.w[k], lo);
      }
    }
    _mm256_storeu_ps(to, simd::to_floats(simd::sub(hi, lo)));
  }
#endif
};

class RoughnessOp : public Op {
 public:
  explicit RoughnessOp(RoughnessParams p) : p_(p) {}
  int64_t halo() const override { return 1; }
  PixelType output_type() const override { return PixelType::Float32; }
  std::optional<double> output_nodata() const override { return kNoData; }
  void run(const TileIn& in, const TileOut& out) const override {
    roughness(in, out.bands.at(0).as<float>(), p_);
  }

 private:
  RoughnessParams p_;
};

}  // namespace

RoughnessParams roughness_params(const Options& options) {
  OptionReader r("roughness", options, {"compute_edges"});
  RoughnessParams p;
  p.compute_edges = r.flag("compute_edges", false);
  r.finish();
  return p;
}

void roughness(const TileIn& in, View<float> out, const RoughnessParams& p) {
  terrain::with_grid(in, [&](const auto& g) {
    using T = typename std::decay_t<decltype(g)>::Cell;
    terrain::for_each_cell(g, in.owned, p.compute_edges, kNoData, Roughness<T>{},
                           terrain::FloatSink{out});
  });
}

std::unique_ptr<Op> make_roughness(const Options& options) {
  return std::make_unique<RoughnessOp>(roughness_params(options));
}

}  // namespace tessera::ops
