// Overview geometry and the 2 x 2 halving, with GDAL's arithmetic for each resampling.
#include "tessera/core/overview.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <type_traits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tessera {
namespace {

int64_t halved(int64_t n, int level) {
  for (int i = 0; i < level; ++i) n = (n + 1) / 2;
  return n;
}

/// The nodata value of a band, in its type, if it has one.
template <class T>
struct Nodata {
  bool set = false;
  T value{};
  bool is(T v) const { return set && v == value; }
};

/// The value GDAL writes instead of a computed cell equal to nodata
/// (GDALGetNoDataReplacementValue): the next value up, or down at the top of the type's range.
template <class T>
T nodata_replacement(T nodata) {
  if constexpr (std::is_floating_point_v<T>) {
    const T up = std::nextafter(nodata, std::numeric_limits<T>::infinity());
    return std::isinf(up) ? std::nextafter(nodata, -std::numeric_limits<T>::infinity()) : up;
  } else {
    return nodata == std::numeric_limits<T>::max() ? static_cast<T>(nodata - 1)
                                                   : static_cast<T>(nodata + 1);
  }
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

/// A float average of a band with nodata as type T: kept off nodata as GDAL keeps it (compared
/// in float, GDAL's working type for all but Byte and UInt16, an equal one replaced by the type's
/// replacement: the next integer, or the next float), then rounded.
template <class T>
T average_with_nodata(float v, Nodata<T> none) {
  if constexpr (std::is_same_v<T, uint8_t> || std::is_same_v<T, uint16_t>) {
    const T out = from_float<T>(v);
    return none.is(out) ? nodata_replacement(none.value) : out;
  } else {
    if (none.set && v == static_cast<float>(none.value)) {
      // An integer's replacement is the next integer: the next float up would round back.
      if constexpr (std::is_integral_v<T>) return nodata_replacement(none.value);
      v = nodata_replacement(v);
    }
    return from_float<T>(v);
  }
}

/// GDAL 3.6's average: in float (the cells converted), four cells of a file without nodata as
/// ((upper-left + lower-left) + (upper-right + lower-right)) * 0.25 (its vector path), any other
/// block as the sum in double over the count.
template <class T>
T average(const Block<T>& b, Nodata<T> none) {
  std::array<float, 4> c{};
  for (int i = 0; i < b.count; ++i)
    c[static_cast<size_t>(i)] = static_cast<float>(b.cells[static_cast<size_t>(i)]);
  if (b.count == 4 && !none.set) return from_float<T>(((c[0] + c[2]) + (c[1] + c[3])) * 0.25f);
  double sum = 0;
  for (int i = 0; i < b.count; ++i) sum += double{c[static_cast<size_t>(i)]};
  const auto v = static_cast<float>(sum / b.count);
  return none.set ? average_with_nodata(v, none) : from_float<T>(v);
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
/// nodata, its sum in double over 4 with (kept off nodata); Byte and UInt16, which GDAL works as
/// they are, (sum + 2) / 4 in integers.
template <class T>
T average_of_four(T a, T b, T c, T d, Nodata<T> none) {
  if constexpr (std::is_same_v<T, uint8_t> || std::is_same_v<T, uint16_t>) {
    const auto out = static_cast<T>((uint32_t{a} + b + c + d + 2) / 4);
    return none.is(out) ? nodata_replacement(none.value) : out;
  } else {
    const auto fa = static_cast<float>(a), fb = static_cast<float>(b);
    const auto fc = static_cast<float>(c), fd = static_cast<float>(d);
    if (!none.set) return from_float<T>(((fa + fc) + (fb + fd)) * 0.25f);
    const double sum = ((double{fa} + double{fb}) + double{fc}) + double{fd};
    return average_with_nodata(static_cast<float>(sum / 4), none);
  }
}

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
  return method == Resampling::Mode ? mode(b) : average(b, none);
}

#if defined(__SSE2__)
/// average_of_four of Byte blocks sixteen at a time (SSE2): (sum + 2) / 4 in 16-bit lanes, a
/// result equal to nodata replaced as nodata_replacement does. A group of sixteen whose blocks
/// hold nodata goes to `one` (the cell-by-cell way) cell by cell. Returns where it stopped.
template <class One>
int64_t average_bytes16(const uint8_t* upper, const uint8_t* lower, uint8_t* out, int64_t count,
                        Nodata<uint8_t> none, const One& one) {
  const __m128i low_bytes = _mm_set1_epi16(0x00FF);
  const __m128i two = _mm_set1_epi16(2);
  const __m128i nodata = _mm_set1_epi8(static_cast<char>(none.value));
  const __m128i replacement =
      _mm_set1_epi8(static_cast<char>(none.set ? nodata_replacement(none.value) : 0));
  const auto load = [](const uint8_t* p) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  };
  // Pair sums of 16 bytes (8 blocks' upper or lower halves) in 16-bit lanes.
  const auto pairs = [&](__m128i v) {
    return _mm_add_epi16(_mm_and_si128(v, low_bytes), _mm_srli_epi16(v, 8));
  };
  int64_t x = 0;
  for (; x + 16 <= count; x += 16) {
    const __m128i u0 = load(upper + 2 * x), u1 = load(upper + 2 * x + 16);
    const __m128i l0 = load(lower + 2 * x), l1 = load(lower + 2 * x + 16);
    if (none.set) {
      const __m128i held =
          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(u0, nodata), _mm_cmpeq_epi8(u1, nodata)),
                       _mm_or_si128(_mm_cmpeq_epi8(l0, nodata), _mm_cmpeq_epi8(l1, nodata)));
      if (_mm_movemask_epi8(held) != 0) {
        for (int64_t k = x; k < x + 16; ++k) one(k);
        continue;
      }
    }
    const __m128i s0 = _mm_srli_epi16(_mm_add_epi16(_mm_add_epi16(pairs(u0), pairs(l0)), two), 2);
    const __m128i s1 = _mm_srli_epi16(_mm_add_epi16(_mm_add_epi16(pairs(u1), pairs(l1)), two), 2);
    __m128i v = _mm_packus_epi16(s0, s1);
    if (none.set) {
      const __m128i is_nodata = _mm_cmpeq_epi8(v, nodata);
      v = _mm_or_si128(_mm_andnot_si128(is_nodata, v), _mm_and_si128(is_nodata, replacement));
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + x), v);
  }
  return x;
}

