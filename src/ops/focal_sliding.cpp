// Medians, percentiles and classes of square unweighted windows through a sliding histogram
// (Huang's algorithm). The tile's valid values are ranked once (sorted, equal values one rank);
// along each row the window keeps a count per rank, and moving one cell right removes a column
// of 2r + 1 cells and adds one. Order statistics find their rank in a Fenwick tree of the counts,
// O(r log n) a cell instead of the walk's O(r^2); mode, minority and diversity scan the counts of
// the tile's distinct values (few, for classes). The values are those the walk finds, so they do
// not depend on the tile.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "focal_kernels.hpp"

namespace tessera::ops::focal_detail {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr size_t kMaxClassRanks = 1024;

/// Counts per rank, with the k-th smallest found by descending the tree.
class RankCounts {
 public:
  explicit RankCounts(int32_t ranks) : tree_(static_cast<size_t>(ranks) + 1, 0) {
    top_ = 1;
    while (top_ * 2 <= static_cast<size_t>(ranks)) top_ *= 2;
  }
  void add(int32_t rank, int32_t delta) {
    for (auto i = static_cast<size_t>(rank) + 1; i < tree_.size(); i += i & (~i + 1))
      tree_[i] += delta;
    total_ += delta;
  }
  int32_t total() const { return total_; }
  /// The rank of the k-th smallest counted value, k from 0.
  int32_t kth(int32_t k) const {
    size_t at = 0;
    for (size_t step = top_; step > 0; step /= 2)
      if (at + step < tree_.size() && tree_[at + step] <= k) {
        at += step;
        k -= tree_[at];
      }
    return static_cast<int32_t>(at);
  }

 private:
  std::vector<int32_t> tree_;
  size_t top_ = 1;
  int32_t total_ = 0;
};

/// The cells the tile's windows can reach, as ranks of their values (-1 for nodata), and the
/// value of each rank.
struct Ranked {
  Window area;
  std::vector<int32_t> rank;
  std::vector<double> value;

  int32_t at(int64_t x, int64_t y) const {
    return rank[static_cast<size_t>((y - area.y) * area.width + (x - area.x))];
  }
};

template <class T>
Ranked rank_cells(const TileIn& in, ConstView<T> cells, const Valid<T>& valid, int64_t r) {
  const Window& o = in.owned;
  Ranked k;
  k.area.x = std::max<int64_t>(0, o.x - r);
  k.area.y = std::max<int64_t>(0, o.y - r);
  k.area.width = std::min(in.raster.width, o.right() + r) - k.area.x;
  k.area.height = std::min(in.raster.height, o.bottom() + r) - k.area.y;
  for (int64_t y = k.area.y; y < k.area.bottom(); ++y) {
    const T* src = row_at(in, cells, k.area.x, y);
    for (int64_t i = 0; i < k.area.width; ++i)
      if (valid(src[i])) k.value.push_back(static_cast<double>(src[i]));
  }
  std::sort(k.value.begin(), k.value.end());
  k.value.erase(std::unique(k.value.begin(), k.value.end()), k.value.end());
  k.rank.reserve(static_cast<size_t>(k.area.cells()));
  for (int64_t y = k.area.y; y < k.area.bottom(); ++y) {
    const T* src = row_at(in, cells, k.area.x, y);
    for (int64_t i = 0; i < k.area.width; ++i) {
      const auto v = static_cast<double>(src[i]);
      const auto at = std::lower_bound(k.value.begin(), k.value.end(), v) - k.value.begin();
      k.rank.push_back(valid(src[i]) ? static_cast<int32_t>(at) : -1);
    }
  }
  return k;
}

/// The q-quantile of the counted values, linear between the two nearest ranks (as the walk).
double quantile(const RankCounts& counts, const Ranked& k, double q) {
  const double at = q * static_cast<double>(counts.total() - 1);
  const auto i0 = static_cast<int32_t>(std::floor(at));
  const double v0 = k.value[static_cast<size_t>(counts.kth(i0))];
  if (static_cast<double>(i0) == at) return v0;
  const double v1 = k.value[static_cast<size_t>(counts.kth(i0 + 1))];
  return v0 * (static_cast<double>(i0) + 1 - at) + v1 * (at - static_cast<double>(i0));
}

/// Per-rank counts for the classes: mode (most cells), minority (fewest, of those present) and
/// diversity (ranks present), ties to the smallest value, found by a scan of the ranks.
class ClassCounts {
 public:
  explicit ClassCounts(size_t ranks) : count_(ranks, 0) {}
  void add(int32_t rank, int32_t delta) {
    int32_t& c = count_[static_cast<size_t>(rank)];
    present_ += (c == 0 && delta > 0) - (c + delta == 0 && delta < 0);
    c += delta;
    total_ += delta;
  }
  int32_t total() const { return total_; }
  double value(FocalMethod m, const Ranked& k) const {
    if (m == FocalMethod::Diversity) return present_;
    size_t best = 0;
    int32_t best_count = m == FocalMethod::Mode ? 0 : std::numeric_limits<int32_t>::max();
    for (size_t i = 0; i < count_.size(); ++i) {
      const int32_t c = count_[i];
      if (m == FocalMethod::Mode ? c > best_count : (c > 0 && c < best_count)) {
        best = i;
        best_count = c;
      }
    }
    return k.value[best];
  }

