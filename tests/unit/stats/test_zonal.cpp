// Zone tables alone: CompactSum's runs against ExactMoments' bins, the same numbers from any
// split and merge order, masked cells, statistic names.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
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