/// average_of_four of Float32 blocks without nodata four at a time (SSE): ((upper-left +
/// lower-left) + (upper-right + lower-right)) * 0.25, the same operations in the same order.
/// Returns where it stopped.
inline int64_t average_floats4(const float* upper, const float* lower, float* out, int64_t count) {
  int64_t x = 0;
  for (; x + 4 <= count; x += 4) {
    const __m128 s0 = _mm_add_ps(_mm_loadu_ps(upper + 2 * x), _mm_loadu_ps(lower + 2 * x));
    const __m128 s1 = _mm_add_ps(_mm_loadu_ps(upper + 2 * x + 4), _mm_loadu_ps(lower + 2 * x + 4));
    const __m128 left = _mm_shuffle_ps(s0, s1, _MM_SHUFFLE(2, 0, 2, 0));
    const __m128 right = _mm_shuffle_ps(s0, s1, _MM_SHUFFLE(3, 1, 3, 1));
    _mm_storeu_ps(out + x, _mm_mul_ps(_mm_add_ps(left, right), _mm_set1_ps(0.25f)));
  }
  return x;
}
#endif

/// A row of overview cells whose blocks all lie inside the raster: averages of four valid cells
/// take the short way, every other block halve_block's.
template <class T>
void halve_full_row(const T* upper, int64_t stride, T* out, int64_t count, Resampling method,
                    Nodata<T> none) {
  const T* lower = upper + stride;
  const auto one = [&](int64_t x) {
    const T a = upper[2 * x], b = upper[2 * x + 1], c = lower[2 * x], d = lower[2 * x + 1];
    const bool valid = !(none.is(a) || none.is(b) || none.is(c) || none.is(d));
    if (method == Resampling::Average && valid) {
      out[x] = average_of_four(a, b, c, d, none);
    } else if (method == Resampling::Nearest) {
      out[x] = a;
    } else {
      out[x] = halve_block(upper, stride, x, 0, 2 * count, 2, method, none);
    }
  };
  int64_t x = 0;
#if defined(__SSE2__)
  if (method == Resampling::Average) {
    if constexpr (std::is_same_v<T, uint8_t>) {
      x = average_bytes16(upper, lower, out, count, none, one);
    } else if constexpr (std::is_same_v<T, float>) {
      if (!none.set) x = average_floats4(upper, lower, out, count);
    }
  }
#endif
  for (; x < count; ++x) one(x);
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

/// Cells of type T as GDAL 3.6 works them for overviews (GDALGetOvrWorkDataType): Byte and UInt16
/// as they are, every other type as float.
template <class T>
using Work =
    std::conditional_t<std::is_same_v<T, uint8_t> || std::is_same_v<T, uint16_t>, T, float>;

/// A float result as type T, the way GDAL's GDALCopyWords writes a float into a band: integers
/// rounded half away from zero (in float) and held in range.
template <class T>
T store_float(float v) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    const auto lo = static_cast<float>(std::numeric_limits<T>::lowest());
    const auto hi = static_cast<float>(std::numeric_limits<T>::max());
    if (std::isnan(v)) return T{0};
    const float r = v >= 0 ? v + 0.5f : v - 0.5f;
    if (r <= lo) return std::numeric_limits<T>::lowest();
    if (r >= hi) return std::numeric_limits<T>::max();
    return static_cast<T>(r);
  }
}

