// focal.* on synthetic rasters: the running windows against the block arithmetic docs/jobs.md
// states, written out cell by cell here; the other methods against a brute-force walk of each
// window; the same bits whatever the tiling; options, weights files and output types.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "raster_fixture.hpp"
#include "tessera/core/error.hpp"
#include "tessera/ops/focal.hpp"

namespace tessera::ops {
namespace {

using testing::make_raster;
using testing::Raster;
using testing::run_tiled;
using testing::run_whole;

constexpr float kNoData = -9999.0f;
constexpr double kInf = std::numeric_limits<double>::infinity();

std::unique_ptr<Op> focal_op(const std::string& name, double radius, Options more = {}) {
  more["radius"] = radius;
  return make_op(name, more);
}

/// A bumpy surface with a scatter of nodata cells (-1) and NaN cells.
Raster<float> bumpy(int64_t width, int64_t height) {
  auto r = make_raster<float>(width, height, [](int64_t x, int64_t y) {
    if ((x * 7 + y * 13) % 23 == 0) return -1.0f;
    if ((x * 5 + y * 3) % 41 == 0) return std::numeric_limits<float>::quiet_NaN();
    return static_cast<float>(std::sin(0.3 * x) * 1000.0 + std::cos(0.17 * y) * 3.7 + x * 0.001);
  });
  r.nodata = -1;
  r.type = PixelType::Float32;
  return r;
}

/// The bumpy surface with cells of +-1e20 among the others, so that float64 sums lose the small
/// values in some orders and not in others: results that depend on the order of the sums show
/// even after rounding to Float32.
Raster<float> wild(int64_t width, int64_t height) {
  auto r = bumpy(width, height);
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x)
      if ((x * 31 + y * 17) % 11 == 0 && r.at(x, y) != -1.0f && !std::isnan(r.at(x, y)))
        r.at(x, y) = (x + y) % 2 ? 1e20f : -1e20f;
  return r;
}

/// Classes 1..6 (as land cover) with nodata 0.
Raster<float> classes(int64_t width, int64_t height) {
  auto r = make_raster<float>(width, height, [](int64_t x, int64_t y) {
    if ((x * 3 + y * 11) % 29 == 0) return 0.0f;
    return static_cast<float>(1 + (x * x + 3 * y + x * y / 3) % 6);
  });
  r.nodata = 0;
  r.type = PixelType::Byte;
  return r;
}

bool is_valid(const Raster<float>& r, int64_t x, int64_t y) {
  const float v = r.cells[static_cast<size_t>(y * r.width + x)];
  return !std::isnan(v) && !(r.nodata && v == static_cast<float>(*r.nodata));
}

/// a < b in the total order of values that are not NaN: -0 below +0.
bool total_less(double a, double b) {
  return a < b || (a == b && std::signbit(a) && !std::signbit(b));
}

/// The window [a, b] of positions 0 .. n - 1 combined as docs/jobs.md says: blocks of w from
/// position 0; prefixes from a block's start, suffixes to its end; P(b), S(a), or S(a) + P(b).
double blocked(const std::function<double(int64_t)>& v, int64_t a, int64_t b, int64_t w, int64_t n,
               const std::function<double(double, double)>& combine) {
  const auto prefix = [&](int64_t i) {
    double s = v(i - i % w);
    for (int64_t k = i - i % w + 1; k <= i; ++k) s = combine(s, v(k));
    return s;
  };
  const auto suffix = [&](int64_t i) {
    const int64_t end = std::min(i - i % w + w - 1, n - 1);
    double s = v(end);
    for (int64_t k = end - 1; k >= i; --k) s = combine(s, v(k));
    return s;
  };
  if (a % w == 0) return prefix(b);
  if (a / w == b / w) return suffix(a);
  return combine(suffix(a), prefix(b));
}

/// Each cell's value by the block arithmetic: columns, then rows of column values.
std::vector<float> block_reference(const Raster<float>& r, const std::string& stat,
                                   int64_t radius) {
  const int64_t w = 2 * radius + 1;
  const auto add = [](double a, double b) { return a + b; };
  // Extremes in the total order, -0 below +0: the same bits in any order of combination.
  const auto min = [](double a, double b) { return total_less(b, a) ? b : a; };
  const auto max = [](double a, double b) { return total_less(a, b) ? b : a; };
  // One lane: what a valid cell brings, what an invalid one brings, how they combine.
  const auto lane = [&](int64_t x, int64_t y, const std::function<double(double)>& term,
                        double none, const std::function<double(double, double)>& combine) {
    const int64_t ya = std::max<int64_t>(0, y - radius), yb = std::min(r.height - 1, y + radius);
    const int64_t xa = std::max<int64_t>(0, x - radius), xb = std::min(r.width - 1, x + radius);
    const auto column = [&](int64_t cx) {
      return blocked(
          [&](int64_t cy) {
            return is_valid(r, cx, cy) ? term(r.cells[static_cast<size_t>(cy * r.width + cx)])
                                       : none;
          },
          ya, yb, w, r.height, combine);
    };
    return blocked(column, xa, xb, w, r.width, combine);
  };
  const auto value = [](double v) { return v; };
  const auto square = [](double v) { return v * v; };
  const auto one = [](double) { return 1.0; };
  std::vector<float> out(r.cells.size());
  for (int64_t y = 0; y < r.height; ++y)
    for (int64_t x = 0; x < r.width; ++x) {
      double v = 0;
      const double sum = lane(x, y, value, 0, add), count = lane(x, y, one, 0, add);
      if (stat == "mean") v = sum / count;
      if (stat == "sum") v = sum;
      if (stat == "count") v = count;
      if (stat == "variance" || stat == "stddev") {
        const double squares = lane(x, y, square, 0, add);
        v = std::max(0.0, (squares - sum * (sum / count)) / count);
        if (stat == "stddev") v = std::sqrt(v);
      }
      const double lo = lane(x, y, value, kInf, min), hi = lane(x, y, value, -kInf, max);
      if (stat == "min") v = lo;
      if (stat == "max") v = hi;
      if (stat == "range") v = hi - lo;
      out[static_cast<size_t>(y * r.width + x)] =
          is_valid(r, x, y) ? static_cast<float>(v) : kNoData;
    }
  return out;
}

/// The valid (value, weight) cells of each window, and a statistic of them written plainly.
struct Walk {
  int64_t radius = 1;
  bool circle = false;
  std::vector<double> weights;
};

double plain_statistic(const std::string& stat, std::vector<std::pair<double, double>> s,
                       double q) {
  std::sort(s.begin(), s.end());
  std::map<double, double> weight_of;
  double sum = 0, total = 0;
  for (const auto& [v, w] : s) {
    weight_of[v] += w;
    sum += v * w;
    total += w;
  }
  if (stat == "mean") return sum / total;
  if (stat == "sum") return sum;
  if (stat == "count") return total;  // with weights, their sum (r.neighbors' w_count)
  const auto by_value = [](const auto& p, const auto& q) { return total_less(p.first, q.first); };
  if (stat == "min") return std::min_element(s.begin(), s.end(), by_value)->first;
  if (stat == "max") return std::max_element(s.begin(), s.end(), by_value)->first;
  if (stat == "diversity") return static_cast<double>(weight_of.size());
  if (stat == "mode" || stat == "minority") {
    auto best = weight_of.begin();
    for (auto it = weight_of.begin(); it != weight_of.end(); ++it)
      if (stat == "mode" ? it->second > best->second : it->second < best->second) best = it;
    return best->first;
  }
  // Percentiles: type 7 (numpy's default) unweighted; the first value whose cumulative weight
  // reaches q of the total when weighted.
  if (!std::all_of(s.begin(), s.end(), [](const auto& p) { return p.second == 1; })) {
    double below = 0;
    for (const auto& [v, w] : s)
      if ((below += w) >= q * total) return v;
  }
  const double k = q * static_cast<double>(s.size() - 1);
  const auto i0 = static_cast<size_t>(std::floor(k)), i1 = static_cast<size_t>(std::ceil(k));
  return s[i0].first + (s[i1].first - s[i0].first) * (k - static_cast<double>(i0));
}

std::vector<float> walk_reference(const Raster<float>& r, const std::string& stat, const Walk& p,
                                  double q = 0.5) {
  std::vector<float> out(r.cells.size());
  const int64_t n = 2 * p.radius + 1;
  for (int64_t y = 0; y < r.height; ++y)
    for (int64_t x = 0; x < r.width; ++x) {
      std::vector<std::pair<double, double>> s;
      for (int64_t dy = -p.radius; dy <= p.radius; ++dy)
        for (int64_t dx = -p.radius; dx <= p.radius; ++dx) {
          const int64_t cx = x + dx, cy = y + dy;
          const double w =
              p.weights.empty()
                  ? 1.0
                  : p.weights[static_cast<size_t>((dy + p.radius) * n + dx + p.radius)];
          if (cx < 0 || cy < 0 || cx >= r.width || cy >= r.height || w == 0) continue;
          if (p.circle && dx * dx + dy * dy > p.radius * p.radius) continue;
          if (is_valid(r, cx, cy))
            s.emplace_back(r.cells[static_cast<size_t>(cy * r.width + cx)], w);
        }
      out[static_cast<size_t>(y * r.width + x)] =
          is_valid(r, x, y) && !s.empty() ? static_cast<float>(plain_statistic(stat, s, q))
                                          : kNoData;
    }
  return out;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

int64_t cells_apart(const std::vector<float>& a, const std::vector<float>& b, double tolerance) {
  int64_t apart = 0;
  for (size_t i = 0; i < a.size(); ++i)
    apart += std::fabs(static_cast<double>(a[i]) - b[i]) > tolerance * (1 + std::fabs(b[i]));
  return apart;
}

const std::vector<std::pair<int64_t, int64_t>> kTilings{{16, 16}, {7, 5}, {1, 41}, {53, 1}};

TEST(Focal, MeanOfAConstantIsTheConstantUpToTheEdges) {
  const auto r = make_raster<float>(9, 7, [](int64_t, int64_t) { return 2.5f; });
  for (float v : run_whole<float, float>(*focal_op("focal.mean", 2), r)) EXPECT_EQ(v, 2.5f);
}

TEST(Focal, EdgesAverageOnlyTheCellsThatExist) {
  // 3 x 2 raster 1 2 3 / 4 5 6, radius 1: the corner (0, 0) sees 1, 2, 4, 5.
  const auto r = make_raster<float>(
      3, 2, [](int64_t x, int64_t y) { return static_cast<float>(1 + x + 3 * y); });
  const auto run = [&](const std::string& name) {
    return run_whole<float, float>(*focal_op(name, 1), r);
  };
  EXPECT_EQ(run("focal.mean"), (std::vector<float>{3.0f, 3.5f, 4.0f, 3.0f, 3.5f, 4.0f}));
  EXPECT_EQ(run("focal.sum"), (std::vector<float>{12, 21, 16, 12, 21, 16}));
  EXPECT_EQ(run("focal.min"), (std::vector<float>{1, 1, 2, 1, 1, 2}));
  EXPECT_EQ(run("focal.max"), (std::vector<float>{5, 6, 6, 5, 6, 6}));
  EXPECT_EQ(run("focal.range"), (std::vector<float>{4, 5, 4, 4, 5, 4}));
  EXPECT_EQ(run("focal.count"), (std::vector<float>{4, 6, 4, 4, 6, 4}));
  EXPECT_EQ(run("focal.variance"), (std::vector<float>{2.5f, static_cast<float>(17.5 / 6), 2.5f,
                                                       2.5f, static_cast<float>(17.5 / 6), 2.5f}));
  EXPECT_EQ(run("focal.median"), (std::vector<float>{3, 3.5f, 4, 3, 3.5f, 4}));
}

TEST(Focal, NodataCellsAreLeftOutAndANodataCentreStaysNodata) {
  // 3 x 3, nodata 0 at the centre and the top-left corner.
  auto r = make_raster<float>(
      3, 3, [](int64_t x, int64_t y) { return static_cast<float>(1 + x + 3 * y); });
  r.nodata = 0;
  r.at(1, 1) = 0;
  r.at(0, 0) = 0;
  const auto mean = run_whole<float, float>(*focal_op("focal.mean", 1), r);
  EXPECT_EQ(mean[0], kNoData);                 // the corner itself is nodata
  EXPECT_EQ(mean[4], kNoData);                 // so is the centre
  EXPECT_EQ(mean[1], (2.0f + 3 + 4 + 6) / 4);  // (1, 0) sees 2, 3, 4, 6: two nodata left out
  EXPECT_EQ(mean[8], (6.0f + 8 + 9) / 3);
}

TEST(Focal, AValidCentreAmongNodataIsItsOwnMean) {
  auto r = make_raster<float>(3, 1, [](int64_t x, int64_t) { return x == 1 ? 4.0f : -7.0f; });
  r.nodata = -7;
  const auto mean = run_whole<float, float>(*focal_op("focal.mean", 1), r);
  EXPECT_EQ(mean, (std::vector<float>{kNoData, 4.0f, kNoData}));
}

TEST(Focal, RunningWindowsEqualTheBlockArithmeticBitForBitWhateverTheTiling) {
  const auto r = wild(53, 41);
  for (const std::string stat :
       {"mean", "sum", "count", "variance", "stddev", "min", "max", "range"})
    for (int64_t radius : {1, 2, 5}) {
      const auto op = focal_op("focal." + stat, static_cast<double>(radius));
      const auto want = block_reference(r, stat, radius);
      EXPECT_TRUE(same_bits(run_whole<float, float>(*op, r), want)) << stat << " r" << radius;
      for (const auto& [tw, th] : kTilings)
        EXPECT_TRUE(same_bits(run_tiled<float, float>(*op, r, tw, th).at(0), want))
            << stat << " r" << radius << " tiles " << tw << " x " << th;
    }
}

TEST(Focal, RadiusOneEqualsTheBlockArithmeticBesideZerosTinyValuesAndInfinities) {
  // Where the orders of a 3 x 3 window's combinations can differ: 1e-30 beside 500 (sums
  // round), infinities; -0 beside +0, where an extreme taken with < or > keeps whichever came
  // first (the extremes here take -0 below +0 in any order); and DEM-like values where every
  // order gives the same bits. A kernel that took one order for every sum fails here.
  auto r = make_raster<float>(61, 47, [](int64_t x, int64_t y) {
    const auto v = static_cast<float>(500.0 + 37.0 * std::sin(0.21 * x) + 0.013 * x * y);
    if (x > 40 && y < 20 && (x + y) % 3 == 0) return (x % 2 ? -0.0f : 0.0f);
    if (x < 15 && y > 30 && (x * y) % 5 == 1) return 1e-30f;
    if (x > 45 && y > 38 && (x + 2 * y) % 13 == 0) return (x % 2 ? 1.0f : -1.0f) * INFINITY;
    return v;
  });
  r.type = PixelType::Float32;
  for (const std::string stat : {"mean", "sum", "min", "max", "range", "stddev"}) {
    const auto op = focal_op("focal." + stat, 1.0);
    const auto want = block_reference(r, stat, 1);
    EXPECT_TRUE(same_bits(run_whole<float, float>(*op, r), want)) << stat;
    for (const auto& [tw, th] : kTilings)
      EXPECT_TRUE(same_bits(run_tiled<float, float>(*op, r, tw, th).at(0), want))
          << stat << " tiles " << tw << " x " << th;
  }
}

TEST(Focal, RastersWithoutNodataCountTheirWindowsAsTheRunningCountWould) {
  // No nodata in a tile's reach: the count is the window's cells inside the raster, computed
  // instead of added up; tiles with and without nodata must still agree with the arithmetic.
  auto r = make_raster<float>(41, 37, [](int64_t x, int64_t y) {
    return static_cast<float>(std::sin(0.3 * x) * 1000.0 + std::cos(0.17 * y) * 3.7);
  });
  r.type = PixelType::Float32;
  auto holed = r;
  holed.nodata = -1;
  holed.at(30, 30) = -1;
  for (const auto* raster : {&r, &holed})
    for (const std::string stat : {"mean", "count", "variance", "stddev"})
      for (int64_t radius : {1, 4}) {
        const auto op = focal_op("focal." + stat, static_cast<double>(radius));
        const auto want = block_reference(*raster, stat, radius);
        for (const auto& [tw, th] : kTilings)
          EXPECT_TRUE(same_bits(run_tiled<float, float>(*op, *raster, tw, th).at(0), want))
              << stat << " r" << radius << " tiles " << tw << " x " << th;
      }
}

TEST(Focal, TheOrderOfTheSumsShowsInTheTestRaster) {
  // The block sums and plain left-to-right sums of the same windows differ in some cells of
  // the test raster, so the test above would see a kernel that summed in another order.
  const auto r = wild(53, 41);
  const auto blocks = block_reference(r, "mean", 5);
  const auto plain = walk_reference(r, "mean", Walk{5, false, {}});
  EXPECT_GT(cells_apart(blocks, plain, 1e-3), 100);
}

TEST(Focal, RadiusWiderThanTheRaster) {
  const auto r = wild(6, 4);
  for (const std::string stat : {"mean", "stddev", "max"}) {
    const auto op = focal_op("focal." + stat, 9);
    EXPECT_TRUE(same_bits(run_tiled<float, float>(*op, r, 4, 3).at(0), block_reference(r, stat, 9)))
        << stat;
  }
}

TEST(Focal, OrderStatisticsAndClassesEqualABruteForceWalkWhateverTheTiling) {
  const auto dem = bumpy(37, 29);
  const auto land = classes(37, 29);
  const std::vector<std::tuple<std::string, Raster<float>, double>> cases{
      {"median", dem, 0.5},    {"quart1", dem, 0.25},    {"quart3", dem, 0.75}, {"mode", land, 0.5},
      {"minority", land, 0.5}, {"diversity", land, 0.5}, {"median", land, 0.5}};
  for (const auto& [stat, r, q] : cases)
    for (int64_t radius : {1, 3})
      for (bool circle : {false, true}) {
        const auto op =
            focal_op("focal." + stat, static_cast<double>(radius), {{"circle", circle}});
        const auto want = walk_reference(r, stat == "quart1" || stat == "quart3" ? "perc" : stat,
                                         Walk{radius, circle, {}}, q);
        const std::string what = stat + " r" + std::to_string(radius) + (circle ? " circle" : "");
        EXPECT_EQ(cells_apart(run_whole<float, float>(*op, r), want, 1e-7), 0) << what;
        for (const auto& [tw, th] : kTilings)
          EXPECT_TRUE(same_bits(run_tiled<float, float>(*op, r, tw, th).at(0),
                                run_whole<float, float>(*op, r)))
              << what << " tiles " << tw << " x " << th;
      }
}

TEST(Focal, ClassesOfManyValuesGiveTheSameWhicheverWayATileTakes) {
  // Over 1024 distinct values a tile walks its windows for mode, minority and diversity; small
  // tiles hold fewer and slide a histogram. Both must give the brute-force values.
  auto r = make_raster<float>(61, 47, [](int64_t x, int64_t y) {
    return static_cast<float>((x * 131 + y * 71 + x * y) % 5000);
  });
  r.type = PixelType::Int16;
  for (const std::string stat : {"mode", "minority", "diversity"}) {
    const auto op = focal_op("focal." + stat, 3);
    const auto want = walk_reference(r, stat, Walk{3, false, {}});
    EXPECT_TRUE(same_bits(run_whole<float, float>(*op, r), want)) << stat;
    EXPECT_TRUE(same_bits(run_tiled<float, float>(*op, r, 7, 5).at(0), want)) << stat;
  }
}

TEST(Focal, SlidingOrderStatisticsOverManyDistinctValuesEqualTheWalk) {
  // Over 4096 distinct values in a tile every level of the sliding histogram's counts is used;
  // Float32 and Int32 cells are ranked by their keys, Float64 ones by a search.
  auto r = make_raster<float>(83, 79, [](int64_t x, int64_t y) {
    if ((x * 7 + y * 13) % 23 == 0) return -1.0f;
    return static_cast<float>((x * 7919 + y * 104729) % 65521) - 30000.0f;
  });
  r.nodata = -1;
  Raster<int32_t> ints{r.width, r.height, {}, r.nodata, PixelType::Int32};
  Raster<double> doubles{r.width, r.height, {}, r.nodata, PixelType::Float64};
  for (const float v : r.cells) {
    ints.cells.push_back(static_cast<int32_t>(v));
    doubles.cells.push_back(v);
  }
  for (const auto& [stat, q] : {std::pair<std::string, double>{"median", 0.5}, {"quart3", 0.75}}) {
    const auto op = focal_op("focal." + stat, 2);
    const auto want = walk_reference(r, stat == "median" ? stat : "perc", Walk{2, false, {}}, q);
    EXPECT_TRUE(same_bits(run_whole<float, float>(*op, r), want)) << stat;
    EXPECT_TRUE(same_bits(run_whole<int32_t, float>(*op, ints), want)) << stat;
    EXPECT_TRUE(same_bits(run_whole<double, float>(*op, doubles), want)) << stat;
    EXPECT_TRUE(same_bits(run_tiled<float, float>(*op, r, 16, 16).at(0), want)) << stat;
  }
}

TEST(Focal, AnyPercentile) {
  // Radius 1 walks the windows; radius 4 slides a histogram of ranks along each row.
  const auto r = bumpy(23, 19);
  for (int64_t radius : {1, 4})
    for (double pct : {0.0, 10.0, 37.5, 90.0, 100.0}) {
      const auto op =
          focal_op("focal.percentile", static_cast<double>(radius), {{"percentile", pct}});
      EXPECT_EQ(cells_apart(run_tiled<float, float>(*op, r, 7, 5).at(0),
                            walk_reference(r, "perc", Walk{radius, false, {}}, pct / 100), 1e-7),
                0)
          << pct << " r" << radius;
    }
}

TEST(Focal, CircularWindowsHoldTheCellsWithinTheRadius) {
  // A 7 x 7 raster of ones, radius 3: the centre's circle holds 29 cells (dx^2 + dy^2 <= 9).
  const auto r = make_raster<float>(7, 7, [](int64_t, int64_t) { return 1.0f; });
  const auto count = run_whole<float, float>(*focal_op("focal.count", 3, {{"circle", true}}), r);
  EXPECT_EQ(count[3 * 7 + 3], 29);
  EXPECT_EQ(count[0], 11);  // the corner: dx, dy in 0..3 with dx^2 + dy^2 <= 9 (4 + 3 + 3 + 1)
  const auto dem = bumpy(31, 23);
  for (const std::string stat : {"mean", "sum", "min", "max"})
    EXPECT_EQ(cells_apart(run_tiled<float, float>(*focal_op("focal." + stat, 2, {{"circle", true}}),
                                                  dem, 9, 4)
                              .at(0),
                          walk_reference(dem, stat, Walk{2, true, {}}), 1e-6),
              0)
        << stat;
}

/// A weights file in the test's temporary folder.
std::string weights_file(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("tessera-focal-" + name);
  std::ofstream(path) << text;
  return path.string();
}

TEST(Focal, WeightsFromAFileAndGaussianWeights) {
  const auto r = bumpy(29, 21);
  const std::vector<double> w{1, 2, 1, 2, 4, 2, 1, 2, 1};
  const std::string path = weights_file("w3", "1 2 1\n2 4 2\n\n1 2 1\n");
  for (const std::string stat : {"mean", "sum", "median", "max", "count"}) {
    const auto op = focal_op("focal." + stat, 1, {{"weights_file", path}});
    EXPECT_EQ(cells_apart(run_tiled<float, float>(*op, r, 5, 6).at(0),
                          walk_reference(r, stat, Walk{1, false, w}), 1e-6),
              0)
        << stat;
  }
  std::vector<double> gauss;
  for (int dy = -2; dy <= 2; ++dy)
    for (int dx = -2; dx <= 2; ++dx)
      gauss.push_back(std::exp(-(dx * dx + dy * dy) / (2 * 1.5 * 1.5)) / (2 * M_PI * 1.5 * 1.5));
  const auto op = focal_op("focal.mean", 2, {{"gauss", 1.5}});
  EXPECT_EQ(cells_apart(run_whole<float, float>(*op, r),
                        walk_reference(r, "mean", Walk{2, false, gauss}), 1e-6),
            0);
}

std::string error_of(const std::string& name, const Options& options) {
  try {
    make_op(name, options);
  } catch (const OptionError& e) {
    return e.key() + ": " + e.what();
  }
  return "";
}

TEST(Focal, BadWeightsFilesNameTheirLine) {
  const auto err = [](const std::string& text) {
    return error_of("focal.mean", {{"size", 3.0}, {"weights_file", weights_file("bad", text)}});
  };
  EXPECT_NE(err("1 1 1\n1 x 1\n1 1 1\n").find("tessera-focal-bad:2: 'x' is not a number"),
            std::string::npos)
      << err("1 1 1\n1 x 1\n1 1 1\n");
  EXPECT_NE(err("1 1 1\n1 1\n1 1 1\n").find(":2: expected 3 weights"), std::string::npos);
  EXPECT_NE(err("1 1 1\n1 1 1\n").find(":2: expected 3 rows of weights, found 2"),
            std::string::npos);
  EXPECT_NE(err("1 1 1\n1 1 1\n1 1 1\n1 1 1\n").find(":4: more than 3 rows"), std::string::npos);
  EXPECT_NE(err("0 0 0\n0 0 0\n0 0 0\n").find("every weight is 0"), std::string::npos);
  EXPECT_NE(err("1 1 1\n1 -1 1\n1 1 1\n").find("negative weights are for focal.sum"),
            std::string::npos);
  EXPECT_EQ(error_of("focal.mean", {{"size", 3.0}, {"weights_file", std::string("/no/such")}})
                .rfind("weights_file: cannot open weights file '/no/such'", 0),
            0u);
  // A folder read as an empty file, and a file without end (/dev/zero) was read forever.
  EXPECT_NE(error_of("focal.mean", {{"size", 3.0}, {"weights_file", std::string("/tmp")}})
                .find("/tmp: is a folder, not a weights file"),
            std::string::npos);
  EXPECT_NE(error_of("focal.mean", {{"size", 3.0}, {"weights_file", std::string("/dev/zero")}})
                .find("/dev/zero: more than 1049152 bytes, longer than 3 rows of weights can be"),
            std::string::npos);
  EXPECT_NE(err("1 1 1\n1 \x01 1\n1 1 1\n").find(":2: '\\x01' is not a number"), std::string::npos);
}

TEST(Focal, OptionsAndWhatTheOpPromises) {
  const auto op = make_op("focal.mean", {{"radius", 3.0}, {"nodata", -1.0}});
  EXPECT_EQ(op->halo(), 3);
  EXPECT_EQ(op->output_type(), PixelType::Float32);
  EXPECT_EQ(op->output_nodata(), -1);
  EXPECT_EQ(op->input_cells(PixelType::Int16), CellType::Float32);
  EXPECT_EQ(op->input_cells(PixelType::Int32), CellType::Int32);
  EXPECT_EQ(op->input_cells(PixelType::UInt32), CellType::Float64);
  EXPECT_EQ(op->input_cells(PixelType::Float64), CellType::Float64);
  EXPECT_EQ(make_op("focal.max", {{"radius", std::string("2")}})->halo(), 2);
  EXPECT_EQ(make_op("focal.max", {{"size", 5.0}})->halo(), 2);
  const std::vector<std::pair<Options, std::string>> bad{
      {{}, "radius"},
      {{{"radius", 0.0}}, "radius"},
      {{{"radius", 1.5}}, "radius"},
      {{{"radius", 1001.0}}, "radius"},
      {{{"radius", std::string("two")}}, "radius"},
      {{{"radius", 1.0}, {"size", 3.0}}, "size"},
      {{{"size", 4.0}}, "size"},
      {{{"size", 1.0}}, "size"},
      {{{"radius", 1.0}, {"percentile", 20.0}}, "percentile"},
      {{{"radius", 1.0}, {"gauss", 0.0}}, "gauss"},
      {{{"radius", 1.0}, {"circle", true}, {"weights_file", std::string("w")}}, "circle"},
      {{{"radius", 1.0}, {"gauss", 1.0}, {"weights_file", std::string("w")}}, "gauss"},
  };
  for (const auto& [options, key] : bad) {
    const std::string e = error_of("focal.mean", options);
    EXPECT_EQ(e.substr(0, key.size() + 1), key + ":") << e;
  }
  EXPECT_EQ(error_of("focal.quart1", {{"radius", 1.0}, {"percentile", 20.0}}).substr(0, 11),
            "percentile:");
  EXPECT_EQ(error_of("focal.percentile", {{"radius", 1.0}, {"percentile", 101.0}}).substr(0, 11),
            "percentile:");
}

TEST(Focal, OutputTypesFollowTheSource) {
  const auto bound = [](const std::string& name, PixelType source, std::optional<double> nodata) {
    return make_op(name, {{"radius", 1.0}})->for_source({source, nodata, {100, 80}});
  };
  EXPECT_EQ(bound("focal.min", PixelType::Int16, -32768)->output_type(), PixelType::Int16);
  EXPECT_EQ(bound("focal.min", PixelType::Int16, -32768)->output_nodata(), -32768);
  EXPECT_EQ(bound("focal.max", PixelType::Byte, std::nullopt)->output_nodata(), std::nullopt);
  EXPECT_EQ(bound("focal.median", PixelType::UInt16, 0)->output_type(), PixelType::UInt16);
  EXPECT_EQ(bound("focal.mode", PixelType::Byte, 0)->output_type(), PixelType::Byte);
  EXPECT_EQ(bound("focal.range", PixelType::Int16, -32768)->output_type(), PixelType::UInt16);
  EXPECT_EQ(bound("focal.range", PixelType::Int16, -32768)->output_nodata(), 65535);
  EXPECT_EQ(bound("focal.count", PixelType::Byte, 0)->output_type(), PixelType::UInt32);
  EXPECT_EQ(bound("focal.count", PixelType::Byte, 0)->output_nodata(), 0);
  EXPECT_EQ(bound("focal.diversity", PixelType::Int16, 5)->output_type(), PixelType::UInt32);
  EXPECT_EQ(bound("focal.count", PixelType::Float32, std::nullopt)->output_type(),
            PixelType::UInt32);
  EXPECT_EQ(bound("focal.count", PixelType::Float32, std::nullopt)->output_nodata(), 0);
  EXPECT_EQ(bound("focal.count", PixelType::UInt16, std::nullopt)->output_nodata(), std::nullopt);
  // With weights a count is a sum of weights (r.neighbors' w_count): floating.
  const std::string w = weights_file("types", "0 1 0\n1 2 1\n0 1 0\n");
  const auto weighted = [&](PixelType source) {
    return make_op("focal.count", {{"radius", 1.0}, {"weights_file", w}})
        ->for_source({source, 0, {100, 80}})
        ->output_type();
  };
  EXPECT_EQ(weighted(PixelType::Byte), PixelType::Float32);
  EXPECT_EQ(weighted(PixelType::Float64), PixelType::Float64);
  EXPECT_EQ(bound("focal.stddev", PixelType::Float64, std::nullopt)->output_type(),
            PixelType::Float64);
  EXPECT_EQ(bound("focal.mean", PixelType::Int16, 0)->output_type(), PixelType::Float32);
  EXPECT_EQ(bound("focal.quart1", PixelType::Byte, 0)->output_type(), PixelType::Float32);
  EXPECT_EQ(bound("focal.max", PixelType::Float32, 0)->output_type(), PixelType::Float32);
  EXPECT_EQ(bound("focal.max", PixelType::Float32, 0)->output_nodata(), -9999);
  EXPECT_THROW(bound("focal.mode", PixelType::Float32, std::nullopt), Error);
  EXPECT_THROW(bound("focal.diversity", PixelType::Float64, std::nullopt), Error);
  EXPECT_THROW(make_op("focal.max", {{"radius", 1.0}, {"nodata", 300.0}})
                   ->for_source({PixelType::Byte, 0, {100, 80}}),
               Error);
  // A radius that reaches past the whole raster from every cell is a mistake.
  EXPECT_NE(make_op("focal.max", {{"radius", 99.0}})->for_source({PixelType::Byte, 0, {100, 80}}),
            nullptr);
  EXPECT_THROW(
      make_op("focal.max", {{"radius", 100.0}})->for_source({PixelType::Byte, 0, {100, 80}}),
      Error);
}

TEST(Focal, Float64CellsKeepTheirPrecision) {
  // Values near 1e6 with fractions Float32 cannot hold (its step there is 0.0625): the running
  // mean, the minimum and the 3 x 3 median of Float64 cells equal double arithmetic on them.
  auto r = make_raster<double>(23, 17, [](int64_t x, int64_t y) {
    return 1e6 + static_cast<double>(x) / 3 + static_cast<double>((x * 7 + y * 5) % 11) / 7;
  });
  r.type = PixelType::Float64;
  r.nodata = -1;
  r.at(5, 6) = -1;
  const auto at = [&](int64_t x, int64_t y) {
    return r.cells[static_cast<size_t>(y * r.width + x)];
  };
  const auto bound = [&](const std::string& name) {
    return make_op(name, {{"radius", 1.0}})->for_source({PixelType::Float64, -1.0, {23, 17}});
  };
  const auto mean = run_tiled<double, double>(*bound("focal.mean"), r, 7, 5).at(0);
  const auto min = run_tiled<double, double>(*bound("focal.min"), r, 7, 5).at(0);
  const auto median = run_tiled<double, double>(*bound("focal.median"), r, 7, 5).at(0);
  for (int64_t y = 1; y + 1 < r.height; ++y)
    for (int64_t x = 1; x + 1 < r.width; ++x) {
      std::vector<double> window;
      for (int64_t dy = -1; dy <= 1; ++dy)
        for (int64_t dx = -1; dx <= 1; ++dx)
          if (at(x + dx, y + dy) != -1) window.push_back(at(x + dx, y + dy));
      const auto i = static_cast<size_t>(y * r.width + x);
      if (at(x, y) == -1) {
        EXPECT_EQ(mean[i], -9999);
        continue;
      }
      double sum = 0;
      for (double v : window) sum += v;
      std::sort(window.begin(), window.end());
      EXPECT_NEAR(mean[i], sum / static_cast<double>(window.size()), 1e-7) << x << ", " << y;
      EXPECT_EQ(min[i], window.front()) << x << ", " << y;
      if (window.size() == 9) {
        EXPECT_EQ(median[i], window[4]) << x << ", " << y;
      }
    }
}

TEST(Focal, IntegerOutputsRoundTheMedianAndSaturate) {
  // Int32 cells, as an Int32 source is read: the median of 2, 3 (a corner of 2 x 1 windows)
  // is 2.5, stored as 3 in an Int32 output.
  auto r =
      make_raster<int32_t>(2, 1, [](int64_t x, int64_t) { return static_cast<int32_t>(2 + x); });
  r.type = PixelType::Int32;
  const auto op = make_op("focal.median", {{"radius", 1.0}})
                      ->for_source({PixelType::Int32, std::nullopt, {2, 1}});
  EXPECT_EQ((run_whole<int32_t, int32_t>(*op, r)), (std::vector<int32_t>{3, 3}));
  const auto max =
      make_op("focal.max", {{"radius", 1.0}})->for_source({PixelType::Int32, std::nullopt, {2, 1}});
  r.at(1, 0) = 2147483647;
  EXPECT_EQ((run_whole<int32_t, int32_t>(*max, r)), (std::vector<int32_t>{2147483647, 2147483647}));
}

/// A source band's type and nodata value, and the output type and nodata value a step gives.
struct TypeCase {
  PixelType source;
  std::optional<double> nodata;
  PixelType type;
  std::optional<double> out_nodata;
};

/// `op` (radius 1) bound to each case's source: the case's output type and nodata value.
void expect_outputs(const std::string& op, const std::vector<TypeCase>& cases) {
  for (const TypeCase& c : cases) {
    const auto bound = make_op(op, {{"radius", 1.0}})->for_source({c.source, c.nodata, {100, 80}});
    EXPECT_EQ(bound->output_type(), c.type)
        << op << " " << name_of(c.source) << " nodata " << c.nodata.value_or(-1);
    EXPECT_EQ(bound->output_nodata(), c.out_nodata)
        << op << " " << name_of(c.source) << " nodata " << c.nodata.value_or(-1);
  }
}

TEST(Focal, ARangeNeverEqualsItsOutputsNodata) {
  // The range's nodata is its output type's largest value, a range no window can reach: a Byte
  // source with nodata 0 (land cover) keeps Byte and marks nodata 255, so that flat windows (a
  // range of 0) stay valid; a nodata value inside the type lets the valid values span it
  // whole, and the range takes the next wider type.
  const auto bound = [](PixelType source, std::optional<double> nodata) {
    return make_op("focal.range", {{"radius", 1.0}})->for_source({source, nodata, {100, 80}});
  };
  expect_outputs("focal.range", {{PixelType::Byte, 0, PixelType::Byte, 255},
                                 {PixelType::Byte, 255, PixelType::Byte, 255},
                                 {PixelType::Byte, 100, PixelType::UInt16, 65535},
                                 {PixelType::Byte, 300, PixelType::UInt16, 65535},
                                 {PixelType::Byte, std::nullopt, PixelType::Byte, std::nullopt},
                                 {PixelType::UInt16, 0, PixelType::UInt16, 65535},
                                 {PixelType::UInt16, 9999, PixelType::UInt32, 4294967295.0},
                                 {PixelType::Int16, 32767, PixelType::UInt16, 65535},
                                 {PixelType::Int16, -9999, PixelType::UInt32, 4294967295.0},
                                 {PixelType::Int32, -2147483648.0, PixelType::UInt32, 4294967295.0},
                                 {PixelType::Int32, -9999, PixelType::Float64, -9999}});
  // Land cover with nodata 0: a flat window's range, 0, is a value, not nodata.
  auto r = classes(12, 9);
  for (float& v : r.cells) v = v == 0 ? 0.0f : 4.0f;
  r.cells[0] = 0;
  const auto op = bound(PixelType::Byte, 0);
  const auto out = run_whole<float, uint8_t>(*op, r);
  for (size_t i = 0; i < out.size(); ++i)
    EXPECT_EQ(out[i], r.cells[i] == 0 ? 255 : 0) << "cell " << i;
}

TEST(Focal, AMedianNeverEqualsItsOutputsNodata) {
  // A median of an integer source keeps its type and nodata value where no two valid values can
  // straddle that value (nodata at an end of the type); else 99 and 101 around a nodata 100
  // would have it as their median, so the median takes a wider type and a nodata value at its
  // end (Int32: Float64, one below Int32's lowest).
  const auto bound = [](PixelType source, std::optional<double> nodata) {
    return make_op("focal.median", {{"radius", 1.0}})->for_source({source, nodata, {100, 80}});
  };
  expect_outputs("focal.median", {{PixelType::Byte, 0, PixelType::Byte, 0},
                                  {PixelType::Byte, 255, PixelType::Byte, 255},
                                  {PixelType::Byte, 100, PixelType::UInt16, 65535},
                                  {PixelType::UInt16, 65535, PixelType::UInt16, 65535},
                                  {PixelType::UInt16, 9999, PixelType::UInt32, 4294967295.0},
                                  {PixelType::Int16, -32768, PixelType::Int16, -32768},
                                  {PixelType::Int16, 0, PixelType::Int32, -2147483648.0},
                                  {PixelType::Int32, -9999, PixelType::Float64, -2147483649.0},
                                  {PixelType::Int32, std::nullopt, PixelType::Int32, std::nullopt},
                                  {PixelType::UInt32, 5, PixelType::Float32, -9999}});
  // 99 and 101 around nodata 100: the corner's median, 100, is a value.
  auto r = make_raster<float>(3, 3, [](int64_t x, int64_t y) {
    return static_cast<float>(x == 2 && y == 0 ? 100 : (x + y) % 2 ? 101 : 99);
  });
  r.type = PixelType::Byte;
  r.nodata = 100;
  const auto out = run_whole<float, uint16_t>(*bound(PixelType::Byte, 100), r);
  EXPECT_EQ(out[0], 100);    // 99 101 / 101 99: the median of four, 100
  EXPECT_EQ(out[2], 65535);  // the nodata centre
}

TEST(Focal, ExtremesTakeMinusZeroBelowPlusZeroInEveryShapeTypeAndTiling) {
  // Zeros of both signs side by side, negative values and nodata: the minimum and maximum of a
  // window are those of the total order (-0 below +0) whatever the order the kernel combines
  // cells in: square windows of radius 1 and 3 (running extremes of keys) and circles (the
  // walk), Float32, Float64 and Int32 cells, whole and tiled. A kernel whose extremes keep the
  // first of two equal values gives -0 as the maximum somewhere here.
  const auto value = [](int64_t x, int64_t y) {
    const int64_t k = (x * 7 + y * 3) % 11;
    return k < 4 ? ((x + y) % 2 ? -0.0 : 0.0) : k == 4 ? -1.0 : static_cast<double>(k - 7) * 1.5;
  };
  auto f32 = make_raster<float>(37, 29, [](int64_t, int64_t) { return 0.0f; });
  auto f64 = make_raster<double>(37, 29, [](int64_t, int64_t) { return 0.0; });
  auto i32 = make_raster<int32_t>(37, 29, [](int64_t, int64_t) { return int32_t{0}; });
  for (int64_t y = 0; y < 29; ++y)
    for (int64_t x = 0; x < 37; ++x) {
      const double v = (x * y) % 17 == 5 ? -9999.0 : value(x, y);
      f32.at(x, y) = static_cast<float>(v);
      f64.at(x, y) = v;
      i32.at(x, y) = static_cast<int32_t>(std::lround(v * 2));
    }
  f32.type = PixelType::Float32;
  f32.nodata = -9999;
  f64.type = PixelType::Float64;
  f64.nodata = -9999;
  i32.type = PixelType::Int32;
  i32.nodata = -19998;
  const auto reference = [](const auto& r, const std::string& stat, int64_t radius, bool circle) {
    std::vector<double> out(r.cells.size());
    for (int64_t y = 0; y < r.height; ++y)
      for (int64_t x = 0; x < r.width; ++x) {
        const double centre = r.cells[static_cast<size_t>(y * r.width + x)];
        double best = std::numeric_limits<double>::quiet_NaN();
        for (int64_t dy = -radius; dy <= radius; ++dy)
          for (int64_t dx = -radius; dx <= radius; ++dx) {
            const int64_t cx = x + dx, cy = y + dy;
            if (cx < 0 || cy < 0 || cx >= r.width || cy >= r.height) continue;
            if (circle && dx * dx + dy * dy > radius * radius) continue;
            const double v = r.cells[static_cast<size_t>(cy * r.width + cx)];
            if (v == *r.nodata) continue;
            if (std::isnan(best) || (stat == "max" ? total_less(best, v) : total_less(v, best)))
              best = v;
          }
        out[static_cast<size_t>(y * r.width + x)] = centre == *r.nodata ? *r.nodata : best;
      }
    return out;
  };
  const auto check = [&](const auto& r, auto zero) {
    using T = decltype(zero);
    const Extent size{r.width, r.height};
    for (const std::string stat : {"min", "max"})
      for (const auto& [radius, circle] : {std::pair{1, false}, {3, false}, {2, true}}) {
        Options options{{"radius", static_cast<double>(radius)}, {"circle", circle}};
        const auto op = make_op("focal." + stat, options)->for_source({r.type, *r.nodata, size});
        const auto want = reference(r, stat, radius, circle);
        for (const auto& [tw, th] :
             {std::pair<int64_t, int64_t>{37, 29}, {16, 16}, {7, 5}, {1, 29}}) {
          const auto got = run_tiled<T, T>(*op, r, tw, th).at(0);
          int64_t apart = 0;
          for (size_t i = 0; i < got.size(); ++i) {
            const T expected = static_cast<T>(want[i]);
            apart += std::memcmp(&got[i], &expected, sizeof(T)) != 0;
          }
          EXPECT_EQ(apart, 0) << stat << " r" << radius << (circle ? " circle" : "") << " tiles "
                              << tw << " x " << th;
        }
      }
  };
  check(f32, 0.0f);
  check(f64, 0.0);
  check(i32, int32_t{0});
}

}  // namespace
}  // namespace tessera::ops
