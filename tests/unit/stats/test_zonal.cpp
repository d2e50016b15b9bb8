// Zone tables alone: CompactSum's runs against ExactMoments' bins, the same numbers from any
// split and merge order, masked cells, statistic names.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tessera/core/error.hpp"
#include "tessera/stats/zonal.hpp"

namespace tessera::stats {
namespace {

/// Values of every kind a Float32 raster holds: normal, subnormal, zero and -0, both signs,
/// exponents far apart, and runs of one exponent.
std::vector<float> awkward_floats() {
  std::vector<float> v = {0.0f,
                          -0.0f,
                          std::numeric_limits<float>::denorm_min(),
                          -std::numeric_limits<float>::denorm_min(),
                          1e-40f,
                          3.0e38f,
                          -3.0e38f,
                          1.0f,
                          1.0f,
                          1.5f,
                          -2.25f,
                          1234.5678f,
                          1e-30f};
  std::mt19937 random(7);
  std::uniform_real_distribution<float> height(1000.0f, 2000.0f);
  for (int i = 0; i < 2000; ++i) v.push_back(height(random));
  return v;
}

TEST(CompactSum, FloatAndDoubleRunsEqualExactMoments) {
  ExactMoments exact;
  CompactSum as_floats;
  CompactSum as_doubles;
  for (float x : awkward_floats()) {
    exact.add(static_cast<double>(x));
    as_floats.add(x);
    as_doubles.add(static_cast<double>(x));
  }
  for (const CompactSum* s : {&as_floats, &as_doubles}) {
    EXPECT_EQ(s->sum().to_double(ExactMoments::sum_unit),
              exact.sum().to_double(ExactMoments::sum_unit));
    EXPECT_EQ(s->sum_of_squares().to_double(ExactMoments::square_unit),
              exact.sum_of_squares().to_double(ExactMoments::square_unit));
  }
}

TEST(CompactSum, MergesAndBytesKeepTheRuns) {
  const std::vector<float> values = awkward_floats();
  CompactSum whole;
  for (float x : values) whole.add(x);
  // Three parts, one fed as doubles, merged in another order, one through bytes.
  CompactSum a;
  CompactSum b;
  CompactSum c;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i % 3 == 0) a.add(values[i]);
    if (i % 3 == 1) b.add(static_cast<double>(values[i]));
    if (i % 3 == 2) c.add(values[i]);
  }
  std::vector<std::byte> bytes;
  a.append_bytes(bytes);
  CompactSum merged = c;
  merged.merge(b);
  std::span<const std::byte> in(bytes);
  merged.take_bytes(in);
  EXPECT_TRUE(in.empty());
  EXPECT_EQ(merged.sum().to_double(ExactMoments::sum_unit),
            whole.sum().to_double(ExactMoments::sum_unit));
  EXPECT_EQ(merged.sum_of_squares().to_double(ExactMoments::square_unit),
            whole.sum_of_squares().to_double(ExactMoments::square_unit));
}

CellBlock block_of(const void* cells, int64_t width, int64_t height) {
  return {static_cast<const std::byte*>(cells), width, height, width};
}

TEST(ZoneTable, MaskedCellsAndSplitsGiveTheSameZones) {
  const std::vector<float> values = {1, 2, 3, NAN, 5, 6, -9999, 8, 9};
  const std::vector<uint8_t> mask = {1, 0, 1, 1, 1, 0, 1, 1, 0};
  const BandKind kind{PixelType::Float32, -9999.0};
  ZoneTable whole(PixelType::Int32, std::nullopt, kind, true);
  whole.add_masked(7, block_of(values.data(), 3, 3), mask.data(), 3);
  // The same cells as two blocks of rows, in two tables merged through bytes.
  ZoneTable top(PixelType::Int32, std::nullopt, kind, true);
  ZoneTable bottom(PixelType::Int32, std::nullopt, kind, true);
  top.add_masked(7, block_of(values.data(), 3, 1), mask.data(), 3);
  bottom.add_masked(7, block_of(values.data() + 3, 3, 2), mask.data() + 3, 3);
  top.merge_bytes(bottom.to_bytes());
  for (ZoneTable* table : {&whole, &top}) {
    const ZoneList zones = table->take_sorted();
    ASSERT_EQ(zones.size(), 1u);
    const ZoneTally& t = zones[0].second;
    EXPECT_EQ(zones[0].first, 7);
    EXPECT_EQ(t.count, 4);   // 1, 3, 5, 8
    EXPECT_EQ(t.nodata, 2);  // NaN and -9999
    EXPECT_EQ(zone_value(t, {ZoneStat::Sum}), 17.0);
    EXPECT_EQ(zone_value(t, {ZoneStat::Median}), 4.0);
    EXPECT_EQ(zone_value(t, {ZoneStat::Percentile, 25}), 2.5);
    EXPECT_EQ(zone_value(t, {ZoneStat::Variety}), 4.0);
  }
}

