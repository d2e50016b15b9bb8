// gdaldem hillshade: the lighting models, their coefficients, and the op adapter.
#include "tessera/ops/hillshade.hpp"

#include <cmath>

#include "hillshade_rows.hpp"
#include "option_reader.hpp"
#include "terrain_math.hpp"
#include "terrain_sinks.hpp"
#include "terrain_window.hpp"

namespace tessera::ops {
namespace {

using terrain::approx_a_div_sqrt_b;
using terrain::kDegreesToRadians;
using terrain::kPi;
using terrain::kRadiansToDegrees;

/// gdaldem's precomputed hillshade coefficients (GDALHillshadeAlgData and its multidirectional
/// sibling), computed in the same order so that every product rounds the same way.
struct Coeffs {
  double inv_nsres, inv_ewres, sin_alt, az_radians, z_scaled;
  double cos_az_cos_alt_z, sin_az_cos_alt_z, square_z;
  double sin_alt_254, cos_az_cos_alt_z_254, sin_az_cos_alt_z_254;
  double square_z_inv_res2 = 0, cos_az_cos_alt_z_254_inv_res = 0, sin_az_cos_alt_z_254_inv_res = 0;
  double sin_alt_127, cos_alt_z_127, cos225_cos_alt_z_127;
};

Coeffs make_coeffs(const HillshadeParams& p, double ewres, double nsres) {
  Coeffs c{};
  c.inv_nsres = 1.0 / nsres;
  c.inv_ewres = 1.0 / ewres;
  c.sin_alt = std::sin(p.altitude * kDegreesToRadians);
  c.az_radians = p.azimuth * kDegreesToRadians;
  c.z_scaled = p.z / ((p.alg == Gradient::ZevenbergenThorne ? 2 : 8) * p.scale);
  const double cos_alt_z = std::cos(p.altitude * kDegreesToRadians) * c.z_scaled;
  c.cos_az_cos_alt_z = std::cos(c.az_radians) * cos_alt_z;
  c.sin_az_cos_alt_z = std::sin(c.az_radians) * cos_alt_z;
  c.square_z = c.z_scaled * c.z_scaled;
  c.sin_alt_254 = 254.0 * c.sin_alt;
  c.cos_az_cos_alt_z_254 = 254.0 * c.cos_az_cos_alt_z;
  c.sin_az_cos_alt_z_254 = 254.0 * c.sin_az_cos_alt_z;
  if (ewres == -nsres) {
    c.square_z_inv_res2 = c.square_z * c.inv_ewres * c.inv_ewres;
    c.cos_az_cos_alt_z_254_inv_res = c.cos_az_cos_alt_z_254 * -c.inv_ewres;
    c.sin_az_cos_alt_z_254_inv_res = c.sin_az_cos_alt_z_254 * c.inv_ewres;
  }
  c.sin_alt_127 = 127.0 * std::sin(p.altitude * kDegreesToRadians);
  c.cos_alt_z_127 = 127.0 * cos_alt_z;
  c.cos225_cos_alt_z_127 = 127.0 * std::cos(225 * kDegreesToRadians) * cos_alt_z;
  return c;
}

/// One light, any cell shape (GDALHillshadeAlg).
template <class T, Gradient G>
struct Single {
  const Coeffs& c;
  float operator()(const T* w) const {
    double x, y;
    terrain::gradient<T, G>(w, c.inv_ewres, c.inv_nsres, x, y);
    const double xx_plus_yy = x * x + y * y;
    const double cang_254 = approx_a_div_sqrt_b(
        c.sin_alt_254 - (y * c.cos_az_cos_alt_z_254 - x * c.sin_az_cos_alt_z_254),
        1 + c.square_z * xx_plus_yy);
    return static_cast<float>(cang_254 <= 0.0 ? 1.0 : 1.0 + cang_254);
  }
};

/// -combined: the shade darkened by the slope (GDALHillshadeCombinedAlg).
template <class T, Gradient G>
struct Combined {
  const Coeffs& c;
  float operator()(const T* w) const {
    static constexpr double kInvSquareOfHalfPi = 1.0 / ((kPi * kPi) / 4);
    double x, y;
    terrain::gradient<T, G>(w, c.inv_ewres, c.inv_nsres, x, y);
    const double xx_plus_yy = x * x + y * y;
    const double slope = xx_plus_yy * c.square_z;
    double cang = std::acos(approx_a_div_sqrt_b(
        c.sin_alt - (y * c.cos_az_cos_alt_z - x * c.sin_az_cos_alt_z), 1 + slope));
    cang = 1 - cang * std::atan(std::sqrt(slope)) * kInvSquareOfHalfPi;
    return cang <= 0.0 ? 1.0f : static_cast<float>(1.0 + (254.0 * cang));
  }
};

/// -multidirectional: four lights weighted by the aspect, USGS OF92-422.
template <class T, Gradient G>
struct Multidirectional {
  const Coeffs& c;
  float operator()(const T* w) const {
    double x, y;
    terrain::gradient<T, G>(w, c.inv_ewres, c.inv_nsres, x, y);
    const double xx = x * x;
    const double yy = y * y;
    const double xx_plus_yy = xx + yy;
    if (xx_plus_yy == 0.0) return static_cast<float>(1.0 + c.sin_alt_254);
    const auto lit = [](double v) { return v <= 0.0 ? 0.0 : v; };
    const double val225 = lit(c.sin_alt_127 + (x - y) * c.cos225_cos_alt_z_127);
    const double val270 = lit(c.sin_alt_127 - x * c.cos_alt_z_127);
    const double val315 = lit(c.sin_alt_127 + (x + y) * c.cos225_cos_alt_z_127);
    const double val360 = lit(c.sin_alt_127 - y * c.cos_alt_z_127);
    const double weight_225 = 0.5 * xx_plus_yy - x * y;
    const double weight_315 = xx_plus_yy - weight_225;
    const double cang_127 = approx_a_div_sqrt_b(
        (weight_225 * val225 + xx * val270 + weight_315 * val315 + yy * val360) / xx_plus_yy,
        1 + c.square_z * xx_plus_yy);
    return static_cast<float>(1.0 + cang_127);
  }
};

double normalize_angle(double angle, double normalizer) {
  angle = std::fmod(angle, normalizer);
  return angle < 0 ? normalizer + angle : angle;
}

double angle_between(double a, double b, double normalizer) {
  double diff = std::abs(normalize_angle(a, normalizer) - normalize_angle(b, normalizer));
  return diff > normalizer / 2 ? normalizer - diff : diff;
}

/// -igor: shading from slope and aspect only (GDALHillshadeIgorAlg).
template <class T, Gradient G>
struct Igor {
  const Coeffs& c;
  float operator()(const T* w) const {
    double x, y;
    terrain::gradient<T, G>(w, c.inv_ewres, c.inv_nsres, x, y);
    const double slope_degrees =
        std::atan(std::sqrt(x * x + y * y) * c.z_scaled) * kRadiansToDegrees;
    double dx, dy;
    terrain::aspect_differences<T, G>(w, dx, dy);
    const double aspect = std::atan2(dy, -dx);
    const double slope_strength = slope_degrees / 90;
    const double aspect_diff = angle_between(aspect, kPi * 3 / 2 - c.az_radians, kPi * 2);
    const double aspect_strength = 1 - aspect_diff / kPi;
    const double shadowness = 1.0 - slope_strength * aspect_strength;
    return static_cast<float>(255.0 * shadowness);
  }
};

template <class T, Gradient G>
void shade(const terrain::Grid<T>& g, const TileIn& in, View<uint8_t> out, const HillshadeParams& p,
           const Coeffs& c) {
  const auto run = [&](const auto& alg) {
    terrain::for_each_cell(g, in.owned, p.compute_edges, 0.0f, alg, terrain::ByteSink{out});
  };
  switch (p.style) {
    case ShadeStyle::Combined:
      return run(Combined<T, G>{c});
    case ShadeStyle::Multidirectional:
      return run(Multidirectional<T, G>{c});
    case ShadeStyle::Igor:
      return run(Igor<T, G>{c});
    case ShadeStyle::Single:
      break;
  }
  if (G == Gradient::Horn && in.ewres == -in.nsres) {
    const terrain::SquareShade square{c.sin_alt_254, c.sin_az_cos_alt_z_254_inv_res,
                                      c.cos_az_cos_alt_z_254_inv_res, c.square_z_inv_res2};
    return terrain::shade_square(g, in.owned, p.compute_edges, square, out);
  }
  run(Single<T, G>{c});
}

class HillshadeOp : public Op {
 public:
  explicit HillshadeOp(HillshadeParams p) : p_(p) {}
  int64_t halo() const override { return 1; }
  PixelType output_type() const override { return PixelType::Byte; }
  std::optional<double> output_nodata() const override { return 0.0; }
  void run(const TileIn& in, const TileOut& out) const override {
    hillshade(in, out.bands.at(0).as<uint8_t>(), p_);
  }

