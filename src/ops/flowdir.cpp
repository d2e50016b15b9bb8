// flowdir: D8 steepest descent, as TauDEM's d8flowdir chooses it, and the D8 codes.
#include <cmath>
#include <string>

#include "option_reader.hpp"
#include "tessera/ops/d8.hpp"

namespace tessera::ops {
namespace {

constexpr int16_t kEsriCodes[8] = {1, 128, 64, 32, 16, 8, 4, 2};
constexpr double kDirectionNodata = -32768;
/// TauDEM's order of trial: the cardinal directions, then the diagonals; the first of equal
/// slopes wins.
constexpr int kTrialOrder[8] = {0, 2, 4, 6, 1, 3, 5, 7};

/// A tile of heights read with a halo, seen from its owned cells.
struct Heights {
  const TileIn& in;
  ConstView<float> cells;
  std::optional<float> nodata;

  float z(int64_t x, int64_t y) const { return cells(x + in.halo, y + in.halo); }
  bool is_void(int64_t x, int64_t y) const {
    const float v = z(x, y);
    return std::isnan(v) || (nodata && v == *nodata);
  }
  bool on_raster_edge(int64_t x, int64_t y) const {
    const int64_t gx = in.owned.x + x;
    const int64_t gy = in.owned.y + y;
    return gx == 0 || gy == 0 || gx == in.raster.width - 1 || gy == in.raster.height - 1;
  }
};

/// The steepest descent from (x, y) as a direction index, kD8None when no neighbour is lower,
/// kD8Void for a cell whose flow leaves the raster (a void, on the edge, next to a void).
int steepest(const Heights& h, int64_t x, int64_t y, const double (&factor)[8]) {
  if (h.is_void(x, y)) return kD8Void;
  if (h.on_raster_edge(x, y)) return kD8Void;
  for (int k = 0; k < 8; ++k)
    if (h.is_void(x + kD8Dx[k], y + kD8Dy[k])) return kD8Void;
  const float centre = h.z(x, y);
  float best = 0;
  int chosen = kD8None;
  for (int k : kTrialOrder) {
    const auto slope = static_cast<float>(factor[k] * (centre - h.z(x + kD8Dx[k], y + kD8Dy[k])));
    if (slope > best) best = slope, chosen = k;
  }
  return chosen;
}

class FlowDirOp : public Op {
 public:
  explicit FlowDirOp(D8Encoding encoding) : encoding_(encoding) {}
  int64_t halo() const override { return 1; }
  PixelType output_type() const override { return PixelType::Int16; }
  std::optional<double> output_nodata() const override { return kDirectionNodata; }
  CellType input_cells(PixelType) const override { return CellType::Float32; }
  void run(const TileIn& in, const TileOut& out) const override {
    Heights h{in, std::get<ConstView<float>>(in.cells), std::nullopt};
    if (in.nodata && !std::isnan(*in.nodata)) h.nodata = static_cast<float>(*in.nodata);
    double factor[8];
    for (int k = 0; k < 8; ++k)
      factor[k] = 1.0 / std::sqrt(kD8Dx[k] * kD8Dx[k] * in.ewres * in.ewres +
                                  kD8Dy[k] * kD8Dy[k] * in.nsres * in.nsres);
    const View<int16_t> cells = out.bands.at(0).as<int16_t>();
    for (int64_t y = 0; y < in.owned.height; ++y)
      for (int64_t x = 0; x < in.owned.width; ++x) {
        const int k = steepest(h, x, y, factor);
        cells(x, y) = k == kD8Void   ? static_cast<int16_t>(kDirectionNodata)
                      : k == kD8None ? int16_t{0}
                                     : d8_code(k, encoding_);
      }
  }

 private:
  D8Encoding encoding_;
};

}  // namespace

int16_t d8_code(int index, D8Encoding encoding) {
  return encoding == D8Encoding::Esri ? kEsriCodes[index] : static_cast<int16_t>(index + 1);
}

int d8_index(int64_t code, D8Encoding encoding) {
  if (code == 0) return kD8None;
  for (int k = 0; k < 8; ++k)
    if (code == d8_code(k, encoding)) return k;
  return -3;
}

std::unique_ptr<Op> make_flowdir(const Options& options) {
  OptionReader r("flowdir", options, {"encoding"});
  const auto encoding = static_cast<D8Encoding>(r.choice("encoding", {"taudem", "esri"}, 0));
  r.finish();
  return std::make_unique<FlowDirOp>(encoding);
}

}  // namespace tessera::ops
