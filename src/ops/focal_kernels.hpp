// The three ways focal.* computes a window: running sums and running extremes over square
// windows (cost independent of the radius), a sliding histogram for square medians and
// percentiles, and a walk over each window's cells (circles, weights, classes). Each writes each
// owned cell's value as a double, NaN for nodata.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "tessera/ops/focal.hpp"

namespace tessera::ops::focal_detail {

/// Where a kernel writes its values (NaN for nodata): row(i) is the buffer of owned row i,
/// owned.width values. A kernel writes the rows in order and each completely before it asks for
/// the next; each is stored into the op's output when the next is asked for or at finish(), so
/// the values stay in one row of cache instead of a tile of doubles.
class RowsOut {
 public:
  using Store = std::function<void(int64_t row, const double* values)>;
  RowsOut(int64_t width, Store store)
      : buffer_(static_cast<size_t>(width)), store_(std::move(store)) {}
  double* row(int64_t i) {
    finish();
    pending_ = i;
    return buffer_.data();
  }
  void finish() {
    if (pending_ >= 0) store_(pending_, buffer_.data());
    pending_ = -1;
  }

 private:
  std::vector<double> buffer_;
  Store store_;
  int64_t pending_ = -1;
};

/// Whether a cell counts: not NaN and not the source's nodata value. Float32 cells compare with
/// the nodata value rounded to Float32 (as GDAL compares a Float32 band); integer cells with a
/// nodata value they can hold, and with no other.
template <class T>
struct Valid {
  bool has_nodata = false;
  T nodata{};

  explicit Valid(std::optional<double> source_nodata) {
    if (!source_nodata || std::isnan(*source_nodata)) return;
    if constexpr (std::is_floating_point_v<T>) {
      has_nodata = true;
      nodata = static_cast<T>(*source_nodata);
    } else {
      const double v = *source_nodata;
      has_nodata = v == std::floor(v) && v >= -2147483648.0 && v <= 2147483647.0;
      nodata = has_nodata ? static_cast<T>(v) : T{};
    }
  }
  /// Written without branches, so that loops over cells vectorise (with the Valid in a local
  /// of the loop's function, where the compiler sees that stores do not change it).
  bool operator()(T v) const { return (v == v) & (!has_nodata | (v != nodata)); }
};

/// The row of the tile's input buffer holding raster row `y`, from raster column `x`.
template <class T>
const T* row_at(const TileIn& in, ConstView<T> cells, int64_t x, int64_t y) {
  return cells.row(y - (in.owned.y - in.halo)) + (x - (in.owned.x - in.halo));
}

/// Whether every cell of columns [x0, x1) and rows [y0, y1) of the tile's buffer is valid.
template <class T>
bool all_valid(const TileIn& in, ConstView<T> cells, const Valid<T>& valid, int64_t x0, int64_t x1,
               int64_t y0, int64_t y1) {
  const Valid<T> ok = valid;  // a local: the loop vectorises
  if (!std::is_floating_point_v<T> && !ok.has_nodata) return true;
  for (int64_t y = y0; y < y1; ++y) {
    const T* src = row_at(in, cells, x0, y);
    int invalid = 0;  // an int, not a bool: the loop vectorises
    for (int64_t i = 0; i < x1 - x0; ++i) invalid |= static_cast<int>(!ok(src[i]));
    if (invalid) return false;
  }
  return true;
}

/// Square windows, unweighted: mean, sum, count, variance, stddev, minimum, maximum and range
/// through running sums and running extremes that restart at every multiple of the window's
/// width in raster coordinates (docs/jobs.md), so each cell's value is the same whatever tile
/// holds it. Writes into `out`.
template <class T>
void focal_running(const TileIn& in, ConstView<T> cells, RowsOut& out, const FocalParams& p);

/// Square unweighted windows, median and percentiles: a sliding histogram of the values' ranks
/// (Huang) with counts at three levels, O(radius) a cell. Writes into `out` as focal_running does.
template <class T>
void focal_sliding(const TileIn& in, ConstView<T> cells, RowsOut& out, const FocalParams& p);

/// Whether focal_sliding computes `p`.
bool slides(const FocalParams& p);

/// One cell of a window, relative to its centre, and its weight.
struct Offset {
  int64_t dx, dy;
  double weight;
};

/// A valid cell's value in a window, and its weight.
struct Sample {
  double value;
  double weight;
};

/// Any window, one cell at a time: the cell's valid window cells (mask or weights), then the
/// method's statistic.
template <class T>
class WindowWalk {
 public:
  WindowWalk(const TileIn& in, ConstView<T> cells, const FocalParams& p);
  /// The value of raster cell (x, y) (inside the tile's buffer with the window's reach), NaN
  /// where its centre is nodata or its window holds no valid cell.
  double at(int64_t x, int64_t y);

 private:
  const TileIn& in_;
  ConstView<T> cells_;
  const FocalParams& p_;
  Valid<T> valid_;
  std::vector<Offset> offsets_;
  std::vector<Sample> samples_;
};

/// Any window: each owned cell's window cells (mask or weights), then the method's statistic.
template <class T>
void focal_walk(const TileIn& in, ConstView<T> cells, RowsOut& out, const FocalParams& p);

/// Whether focal_median3 computes `p`: the median of a square unweighted window of radius 1.
bool median3(const FocalParams& p);

/// The median of 3 x 3 windows: each column of three cells sorted once, then a cell's median
/// is the median of the largest of the three smallest, the median of the middles and the
/// smallest of the largest (exact: the 5th of the 9 values). Windows with a nodata cell or
/// beyond the raster's edge walk (WindowWalk), so the values are the walk's.
template <class T>
void focal_median3(const TileIn& in, ConstView<T> cells, RowsOut& out, const FocalParams& p);

/// Whether focal_running computes `p` (a square unweighted window of one of its methods).
bool runs(const FocalParams& p);

}  // namespace tessera::ops::focal_detail
