// gdaldem TPI: the centre minus the mean of its neighbours, and the op adapter.
#include "tessera/ops/tpi.hpp"

#include "option_reader.hpp"
#include "terrain_rows.hpp"
#include "terrain_rows16.hpp"
#include "terrain_sinks.hpp"
#include "terrain_window.hpp"

namespace tessera::ops {
namespace {

constexpr float kNoData = -9999.0f;

/// GDALTPIAlg: neighbours summed in T, times 0.125f, subtracted in float.
template <class T>
struct Tpi {
  float operator()(const T* w) const {
    return w[4] - ((w[0] + w[1] + w[2] + w[3] + w[5] + w[6] + w[7] + w[8]) * 0.125f);
  }

  /// A row of nodata-free windows, eight at a time where the CPU has AVX2: the same sum in T,
  /// left to right, the same float product and difference in every lane, so the same bits.
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
  /// eight, sixteen lanes on AVX-512: the product and the difference rounded apart, as above.
  __attribute__((target(TESSERA_AVX512_TARGET))) static void sixteen(const T* r0, const T* r1,
                                                                     const T* r2, int64_t x,
                                                                     float* to) {
    using simd::add;
    const terrain::Sixteen9<T> e(r0, r1, r2, x);
    const auto& w = e.w;
    const auto sum =
        add(add(add(add(add(add(add(w[0], w[1]), w[2]), w[3]), w[5]), w[6]), w[7]), w[8]);
    const __m512 mean =
        _mm512_mul_round_ps(simd::to_floats(sum), _mm512_set1_ps(0.125f), _MM_FROUND_CUR_DIRECTION);
    _mm512_storeu_ps(to,
                     _mm512_sub_round_ps(simd::to_floats(w[4]), mean, _MM_FROUND_CUR_DIRECTION));
  }

  __attribute__((target("avx2"))) static void eight(const T* r0, const T* r1, const T* r2,
                                                    int64_t x, float* to) {
    using simd::add;
    const terrain::Eight9<T> e(r0, r1, r2, x);
    const auto& w = e.w;
    const auto sum =
        add(add(add(add(add(add(add(w[0], w[1]), w[2]), w[3]), w[5]), w[6]), w[7]), w[8]);
    const __m256 mean = _mm256_mul_ps(simd::to_floats(sum), _mm256_set1_ps(0.125f));
    _mm256_storeu_ps(to, _mm256_sub_ps(simd::to_floats(w[4]), mean));
  }
#endif
};

class TpiOp : public Op {
 public:
  explicit TpiOp(TpiParams p) : p_(p) {}
  int64_t halo() const override { return 1; }
  PixelType output_type() const override { return PixelType::Float32; }
  std::optional<double> output_nodata() const override { return kNoData; }
  void run(const TileIn& in, const TileOut& out) const override {
    tpi(in, out.bands.at(0).as<float>(), p_);
  }

 private:
  TpiParams p_;
};

}  // namespace

TpiParams tpi_params(const Options& options) {
  OptionReader r("TPI", options, {"compute_edges"});
  TpiParams p;
  p.compute_edges = r.flag("compute_edges", false);
  r.finish();
  return p;
}

void tpi(const TileIn& in, View<float> out, const TpiParams& p) {
  terrain::with_grid(in, [&](const auto& g) {
    using T = typename std::decay_t<decltype(g)>::Cell;
    terrain::for_each_cell(g, in.owned, p.compute_edges, kNoData, Tpi<T>{},
                           terrain::FloatSink{out});
  });
}

std::unique_ptr<Op> make_tpi(const Options& options) {
  return std::make_unique<TpiOp>(tpi_params(options));
}

}  // namespace tessera::ops
