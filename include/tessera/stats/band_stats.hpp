// Exact statistics of one band, computed in sweeps over its tiles whose partial results merge in
// any order to the same bits: counts, minimum, maximum, exact sums (mean, standard deviation), a
// histogram with GDAL's buckets, and exact percentiles found by refining a histogram of the
// cells' order keys 16 bits at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "tessera/core/pixel_type.hpp"
#include "tessera/stats/exact_sum.hpp"

namespace tessera::stats {

/// The cells of one tile of a band: `height` rows of `width` cells of the band's type, rows
/// `stride` cells apart.
struct CellBlock {
  const std::byte* cells = nullptr;
  int64_t width = 0;
  int64_t height = 0;
  int64_t stride = 0;
};

/// Which cells are valid, as GDAL's ComputeStatistics decides: not NaN, and not the nodata value
/// (compared as a float for Float32 bands).
struct BandKind {
  PixelType type = PixelType::Float32;
  std::optional<double> nodata;
};

/// Bits of a cell's order key (the size of its type) and of the digit each sweep resolves.
int key_bits(PixelType type);
int digit_bits(PixelType type);

/// The first sweep: counts, minimum and maximum, exact sums, and the histogram of the first
/// digit of the order keys (for types of 16 bits or fewer, every value's count).
class FirstSweep {
 public:
  /// Without `digits`, a type wider than 16 bits skips the first digit's histogram (no
  /// percentiles asked for); types of 16 bits or fewer always count it (their sums come from it).
  explicit FirstSweep(BandKind kind, bool digits = true);
  void add(const CellBlock& block);
  void merge(const FirstSweep& other);
  std::vector<std::byte> to_bytes() const;
  void merge_bytes(std::span<const std::byte> bytes);

  const BandKind& kind() const { return kind_; }
  int64_t valid() const { return valid_; }
  int64_t nodata() const { return nodata_; }
  double minimum() const { return min_; }
  double maximum() const { return max_; }
  /// The exact sums; for types of 16 bits or fewer, made from the histogram.
  ExactMoments moments() const;
  const std::vector<int64_t>& digits() const { return digits_; }

 private:
  /// add() of a Float32 band without digits: a block of cells at a time (detail::FloatBlock).
  void add_floats(const CellBlock& block);
  /// Counts a block's `valid` cells (the others nodata) and its extremes.
  void add_block(const CellBlock& block, int64_t valid, double lo, double hi);

  BandKind kind_;
  bool count_digits_;
  int64_t valid_ = 0;
  int64_t nodata_ = 0;
  double min_;
  double max_;
  ExactMoments moments_;
  std::vector<int64_t> digits_;
};

/// What one band's statistics are, as gdalinfo -stats prints them (population standard
/// deviation). Mean is the exact sum rounded to a double, divided by the count; the variance is
/// (count * sum of squares - sum^2), computed exactly and rounded once, over count^2.
struct Summary {
  int64_t valid = 0;
  int64_t nodata = 0;
  double minimum = 0;
  double maximum = 0;
  double mean = 0;
  double stddev = 0;
};
Summary summarize(const FirstSweep& sweep);

/// A histogram's buckets: `count` buckets of equal width from `min` to `max`.
struct Buckets {
  double min = 0;
  double max = 0;
  int count = 256;
};
/// GDAL's default histogram (GDALRasterBand::GetDefaultHistogram): 256 buckets, from -0.5 to
/// 255.5 for Byte, otherwise from minimum to maximum (each to 14 significant digits, as GDAL's
/// statistics metadata keeps them) widened by half a bucket on each side.
Buckets default_buckets(PixelType type, double minimum, double maximum);
/// The bucket of `value`, as GDAL's ComputeHistogram with out-of-range values included: values
/// below or above the range go to the first or last bucket.
int bucket_of(double value, const Buckets& buckets);

/// The percentiles asked for, as numpy.percentile (method "linear") gives them for the valid
/// values as float64: each needs the values at two ranks of the sorted cells, which Selection
/// finds a digit at a time.
class Selection {
 public:
  /// `percentiles` each in [0, 100]; `first` gives the first digit's histogram.
  Selection(const FirstSweep& first, std::vector<double> percentiles);
  /// Whether every rank's value is known.
  bool done() const;
  /// The next sweep refines the digit after the prefixes (key bits above it) it returns, sorted.
  int level() const { return level_; }
  std::vector<uint64_t> prefixes() const;
  /// Takes the next sweep's histograms: one per prefix, 2^digit_bits counts each.
  void refine(const std::vector<std::vector<int64_t>>& histograms);
  /// The percentiles, in the order asked for; NaN when no cell is valid. Requires done().
  std::vector<double> values() const;

 private:
  struct Target {
    int64_t rank = 0;     // from 0, among the valid cells in order
    uint64_t prefix = 0;  // the key's digits found so far
  };
  void descend(Target& target, std::span<const int64_t> histogram) const;

  PixelType type_;
  int64_t valid_ = 0;
  std::vector<double> percentiles_;
  std::vector<Target> targets_;  // two per percentile: below and above
  int level_ = 0;                // digits found so far
};

/// A later sweep: GDAL's histogram of the valid cells over `buckets`, and, for a Selection's
/// prefixes at `level`, the histogram of the next digit of the cells that have each prefix.
class LaterSweep {
 public:
  LaterSweep(BandKind kind, std::optional<Buckets> buckets, int level,
             std::vector<uint64_t> prefixes);
  void add(const CellBlock& block);
  void merge(const LaterSweep& other);
  std::vector<std::byte> to_bytes() const;
  void merge_bytes(std::span<const std::byte> bytes);
  const std::vector<int64_t>& histogram() const { return histogram_; }
  const std::vector<std::vector<int64_t>>& digits() const { return digits_; }

 private:
  template <class T>
  void add_cells(const CellBlock& block);

  BandKind kind_;
  std::optional<Buckets> buckets_;
  int level_;
  std::vector<uint64_t> prefixes_;
  std::vector<int64_t> histogram_;
  std::vector<std::vector<int64_t>> digits_;
  std::vector<int64_t> counts_;  ///< a tile's histogram in copies (count_buckets_avx2)
};

/// GDAL's histogram from a first sweep of a type of 16 bits or fewer, whose digits are every
/// value's count: no later sweep needed.
std::vector<int64_t> histogram_from_values(const FirstSweep& first, const Buckets& buckets);

}  // namespace tessera::stats
