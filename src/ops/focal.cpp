// Focal statistics: each window's column statistics for a row of cells, then the statistic of
// the columns each cell's window spans. Separable, O(radius) per cell, and independent of the
// tiling because every sum runs in the same order whatever tile holds the cell.
#include "tessera/ops/focal.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include "option_reader.hpp"

namespace tessera::ops {
namespace {

constexpr int64_t kMaxRadius = 1000;
constexpr double kInf = std::numeric_limits<double>::infinity();

/// A statistic's value over no cell.
template <FocalStat S>
constexpr double start() {
  if constexpr (S == FocalStat::Min) return kInf;
  if constexpr (S == FocalStat::Max) return -kInf;
  return 0.0;
}

/// Whether a cell counts: not NaN and not the source's nodata value (compared as Float32, the
/// type the cells are read in).
struct Valid {
  bool has_nodata;
  float nodata;
  bool operator()(float v) const { return v == v && !(has_nodata && v == nodata); }
};

/// Per thread: the statistic and the count of valid cells of each column of the window rows.
struct Columns {
  std::vector<double> value;
  std::vector<int32_t> count;
};

/// One row of the input buffer from raster column `x0`, given the buffer's top-left raster cell.
const float* row_at(const TileIn& in, ConstView<float> cells, int64_t x0, int64_t y) {
  const int64_t top = in.owned.y - in.halo;
  const int64_t left = in.owned.x - in.halo;
  return cells.row(y - top) + (x0 - left);
}

/// Columns x0 .. x0 + n - 1 over raster rows y0 .. y1 - 1: each column from top to bottom.
template <FocalStat S>
void column_pass(const TileIn& in, ConstView<float> cells, Valid valid, int64_t x0, int64_t n,
                 int64_t y0, int64_t y1, Columns& c) {
  double* value = c.value.data();
  int32_t* count = c.count.data();
  std::fill_n(value, n, start<S>());
  std::fill_n(count, n, 0);
  for (int64_t y = y0; y < y1; ++y) {
    const float* src = row_at(in, cells, x0, y);
    for (int64_t i = 0; i < n; ++i) {
      const bool ok = valid(src[i]);
      const double v = src[i];
      if constexpr (S == FocalStat::Min)
        value[i] = ok && v < value[i] ? v : value[i];
      else if constexpr (S == FocalStat::Max)
        value[i] = ok && v > value[i] ? v : value[i];
      else
        value[i] += ok ? v : 0.0;
      count[i] += ok ? 1 : 0;
    }
  }
}

/// The statistic of columns [from, to) of the column pass, left to right.
template <FocalStat S>
float row_value(const Columns& c, int64_t from, int64_t to, float nodata) {
  double value = start<S>();
  int64_t count = 0;
  for (int64_t i = from; i < to; ++i) {
    if constexpr (S == FocalStat::Min)
      value = std::min(value, c.value[static_cast<size_t>(i)]);
    else if constexpr (S == FocalStat::Max)
      value = std::max(value, c.value[static_cast<size_t>(i)]);
    else
      value += c.value[static_cast<size_t>(i)];
    count += c.count[static_cast<size_t>(i)];
  }
  if (count == 0) return nodata;
  if constexpr (S == FocalStat::Mean) value /= static_cast<double>(count);
  return static_cast<float>(value);
}

template <FocalStat S>
void focal_rows(const TileIn& in, ConstView<float> cells, View<float> out, const FocalParams& p) {
  const Valid valid{in.nodata.has_value(), static_cast<float>(in.nodata.value_or(0))};
  const auto nodata = static_cast<float>(p.nodata);
  const int64_t r = p.radius;
  const Window& o = in.owned;
  // The columns any window of the tile spans, inside the raster.
  const int64_t x0 = std::max<int64_t>(0, o.x - r);
  const int64_t x1 = std::min(in.raster.width, o.right() + r);
  thread_local Columns c;
  c.value.resize(static_cast<size_t>(x1 - x0));
  c.count.resize(static_cast<size_t>(x1 - x0));
  for (int64_t y = o.y; y < o.bottom(); ++y) {
    column_pass<S>(in, cells, valid, x0, x1 - x0, std::max<int64_t>(0, y - r),
                   std::min(in.raster.height, y + r + 1), c);
    const float* centre = row_at(in, cells, o.x, y);
    float* dst = out.row(y - o.y);
    for (int64_t x = o.x; x < o.right(); ++x) {
      const int64_t from = std::max(x0, x - r) - x0;
      const int64_t to = std::min(x1, x + r + 1) - x0;
      dst[x - o.x] = valid(centre[x - o.x]) ? row_value<S>(c, from, to, nodata) : nodata;
    }
  }
}

class FocalOp : public Op {
 public:
  explicit FocalOp(FocalParams p) : p_(p) {}
  int64_t halo() const override { return p_.radius; }
  PixelType output_type() const override { return PixelType::Float32; }
  std::optional<double> output_nodata() const override { return p_.nodata; }
  /// Every source is read as Float32: exact for the integers of up to 24 bits DEMs hold.
  CellType input_cells(PixelType) const override { return CellType::Float32; }
  void run(const TileIn& in, const TileOut& out) const override {
    focal(in, out.bands.at(0).as<float>(), p_);
  }

