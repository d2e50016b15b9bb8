// The stats layer alone: exact sums against integer arithmetic, the same bits in any merge
// order, percentiles against a sort, GDAL's histogram buckets.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "tessera/stats/band_stats.hpp"

namespace tessera::stats {
namespace {

template <class T>
CellBlock block_of(const std::vector<T>& cells, int64_t width) {
  return {reinterpret_cast<const std::byte*>(cells.data()), width,
          static_cast<int64_t>(cells.size()) / width, width};
}

TEST(BigInt, RoundsToNearestEven) {
  BigInt a;
  a.add((UInt128{1} << 53) + 1, 0);  // 2^53 + 1: a tie, rounds to the even 2^53
  EXPECT_EQ(a.to_double(0), 9007199254740992.0);
  BigInt b;
  b.add((UInt128{1} << 53) + 3, 0);  // a tie, rounds up to the even 2^53 + 4
  EXPECT_EQ(b.to_double(0), 9007199254740996.0);
  BigInt c;  // a tie plus 2^-100: the bit far below breaks it upwards
  c.add((UInt128{1} << 53) + 1, 100);
  c.add(1, 0);
  EXPECT_EQ(c.to_double(-100), 9007199254740994.0);
}

TEST(BigInt, SubtractsBelowZeroAndSquares) {
  BigInt a;
  a.add(5, 10);
  a.subtract(7, 10);  // -2 * 2^10
  EXPECT_TRUE(a.negative());
  EXPECT_EQ(a.to_double(-10), -2.0);
  EXPECT_EQ(a.squared().to_double(-20), 4.0);
  EXPECT_EQ(a.times(3).to_double(-10), -6.0);
}

TEST(ExactMoments, SumIsExactWhereDoublesLoseIt) {
  ExactMoments m;
  m.add(1e16);
  m.add(1.0);
  m.add(-1e16);
  EXPECT_EQ(m.sum().to_double(ExactMoments::sum_unit), 1.0);
  ExactMoments tiny;
  tiny.add(std::numeric_limits<double>::denorm_min());
  tiny.add(std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(tiny.sum().to_double(ExactMoments::sum_unit),
            2 * std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(tiny.sum_of_squares().to_double(ExactMoments::square_unit), 0.0);
}

TEST(ExactMoments, SquaresOfIntegersAndDoublesAgree) {
  ExactMoments a;
  ExactMoments b;
  for (int v : {-70000, 3, 123456, -1}) {
    a.add(static_cast<double>(v));
    b.add_integer(v, 1);
  }
  EXPECT_EQ(a.sum().to_double(ExactMoments::sum_unit), b.sum().to_double(ExactMoments::sum_unit));
  EXPECT_EQ(a.sum_of_squares().to_double(ExactMoments::square_unit),
            70000.0 * 70000 + 9 + 123456.0 * 123456 + 1);
  EXPECT_EQ(b.sum_of_squares().to_double(ExactMoments::square_unit),
            70000.0 * 70000 + 9 + 123456.0 * 123456 + 1);
}

/// Float cells with NaNs and a nodata value, summed in two splits: the same bits.
TEST(FirstSweep, SplitsGiveTheSameBits) {
  std::mt19937 gen(7);
  std::lognormal_distribution<float> dist(3.0f, 2.0f);
  std::vector<float> cells(64 * 50);
  for (auto& c : cells) c = dist(gen) * (gen() % 2 ? 1.0f : -1.0f);
  cells[5] = std::numeric_limits<float>::quiet_NaN();
  cells[9] = -9999.0f;
  const BandKind kind{PixelType::Float32, -9999.0};
  FirstSweep whole(kind);
  whole.add(block_of(cells, 64));
  FirstSweep parts(kind);
  for (int64_t y = 49; y >= 0; y -= 7) {  // blocks of rows, last first, each its own sweep
    FirstSweep part(kind);
    const int64_t top = std::max<int64_t>(0, y - 6);
    part.add({reinterpret_cast<const std::byte*>(cells.data() + top * 64), 64, y - top + 1, 64});
    parts.merge_bytes(part.to_bytes());
  }
  const Summary a = summarize(whole);
  const Summary b = summarize(parts);
  EXPECT_EQ(a.valid, 64 * 50 - 2);
  EXPECT_EQ(a.nodata, 2);
  EXPECT_EQ(std::bit_cast<uint64_t>(a.mean), std::bit_cast<uint64_t>(b.mean));
  EXPECT_EQ(std::bit_cast<uint64_t>(a.stddev), std::bit_cast<uint64_t>(b.stddev));
  long double sum = 0;
  for (float c : cells)
    if (!std::isnan(c) && c != -9999.0f) sum += c;
  EXPECT_NEAR(a.mean, static_cast<double>(sum / a.valid), 1e-12 * std::abs(a.mean));
}

/// numpy.percentile's linear method, on a sorted copy.
double numpy_percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const double n = static_cast<double>(v.size());
  const double index = (n - 1) * (p / 100);
  const double below = index >= n - 1 ? -1.0 : std::floor(index);
  const size_t lo = below < 0 ? v.size() - 1 : static_cast<size_t>(below);
  const size_t hi = below < 0 ? v.size() - 1 : lo + 1;
  const double t = index - below;
  const double diff = v[hi] - v[lo];
  return t >= 0.5 ? v[hi] - diff * (1 - t) : v[lo] + diff * t;
}

template <class T>
void check_percentiles(const std::vector<T>& cells, std::optional<double> nodata) {
  const BandKind kind{pixel_type_of<T>, nodata};
  FirstSweep first(kind);
  first.add(block_of(cells, 10));
  const std::vector<double> ps{0, 2, 25, 50, 90, 98, 100};
  Selection select(first, ps);
  while (!select.done()) {
    LaterSweep later(kind, std::nullopt, select.level(), select.prefixes());
    later.add(block_of(cells, 10));
    select.refine(later.digits());
  }
  std::vector<double> valid;
  for (T c : cells)
    if (!(c != c) && !(nodata && double(c) == *nodata)) valid.push_back(double(c));
  const auto got = select.values();
  for (size_t i = 0; i < ps.size(); ++i)
    EXPECT_EQ(got[i], numpy_percentile(valid, ps[i])) << "percentile " << ps[i];
}

// Infinite cells: the exact sums take finite values only, so an infinity once made the mean a
// large finite number (3.6e36 for cells of +inf and -inf). Now as IEEE sums them (numpy's).
TEST(FirstSweep, InfiniteCellsGiveAnInfiniteOrNaNMean) {
  const float inf = std::numeric_limits<float>::infinity();
  const BandKind kind{PixelType::Float32, std::nullopt};
  const auto summary = [&](const std::vector<float>& cells) {
    FirstSweep sweep(kind);
    sweep.add(block_of(cells, static_cast<int64_t>(cells.size())));
    return summarize(sweep);
  };
  const Summary up = summary({1, 2, inf, 4});
  EXPECT_EQ(up.mean, std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(up.stddev));
  EXPECT_EQ(summary({-inf, 2, 3, 4}).mean, -std::numeric_limits<double>::infinity());
  const Summary both = summary({-inf, 2, inf, 4});
  EXPECT_TRUE(std::isnan(both.mean));
  EXPECT_EQ(both.minimum, -std::numeric_limits<double>::infinity());
  EXPECT_EQ(both.valid, 4);
}

// A band of one infinity has it for both extremes, in Float32 and Float64, cell by cell (with
// percentiles) or in blocks; the extremes are not the type's largest finite values.
TEST(FirstSweep, AllInfiniteCellsAreTheirOwnExtremes) {
  const double inf = std::numeric_limits<double>::infinity();
  for (const double sign : {1.0, -1.0})
    for (const bool digits : {false, true}) {
      FirstSweep f32({PixelType::Float32, std::nullopt}, digits);
      const std::vector<float> floats(9, static_cast<float>(sign * inf));
      f32.add(block_of(floats, 3));
      FirstSweep f64({PixelType::Float64, std::nullopt}, digits);
      const std::vector<double> doubles(9, sign * inf);
      f64.add(block_of(doubles, 3));
      for (const FirstSweep* sweep : {&f32, &f64}) {
        const Summary s = summarize(*sweep);
        EXPECT_EQ(s.minimum, sign * inf);
        EXPECT_EQ(s.maximum, sign * inf);
        EXPECT_EQ(s.mean, sign * inf);
        EXPECT_EQ(s.valid, 9);
      }
    }
}

// Float64 values past 1e154: their squares' sum is beyond the doubles' range, and the standard
// deviation was infinite; it is the root taken in range.
TEST(FirstSweep, StandardDeviationOfHugeValuesIsFinite) {
  const std::vector<double> cells = {1e300, 3e300, 1e300, 3e300};
  FirstSweep sweep(BandKind{PixelType::Float64, std::nullopt});
  sweep.add(block_of(cells, 4));
  const Summary s = summarize(sweep);
  EXPECT_DOUBLE_EQ(s.mean, 2e300);
  EXPECT_DOUBLE_EQ(s.stddev, 1e300);
}

TEST(Selection, PercentilesOfEveryWidthMatchASort) {
  std::mt19937 gen(11);
  std::vector<float> f(1000);
  for (auto& c : f) c = std::normal_distribution<float>(0, 100)(gen);
  f[3] = std::numeric_limits<float>::quiet_NaN();
  check_percentiles(f, std::nullopt);
  std::vector<double> d(1000);
  for (auto& c : d) c = std::normal_distribution<double>(5, 1e-3)(gen);
  check_percentiles(d, std::nullopt);
  std::vector<int32_t> i(990);
  for (auto& c : i) c = static_cast<int32_t>(gen()) / 3;
  check_percentiles(i, std::nullopt);
  std::vector<int16_t> s(990);
  for (auto& c : s) c = static_cast<int16_t>(gen() % 2000) - 1000;
  s[0] = -32767;
  check_percentiles(s, -32767.0);
  std::vector<uint8_t> b(30, 7);
  check_percentiles(b, std::nullopt);
}

TEST(Buckets, GdalDefaults) {
  const Buckets byte = default_buckets(PixelType::Byte, 3, 200);
  EXPECT_EQ(byte.min, -0.5);
  EXPECT_EQ(byte.max, 255.5);
  const Buckets dem = default_buckets(PixelType::Float32, 466, 3369);
  EXPECT_NEAR(dem.min, 460.3078431372549, 1e-12);
  EXPECT_NEAR(dem.max, 3374.692156862745, 1e-12);
  EXPECT_EQ(bucket_of(466, dem), 0);
  EXPECT_EQ(bucket_of(3369, dem), 255);
  EXPECT_EQ(bucket_of(-1e9, dem), 0);
  EXPECT_EQ(bucket_of(1e9, dem), 255);
  // gdalinfo -stats -hist on rasterstats' slope.tif (maximum 737.9317016601562): GDAL takes the
  // extremes from its statistics metadata, "%.14g", so its range is -1.446924905216 to
  // 739.378626565376 as its .aux.xml prints them.
  const Buckets slope = default_buckets(PixelType::Float32, 0, 737.9317016601562);
  EXPECT_EQ(slope.min, -1.446924905216);
  EXPECT_EQ(slope.max, 739.378626565376);
}

/// Float32 cells of every kind in rows of 5003 (not a multiple of 8, more than a block of 4096):
/// slowly changing heights that cross a power of two, then values of far apart exponents, both
/// zeros, subnormals, NaN and nodata cells.
std::vector<float> awkward_rows() {
  std::mt19937 random(5);
  std::uniform_real_distribution<float> wide(-1e6f, 1e6f);
  const float specials[] = {
      0.0f, -0.0f, std::numeric_limits<float>::denorm_min(), -1e-40f, 3e38f, -3e38f, 1.5f, 1e-30f};
  std::vector<float> v;
  for (int64_t i = 0; i < 5003 * 4; ++i) {
    const int64_t x = i % 5003;
    float c = x < 4500 ? 1000.0f + 0.01f * static_cast<float>(x) : wide(random);
    if (x >= 4990) c = specials[x % 8];
    if (i % 97 == 0) c = NAN;
    if (i % 89 == 0) c = -9999.0f;
    v.push_back(c);
  }
  return v;
}

// Without percentiles a Float32 band's first sweep goes a block of cells at a time; with them,
// a cell at a time. Counts, extremes and exact sums must agree; and the histogram of a later
// sweep, eight cells at a time, must be bucket_of() of every valid cell.
TEST(FirstSweep, BlocksOfFloatsGiveTheCellsNumbers) {
  const std::vector<float> cells = awkward_rows();
  const BandKind kind{PixelType::Float32, -9999.0};
  FirstSweep blocks(kind, false);
  FirstSweep one_by_one(kind, true);
  blocks.add(block_of(cells, 5003));
  one_by_one.add(block_of(cells, 5003));
  EXPECT_EQ(blocks.valid(), one_by_one.valid());
  EXPECT_EQ(blocks.nodata(), one_by_one.nodata());
  EXPECT_EQ(blocks.minimum(), one_by_one.minimum());
  EXPECT_EQ(blocks.maximum(), one_by_one.maximum());
  EXPECT_EQ(blocks.moments().sum().to_double(ExactMoments::sum_unit),
            one_by_one.moments().sum().to_double(ExactMoments::sum_unit));
  EXPECT_EQ(blocks.moments().sum_of_squares().to_double(ExactMoments::square_unit),
            one_by_one.moments().sum_of_squares().to_double(ExactMoments::square_unit));

  // -0 is 0 for the extremes in both ways, whichever zero comes first.
  const std::vector<float> zeros = {-0.0f, 0.0f, 2.0f, -0.0f};
  for (const bool digits : {false, true}) {
    FirstSweep sweep(kind, digits);
    sweep.add(block_of(zeros, 4));
    EXPECT_FALSE(std::signbit(sweep.minimum()));
  }

  for (const Buckets& buckets : {default_buckets(PixelType::Float32, -1e6, 1e6),
                                 Buckets{1000.0, 1010.0, 7}, Buckets{5.0, 5.0, 3}}) {
    LaterSweep later(kind, buckets, 0, {});
    later.add(block_of(cells, 5003));
    std::vector<int64_t> want(static_cast<size_t>(buckets.count), 0);
    for (float v : cells)
      if (!std::isnan(v) && v != -9999.0f) ++want[static_cast<size_t>(bucket_of(v, buckets))];
    EXPECT_EQ(later.histogram(), want);
  }
}

// Float32 rows whose blocks span 1 to 120 exponents (an index near zero spans many: its values
// go from 1 down to 1e-30), with exact zeros, subnormals, negatives, nodata and NaN among them:
// the first sweep, whichever way it sums a block (an exponent at a time, windows of exponents,
// cell by cell), gives exactly the sums of the cells one by one as doubles.
TEST(FirstSweep, BlocksSpanningManyExponentsSumExactly) {
  std::mt19937 random(11);
  std::uniform_real_distribution<float> unit(1.0f, 2.0f);
  const int64_t width = 4099;  // blocks of 4096 and a tail of 3 cells a row
  std::vector<float> cells;
  for (const int span : {1, 3, 5, 14, 15, 28, 29, 42, 56, 57, 120}) {
    std::uniform_int_distribution<int> exponent(-span / 2 - 3, span - span / 2 - 3);
    for (int64_t x = 0; x < width * 3; ++x) {
      float c = std::ldexp(unit(random), exponent(random));
      if (x % 3 == 0) c = -c;
      if (x % 17 == 0) c = 0.0f;
      if (x % 19 == 0) c = -0.0f;
      if (x % 101 == 0 && span > 40) c = std::numeric_limits<float>::denorm_min() * float(x % 7);
      if (x % 103 == 0 && span > 40) c = -1e-39f;
      if (x % 89 == 0) c = -9999.0f;
      if (x % 97 == 0) c = NAN;
      cells.push_back(c);
    }
  }
  // Subnormals beside the least normal exponents: two windows from exponent 1.
  std::uniform_int_distribution<int> tiny(-150, -115);
  for (int64_t x = 0; x < width * 2; ++x) {
    const float c = std::ldexp(unit(random), tiny(random));
    cells.push_back(x % 2 == 0 ? c : -c);
  }
  // A block of zeros only, and one of zeros and nodata.
  for (int64_t x = 0; x < width; ++x) cells.push_back(x % 2 == 0 ? 0.0f : -0.0f);
  for (int64_t x = 0; x < width; ++x) cells.push_back(x % 2 == 0 ? -9999.0f : -0.0f);

  const BandKind kind{PixelType::Float32, -9999.0};
  FirstSweep blocks(kind, false);
  blocks.add(block_of(cells, width));
  ExactMoments want;
  int64_t valid = 0;
  for (float v : cells)
    if (!std::isnan(v) && v != -9999.0f) {
      want.add(static_cast<double>(v));
      ++valid;
    }
  EXPECT_EQ(blocks.valid(), valid);
  BigInt sum = blocks.moments().sum();
  sum.subtract(want.sum());
  EXPECT_TRUE(sum.zero());
  BigInt squares = blocks.moments().sum_of_squares();
  squares.subtract(want.sum_of_squares());
  EXPECT_TRUE(squares.zero());
}

}  // namespace
}  // namespace tessera::stats