// A zone with infinite cells: sum and mean as IEEE adds them, std and variance NaN (written as
// empty fields), not the finite numbers the exact sums made of the infinities.
TEST(ZoneTable, InfiniteCellsGiveInfiniteSumsAndNoStd) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> values = {1, inf, 3, 4, -inf, 6};
  const std::vector<uint8_t> mask = {1, 1, 1, 1, 1, 1};
  ZoneTable table(PixelType::Int32, std::nullopt, BandKind{PixelType::Float32, std::nullopt}, true);
  table.add_masked(1, block_of(values.data(), 3, 1), mask.data(), 3);
  table.add_masked(2, block_of(values.data() + 3, 3, 1), mask.data() + 3, 3);
  const ZoneList zones = table.take_sorted();
  ASSERT_EQ(zones.size(), 2u);
  const ZoneTally& up = zones[0].second;
  EXPECT_EQ(zone_value(up, {ZoneStat::Sum}), std::numeric_limits<double>::infinity());
  EXPECT_EQ(zone_value(up, {ZoneStat::Mean}), std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(zone_value(up, {ZoneStat::Std})));
  EXPECT_TRUE(std::isnan(zone_value(up, {ZoneStat::Median})));  // numpy's lerp: 3 + (inf - 3) * 0
  EXPECT_EQ(zone_value(zones[1].second, {ZoneStat::Mean}),
            -std::numeric_limits<double>::infinity());
}

/// Float32 cells in zones of long runs and short ones: runs of one exponent, runs that cross
/// powers of two, NaN and nodata cells, subnormals, both zeros, rows whose length is not a
/// multiple of 8 and blocks longer than the 4096 cells the block path sums at once.
struct AwkwardTile {
  static constexpr int64_t width = 5003;
  static constexpr int64_t height = 3;
  std::vector<float> values;
  std::vector<uint16_t> zones;
  std::vector<uint8_t> mask;
  AwkwardTile() {
    std::mt19937 random(11);
    const std::vector<float> awkward = awkward_floats();
    std::uniform_real_distribution<float> around(-3.0f, 3.0f);
    for (int64_t i = 0; i < width * height; ++i) {
      const int64_t x = i % width;
      float v = x < 4500 ? 1000.0f + 0.01f * static_cast<float>(x)  // crosses 1024 at x 2400
                         : awkward[static_cast<size_t>(i) % awkward.size()];
      if (x > 4900) v = around(random);
      if (i % 97 == 0) v = NAN;
      if (i % 89 == 0) v = -9999.0f;
      values.push_back(v);
      zones.push_back(static_cast<uint16_t>(x < 4700 ? 1 + x / 3000 : 3 + (x / 5) % 3));
      mask.push_back(x % 1000 < 700 ? 1 : 0);
    }
  }
};

void expect_same_tallies(ZoneList a, ZoneList b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t k = 0; k < a.size(); ++k) {
    SCOPED_TRACE(a[k].first);
    EXPECT_EQ(a[k].first, b[k].first);
    const ZoneTally& x = a[k].second;
    const ZoneTally& y = b[k].second;
    EXPECT_EQ(x.count, y.count);
    EXPECT_EQ(x.nodata, y.nodata);
    EXPECT_EQ(std::bit_cast<uint64_t>(x.min), std::bit_cast<uint64_t>(y.min));
    EXPECT_EQ(std::bit_cast<uint64_t>(x.max), std::bit_cast<uint64_t>(y.max));
    EXPECT_EQ(x.sums.sum().to_double(ExactMoments::sum_unit),
              y.sums.sum().to_double(ExactMoments::sum_unit));
    EXPECT_EQ(x.sums.sum_of_squares().to_double(ExactMoments::square_unit),
              y.sums.sum_of_squares().to_double(ExactMoments::square_unit));
  }
}