 private:
  FocalParams p_;
};

const char* op_name(FocalStat stat) {
  switch (stat) {
    case FocalStat::Sum:
      return "focal.sum";
    case FocalStat::Min:
      return "focal.min";
    case FocalStat::Max:
      return "focal.max";
    case FocalStat::Mean:
      break;
  }
  return "focal.mean";
}

}  // namespace

FocalParams focal_params(FocalStat stat, const Options& options) {
  OptionReader r(op_name(stat), options, {"radius", "nodata"});
  FocalParams p;
  p.stat = stat;
  if (!r.has("radius"))
    throw OptionError("radius", "option 'radius' is required (the window is 2 * radius + 1 wide)");
  const double radius = r.number("radius", 1);
  if (radius < 1 || radius > kMaxRadius || radius != std::floor(radius))
    throw OptionError("radius",
                      "option 'radius' must be an integer from 1 to " + std::to_string(kMaxRadius));
  p.radius = static_cast<int64_t>(radius);
  p.nodata = r.number("nodata", p.nodata);
  r.finish();
  return p;
}

void focal(const TileIn& in, View<float> out, const FocalParams& p) {
  const auto* cells = std::get_if<ConstView<float>>(&in.cells);
  if (cells == nullptr) throw Error("focal: expected Float32 cells");
  if (in.halo < p.radius)
    throw Error("focal: a halo of " + std::to_string(in.halo) + " for a radius of " +
                std::to_string(p.radius));
  switch (p.stat) {
    case FocalStat::Mean:
      return focal_rows<FocalStat::Mean>(in, *cells, out, p);
    case FocalStat::Sum:
      return focal_rows<FocalStat::Sum>(in, *cells, out, p);
    case FocalStat::Min:
      return focal_rows<FocalStat::Min>(in, *cells, out, p);
    case FocalStat::Max:
      return focal_rows<FocalStat::Max>(in, *cells, out, p);
  }
}

std::unique_ptr<Op> make_focal_mean(const Options& options) {
  return std::make_unique<FocalOp>(focal_params(FocalStat::Mean, options));
}
std::unique_ptr<Op> make_focal_sum(const Options& options) {
  return std::make_unique<FocalOp>(focal_params(FocalStat::Sum, options));
}
std::unique_ptr<Op> make_focal_min(const Options& options) {
  return std::make_unique<FocalOp>(focal_params(FocalStat::Min, options));
}
std::unique_ptr<Op> make_focal_max(const Options& options) {
  return std::make_unique<FocalOp>(focal_params(FocalStat::Max, options));
}

}  // namespace tessera::ops
