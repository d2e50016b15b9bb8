// stretch and normalize: a row of cells staged as float64 (NaN for nodata), scaled by numbers of
// the whole band that the executor gives the op after the reduction pass (with_statistics).
#include "tessera/ops/stretch.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "option_reader.hpp"
#include "tessera/expr/convert.hpp"

namespace tessera::ops {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Row `y` of the owned cells of `in` as float64, NaN where the cell is NaN or the input's nodata.
void stage_row(const TileIn& in, int64_t y, std::vector<double>& row) {
  std::visit(
      [&](auto cells) {
        const auto* src = cells.row(y + in.halo) + in.halo;
        for (size_t x = 0; x < row.size(); ++x) {
          const auto v = static_cast<double>(src[x]);
          const bool nodata = v != v || (in.nodata && (v == *in.nodata));
          row[x] = nodata ? kNaN : v;
        }
      },
      in.cells);
}

/// Applies `f` to every owned cell (NaN for nodata) and writes them as out.type().
template <class F>
void map_cells(const TileIn& in, const BandView& out, F f, double nodata) {
  thread_local std::vector<double> row;
  row.resize(static_cast<size_t>(in.owned.width));
  for (int64_t y = 0; y < in.owned.height; ++y) {
    stage_row(in, y, row);
    for (double& v : row) v = f(v);
    expr::convert_row(row, nodata, expr::out_cells(out, y));
  }
}

/// Cells read exactly where they can be: integers up to Int32 as Int32, the rest as Float32.
CellType exact_cells(PixelType source) {
  const bool exact = is_integer(source) && source != PixelType::UInt32;
  return exact ? CellType::Int32 : CellType::Float32;
}

class StretchOp : public Op {
 public:
  StretchOp(StretchParams p, std::optional<std::pair<double, double>> bounds)
      : p_(p), bounds_(bounds) {}
  int64_t halo() const override { return 0; }
  PixelType output_type() const override { return PixelType::Byte; }
  std::optional<double> output_nodata() const override { return 0.0; }
  CellType input_cells(PixelType source) const override { return exact_cells(source); }
  std::vector<StatisticRef> statistics() const override {
    using K = StatisticRef::Kind;
    if (p_.minmax) return {{"", std::nullopt, K::Min, 0, 0}, {"", std::nullopt, K::Max, 0, 0}};
    return {{"", std::nullopt, K::Percentile, p_.low, 0},
            {"", std::nullopt, K::Percentile, p_.high, 0}};
  }
  std::shared_ptr<const Op> with_statistics(const std::vector<double>& values) const override {
    return std::make_shared<StretchOp>(p_, std::pair{values.at(0), values.at(1)});
  }
  void run(const TileIn& in, const TileOut& out) const override {
    if (!bounds_) throw Error("internal error: stretch run before its statistics");
    stretch(in, out.bands.at(0), bounds_->first, bounds_->second);
  }

 private:
  StretchParams p_;
  std::optional<std::pair<double, double>> bounds_;
};

class NormalizeOp : public Op {
 public:
  NormalizeOp(NormalizeParams p, std::optional<std::pair<double, double>> moments)
      : p_(p), moments_(moments), nodata_(p.nodata.value_or(expr::default_nodata(p.type))) {}
  int64_t halo() const override { return 0; }
  PixelType output_type() const override { return p_.type; }
  std::optional<double> output_nodata() const override { return nodata_; }
  CellType input_cells(PixelType source) const override { return exact_cells(source); }
  std::vector<StatisticRef> statistics() const override {
    using K = StatisticRef::Kind;
    return {{"", std::nullopt, K::Mean, 0, 0}, {"", std::nullopt, K::Std, 0, 0}};
  }
  std::shared_ptr<const Op> with_statistics(const std::vector<double>& values) const override {
    return std::make_shared<NormalizeOp>(p_, std::pair{values.at(0), values.at(1)});
  }
  void run(const TileIn& in, const TileOut& out) const override {
    if (!moments_) throw Error("internal error: normalize run before its statistics");
    normalize(in, out.bands.at(0), moments_->first, moments_->second, nodata_);
  }

 private:
  NormalizeParams p_;
  std::optional<std::pair<double, double>> moments_;
  double nodata_;
};

}  // namespace

StretchParams stretch_params(const Options& options) {
  OptionReader r("stretch", options, {"mode", "low", "high"});
  StretchParams p;
  const std::string mode = r.text("mode", "percentile");
  if (mode != "percentile" && mode != "minmax")
    throw OptionError("mode", "option 'mode': expected percentile or minmax, not '" + mode + "'");
  p.minmax = mode == "minmax";
  p.low = r.number("low", p.low);
  p.high = r.number("high", p.high);
  r.finish();
  for (const auto& [key, v] : {std::pair{"low", p.low}, std::pair{"high", p.high}})
    if (!(v >= 0 && v <= 100)) {
      char text[32];
      std::snprintf(text, sizeof text, "%g", v);
      throw OptionError(
          key, std::string("option '") + key + "': " + text + " is not a percentile (0 to 100)");
    }
  if (!(p.low < p.high)) throw OptionError("high", "option 'high' must be above 'low'");
  return p;
}

NormalizeParams normalize_params(const Options& options) {
  OptionReader r("normalize", options, {"type", "nodata"});
  NormalizeParams p;
  const std::string type = r.text("type", "float32");
  if (type != "float32" && type != "float64")
    throw OptionError("type", "option 'type': expected float32 or float64, not '" + type + "'");
  p.type = parse_pixel_type(type);
  if (r.has("nodata")) p.nodata = r.number("nodata", 0);
  r.finish();
  return p;
}

void stretch(const TileIn& in, const BandView& out, double low, double high) {
  const double scale = high > low ? 254.0 / (high - low) : 0.0;
  // A valid cell below `low` gets 1, the lowest valid value, as QGIS's cumulative cut draws it in
  // the lowest colour: not 0, the output's nodata.
  const auto scaled = [&](double v) {
    if (v != v) return v;
    const double s = (v - low) * scale + 1.0;
    return s != s ? 1.0 : std::clamp(s, 1.0, 255.0);  // NaN: an infinite cell of a flat band
  };
  map_cells(in, out, scaled, 0.0);
}

void normalize(const TileIn& in, const BandView& out, double mean, double std, double nodata) {
  const double divisor = std > 0 ? std : kNaN;
  map_cells(
      in, out, [&](double v) { return (v - mean) / divisor; }, nodata);
}

std::unique_ptr<Op> make_stretch(const Options& options) {
  return std::make_unique<StretchOp>(stretch_params(options), std::nullopt);
}

std::unique_ptr<Op> make_normalize(const Options& options) {
  return std::make_unique<NormalizeOp>(normalize_params(options), std::nullopt);
}

}  // namespace tessera::ops