 private:
  std::vector<int32_t> count_;
  int32_t total_ = 0;
  int32_t present_ = 0;
};

bool is_class(FocalMethod m) {
  return m == FocalMethod::Mode || m == FocalMethod::Minority || m == FocalMethod::Diversity;
}

/// Slides `counts` (RankCounts or ClassCounts) over every owned row; `value(counts)` is a cell's.
template <class Counts, class Value>
void slide(const TileIn& in, const Ranked& k, int64_t r, Counts& counts, View<double> out,
           Value value) {
  const Window& o = in.owned;
  const int64_t left = k.area.x, right = k.area.right();
  const auto column = [&](int64_t x, int64_t y0, int64_t y1, int32_t delta) {
    for (int64_t y = y0; y < y1; ++y) {
      const int32_t rank = k.at(x, y);
      if (rank >= 0) counts.add(rank, delta);
    }
  };
  for (int64_t y = o.y; y < o.bottom(); ++y) {
    const int64_t y0 = std::max(k.area.y, y - r), y1 = std::min(k.area.bottom(), y + r + 1);
    for (int64_t x = std::max(left, o.x - r); x < std::min(right, o.x + r + 1); ++x)
      column(x, y0, y1, 1);
    double* dst = out.row(y - o.y);
    for (int64_t x = o.x; x < o.right(); ++x) {
      if (x > o.x) {
        if (x - r - 1 >= left) column(x - r - 1, y0, y1, -1);
        if (x + r < right) column(x + r, y0, y1, 1);
      }
      const bool nodata = k.at(x, y) < 0 || counts.total() == 0;
      dst[x - o.x] = nodata ? kNaN : value(counts);
    }
    for (int64_t x = std::max(left, o.right() - 1 - r); x < std::min(right, o.right() + r); ++x)
      column(x, y0, y1, -1);
  }
}

}  // namespace

bool slides(const FocalParams& p) {
  // At radius 1 ranking the tile costs more than walking windows of 9 cells (callgrind, 1000 x
  // 1000 Float32: 1.09 against 0.88 billion instructions; at radius 2 the walk takes 1.98);
  // both give the same values, so the choice never shows in the output.
  const bool ordered = p.method == FocalMethod::Median || p.method == FocalMethod::Percentile;
  return !p.circle && p.weights.empty() && p.radius >= 2 && (ordered || is_class(p.method));
}

template <class T>
void focal_sliding(const TileIn& in, ConstView<T> cells, View<double> out, const FocalParams& p) {
  const Valid<T> valid(in.nodata);
  const Ranked k = rank_cells(in, cells, valid, p.radius);
  const size_t ranks = std::max<size_t>(1, k.value.size());
  if (is_class(p.method)) {
    // A scan of the counts serves classes; a tile of many distinct values (a DEM) walks instead,
    // which gives the same values.
    if (ranks > kMaxClassRanks) return focal_walk(in, cells, out, p);
    ClassCounts counts(ranks);
    slide(in, k, p.radius, counts, out, [&](const ClassCounts& c) { return c.value(p.method, k); });
    return;
  }
  const double q = p.method == FocalMethod::Median ? 0.5 : p.percentile / 100;
  RankCounts counts(static_cast<int32_t>(ranks));
  slide(in, k, p.radius, counts, out, [&](const RankCounts& c) { return quantile(c, k, q); });
}

template void focal_sliding<int32_t>(const TileIn&, ConstView<int32_t>, View<double>,
                                     const FocalParams&);
template void focal_sliding<float>(const TileIn&, ConstView<float>, View<double>,
                                   const FocalParams&);
template void focal_sliding<double>(const TileIn&, ConstView<double>, View<double>,
                                    const FocalParams&);

}  // namespace tessera::ops::focal_detail
