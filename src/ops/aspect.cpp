// gdaldem aspect: azimuth or trigonometric angle of the downslope direction, and the op adapter.
#include "tessera/ops/aspect.hpp"

#include <cmath>

#include "option_reader.hpp"
#include "terrain_math.hpp"
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