/// GDAL's kernels (GWKBilinear, GWKCubic: Catmull-Rom, a = -0.5) and their radius.
double kernel(Resampling method, double x) {
  const double a = std::fabs(x);
  if (method == Resampling::Bilinear) return a <= 1.0 ? 1.0 - a : 0.0;
  const double x2 = x * x;
  if (a <= 1.0) return x2 * (1.5 * a - 2.5) + 1.0;
  if (a <= 2.0) return x2 * (-0.5 * a + 2.5) - 4.0 * a + 2.0;
  return 0.0;
}

int kernel_radius(Resampling method) { return method == Resampling::Bilinear ? 1 : 2; }

/// Along one axis, where each destination cell of one level finds its source in the level
/// beneath: `ratio` is the source's size over the destination's, [lo, hi) the source cells held.
struct AxisWindow {
  int64_t nearest = 0;
  int64_t first = 0;  // AVERAGE and MODE: source cells [first, last)
  int64_t last = 0;
  double first_weight = 1;  // AVERAGE: the share of the first and last cells inside
  double last_weight = 1;
  double total = 0;    // AVERAGE: the weights' sum
  size_t weights = 0;  // kernels: where this cell's weights start in the weights
  int64_t start = 0;   // kernels: source cells [start, start + count)
  int64_t count = 0;
};