// Without value counts Float32 cells are folded a block at a time; with them, one cell at a time.
// Both must give the same tallies, by zone raster and by mask.
TEST(ZoneTable, BlocksOfFloatsFoldAsCellByCell) {
  const AwkwardTile tile;
  const BandKind kind{PixelType::Float32, -9999.0};
  const CellBlock values = block_of(tile.values.data(), tile.width, tile.height);
  ZoneTable blocks(PixelType::UInt16, std::nullopt, kind, false);
  ZoneTable cells(PixelType::UInt16, std::nullopt, kind, true);
  for (ZoneTable* table : {&blocks, &cells})
    table->add(block_of(tile.zones.data(), tile.width, tile.height), values);
  expect_same_tallies(blocks.take_sorted(), cells.take_sorted());

  ZoneTable masked_blocks(PixelType::Int32, std::nullopt, kind, false);
  ZoneTable masked_cells(PixelType::Int32, std::nullopt, kind, true);
  for (ZoneTable* table : {&masked_blocks, &masked_cells})
    table->add_masked(4, values, tile.mask.data(), tile.width);
  const ZoneList masked = masked_blocks.take_sorted();
  EXPECT_GT(masked.at(0).second.count, 5000);
  expect_same_tallies(masked, masked_cells.take_sorted());
}

// Values of an index near zero span many exponents: two zones of them (rows that alternate),
// with zeros, negatives, subnormals, nodata and NaN, folded a block at a time (an exponent at a
// time, windows of exponents, pieces, cells) give exactly the sums of one cell at a time.
TEST(ZoneTable, BlocksSpanningManyExponentsFoldExactly) {
  std::mt19937 random(3);
  std::uniform_real_distribution<float> unit(1.0f, 2.0f);
  const int64_t width = 4099;
  std::vector<float> values;
  std::vector<uint16_t> zones;
  for (const int span : {3, 6, 14, 20, 40, 57, 90}) {
    std::uniform_int_distribution<int> exponent(-span + 1, 0);
    for (int64_t x = 0; x < width * 2; ++x) {
      float c = std::ldexp(unit(random), exponent(random));
      if (x % 3 == 0) c = -c;
      if (x % 13 == 0) c = 0.0f;
      if (x % 71 == 0 && span > 50) c = std::numeric_limits<float>::denorm_min() * float(x % 5);
      if (x % 89 == 0) c = -9999.0f;
      if (x % 97 == 0) c = NAN;
      values.push_back(c);
      zones.push_back(static_cast<uint16_t>(1 + (x / width) % 2));
    }
  }
  const BandKind kind{PixelType::Float32, -9999.0};
  const int64_t height = static_cast<int64_t>(values.size()) / width;
  ZoneTable blocks(PixelType::UInt16, std::nullopt, kind, false);
  blocks.add(block_of(zones.data(), width, height), block_of(values.data(), width, height));
  const ZoneList got = blocks.take_sorted();
  ASSERT_EQ(got.size(), 2u);
  for (const auto& [id, tally] : got) {
    CompactSum want;
    for (size_t i = 0; i < values.size(); ++i)
      if (zones[i] == id && !std::isnan(values[i]) && values[i] != -9999.0f) want.add(values[i]);
    BigInt sum = tally.sums.sum();
    sum.subtract(want.sum());
    EXPECT_TRUE(sum.zero()) << "zone " << id;
    BigInt squares = tally.sums.sum_of_squares();
    squares.subtract(want.sum_of_squares());
    EXPECT_TRUE(squares.zero()) << "zone " << id;
  }
}

/// Sweeps for exact per-zone percentiles, as run_zonal runs them past the cap: each a table in
/// digit mode over the same cells, its request passed through bytes as across ranks.
template <class V>
ZoneList refined_zones(const std::vector<V>& values, const std::vector<int32_t>& zones,
                       PixelType type, const std::vector<double>& percentiles) {
  const BandKind kind{type, -9999.0};
  const CellBlock z = block_of(zones.data(), static_cast<int64_t>(zones.size()), 1);
  const CellBlock v = block_of(values.data(), static_cast<int64_t>(values.size()), 1);
  ZoneTable first(PixelType::Int32, std::nullopt, kind, false);
  first.add(z, v);
  ZoneList result = first.take_sorted();
  ZoneSelection selection(type, result, percentiles);
  int sweeps = 0;
  while (!selection.done()) {
    const auto request =
        std::make_shared<DigitRequest>(DigitRequest::from_bytes(selection.request().to_bytes()));
    // Two tables, as two threads or ranks, merged through bytes.
    ZoneTable a(PixelType::Int32, std::nullopt, kind, false);
    ZoneTable b(PixelType::Int32, std::nullopt, kind, false);
    a.count_digits(request);
    b.count_digits(request);
    const int64_t half = static_cast<int64_t>(values.size()) / 2;
    a.add(block_of(zones.data(), half, 1), block_of(values.data(), half, 1));
    b.add(block_of(zones.data() + half, static_cast<int64_t>(zones.size()) - half, 1),
          block_of(values.data() + half, static_cast<int64_t>(values.size()) - half, 1));
    a.merge_bytes(b.to_bytes());
    selection.refine(*request, a.take_sorted());
    ++sweeps;
  }
  EXPECT_GE(sweeps, 2);
  selection.fill(result);
  return result;
}

