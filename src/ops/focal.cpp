// focal.<method>: options, output types, and the choice of kernel: running windows, sorted
// columns for 3 x 3 medians, a sliding histogram, or a walk over each window's cells
// (focal_kernels.hpp).
#include "tessera/ops/focal.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "focal_kernels.hpp"
#include "option_reader.hpp"
#include "simd_avx2.hpp"

namespace tessera::ops {
namespace {

constexpr int64_t kMaxRadius = 1000;

struct MethodName {
  const char* name;
  FocalMethod method;
  double percentile;
};

// Job-file names first (focal_method_name returns the first of each method), then r.neighbors'.
constexpr MethodName kMethods[] = {
    {"mean", FocalMethod::Mean, 50},
    {"sum", FocalMethod::Sum, 50},
    {"count", FocalMethod::Count, 50},
    {"variance", FocalMethod::Variance, 50},
    {"stddev", FocalMethod::Stddev, 50},
    {"min", FocalMethod::Min, 50},
    {"max", FocalMethod::Max, 50},
    {"range", FocalMethod::Range, 50},
    {"median", FocalMethod::Median, 50},
    {"percentile", FocalMethod::Percentile, 50},
    {"quart1", FocalMethod::Percentile, 25},
    {"quart3", FocalMethod::Percentile, 75},
    {"mode", FocalMethod::Mode, 50},
    {"minority", FocalMethod::Minority, 50},
    {"diversity", FocalMethod::Diversity, 50},
    {"average", FocalMethod::Mean, 50},
    {"minimum", FocalMethod::Min, 50},
    {"maximum", FocalMethod::Max, 50},
    {"majority", FocalMethod::Mode, 50},
    {"variety", FocalMethod::Diversity, 50},
    {"perc", FocalMethod::Percentile, 50},
};

bool is_class_method(FocalMethod m) {
  return m == FocalMethod::Mode || m == FocalMethod::Minority || m == FocalMethod::Diversity;
}

/// Stores one row of values (NaN for nodata) into a typed output row, rounding to the nearest
/// and saturating into integer types as GDAL converts floating values.
template <class T>
[[gnu::always_inline]] inline void store_row_of(const double* values, T* dst, int64_t n,
                                                double nodata) {
  for (int64_t i = 0; i < n; ++i) {
    const double v = std::isnan(values[i]) ? nodata : values[i];
    if constexpr (std::is_floating_point_v<T>) {
      dst[i] = static_cast<T>(v);
    } else {
      const double lo = static_cast<double>(std::numeric_limits<T>::lowest());
      const double hi = static_cast<double>(std::numeric_limits<T>::max());
      dst[i] = static_cast<T>(std::clamp(std::round(v), lo, hi));
    }
  }
}

#if defined(TESSERA_HAVE_AVX2_PATHS)
/// store_row_of with four-lane vectors: the same conversions, so the same values.
template <class T>
__attribute__((target("avx2"))) void store_row_avx2(const double* values, T* dst, int64_t n,
                                                    double nodata) {
  store_row_of(values, dst, n, nodata);
}
#endif

/// A row of values into the output's cells: NaN as `nodata`, integers rounded and saturated.
template <class T>
void store_row(const double* values, T* dst, int64_t n, double nodata) {
#if defined(TESSERA_HAVE_AVX2_PATHS)
  if (simd::have_avx2()) return store_row_avx2(values, dst, n, nodata);
#endif
  store_row_of(values, dst, n, nodata);
}

class FocalOp : public Op {
 public:
  FocalOp(FocalParams p, std::string name, bool nodata_given)
      : p_(std::move(p)), name_(std::move(name)), nodata_given_(nodata_given) {}
  int64_t halo() const override { return p_.radius; }
  PixelType output_type() const override { return type_; }
  std::optional<double> output_nodata() const override { return nodata_; }
  /// Float32 holds every Byte, Int16 and UInt16 value; Int32 sources are read as they are, and
  /// Float64 and UInt32 sources as Float64, which holds their values.
  CellType input_cells(PixelType source) const override {
    if (source == PixelType::Int32) return CellType::Int32;
    if (source == PixelType::Float64 || source == PixelType::UInt32) return CellType::Float64;
    return CellType::Float32;
  }
  std::shared_ptr<const Op> for_source(const SourceBand& band) const override;
  void run(const TileIn& in, const TileOut& out) const override {
    FocalParams p = p_;
    if (nodata_) p.nodata = *nodata_;
    focal(in, out.bands.at(0), p);
  }

