// gdaldem roughness: the range of the 3x3 window, and the op adapter.
#include "tessera/ops/roughness.hpp"

#include "option_reader.hpp"
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
