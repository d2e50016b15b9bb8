// set-type: in * scale + offset written as another pixel type, nodata kept as nodata.
#include "tessera/ops/set_type.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include "option_reader.hpp"
#include "tessera/expr/convert.hpp"

namespace tessera::ops {
namespace {

/// Row `y` of the owned cells of `in` as float64, NaN where the cell is the input's nodata.
template <class T>
void stage_row(const TileIn& in, ConstView<T> cells, int64_t y, std::vector<double>& row) {
  const T* src = cells.row(y + in.halo) + in.halo;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (size_t x = 0; x < row.size(); ++x) {
    const auto v = static_cast<double>(src[x]);
    const bool nodata = in.nodata && (v == *in.nodata || (std::isnan(*in.nodata) && v != v));
    row[x] = nodata ? nan : v;
  }
}

class SetTypeOp : public Op {
 public:
  explicit SetTypeOp(SetTypeParams p)
      : p_(p), nodata_(p.nodata.value_or(expr::default_nodata(p.type))) {}
  int64_t halo() const override { return 0; }
  PixelType output_type() const override { return p_.type; }
  std::optional<double> output_nodata() const override { return nodata_; }
  /// Integers up to 32 bits signed are exact as Int32; the rest are read as Float32.
  CellType input_cells(PixelType source) const override {
    const bool exact = is_integer(source) && source != PixelType::UInt32;
    return exact ? CellType::Int32 : CellType::Float32;
  }
  void run(const TileIn& in, const TileOut& out) const override {
    set_type(in, out.bands.at(0), p_, nodata_);
  }

 private:
  SetTypeParams p_;
  double nodata_;
};

}  // namespace

SetTypeParams set_type_params(const Options& options) {
  OptionReader r("set-type", options, {"type", "scale", "offset", "nodata"});
  SetTypeParams p;
  const std::string type = r.text("type", "");
  if (type.empty()) throw OptionError("type", "option 'type' is required (uint8 .. float64)");
  try {
    p.type = parse_pixel_type(type);
  } catch (const Error& e) {
    throw OptionError("type", std::string("option 'type': ") + e.what());
  }
  p.scale = r.number("scale", p.scale);
  p.offset = r.number("offset", p.offset);
  if (r.has("nodata")) p.nodata = r.number("nodata", 0);
  r.finish();
  return p;
}

void set_type(const TileIn& in, const BandView& out, const SetTypeParams& p, double nodata) {
  thread_local std::vector<double> row;
  row.resize(static_cast<size_t>(in.owned.width));
  for (int64_t y = 0; y < in.owned.height; ++y) {
    std::visit([&](auto cells) { stage_row(in, cells, y, row); }, in.cells);
    for (double& v : row) v = v * p.scale + p.offset;
    expr::convert_row(row, nodata, expr::out_cells(out, y));
  }
}

std::unique_ptr<Op> make_set_type(const Options& options) {
  return std::make_unique<SetTypeOp>(set_type_params(options));
}

}  // namespace tessera::ops
