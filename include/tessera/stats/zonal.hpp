// Zonal statistics: per-zone partial results of a values band by a band of integer zone ids,
// exact (integer arithmetic), so that they merge in any order to the same numbers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tessera/stats/band_stats.hpp"

namespace tessera::stats {

enum class ZoneStat {
  Count,
  Nodata,
  Sum,
  Mean,
  Min,
  Max,
  Range,
  Std,
  Variance,
  Median,
  Majority,
  Minority,
  Variety,
  Percentile
};

/// One column of a zonal table: a statistic, and for Percentile which one (0 to 100).
struct ZoneStatistic {
  ZoneStat stat = ZoneStat::Count;
  double percentile = 0;
};

/// "count", "nodata", "sum", "mean", "min", "max", "range", "std", "variance", "median",
/// "majority", "minority", "variety", or "percentile_Q" (Q as given: "percentile_2.5").
std::string name_of(const ZoneStatistic& stat);
/// The statistic named `name` (rasterstats' names); throws tessera::Error naming the known ones,
/// or a percentile outside 0-100.
ZoneStatistic parse_zone_stat(std::string_view name);
/// Whether it needs each value's count per zone (median, percentiles, majority, minority,
/// variety).
bool needs_value_counts(const ZoneStatistic& stat);

/// The exact sum of doubles and of their squares, compact: one 128-bit term per binary exponent
/// seen (a zone's values usually span a few), in ExactMoments' units.
class CompactSum {
 public:
  void add(double x);
  void merge(const CompactSum& other);
  BigInt sum() const;
  BigInt sum_of_squares() const;
  void append_bytes(std::vector<std::byte>& out) const;
  void take_bytes(std::span<const std::byte>& in);

 private:
  std::vector<std::pair<int32_t, Int128>> sum_;       // (k, sum of signed mantissas)
  std::vector<std::pair<int32_t, UInt128>> squares_;  // (position, sum of square parts)
};

/// One zone's partial result.
struct ZoneTally {
  int64_t count = 0;   ///< valid value cells
  int64_t nodata = 0;  ///< value cells that are nodata
  double min = 0;
  double max = 0;
  CompactSum sums;
  /// Each value's count, when value counts are kept (-0 counted as 0; never NaN).
  std::map<double, int64_t> values;
};

/// The most (zone, value) counts a zone table keeps (about 64 bytes each) before it refuses to go
/// on: what bounds the memory of median, percentiles, majority, minority, variety and classes.
inline constexpr int64_t max_value_pairs = int64_t{1} << 21;

/// The zones' partial results over the tiles folded so far.
class ZoneTable {
 public:
  /// `values`: the values band's type and nodata; `value_counts`: keep each value's count per
  /// zone (for float values, memory grows with the distinct values each zone holds). Zone cells equal to `zone_nodata` belong to no zone.
  ZoneTable(PixelType zone_type, std::optional<double> zone_nodata, BandKind values,
            bool value_counts);
  /// One tile: `zones` and `values` cover the same cells.
  void add(const CellBlock& zones, const CellBlock& values);
  /// The cells of `values` where `mask` (one byte a cell, rows `mask_stride` apart, covering the
  /// same cells) is not 0, into zone `zone`: a polygon's cells, whatever other zones hold them.
  void add_masked(int64_t zone, const CellBlock& values, const uint8_t* mask,
                  int64_t mask_stride);
  void merge(const ZoneTable& other);
  std::vector<std::byte> to_bytes() const;
  void merge_bytes(std::span<const std::byte> bytes);
  /// The zones, by id.
  std::map<int64_t, ZoneTally> sorted() const;

 private:
  template <class Z, class V>
  void add_cells(const CellBlock& zones, const CellBlock& values);
  template <class V>
  void add_masked_cells(ZoneTally& tally, const CellBlock& values, const uint8_t* mask,
                        int64_t mask_stride);
  void merge_zone(int64_t id, const ZoneTally& tally);
  /// Throws once the table keeps more than max_value_pairs (zone, value) counts.
  void check_pairs() const;

  PixelType zone_type_;
  std::optional<double> zone_nodata_;
  BandKind values_;
  bool value_counts_;
  std::unordered_map<int64_t, ZoneTally> zones_;
  int64_t value_pairs_ = 0;  // (zone, value) counts kept
};

/// The value of `stat` for one zone (NaN where it has no valid cell): mean and std as
/// summarize() computes them; median and percentiles as numpy.percentile (linear); majority and
/// minority the most and least frequent value (the smallest of those tied); variety the number
/// of distinct values.
double zone_value(const ZoneTally& tally, const ZoneStatistic& stat);

}  // namespace tessera::stats