 private:
  HillshadeParams p_;
};

}  // namespace

HillshadeParams hillshade_params(const Options& options) {
  OptionReader r("hillshade", options,
                 {"z", "scale", "azimuth", "altitude", "alg", "combined", "multidirectional",
                  "igor", "compute_edges"});
  HillshadeParams p;
  p.z = r.number("z", p.z);
  p.scale = r.nonzero_number("scale", p.scale);
  p.azimuth = r.number("azimuth", p.azimuth);
  p.altitude = r.number("altitude", p.altitude);
  p.alg = static_cast<Gradient>(r.choice("alg", {"Horn", "ZevenbergenThorne"}, 0));
  const bool combined = r.flag("combined", false);
  const bool multi = r.flag("multidirectional", false);
  const bool igor = r.flag("igor", false);
  p.compute_edges = r.flag("compute_edges", false);
  r.finish();
  if (combined + multi + igor > 1) {
    const char* key = multi ? "multidirectional" : "combined";
    throw OptionError(key,
                      "only one of options 'multidirectional', 'combined' or 'igor' can be used");
  }
  p.style = combined ? ShadeStyle::Combined
            : multi  ? ShadeStyle::Multidirectional
            : igor   ? ShadeStyle::Igor
                     : ShadeStyle::Single;
  return p;
}

void hillshade(const TileIn& in, View<uint8_t> out, const HillshadeParams& p) {
  const Coeffs c = make_coeffs(p, in.ewres, in.nsres);
  terrain::with_grid(in, [&](const auto& g) {
    using T = typename std::decay_t<decltype(g)>::Cell;
    if (p.alg == Gradient::Horn)
      shade<T, Gradient::Horn>(g, in, out, p, c);
    else
      shade<T, Gradient::ZevenbergenThorne>(g, in, out, p, c);
  });
}

std::unique_ptr<Op> make_hillshade(const Options& options) {
  return std::make_unique<HillshadeOp>(hillshade_params(options));
}

}  // namespace tessera::ops