// Digit sweeps find the percentiles the value counts give, for Float32 (with -0, subnormals,
// NaN and nodata), Float64 and Int32 values, and zones of one cell.
TEST(ZoneSelection, SweepsGiveTheValueCountsPercentiles) {
  const std::vector<double> percentiles = {0, 2.5, 50, 90, 100};
  std::mt19937 random(3);
  std::vector<int32_t> zones;
  std::vector<float> floats = awkward_floats();
  for (size_t i = 0; i < floats.size(); ++i) zones.push_back(static_cast<int32_t>(i % 7));
  floats[5] = NAN;
  floats[9] = -9999.0f;
  zones.push_back(42);  // a zone of one cell
  floats.push_back(-0.0f);
  std::vector<double> doubles;
  std::vector<int32_t> integers;
  std::uniform_int_distribution<int32_t> any(-2000000000, 2000000000);
  for (float f : floats) doubles.push_back(static_cast<double>(f) * 1e200);
  for (size_t i = 0; i < floats.size(); ++i) integers.push_back(any(random));
  const auto check = [&](const auto& values, PixelType type) {
    SCOPED_TRACE(std::string(name_of(type)));
    ZoneTable counts(PixelType::Int32, std::nullopt, BandKind{type, -9999.0}, true);
    counts.add(block_of(zones.data(), static_cast<int64_t>(zones.size()), 1),
               block_of(values.data(), static_cast<int64_t>(values.size()), 1));
    const ZoneList want = counts.take_sorted();
    const ZoneList got = refined_zones(values, zones, type, percentiles);
    ASSERT_EQ(got.size(), want.size());
    for (size_t k = 0; k < got.size(); ++k)
      for (const double p : percentiles) {
        const double w = zone_value(want[k].second, {ZoneStat::Percentile, p});
        const double g = zone_value(got[k].second, {ZoneStat::Percentile, p});
        EXPECT_EQ(std::bit_cast<uint64_t>(g), std::bit_cast<uint64_t>(w))
            << "zone " << got[k].first << " percentile " << p << ": " << g << " for " << w;
      }
  };
  check(floats, PixelType::Float32);
  check(doubles, PixelType::Float64);
  check(integers, PixelType::Int32);
}

// Past the cap a table that may give its value counts up does so (and says so), through merges
// too; one that may not refuses to go on.
TEST(ZoneTable, GivesValueCountsUpPastTheCap) {
  std::vector<float> values;
  for (int64_t i = 0; i < max_value_pairs + 10; ++i) values.push_back(static_cast<float>(i));
  const std::vector<int32_t> zones(values.size(), 1);
  const BandKind kind{PixelType::Float32, std::nullopt};
  const CellBlock z = block_of(zones.data(), static_cast<int64_t>(zones.size()), 1);
  const CellBlock v = block_of(values.data(), static_cast<int64_t>(values.size()), 1);
  ZoneTable refinable(PixelType::Int32, std::nullopt, kind, true);
  refinable.give_up_counts_past_the_cap();
  refinable.add(z, v);
  EXPECT_TRUE(refinable.dropped());
  ZoneTable other(PixelType::Int32, std::nullopt, kind, true);
  other.give_up_counts_past_the_cap();
  other.merge_bytes(refinable.to_bytes());
  EXPECT_TRUE(other.dropped());
  const ZoneList merged = other.take_sorted();
  EXPECT_EQ(merged.at(0).second.count, max_value_pairs + 10);
  EXPECT_TRUE(merged.at(0).second.values.empty());
  ZoneTable strict(PixelType::Int32, std::nullopt, kind, true);
  EXPECT_THROW(strict.add(z, v), Error);
}

TEST(ZoneStatistic, NamesRoundTripAndPercentilesAreChecked) {
  EXPECT_EQ(name_of(parse_zone_stat("percentile_2.5")), "percentile_2.5");
  EXPECT_EQ(parse_zone_stat("percentile_90").percentile, 90.0);
  EXPECT_EQ(name_of(parse_zone_stat("median")), "median");
  EXPECT_THROW(parse_zone_stat("percentile_101"), Error);
  EXPECT_THROW(parse_zone_stat("percentile_"), Error);
  EXPECT_THROW(parse_zone_stat("percentile_x"), Error);
  EXPECT_THROW(parse_zone_stat("mode"), Error);
}

}  // namespace
}  // namespace tessera::stats
