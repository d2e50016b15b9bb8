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
  Variety
};

/// "count", "nodata", "sum", "mean", "min", "max", "range", "std", "variance", "median",
/// "majority", "minority", "variety".
std::string_view name_of(ZoneStat stat);
/// The statistic named `name`; throws tessera::Error naming the known ones.
ZoneStat parse_zone_stat(std::string_view name);
/// Whether it needs each value's count per zone (median, majority, minority, variety).
bool needs_value_counts(ZoneStat stat);

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
  std::map<int64_t, int64_t> values;  ///< each value's count, when value counts are kept
};

/// The zones' partial results over the tiles folded so far.
class ZoneTable {
 public:
  /// `values`: the values band's type and nodata; `value_counts`: keep each value's count per
  /// zone (integer values only). Zone cells equal to `zone_nodata` belong to no zone.
  ZoneTable(PixelType zone_type, std::optional<double> zone_nodata, BandKind values,
            bool value_counts);
  /// One tile: `zones` and `values` cover the same cells.
  void add(const CellBlock& zones, const CellBlock& values);
  void merge(const ZoneTable& other);
  std::vector<std::byte> to_bytes() const;
  void merge_bytes(std::span<const std::byte> bytes);
  /// The zones, by id.
  std::map<int64_t, ZoneTally> sorted() const;

 private:
  template <class Z, class V>
  void add_cells(const CellBlock& zones, const CellBlock& values);
  void merge_zone(int64_t id, const ZoneTally& tally);

  PixelType zone_type_;
  std::optional<double> zone_nodata_;
  BandKind values_;
  bool value_counts_;
  std::unordered_map<int64_t, ZoneTally> zones_;
};

/// The value of `stat` for one zone (NaN where it has no valid cell): mean and std as
/// summarize() computes them; median as numpy.median; majority and minority the most and least
/// frequent value (the smallest of those tied); variety the number of distinct values.
double zone_value(const ZoneTally& tally, ZoneStat stat);

}  // namespace tessera::stats
