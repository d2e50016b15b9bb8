// Zonal statistics: per-zone partial results of a values band by a band of integer zone ids,
// exact (integer arithmetic), so that they merge in any order to the same numbers.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
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
/// Values in a row usually share their exponent: those of the last exponent seen are summed
/// apart (three 128-bit additions, no search) and folded into the terms when it changes. Float32
/// values have their own run in 64-bit arithmetic: a 24-bit mantissa squares into 48 bits.
class CompactSum {
 public:
  void add(double x) {
    const auto bits = std::bit_cast<uint64_t>(x);
    const auto biased = static_cast<int32_t>((bits >> 52) & 0x7ff);
    const uint64_t fraction = bits & ((uint64_t{1} << 52) - 1);
    const uint64_t m = biased == 0 ? fraction : fraction | (uint64_t{1} << 52);
    const int32_t k = biased == 0 ? 0 : biased - 1;
    if (k != run_k_) start_run(k);
    const auto signed_m = static_cast<Int128>(m);
    run_sum_ += (bits >> 63) != 0 ? -signed_m : signed_m;
    const UInt128 square = static_cast<UInt128>(m) * m;
    run_high_ += square >> 53;
    run_low_ += square & ((uint64_t{1} << 53) - 1);
  }
  /// The same for a Float32 value: x = m * 2^(e - 150), m below 2^24, which is the double
  /// (m << 29) * 2^(k - 1074) with k = e + 895.
  void add(float x) {
    const auto bits = std::bit_cast<uint32_t>(x);
    const auto biased = static_cast<int32_t>((bits >> 23) & 0xff);
    const uint32_t fraction = bits & ((uint32_t{1} << 23) - 1);
    const uint64_t m = biased == 0 ? fraction : fraction | (uint32_t{1} << 23);
    const int32_t k = (biased == 0 ? 1 : biased) + 895;
    if (k != float_k_) start_float_run(k);
    const auto signed_m = static_cast<int64_t>(m);
    float_sum_ += (bits >> 31) != 0 ? -signed_m : signed_m;
    float_squares_ += m * m;
  }
  /// What add(float) does for each of a block of Float32 values that share the biased exponent
  /// `biased`: `mantissas` is the sum of their signed 24-bit mantissas, `squares` of their
  /// squares (a block of at most 2^15 values keeps both exact in 64 bits).
  void add_floats(int32_t biased, int64_t mantissas, uint64_t squares) {
    const int32_t k = (biased == 0 ? 1 : biased) + 895;
    if (k != float_k_) start_float_run(k);
    float_sum_ += mantissas;
    float_squares_ += squares;
  }
  /// What add(float) does for each of a block of Float32 values whose exponents E (the biased
  /// one, at least 1) lie in a window from `first`: `mantissas` is the sum of their signed m <<
  /// (E - first), `high`, `middle`, `low` the sums of hi^2, hi * lo, lo^2 << 2 (E - first) with
  /// m = hi * 2^12 + lo (detail::WindowSums).
  void add_window(int32_t first, int64_t mantissas, uint64_t high, uint64_t middle, uint64_t low);
  void merge(const CompactSum& other);
  BigInt sum() const;
  BigInt sum_of_squares() const;
  void append_bytes(std::vector<std::byte>& out) const;
  void take_bytes(std::span<const std::byte>& in);

 private:
  /// Folds the run into the terms and starts one of exponent `k`.
  void start_run(int32_t k);
  /// Folds the Float32 run into the terms and starts one of exponent `k`.
  void start_float_run(int32_t k);
  /// The terms with the runs folded in.
  CompactSum settled() const;

  std::vector<std::pair<int32_t, Int128>> sum_;       // (k, sum of signed mantissas)
  std::vector<std::pair<int32_t, UInt128>> squares_;  // (position, sum of square parts)
  int32_t run_k_ = -1;                                // the run's exponent (none yet)
  Int128 run_sum_ = 0;
  UInt128 run_high_ = 0;  // at 2k + 53
  UInt128 run_low_ = 0;   // at 2k
  int32_t float_k_ = -1;  // the Float32 run's exponent, in the doubles' k
  Int128 float_sum_ = 0;  // of 24-bit mantissas
  UInt128 float_squares_ = 0;
};

/// What a sweep for exact per-zone percentiles counts, past max_value_pairs: for each zone, the
/// `bits` bits of each valid value's order key after its first `known` bits, for the values whose
/// first `known` bits are one of the zone's prefixes (where its percentiles' ranks fall).
struct DigitRequest {
  int known = 0;
  int bits = 8;
  std::unordered_map<int64_t, std::vector<uint64_t>> prefixes;  // per zone, sorted, unique
  std::vector<std::byte> to_bytes() const;
  static DigitRequest from_bytes(std::span<const std::byte> bytes);
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
  /// In a digit sweep: the counts of each digit under each of the zone's prefixes, prefix by
  /// prefix (DigitRequest).
  std::vector<int64_t> digits;
  /// Percentiles (0-100) found by digit sweeps, and their values: what median and percentile_Q
  /// give when the value counts were given up.
  std::map<double, double> refined;
};