 private:
  FocalParams p_;
  std::string name_;
  bool nodata_given_;
  PixelType type_ = PixelType::Float32;
  std::optional<double> nodata_ = p_.nodata;
};

std::shared_ptr<const Op> FocalOp::for_source(const SourceBand& band) const {
  const PixelType source = band.type;
  const int64_t larger = std::max(band.size.width, band.size.height);
  if (larger > 0 && p_.radius >= larger)
    throw Error(name_ + ": a radius of " + std::to_string(p_.radius) + " reaches past the whole " +
                std::to_string(band.size.width) + " x " + std::to_string(band.size.height) +
                " raster from every cell (every window would hold all of it)");
  if (is_class_method(p_.method) && !is_integer(source))
    throw Error(name_ + ": applies to integer rasters of classes, not to " +
                std::string(name_of(source)));
  auto op = std::make_shared<FocalOp>(*this);
  op->type_ = focal_output_type(p_.method, source, !p_.weights.empty(), band.nodata);
  const bool widened = is_integer(source) && op->type_ != source;
  if (nodata_given_ || !is_integer(op->type_)) {
    // A median of an Int32 source widened to Float64 (its nodata value inside the type): one
    // below Int32's lowest value, which no median reaches.
    if (!nodata_given_ && p_.method == FocalMethod::Median && source == PixelType::Int32)
      op->nodata_ = -2147483649.0;
    else if (!holds(op->type_, p_.nodata))
      throw Error(name_ + ": nodata: " + nodata_misfit(op->type_, p_.nodata));
    return op;
  }
  // An integer output marks nodata cells only where the source may have nodata (its nodata
  // value, or NaN in a floating source): with the source's value for the methods that give
  // source values, with a value the method cannot give else (a range: the output type's largest
  // value, which focal_output_type makes out of a range's reach; never the source's nodata
  // value, which a range can equal).
  const focal_detail::Valid<int32_t> valid(band.nodata);
  if (is_integer(source) && !valid.has_nodata) {
    op->nodata_ = std::nullopt;
  } else if (p_.method == FocalMethod::Range) {
    op->nodata_ = visit(op->type_, []<class T>(std::type_identity<T>) {
      return static_cast<double>(std::numeric_limits<T>::max());
    });
  } else if (p_.method == FocalMethod::Median && widened) {  // the wider type's end
    op->nodata_ = visit(op->type_, []<class T>(std::type_identity<T>) {
      return static_cast<double>(std::is_signed_v<T> ? std::numeric_limits<T>::lowest()
                                                     : std::numeric_limits<T>::max());
    });
  } else if (op->type_ == source) {
    op->nodata_ = valid.nodata;
  } else {
    op->nodata_ = 0.0;  // count and diversity are at least 1 where the centre is valid
  }
  return op;
}

/// The size of the window from `radius` or `size` (exactly one of them).
int64_t radius_of(OptionReader& r) {
  if (r.has("radius") == r.has("size"))
    throw OptionError(r.has("size") ? "size" : "radius",
                      "give one of 'radius' (the window is 2 * radius + 1 wide) or 'size' (an "
                      "odd width)");
  if (r.has("size")) {
    const double size = r.number("size", 3);
    if (size < 3 || size > 2 * kMaxRadius + 1 || size != std::floor(size) ||
        std::fmod(size, 2) != 1)
      throw OptionError("size", "option 'size' must be an odd integer from 3 to " +
                                    std::to_string(2 * kMaxRadius + 1) +
                                    " (the window has a centre cell)");
    return static_cast<int64_t>(size) / 2;
  }
  const double radius = r.number("radius", 1);
  if (radius < 1 || radius > kMaxRadius || radius != std::floor(radius))
    throw OptionError("radius",
                      "option 'radius' must be an integer from 1 to " + std::to_string(kMaxRadius));
  return static_cast<int64_t>(radius);
}

void read_weights(OptionReader& r, FocalParams& p) {
  if (r.has("weights_file") && r.has("gauss"))
    throw OptionError("gauss", "options 'weights_file' and 'gauss' exclude each other");
  if (r.has("weights_file")) {
    if (p.circle)
      throw OptionError("circle",
                        "options 'circle' and 'weights_file' exclude each other (a "
                        "weights file gives the window's shape)");
    const std::string path = r.text("weights_file", "");
    try {
      p.weights = read_focal_weights(path, 2 * p.radius + 1);
    } catch (const OptionError&) {
      throw;
    } catch (const Error& e) {
      throw OptionError("weights_file", e.what());
    }
  }
  const bool negative =
      std::any_of(p.weights.begin(), p.weights.end(), [](double w) { return w < 0; });
  if (negative && p.method != FocalMethod::Sum)
    throw OptionError("weights_file", "negative weights are for focal.sum (a convolution) only");
  if (r.has("gauss")) {
    const double sigma = r.number("gauss", 1);
    if (!(sigma > 0)) throw OptionError("gauss", "option 'gauss' (sigma, in cells) must be > 0");
    p.weights = gaussian_weights(p.radius, sigma);
  }
}

}  // namespace

FocalMethod parse_focal_method(std::string_view name, double& percentile) {
  for (const MethodName& m : kMethods)
    if (name == m.name) {
      if (m.method == FocalMethod::Percentile) percentile = m.percentile;
      return m.method;
    }
  throw Error("unknown focal method '" + std::string(name) +
              "' (expected one of: " + focal_method_names() + ")");
}

std::string_view focal_method_name(FocalMethod method) {
  for (const MethodName& m : kMethods)
    if (m.method == method) return m.name;
  return "mean";
}

std::string focal_method_names() {
  std::string names;
  for (const MethodName& m : kMethods) names += (names.empty() ? "" : ", ") + std::string(m.name);
  return names;
}

bool keeps_integers(FocalMethod m) {
  return m == FocalMethod::Min || m == FocalMethod::Max || m == FocalMethod::Range ||
         m == FocalMethod::Median || m == FocalMethod::Mode || m == FocalMethod::Minority ||
         m == FocalMethod::Count || m == FocalMethod::Diversity;
}

/// Whether a range of an integer source's valid values can be its type's whole span while the
/// output needs a nodata value: the source has a nodata value that is neither the type's lowest
/// nor its largest value (without nodata a range output needs none; with nodata at one end of
/// the type, every range is less than its span).
bool valid_values_span_the_type(PixelType source, std::optional<double> nodata) {
  if (!nodata || std::isnan(*nodata)) return false;
  return visit(source, [&]<class T>(std::type_identity<T>) {
    return *nodata != static_cast<double>(std::numeric_limits<T>::lowest()) &&
           *nodata != static_cast<double>(std::numeric_limits<T>::max());
  });
}

PixelType focal_output_type(FocalMethod method, PixelType source, bool weighted,
                            std::optional<double> nodata) {
  const bool counts =
      method == FocalMethod::Diversity || (method == FocalMethod::Count && !weighted);
  if (counts) return PixelType::UInt32;
  if (source == PixelType::Float64) return PixelType::Float64;
  if (!is_integer(source) || source == PixelType::UInt32 || !keeps_integers(method) ||
      method == FocalMethod::Count)
    return PixelType::Float32;
  const bool wider = valid_values_span_the_type(source, nodata);
  if (method == FocalMethod::Median && wider) {
    // Two valid values either side of the nodata value can have it as their median: a wider
    // type, which holds every median and a nodata value no median reaches (focal_nodata).
    switch (source) {
      case PixelType::Byte:
        return PixelType::UInt16;
      case PixelType::UInt16:
        return PixelType::UInt32;
      case PixelType::Int16:
        return PixelType::Int32;
      default:
        return PixelType::Float64;
    }
  }
  if (method != FocalMethod::Range) return source;
  // The unsigned type of the source's width holds every range; its largest value marks nodata,
  // so where a range can reach it the next wider type is taken.
  switch (source) {
    case PixelType::Byte:
      return wider ? PixelType::UInt16 : PixelType::Byte;
    case PixelType::UInt16:
    case PixelType::Int16:
      return wider ? PixelType::UInt32 : PixelType::UInt16;
    default:
      return wider ? PixelType::Float64 : PixelType::UInt32;
  }
}

FocalParams focal_params(std::string_view method_name, const Options& options) {
  double percentile = 50;
  const FocalMethod method = parse_focal_method(method_name, percentile);
  const std::string name = "focal." + std::string(method_name);
  const bool quartile = method == FocalMethod::Percentile && percentile != 50;
  OptionReader r(name, options,
                 {"radius", "size", "circle", "weights_file", "gauss", "percentile", "nodata"});
  FocalParams p;
  p.method = method;
  p.radius = radius_of(r);
  p.circle = r.flag("circle", false);
  read_weights(r, p);
  if (r.has("percentile") && (method != FocalMethod::Percentile || quartile))
    throw OptionError("percentile", "option 'percentile' is for focal.percentile");
  p.percentile = r.number("percentile", percentile);
  if (p.percentile < 0 || p.percentile > 100)
    throw OptionError("percentile", "option 'percentile' must be from 0 to 100");
  p.nodata = r.number("nodata", p.nodata);
  r.finish();
  return p;
}

void focal(const TileIn& in, const BandView& out, const FocalParams& p) {
  if (in.halo < p.radius)
    throw Error("focal: a halo of " + std::to_string(in.halo) + " for a radius of " +
                std::to_string(p.radius));
  visit(out.type(), [&]<class T>(std::type_identity<T>) {
    const View<T> dst = out.as<T>();
    const int64_t width = in.owned.width;
    focal_detail::RowsOut rows(width, [&](int64_t y, const double* values) {
      store_row(values, dst.row(y), width, p.nodata);
    });
    std::visit(
        [&]<class C>(ConstView<C> cells) {
          if (focal_detail::runs(p))
            focal_detail::focal_running(in, cells, rows, p);
          else if (focal_detail::median3(p))
            focal_detail::focal_median3(in, cells, rows, p);
          else if (focal_detail::slides(p))
            focal_detail::focal_sliding(in, cells, rows, p);
          else
            focal_detail::focal_walk(in, cells, rows, p);
        },
        in.cells);
    rows.finish();
  });
}

std::unique_ptr<Op> make_focal(std::string_view method_name, const Options& options) {
  return std::make_unique<FocalOp>(focal_params(method_name, options),
                                   "focal." + std::string(method_name),
                                   options.count("nodata") != 0);
}

}  // namespace tessera::ops
