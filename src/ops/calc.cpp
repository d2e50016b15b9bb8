// The calc op: evaluates an expression row by row over the bands it reads and converts the
// float64 results to the output type with GDAL's rounding and saturation.
#include "tessera/ops/calc.hpp"

#include <cstring>

#include "option_reader.hpp"
#include "tessera/expr/convert.hpp"

namespace tessera::ops {
namespace {

/// Row `y` of a band as the cells of its own type, `width` cells from column `x`.
expr::RowCells row_cells(const BandIn& band, int64_t x, int64_t y, int64_t width) {
  const std::byte* row = band.bytes.row(y) + x * static_cast<int64_t>(size_of(band.type));
  return visit(band.type, [&]<class T>(std::type_identity<T>) {
    return expr::RowCells(
        std::span<const T>(reinterpret_cast<const T*>(row), static_cast<size_t>(width)));
  });
}

StatisticRef::Kind kind_of(expr::StatisticCall::Kind kind) {
  using E = expr::StatisticCall::Kind;
  using K = StatisticRef::Kind;
  switch (kind) {
    case E::Mean:
      return K::Mean;
    case E::Std:
      return K::Std;
    case E::Min:
      return K::Min;
    case E::Max:
      return K::Max;
    case E::Percentile:
      break;
  }
  return K::Percentile;
}

class CalcOp : public Op {
 public:
  CalcOp(CalcParams p, expr::Expression e, expr::NameScope names)
      : p_(std::move(p)),
        expr_(std::move(e)),
        names_(std::move(names)),
        nodata_(p_.nodata.value_or(expr::default_nodata(p_.type))) {}
  int64_t halo() const override { return 0; }
  PixelType output_type() const override { return p_.type; }
  std::optional<double> output_nodata() const override { return nodata_; }
  std::vector<BandRef> band_inputs() const override {
    std::vector<BandRef> refs;
    const auto& inputs = expr_.inputs();
    for (size_t i = 0; i < inputs.size(); ++i)
      refs.push_back({inputs[i].name, inputs[i].band, expr_.column(i)});
    return refs;
  }
  std::vector<StatisticRef> statistics() const override {
    std::vector<StatisticRef> refs;
    for (const expr::StatisticCall& s : expr_.statistics())
      refs.push_back({s.band.name, s.band.band, kind_of(s.kind), s.percentile, s.column});
    return refs;
  }
  std::shared_ptr<const Op> with_statistics(const std::vector<double>& values) const override {
    return std::make_shared<CalcOp>(p_, expr_.with_statistics(values, names_), names_);
  }
  void run(const TileIn& in, const TileOut& out) const override {
    if (!expr_.bound()) throw Error("internal error: calc run before its statistics");
    calc(expr_, in, out.bands.at(0), nodata_);
  }

 private:
  CalcParams p_;
  expr::Expression expr_;
  expr::NameScope names_;
  double nodata_;
};

}  // namespace

CalcParams calc_params(const Options& options) {
  OptionReader r("calc", options, {"expr", "type", "nodata"});
  CalcParams p;
  p.expr = r.text("expr", "");
  if (p.expr.empty()) throw OptionError("expr", "option 'expr' is required (the expression)");
  const std::string type = r.text("type", "float32");
  try {
    p.type = parse_pixel_type(type);
  } catch (const Error& e) {
    throw OptionError("type", std::string("option 'type': ") + e.what());
  }
  if (r.has("nodata")) p.nodata = r.number("nodata", 0);
  r.finish();
  return p;
}

void calc(const expr::Expression& expression, const TileIn& in, const BandView& out,
          double nodata) {
  thread_local std::vector<double> results;
  thread_local std::vector<expr::RowInput> rows;
  results.resize(static_cast<size_t>(in.owned.width));
  rows.resize(in.bands.size());
  for (int64_t y = 0; y < in.owned.height; ++y) {
    for (size_t b = 0; b < in.bands.size(); ++b)
      rows[b] = {row_cells(in.bands[b], in.halo, y + in.halo, in.owned.width), in.bands[b].nodata};
    expression.eval_row(rows, results);
    expr::convert_row(results, nodata, expr::out_cells(out, y));
  }
}

std::unique_ptr<Op> make_calc(const Options& options, const expr::NameScope& names) {
  CalcParams p = calc_params(options);
  try {
    expr::Expression e = expr::Expression::parse(p.expr, names);
    return std::make_unique<CalcOp>(std::move(p), std::move(e), names);
  } catch (const expr::ParseError& e) {
    throw OptionError("expr", std::string("option 'expr': ") + e.what(), e.column());
  }
}

}  // namespace tessera::ops