/// GDAL 3.6's windows for destination cells [from, to) (GDALResampleChunk_Near, _AverageOrRMS,
/// _Mode, _ConvolutionT), cut at [lo, hi). `horizontal` picks the way the kernel's positions are
/// stepped (one at a time across, four at a time down), which their rounding follows.
std::vector<AxisWindow> axis_windows(int64_t from, int64_t to, double ratio, int64_t lo, int64_t hi,
                                     Resampling method, bool horizontal,
                                     std::vector<double>& weights) {
  std::vector<AxisWindow> out;
  out.reserve(static_cast<size_t>(to - from));
  for (int64_t i = from; i < to; ++i) {
    AxisWindow w;
    w.nearest =
        std::clamp<int64_t>(static_cast<int64_t>(0.5 + static_cast<double>(i) * ratio), lo, hi - 1);
    const double s = static_cast<double>(i) * ratio;
    const double s2 = static_cast<double>(i + 1) * ratio;
    w.first = std::max<int64_t>(static_cast<int64_t>(s + 1e-8), lo);
    w.last = static_cast<int64_t>(std::ceil(s2 - 1e-8));
    if (w.last == w.first) ++w.last;
    w.last = std::min(w.last, hi);
    w.first_weight = w.last == w.first + 1 ? 1.0 : 1.0 - (s - static_cast<double>(w.first));
    w.last_weight = 1.0 - (static_cast<double>(w.last) - s2);
    w.total = w.first_weight;
    if (w.first + 1 < w.last) w.total += static_cast<double>(w.last - w.first - 2) + w.last_weight;
    if (method == Resampling::Bilinear || method == Resampling::Cubic) {
      const double scale = std::min(1.0, 1.0 / ratio);
      const double radius = kernel_radius(method) / scale;
      const double centre = (static_cast<double>(i) + 0.5) * ratio;
      const int64_t start =
          std::max<int64_t>(static_cast<int64_t>(std::floor(centre - radius + 0.5)), lo);
      const int64_t stop = std::min<int64_t>(static_cast<int64_t>(centre + radius + 0.5), hi);
      w.weights = weights.size();
      w.start = start;
      w.count = std::max<int64_t>(stop - start, 0);
      double sum = 0;
      int64_t k = 0;
      double x = scale * (static_cast<double>(start) - centre + 0.5);
      for (; k + 3 < w.count; k += 4) {
        std::array<double, 4> v{};
        for (int j = 0; j < 4; ++j) {
          v[static_cast<size_t>(j)] = kernel(method, horizontal ? x : x + j * scale);
          if (horizontal) x += scale;
        }
        if (!horizontal) x += 4 * scale;
        sum += ((v[0] + v[1]) + v[2]) + v[3];
        weights.insert(weights.end(), v.begin(), v.end());
      }
      for (; k < w.count; ++k, x += scale) {
        weights.push_back(kernel(method, x));
        sum += weights.back();
      }
      w.total = sum;
    }
    out.push_back(w);
  }
  return out;
}

/// The cells of the level beneath that one level's cells need, as the windows above.
template <class T>
struct Source {
  const T* cells;
  int64_t stride;
  Window window;  // in the level's cells
  T at(int64_t x, int64_t y) const { return cells[(y - window.y) * stride + (x - window.x)]; }
};

template <class T>
T average_cell(const Source<T>& src, const AxisWindow& wx, const AxisWindow& wy, bool even_x,
               bool row_tail, Nodata<T> none) {
  using W = Work<T>;
  const bool plain = even_x && wy.last == wy.first + 2 && wx.last == wx.first + 2 && !none.set;
  if (plain) {  // GDAL's short way for a 2 x 2 block of a band without nodata
    const auto a = static_cast<W>(src.at(wx.first, wy.first));
    const auto b = static_cast<W>(src.at(wx.first + 1, wy.first));
    const auto c = static_cast<W>(src.at(wx.first, wy.first + 1));
    const auto d = static_cast<W>(src.at(wx.first + 1, wy.first + 1));
    if constexpr (std::is_integral_v<W>) {
      return static_cast<T>((static_cast<uint32_t>(a) + b + c + d + 2) / 4);
    } else {
      // Its vector path pairs the columns; the last cells of a tile row, past a multiple of 4,
      // add in row order.
      const float sum = row_tail ? ((a + b) + c) + d : (a + c) + (b + d);
      return store_float<T>(sum * 0.25f);
    }
  }
  double total = 0;
  double weight = 0;
  int64_t count = 0;
  for (int64_t y = wy.first; y < wy.last; ++y) {
    const double wgt_y = y == wy.first ? wy.first_weight : y + 1 == wy.last ? wy.last_weight : 1.0;
    double line = 0;
    double line_weight = 0;
    for (int64_t x = wx.first; x < wx.last; ++x) {
      const T v = src.at(x, y);
      if (none.is(v)) continue;
      const double wgt_x = x == wx.first      ? wx.first_weight
                           : x + 1 == wx.last ? wx.last_weight
                                              : 1.0;
      line += static_cast<double>(static_cast<W>(v)) * wgt_x;
      line_weight += wgt_x;
      ++count;
    }
    total += line * wgt_y;
    weight += line_weight * wgt_y;
  }
  if (!none.set) weight = wx.total * wy.total;  // without nodata, from the windows alone
  if (count == 0) return none.value;
  if constexpr (std::is_integral_v<W>) {
    const auto out = static_cast<T>(total / weight + 0.5);
    return none.is(out) ? nodata_replacement(none.value) : out;
  } else {
    auto v = static_cast<float>(total / weight);
    if (none.set && v == static_cast<float>(none.value)) {
      if constexpr (std::is_integral_v<T>) return nodata_replacement(none.value);  // as above
      v = nodata_replacement(v);
    }
    return store_float<T>(v);
  }
}

