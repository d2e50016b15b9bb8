// Windows of any shape and weight: each owned cell's valid window cells, then the statistic of
// those (value, weight) pairs. The cost grows with the window's area; focal_running serves the
// square unweighted windows of the methods that allow a cost independent of it.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "focal_kernels.hpp"

namespace tessera::ops::focal_detail {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// The window's cells relative to its centre: every cell of the square, or those at a distance
/// <= radius (circle), with their weights; cells of weight 0 are not in the window.
std::vector<Offset> offsets_of(const FocalParams& p) {
  std::vector<Offset> offsets;
  const int64_t r = p.radius, w = 2 * r + 1;
  for (int64_t dy = -r; dy <= r; ++dy)
    for (int64_t dx = -r; dx <= r; ++dx) {
      if (p.circle && dx * dx + dy * dy > r * r) continue;
      const double weight =
          p.weights.empty() ? 1.0 : p.weights[static_cast<size_t>((dy + r) * w + dx + r)];
      if (weight != 0) offsets.push_back({dx, dy, weight});
    }
  return offsets;
}

/// The value at fraction q (0..1) of the sorted values, interpolated linearly between the two
/// nearest ranks (Hyndman and Fan's type 7, as r.neighbors and numpy compute it).
double quantile(std::vector<Sample>& s, double q) {
  const auto by_value = [](const Sample& a, const Sample& b) { return a.value < b.value; };
  const double k = q * static_cast<double>(s.size() - 1);
  const auto i0 = static_cast<size_t>(std::floor(k));
  std::nth_element(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(i0), s.end(), by_value);
  const double v0 = s[i0].value;
  if (static_cast<double>(i0) == k) return v0;
  const double v1 =
      std::min_element(s.begin() + static_cast<std::ptrdiff_t>(i0) + 1, s.end(), by_value)->value;
  return v0 * (static_cast<double>(i0) + 1 - k) + v1 * (k - static_cast<double>(i0));
}

/// The smallest value whose share of the total weight, with every smaller value's, reaches q.
double weighted_quantile(std::vector<Sample>& s, double q) {
  std::sort(s.begin(), s.end(), [](const Sample& a, const Sample& b) { return a.value < b.value; });
  double total = 0;
  for (const Sample& x : s) total += x.weight;
  double below = 0;
  for (const Sample& x : s) {
    below += x.weight;
    if (below >= q * total) return x.value;
  }
  return s.back().value;
}

/// Mode (most weight), minority (least weight) or diversity (distinct values); ties go to the
/// smallest value.
double classes(std::vector<Sample>& s, FocalMethod m) {
  std::sort(s.begin(), s.end(), [](const Sample& a, const Sample& b) { return a.value < b.value; });
  double best = kNaN, best_weight = 0;
  int64_t distinct = 0;
  for (size_t i = 0; i < s.size();) {
    double weight = 0;
    size_t j = i;
    for (; j < s.size() && s[j].value == s[i].value; ++j) weight += s[j].weight;
    const bool better = m == FocalMethod::Mode ? weight > best_weight : weight < best_weight;
    if (distinct == 0 || better) {
      best = s[i].value;
      best_weight = weight;
    }
    ++distinct;
    i = j;
  }
  return m == FocalMethod::Diversity ? static_cast<double>(distinct) : best;
}

double statistic(const FocalParams& p, std::vector<Sample>& s) {
  double sum = 0, weights = 0;
  for (const Sample& x : s) {
    sum += x.weight * x.value;
    weights += x.weight;
  }
  const bool weighted = !p.weights.empty();
  switch (p.method) {
    case FocalMethod::Mean:
      return sum / weights;
    case FocalMethod::Sum:
      return sum;
    case FocalMethod::Count:  // r.neighbors' w_count: a weight of N counts as N cells
      return weighted ? weights : static_cast<double>(s.size());
    case FocalMethod::Variance:
    case FocalMethod::Stddev: {
      const double mean = sum / weights;
      double squares = 0;
      for (const Sample& x : s) squares += x.weight * (x.value - mean) * (x.value - mean);
      const double variance = squares / weights;
      return p.method == FocalMethod::Variance ? variance : std::sqrt(variance);
    }
    case FocalMethod::Min:
    case FocalMethod::Max:
    case FocalMethod::Range: {
      // The total order, -0 below +0, as the square windows' extremes (focal_running).
      const auto [lo, hi] =
          std::minmax_element(s.begin(), s.end(), [](const Sample& a, const Sample& b) {
            return a.value < b.value ||
                   (a.value == b.value && std::signbit(a.value) && !std::signbit(b.value));
          });
      return p.method == FocalMethod::Min   ? lo->value
             : p.method == FocalMethod::Max ? hi->value
                                            : hi->value - lo->value;
    }
    case FocalMethod::Median:
      return weighted ? weighted_quantile(s, 0.5) : quantile(s, 0.5);
    case FocalMethod::Percentile:
      return weighted ? weighted_quantile(s, p.percentile / 100) : quantile(s, p.percentile / 100);
    case FocalMethod::Mode:
    case FocalMethod::Minority:
    case FocalMethod::Diversity:
      return classes(s, p.method);
  }
  return kNaN;
}

}  // namespace

template <class T>
WindowWalk<T>::WindowWalk(const TileIn& in, ConstView<T> cells, const FocalParams& p)
    : in_(in), cells_(cells), p_(p), valid_(in.nodata), offsets_(offsets_of(p)) {
  samples_.reserve(offsets_.size());
}

template <class T>
double WindowWalk<T>::at(int64_t x, int64_t y) {
  if (!valid_(*row_at(in_, cells_, x, y))) return kNaN;
  samples_.clear();
  for (const Offset& d : offsets_) {
    const int64_t cx = x + d.dx, cy = y + d.dy;
    if (cx < 0 || cy < 0 || cx >= in_.raster.width || cy >= in_.raster.height) continue;
    const T v = *row_at(in_, cells_, cx, cy);
    if (valid_(v)) samples_.push_back({static_cast<double>(v), d.weight});
  }
  return samples_.empty() ? kNaN : statistic(p_, samples_);
}

template <class T>
void focal_walk(const TileIn& in, ConstView<T> cells, RowsOut& out, const FocalParams& p) {
  WindowWalk<T> walk(in, cells, p);
  const Window& o = in.owned;
  for (int64_t y = o.y; y < o.bottom(); ++y) {
    double* dst = out.row(y - o.y);
    for (int64_t x = o.x; x < o.right(); ++x) dst[x - o.x] = walk.at(x, y);
  }
}

template class WindowWalk<int32_t>;
template class WindowWalk<float>;
template class WindowWalk<double>;
template void focal_walk<int32_t>(const TileIn&, ConstView<int32_t>, RowsOut&, const FocalParams&);
template void focal_walk<float>(const TileIn&, ConstView<float>, RowsOut&, const FocalParams&);
template void focal_walk<double>(const TileIn&, ConstView<double>, RowsOut&, const FocalParams&);

}  // namespace tessera::ops::focal_detail
