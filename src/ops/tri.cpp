// gdaldem TRI: Riley's root of summed squares or Wilson's mean absolute difference.
#include "tessera/ops/tri.hpp"

#include <cmath>
#include <type_traits>

#include "option_reader.hpp"
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