template <class T>
T mode_cell(const Source<T>& src, const AxisWindow& wx, const AxisWindow& wy, Nodata<T> none,
            std::vector<T>& values, std::vector<int>& counts) {
  values.clear();
  counts.clear();
  size_t best = 0;
  int best_count = 0;
  for (int64_t y = wy.first; y < wy.last; ++y)
    for (int64_t x = wx.first; x < wx.last; ++x) {
      const T v = src.at(x, y);
      if (none.is(v)) continue;
      size_t k = 0;
      while (k < values.size() && !(values[k] == v)) ++k;
      if (k == values.size()) {
        values.push_back(v);
        counts.push_back(0);
      }
      if (++counts[k] > best_count) {
        best = k;
        best_count = counts[k];
      }
    }
  return values.empty() ? none.value : values[best];
}

/// BILINEAR and CUBIC as GDALResampleChunk_ConvolutionT: across first (each source row of the
/// window filtered into doubles), then down; without nodata with weights normalised to sum 1, with
/// nodata each pass divides by the weights of the valid cells (the mask GDAL reads is 0 or 255),
/// and for a kernel with `negative` weights a pass whose window has no run of valid cells half
/// its length long gives nodata.
/// The longest run of consecutive cells of [0, count) for which `valid` holds.
template <class F>
int64_t longest_valid_run(int64_t count, F valid) {
  int64_t run = 0, longest = 0;
  for (int64_t k = 0; k < count; ++k) {
    run = valid(k) ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return longest;
}

template <class T>
void convolve(const Source<T>& src, const std::vector<AxisWindow>& across,
              const std::vector<AxisWindow>& down, const std::vector<double>& wx_all,
              const std::vector<double>& wy_all, int64_t rows_first, int64_t rows_last,
              bool negative, Nodata<T> none, T* out, int64_t out_stride) {
  using W = Work<T>;
  const auto columns = static_cast<int64_t>(across.size());
  const int64_t rows = rows_last - rows_first;
  std::vector<double> filtered(static_cast<size_t>(rows * columns));
  std::vector<uint8_t> valid(static_cast<size_t>(rows * columns), 1);
  // Each column's weights, normalised without nodata (GDAL multiplies by 1 / sum).
  std::vector<double> wx(wx_all);
  if (!none.set)
    for (const AxisWindow& a : across)
      if (a.total != 0) {
        const double inv = 1.0 / a.total;
        for (int64_t k = 0; k < a.count; ++k) wx[a.weights + static_cast<size_t>(k)] *= inv;
      }
  // Row by row, column by column: each cell's sums as GDAL orders them.
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t y = rows_first + r;
    for (int64_t c = 0; c < columns; ++c) {
      const AxisWindow& a = across[static_cast<size_t>(c)];
      const double* w = wx.data() + a.weights;
      const size_t at = static_cast<size_t>(r * columns + c);
      if (!none.set) {
        double v1 = 0, v2 = 0;
        int64_t k = 0;
        for (; k + 3 < a.count; k += 4) {
          v1 += static_cast<W>(src.at(a.start + k, y)) * w[k];
          v1 += static_cast<W>(src.at(a.start + k + 1, y)) * w[k + 1];
          v2 += static_cast<W>(src.at(a.start + k + 2, y)) * w[k + 2];
          v2 += static_cast<W>(src.at(a.start + k + 3, y)) * w[k + 3];
        }
        for (; k < a.count; ++k) v1 += static_cast<W>(src.at(a.start + k, y)) * w[k];
        filtered[at] = v1 + v2;
        continue;
      }
      // A kernel with negative weights (CUBIC) gives nodata where no run of valid cells
      // covers half its window.
      if (negative && longest_valid_run(a.count, [&](int64_t j) {
                        return !none.is(src.at(a.start + j, y));
                      }) < a.count / 2) {
        filtered[at] = 0;
        valid[at] = 0;
        continue;
      }
      // GDAL's sums: the weights four at a time, then one by one.
      double value = 0, sum = 0;
      int64_t k = 0;
      const auto weight_of = [&](int64_t j) {
        return none.is(src.at(a.start + j, y)) ? 0.0 : w[j] * 255.0;
      };
      for (; k + 3 < a.count; k += 4) {
        std::array<double, 4> g{};
        for (int64_t j = 0; j < 4; ++j) {
          g[static_cast<size_t>(j)] = weight_of(k + j);
          value += static_cast<W>(src.at(a.start + k + j, y)) * g[static_cast<size_t>(j)];
        }
        sum += ((g[0] + g[1]) + g[2]) + g[3];
      }
      for (; k < a.count; ++k) {
        const double weight = weight_of(k);
        value += static_cast<W>(src.at(a.start + k, y)) * weight;
        sum += weight;
      }
      if (sum > 0) {
        filtered[at] = value / sum;
      } else {
        filtered[at] = 0;
        valid[at] = 0;
      }
    }
  }
  std::vector<double> w;
  std::vector<double> values(static_cast<size_t>(columns));
  std::vector<double> sums(static_cast<size_t>(columns));
  for (size_t r = 0; r < down.size(); ++r) {
    const AxisWindow& d = down[r];
    const double* base = wy_all.data() + d.weights;
    w.assign(base, base + d.count);
    if (!none.set && d.total != 0) {
      const double inv = 1.0 / d.total;
      for (double& v : w) v *= inv;
    }
    // Source row by source row, each column's sum in row order as GDAL's.
    std::fill(values.begin(), values.end(), 0.0);
    std::fill(sums.begin(), sums.end(), 0.0);
    for (int64_t k = 0; k < d.count; ++k) {
      const size_t line = static_cast<size_t>((d.start + k - rows_first) * columns);
      for (int64_t c = 0; c < columns; ++c) {
        const double weight = w[static_cast<size_t>(k)] * valid[line + static_cast<size_t>(c)];
        values[static_cast<size_t>(c)] += filtered[line + static_cast<size_t>(c)] * weight;
        sums[static_cast<size_t>(c)] += weight;
      }
    }
    T* row = out + static_cast<int64_t>(r) * out_stride;
    for (int64_t c = 0; c < columns; ++c) {
      const double value = values[static_cast<size_t>(c)];
      const double sum = sums[static_cast<size_t>(c)];
      if (!none.set) {
        row[c] = store_float<T>(static_cast<float>(value));
        continue;
      }
      const auto filtered_valid = [&](int64_t k) {
        return valid[static_cast<size_t>((d.start + k - rows_first) * columns + c)] != 0;
      };
      if (sum <= 0 || (negative && longest_valid_run(d.count, filtered_valid) < d.count / 2)) {
        row[c] = none.value;
        continue;
      }
      // Held in the type's range, then kept off nodata, as GDAL's replaceValIfNodata.
      auto f = static_cast<float>(value / sum);
      f = std::clamp(f, static_cast<float>(std::numeric_limits<T>::lowest()),
                     static_cast<float>(std::numeric_limits<T>::max()));
      const bool hits = std::is_integral_v<T>
                            ? static_cast<double>(none.value) == std::round(double{f})
                            : static_cast<float>(none.value) == f;
      row[c] = hits ? nodata_replacement(none.value) : store_float<T>(f);
    }
  }
}

