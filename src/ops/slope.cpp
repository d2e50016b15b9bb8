// gdaldem slope: Horn or Zevenbergen-Thorne, in degrees or percent, and the op adapter.
#include "tessera/ops/slope.hpp"

#include <cmath>

#include "option_reader.hpp"
#include "terrain_math.hpp"
#include "terrain_window.hpp"

namespace tessera::ops {
namespace {

constexpr float kNoData = -9999.0f;

/// GDALSlopeHornAlg / GDALSlopeZevenbergenThorneAlg: note the division by the resolution.
template <class T, Gradient G, SlopeUnits U>
struct SlopeAlg {
  double ewres, nsres, scale;
  float operator()(const T* w) const {
    double dx, dy;
    constexpr double kSpan = G == Gradient::Horn ? 8 : 2;
    if constexpr (G == Gradient::Horn) {
      dx = ((w[0] + w[3] + w[3] + w[6]) - (w[2] + w[5] + w[5] + w[8])) / ewres;
      dy = ((w[6] + w[7] + w[7] + w[8]) - (w[0] + w[1] + w[1] + w[2])) / nsres;
    } else {
      dx = (w[3] - w[5]) / ewres;
      dy = (w[7] - w[1]) / nsres;
    }
    const double key = dx * dx + dy * dy;
    if constexpr (U == SlopeUnits::Degrees)
      return static_cast<float>(std::atan(std::sqrt(key) / (kSpan * scale)) *
                                terrain::kRadiansToDegrees);
    return static_cast<float>(100 * (std::sqrt(key) / (kSpan * scale)));
  }
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
  void run(const TileIn& in, const TileOut& out) const override { slope(in, out.floats.at(0), p_); }

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
