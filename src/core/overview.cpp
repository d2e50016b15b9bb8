// Overview geometry and the 2 x 2 halving, with GDAL's arithmetic for each resampling.
#include "tessera/core/overview.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <type_traits>

namespace tessera {
namespace {

int64_t halved(int64_t n, int level) {
  for (int i = 0; i < level; ++i) n = (n + 1) / 2;
  return n;
}

/// Up to four cells under one overview cell, upper row first, those equal to nodata left out.
template <class T>
struct Block {
  std::array<T, 4> cells{};
  int count = 0;  // cells kept
};

/// A float average as type T: integers rounded half away from zero and held in range.
template <class T>
T from_float(float v) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    const double r = v < 0 ? -std::floor(-double{v} + 0.5) : std::floor(double{v} + 0.5);
    const double lo = static_cast<double>(std::numeric_limits<T>::lowest());
    const double hi = static_cast<double>(std::numeric_limits<T>::max());
    return static_cast<T>(std::clamp(r, lo, hi));
  }
}

/// GDAL 3.6's average: in float (the cells converted), four cells of a file without nodata as
/// ((upper-left + lower-left) + (upper-right + lower-right)) * 0.25 (its vector path), any other
/// block as the sum in double over the count.
template <class T>
T average(const Block<T>& b, bool has_nodata) {
  std::array<float, 4> c{};
  for (int i = 0; i < b.count; ++i)
    c[static_cast<size_t>(i)] = static_cast<float>(b.cells[static_cast<size_t>(i)]);
  if (b.count == 4 && !has_nodata) return from_float<T>(((c[0] + c[2]) + (c[1] + c[3])) * 0.25f);
  double sum = 0;
  for (int i = 0; i < b.count; ++i) sum += double{c[static_cast<size_t>(i)]};
  return from_float<T>(static_cast<float>(sum / b.count));
}

/// GDAL's mode: the value whose count, taken cell by cell, first passes every other's.
template <class T>
T mode(const Block<T>& b) {
  std::array<int, 4> seen{};
  int best = 0;
  int best_count = 0;
  for (int i = 0; i < b.count; ++i) {
    int first = 0;  // the first cell of this value, which keeps its count
    while (b.cells[static_cast<size_t>(first)] != b.cells[static_cast<size_t>(i)]) ++first;
    const int count = ++seen[static_cast<size_t>(first)];
    if (count > best_count) {
      best = i;
      best_count = count;
    }
  }
  return b.cells[static_cast<size_t>(best)];
}

/// Average of four cells inside the raster, none of them nodata: GDAL's vector path without
/// nodata, its sum in double over 4 with; for 8- and 16-bit integers both are the sum over 4
/// rounded half away from zero, done in integers.
template <class T>
T average_of_four(T a, T b, T c, T d, bool has_nodata) {
  if constexpr (std::is_integral_v<T> && sizeof(T) <= 2) {
    const int sum = int{a} + int{b} + int{c} + int{d};
    return static_cast<T>(sum >= 0 ? (sum + 2) >> 2 : -((-sum + 2) >> 2));
  } else {
    const auto fa = static_cast<float>(a), fb = static_cast<float>(b);
    const auto fc = static_cast<float>(c), fd = static_cast<float>(d);
    if (!has_nodata) return from_float<T>(((fa + fc) + (fb + fd)) * 0.25f);
    const double sum = ((double{fa} + double{fb}) + double{fc}) + double{fd};
    return from_float<T>(static_cast<float>(sum / 4));
  }
}

/// The nodata value of a band, in its type, if it has one.
template <class T>
struct Nodata {
  bool set = false;
  T value{};
  bool is(T v) const { return set && v == value; }
};

/// One overview cell from the cells of the block at (x, y) of the level beneath, any block.
template <class T>
T halve_block(const T* src, int64_t stride, int64_t x, int64_t y, int64_t width, int64_t height,
              Resampling method, Nodata<T> none) {
  if (method == Resampling::Nearest) return src[2 * y * stride + 2 * x];
  Block<T> b;
  for (int64_t dy = 0; dy < 2 && 2 * y + dy < height; ++dy)
    for (int64_t dx = 0; dx < 2 && 2 * x + dx < width; ++dx) {
      const T v = src[(2 * y + dy) * stride + 2 * x + dx];
      if (!none.is(v)) b.cells[static_cast<size_t>(b.count++)] = v;
    }
  if (b.count == 0) return none.value;
  return method == Resampling::Mode ? mode(b) : average(b, none.set);
}

/// A row of overview cells whose blocks all lie inside the raster: averages of four valid cells
/// take the short way, every other block halve_block's.
template <class T>
void halve_full_row(const T* upper, int64_t stride, T* out, int64_t count, Resampling method,
                    Nodata<T> none) {
  const T* lower = upper + stride;
  for (int64_t x = 0; x < count; ++x) {
    const T a = upper[2 * x], b = upper[2 * x + 1], c = lower[2 * x], d = lower[2 * x + 1];
    const bool valid = !(none.is(a) || none.is(b) || none.is(c) || none.is(d));
    if (method == Resampling::Average && valid) {
      out[x] = average_of_four(a, b, c, d, none.set);
    } else if (method == Resampling::Nearest) {
      out[x] = a;
    } else {
      out[x] = halve_block(upper, stride, x, 0, 2 * count, 2, method, none);
    }
  }
}

template <class T>
void halve_as(ConstCellPlane from, int64_t width, int64_t height, CellPlane to, Resampling method,
              std::optional<double> nodata) {
  const auto* src = static_cast<const T*>(from.cells);
  auto* dst = static_cast<T*>(to.cells);
  const Nodata<T> none{nodata.has_value(), static_cast<T>(nodata.value_or(0.0))};
  const int64_t full_across = width / 2;
  for (int64_t y = 0; y < (height + 1) / 2; ++y) {
    T* out = dst + y * to.stride;
    int64_t x = 0;
    if (2 * y + 1 < height) {
      const T* upper = src + 2 * y * from.stride;
      halve_full_row(upper, from.stride, out, full_across, method, none);
      x = full_across;
    }
    for (; x < (width + 1) / 2; ++x)
      out[x] = halve_block(src, from.stride, x, y, width, height, method, none);
  }
}

}  // namespace

Extent overview_size(Extent raster, int level) {
  return {halved(raster.width, level), halved(raster.height, level)};
}

Window share_of_tile(const TileGrid& grid, int64_t tile, int level) {
  const Window w = grid.owned(tile);
  const int64_t f = int64_t{1} << level;
  return {w.x / f, w.y / f, halved(w.width, level), halved(w.height, level)};
}

void halve(PixelType type, ConstCellPlane from, int64_t width, int64_t height, CellPlane to,
           Resampling method, std::optional<double> nodata) {
  visit(type, [&]<class T>(std::type_identity<T>) {
    halve_as<T>(from, width, height, to, method, nodata);
  });
}

}  // namespace tessera
