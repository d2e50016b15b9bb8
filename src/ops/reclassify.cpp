// reclassify: each cell's value range looked up in a short table, written as the output type.
#include "tessera/ops/reclassify.hpp"

#include <cmath>
#include <cstdlib>
#include <limits>

#include "option_reader.hpp"
#include "tessera/expr/convert.hpp"

namespace tessera::ops {
namespace {

double table_number(const std::string& text, const std::string& entry) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end == text.c_str() || *end != '\0' || std::isnan(value))
    throw OptionError(
        "table", "option 'table': entry '" + entry + "': expected LOW..HIGH=VALUE with numbers");
  return value;
}

std::string trimmed(const std::string& text) {
  const size_t first = text.find_first_not_of(' ');
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(' ') - first + 1);
}

ClassRange parse_entry(const std::string& entry) {
  const size_t dots = entry.find("..");
  const size_t eq = entry.find('=');
  if (dots == std::string::npos || eq == std::string::npos || eq < dots)
    throw OptionError("table", "option 'table': entry '" + entry + "': expected LOW..HIGH=VALUE");
  ClassRange r{table_number(trimmed(entry.substr(0, dots)), entry),
               table_number(trimmed(entry.substr(dots + 2, eq - dots - 2)), entry),
               table_number(trimmed(entry.substr(eq + 1)), entry)};
  if (!(r.low < r.high))
    throw OptionError("table", "option 'table': entry '" + entry + "': LOW must be below HIGH");
  return r;
}

/// The cell's class value, the default, or NaN (nodata).
double classify(double v, const ReclassifyParams& p, double none) {
  for (const ClassRange& r : p.ranges)
    if (v >= r.low && v < r.high) return r.value;
  return none;
}

template <class T>
void classify_row(const TileIn& in, ConstView<T> cells, int64_t y, const ReclassifyParams& p,
                  std::vector<double>& row) {
  const T* src = cells.row(y + in.halo) + in.halo;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double none = p.fallback.value_or(nan);
  for (size_t x = 0; x < row.size(); ++x) {
    const auto v = static_cast<double>(src[x]);
    const bool nodata = v != v || (in.nodata && (v == *in.nodata));
    row[x] = nodata ? nan : classify(v, p, none);
  }
}

class ReclassifyOp : public Op {
 public:
  explicit ReclassifyOp(ReclassifyParams p)
      : p_(std::move(p)), nodata_(p_.nodata.value_or(expr::default_nodata(p_.type))) {}
  int64_t halo() const override { return 0; }
  PixelType output_type() const override { return p_.type; }
  std::optional<double> output_nodata() const override { return nodata_; }
  /// Integers up to 32 bits signed are exact as Int32; the rest are read as Float32.
  CellType input_cells(PixelType source) const override {
    const bool exact = is_integer(source) && source != PixelType::UInt32;
    return exact ? CellType::Int32 : CellType::Float32;
  }
  void run(const TileIn& in, const TileOut& out) const override {
    thread_local std::vector<double> row;
    row.resize(static_cast<size_t>(in.owned.width));
    const BandView& band = out.bands.at(0);
    for (int64_t y = 0; y < in.owned.height; ++y) {
      std::visit([&](auto cells) { classify_row(in, cells, y, p_, row); }, in.cells);
      expr::convert_row(row, nodata_, expr::out_cells(band, y));
    }
  }

 private:
  ReclassifyParams p_;
  double nodata_;
};

}  // namespace

std::vector<ClassRange> parse_class_table(const std::string& text) {
  std::vector<ClassRange> ranges;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find(';', start), text.size());
    const std::string entry = trimmed(text.substr(start, end - start));
    if (!entry.empty()) ranges.push_back(parse_entry(entry));
    start = end + 1;
  }
  if (ranges.empty())
    throw OptionError("table", "option 'table': expected LOW..HIGH=VALUE entries separated by ';'");
  return ranges;
}

ReclassifyParams reclassify_params(const Options& options) {
  OptionReader r("reclassify", options, {"table", "default", "type", "nodata"});
  ReclassifyParams p;
  p.ranges = parse_class_table(r.text("table", ""));
  if (r.has("default")) p.fallback = r.number("default", 0);
  try {
    p.type = parse_pixel_type(r.text("type", "uint8"));
  } catch (const Error& e) {
    throw OptionError("type", std::string("option 'type': ") + e.what());
  }
  if (r.has("nodata")) p.nodata = r.number("nodata", 0);
  r.finish();
  return p;
}

std::unique_ptr<Op> make_reclassify(const Options& options) {
  return std::make_unique<ReclassifyOp>(reclassify_params(options));
}

}  // namespace tessera::ops