template <class T>
void downsample_as(const LevelStep& step, ConstCellPlane from, Window from_window, CellPlane to,
                   Window to_window, Resampling method, std::optional<double> nodata) {
  const Source<T> src{static_cast<const T*>(from.cells), from.stride, from_window};
  auto* dst = static_cast<T*>(to.cells);
  const Nodata<T> none{nodata.has_value(), static_cast<T>(nodata.value_or(0.0))};
  const double rx = static_cast<double>(step.from.width) / static_cast<double>(step.to.width);
  const double ry = static_cast<double>(step.from.height) / static_cast<double>(step.to.height);
  std::vector<double> wx_all, wy_all;
  const auto across = axis_windows(to_window.x, to_window.right(), rx, from_window.x,
                                   from_window.right(), method, true, wx_all);
  const auto down = axis_windows(to_window.y, to_window.bottom(), ry, from_window.y,
                                 from_window.bottom(), method, false, wy_all);
  if (method == Resampling::Bilinear || method == Resampling::Cubic) {
    int64_t first = from_window.bottom(), last = from_window.y;
    for (const AxisWindow& d : down) {
      first = std::min(first, d.start);
      last = std::max(last, d.start + d.count);
    }
    if (last > first)
      convolve(src, across, down, wx_all, wy_all, first, last, method == Resampling::Cubic, none,
               dst, to.stride);
    return;
  }
  const bool even_x = step.from.width % 2 == 0;
  // The cells past the last multiple of 4 in each tile row of the level (GDAL's blocks).
  const int64_t tile_of_last = (step.to.width - 1) / step.tile_width * step.tile_width;
  std::vector<T> values;
  std::vector<int> counts;
  for (size_t r = 0; r < down.size(); ++r) {
    T* row = dst + static_cast<int64_t>(r) * to.stride;
    for (size_t c = 0; c < across.size(); ++c) {
      const AxisWindow& wx = across[c];
      const AxisWindow& wy = down[r];
      const int64_t x = to_window.x + static_cast<int64_t>(c);
      if (method == Resampling::Nearest) {
        row[c] = src.at(wx.nearest, wy.nearest);
      } else if (method == Resampling::Mode) {
        row[c] = mode_cell(src, wx, wy, none, values, counts);
      } else {
        const int64_t in_tile = x % step.tile_width;
        const int64_t block = x >= tile_of_last ? step.to.width - tile_of_last : step.tile_width;
        row[c] = average_cell(src, wx, wy, even_x, in_tile >= block - block % 4, none);
      }
    }
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

void downsample(PixelType type, const LevelStep& step, ConstCellPlane from, Window from_window,
                CellPlane to, Window to_window, Resampling method, std::optional<double> nodata) {
  visit(type, [&]<class T>(std::type_identity<T>) {
    downsample_as<T>(step, from, from_window, to, to_window, method, nodata);
  });
}

bool halves_exactly(const LevelStep& step, Resampling method, PixelType type,
                    std::optional<double> nodata) {
  if (method != Resampling::Nearest && method != Resampling::Average && method != Resampling::Mode)
    return false;
  if (step.from.width % 2 != 0 || step.from.height % 2 != 0) return false;
  if (method != Resampling::Average || nodata || type == PixelType::Byte ||
      type == PixelType::UInt16)
    return true;
  // GDAL adds the last cells of each tile row past a multiple of 4 another way (average_cell).
  const int64_t last_block =
      step.to.width - (step.to.width - 1) / step.tile_width * step.tile_width;
  return last_block % 4 == 0;
}

}  // namespace tessera