/// Zones and their partial results, by increasing id.
using ZoneList = std::vector<std::pair<int64_t, ZoneTally>>;

/// The zone `id` of `zones`, or null.
const ZoneTally* find_zone(const ZoneList& zones, int64_t id);

/// The most (zone, value) counts a zone table keeps (about 64 bytes each) before it refuses to go
/// on: what bounds the memory of median, percentiles, majority, minority, variety and classes.
inline constexpr int64_t max_value_pairs = int64_t{1} << 21;

/// The zones' partial results over the tiles folded so far.
class ZoneTable {
 public:
  /// `values`: the values band's type and nodata; `value_counts`: keep each value's count per
  /// zone (for float values, memory grows with the distinct values each zone holds). Zone cells
  /// equal to `zone_nodata` belong to no zone.
  ZoneTable(PixelType zone_type, std::optional<double> zone_nodata, BandKind values,
            bool value_counts);
  /// Past max_value_pairs, give the value counts up (dropped() tells) instead of refusing to go
  /// on: when only median and percentiles need them, which digit sweeps then find.
  void give_up_counts_past_the_cap() { refinable_ = true; }
  bool dropped() const { return dropped_; }
  /// Makes the table count what `request` asks for each valid value, and nothing else.
  void count_digits(std::shared_ptr<const DigitRequest> request) { request_ = std::move(request); }
  /// One tile: `zones` and `values` cover the same cells.
  void add(const CellBlock& zones, const CellBlock& values);
  /// The cells of `values` where `mask` (one byte a cell, rows `mask_stride` apart, covering the
  /// same cells) is not 0, into zone `zone`: a polygon's cells, whatever other zones hold them.
  void add_masked(int64_t zone, const CellBlock& values, const uint8_t* mask, int64_t mask_stride);
  void merge(const ZoneTable& other);
  std::vector<std::byte> to_bytes() const;
  void merge_bytes(std::span<const std::byte> bytes);
  /// The zones, by increasing id, moved out of the table (left empty).
  std::vector<std::pair<int64_t, ZoneTally>> take_sorted();

 private:
  template <class Z, class V>
  void add_cells(const CellBlock& zones, const CellBlock& values);
  template <class V>
  void add_masked_cells(int64_t id, ZoneTally& tally, const CellBlock& values, const uint8_t* mask,
                        int64_t mask_stride);
  /// fold() of `n` cells of zone `id`, or their digits in a digit sweep.
  template <class V>
  void fold_run(int64_t id, ZoneTally& tally, const V* cells, int64_t n, bool value_has,
                V value_nodata);
  template <class V>
  void count_digits(int64_t id, ZoneTally& tally, const V* cells, int64_t n, bool value_has,
                    V value_nodata) const;
  void drop_counts();
  void merge_zone(int64_t id, const ZoneTally& tally);
  /// Throws once the table keeps more than max_value_pairs (zone, value) counts.
  void check_pairs();

  PixelType zone_type_;
  std::optional<double> zone_nodata_;
  BandKind values_;
  bool value_counts_;
  std::unordered_map<int64_t, ZoneTally> zones_;
  int64_t value_pairs_ = 0;  // (zone, value) counts kept
  bool refinable_ = false;
  bool dropped_ = false;
  std::shared_ptr<const DigitRequest> request_;
};

/// Exact percentiles of each zone found a digit of the order keys at a time (as Selection finds a
/// band's), over sweeps whose counts per table stay bounded: what median and percentile_Q use
/// when a table gave its value counts up.
class ZoneSelection {
 public:
  /// `zones`: the first sweep's tallies (their counts); `percentiles` each in [0, 100].
  ZoneSelection(PixelType type, const ZoneList& zones, std::vector<double> percentiles);
  bool done() const { return known_ == key_bits_; }
  /// The next sweep's digits: as many bits as keep a table's counts under 2^22.
  DigitRequest request() const;
  /// Takes the sweep's merged tallies (digits as request() asked).
  void refine(const DigitRequest& request, const ZoneList& counted);
  /// Puts each zone's percentiles in its tally's `refined`. Requires done().
  void fill(ZoneList& zones) const;

 private:
  struct Target {
    int64_t rank = 0;     // among the zone's valid cells in order, then within the prefix's
    uint64_t prefix = 0;  // the key's first known_ bits
  };
  PixelType type_;
  int key_bits_;
  std::vector<double> percentiles_;
  std::unordered_map<int64_t, std::pair<int64_t, std::vector<Target>>> zones_;  // count, targets
  int known_ = 0;
};

/// The value of `stat` for one zone (NaN where it has no valid cell): mean and std as
/// summarize() computes them; median and percentiles as numpy.percentile (linear); majority and
/// minority the most and least frequent value (the smallest of those tied); variety the number
/// of distinct values.
double zone_value(const ZoneTally& tally, const ZoneStatistic& stat);

}  // namespace tessera::stats
