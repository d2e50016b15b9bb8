// The sweeps' per-cell loops (one instance per pixel type), their merges, and the arithmetic
// that turns merged counts and sums into gdalinfo's numbers and numpy's percentiles.
#include "tessera/stats/band_stats.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <type_traits>

#include "float_blocks.hpp"
#include "order_key.hpp"
#include "tessera/core/error.hpp"

namespace tessera::stats {

using detail::key_of;
using detail::value_of_key;

namespace {

/// Tells nodata cells: NaN always (floats), and cells equal to the nodata value, compared in the
/// band's own type as GDAL compares them (a nodata value the type cannot hold marks no cell).
template <class T>
class NodataTest {
 public:
  explicit NodataTest(std::optional<double> nodata) {
    if (!nodata) return;
    if constexpr (std::is_floating_point_v<T>) {
      nan_ = std::isnan(*nodata);
      value_ = static_cast<T>(*nodata);
      has_ = !nan_;
    } else {
      const double v = *nodata;
      has_ = v == std::floor(v) && v >= double(std::numeric_limits<T>::min()) &&
             v <= double(std::numeric_limits<T>::max());
      if (has_) value_ = static_cast<T>(v);
    }
  }
  bool has() const { return has_; }
  T value() const { return value_; }
  bool operator()(T v) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(v)) return true;
    }
    return has_ && v == value_;
  }

 private:
  bool has_ = false;
  bool nan_ = false;
  T value_{};
};

template <class T>
const T* row_of(const CellBlock& block, int64_t y) {
  return reinterpret_cast<const T*>(block.cells) + y * block.stride;
}

void add_bytes(std::vector<std::byte>& out, const void* data, size_t size) {
  const auto* bytes = static_cast<const std::byte*>(data);
  out.insert(out.end(), bytes, bytes + size);
}

/// Reads the next `size` bytes of `in` into `data`, advancing it.
void take_bytes(std::span<const std::byte>& in, void* data, size_t size) {
  if (in.size() < size) throw Error("internal error: partial statistics cut short");
  std::memcpy(data, in.data(), size);
  in = in.subspan(size);
}

void add_counts(std::vector<int64_t>& into, const std::vector<int64_t>& from) {
  for (size_t i = 0; i < into.size(); ++i) into[i] += from[i];
}

/// Float32 cells' exact sums, gathered per tile in 64-bit bins per exponent before they go to
/// the 128-bit ones: a Float32 is m * 2^(e - 150) with m below 2^24, so a bin of m takes 2^39
/// cells; m^2 is split as (hi * 2^12 + lo)^2 into three sums of products below 2^25 each.
class Float32Bins {
 public:
  void add(float v) {
    const auto bits = std::bit_cast<uint32_t>(v);
    const uint32_t e = (bits >> 23) & 0xff;
    const auto m = static_cast<int64_t>((bits & 0x7fffff) | (e != 0 ? 0x800000u : 0u));
    sum_[e] += (bits >> 31) != 0 ? -m : m;
    const int64_t hi = m >> 12;
    const int64_t lo = m & 0xfff;
    high_[e] += hi * hi;
    middle_[e] += hi * lo;
    low_[e] += lo * lo;
  }
  /// Adds the bins to `moments`; as a double, a Float32 of biased exponent e is m * 2^(k - 1074)
  /// with k = max(e, 1) + 924.
  void flush_into(ExactMoments& moments) {
    for (int e = 0; e < 256; ++e) {
      const auto i = static_cast<size_t>(e);
      if (sum_[i] == 0 && high_[i] == 0 && middle_[i] == 0 && low_[i] == 0) continue;
      const int k = std::max(e, 1) + 924;
      moments.add_sum_bin(k, sum_[i]);
      moments.add_square_bin(2 * k + 24, static_cast<UInt128>(high_[i]));
      moments.add_square_bin(2 * k + 13, static_cast<UInt128>(middle_[i]));  // 2 * hi * lo * 2^12
      moments.add_square_bin(2 * k, static_cast<UInt128>(low_[i]));
    }
    *this = Float32Bins();
  }

 private:
  std::array<int64_t, 256> sum_{};
  std::array<int64_t, 256> high_{};
  std::array<int64_t, 256> middle_{};
  std::array<int64_t, 256> low_{};
};

/// GDAL's bucket of a valid cell, as bucket_of() computes it, with the scale computed once.
class BucketIndex {
 public:
  explicit BucketIndex(const Buckets& b)
      : min_(b.min), scale_(b.count / (b.max - b.min)), last_(b.count - 1) {}
  double min() const { return min_; }
  double scale() const { return scale_; }
  int64_t last() const { return last_; }
  size_t operator()(double value) const {
    const double index = (value - min_) * scale_;
    if (!(index >= 0)) return 0;
    // floor() of a non-negative number below 2^63 is its truncation.
    if (index >= static_cast<double>(last_)) return static_cast<size_t>(last_);
    return static_cast<size_t>(static_cast<int64_t>(index));
  }

 private:
  double min_;
  double scale_;
  int64_t last_;
};

/// BucketIndex's arithmetic for four cells, clamped to [0, last] (see count_buckets_avx2).
__attribute__((target("avx2"), always_inline)) inline __m128i bucket_indices(
    __m128 four, __m256d min, __m256d scale, __m256d zero, __m256d last) {
  const __m256d at = _mm256_mul_pd(_mm256_sub_pd(_mm256_cvtps_pd(four), min), scale);
  return _mm256_cvttpd_epi32(_mm256_min_pd(_mm256_max_pd(at, zero), last));
}

/// Copies of the histogram count_buckets_avx2 counts into, so that neighbouring cells, which
/// mostly fall in one bucket, do not wait on each other's increments.
constexpr size_t kBucketCopies = 8;

/// BucketIndex of each valid cell of `n` Float32 cells, counted into `histogram`: kBucketCopies
/// copies of (buckets + 1) counts, the last of each, one past the buckets, taking the invalid
/// cells. Eight cells' indices at a time, in the same double arithmetic; max(index, 0) is 0 for a
/// negative or NaN index (an infinite scale), and min(index, last) the last bucket for indices
/// past it.
__attribute__((target("avx2"))) void count_buckets_avx2(const float* v, int64_t n, bool has,
                                                        float nodata, const BucketIndex& bucket,
                                                        std::vector<int64_t>& histogram) {
  const size_t stride = histogram.size() / kBucketCopies;
  const auto invalid = static_cast<int32_t>(stride - 1);
  int64_t* counts = histogram.data();
  const __m256d min = _mm256_set1_pd(bucket.min());
  const __m256d scale = _mm256_set1_pd(bucket.scale());
  const __m256d last = _mm256_set1_pd(static_cast<double>(bucket.last()));
  const __m256d zero = _mm256_setzero_pd();
  const __m256 nd = _mm256_set1_ps(nodata);
  const __m256i dump = _mm256_set1_epi32(invalid);
  alignas(32) int32_t index[8];
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(v + i);
    const __m256 ok = detail::valid_lanes(x, has, nd);
    const __m256i both =
        _mm256_set_m128i(bucket_indices(_mm256_extractf128_ps(x, 1), min, scale, zero, last),
                         bucket_indices(_mm256_castps256_ps128(x), min, scale, zero, last));
    _mm256_store_si256(reinterpret_cast<__m256i*>(index),
                       _mm256_blendv_epi8(dump, both, _mm256_castps_si256(ok)));
    for (size_t j = 0; j < 8; ++j)
      ++counts[(j % kBucketCopies) * stride + static_cast<size_t>(index[j])];
  }
  for (; i < n; ++i)
    ++histogram[detail::valid_float(v[i], has, nodata) ? bucket(v[i])
                                                       : static_cast<size_t>(invalid)];
}

}  // namespace

int key_bits(PixelType type) { return 8 * static_cast<int>(size_of(type)); }
int digit_bits(PixelType type) { return std::min(16, key_bits(type)); }

FirstSweep::FirstSweep(BandKind kind, bool digits)
    : kind_(kind),
      count_digits_(digits || key_bits(kind.type) <= 16),
      min_(std::numeric_limits<double>::infinity()),
      max_(-std::numeric_limits<double>::infinity()),
      digits_(size_t{1} << digit_bits(kind.type), 0) {}

void FirstSweep::add_floats(const CellBlock& block) {
  const NodataTest<float> is_nodata(kind_.nodata);
  float lo = std::numeric_limits<float>::infinity();
  float hi = -std::numeric_limits<float>::infinity();
  int64_t valid = 0;
  Float32Bins mixed;  // the cells of blocks whose exponents differ
  int64_t unflushed = 0;
  for (int64_t y = 0; y < block.height; ++y) {
    const float* row = row_of<float>(block, y);
    for (int64_t start = 0; start < block.width; start += detail::kFloatBlock) {
      const float* v = row + start;
      const int64_t n = std::min(detail::kFloatBlock, block.width - start);
      detail::FloatBlock b;
      detail::scan(b, v, n, is_nodata.has(), is_nodata.value());
      if (b.valid == 0) continue;
      valid += b.valid;
      lo = std::min(lo, b.lo);
      hi = std::max(hi, b.hi);
      const auto add = [&](uint32_t e, int64_t mantissas, uint64_t squares) {
        const int k = std::max(static_cast<int>(e), 1) + 924;  // as Float32Bins
        moments_.add_sum_bin(k, mantissas);
        moments_.add_square_bin(2 * k, squares);
      };
      const auto add_window = [&](uint32_t first, const detail::WindowSums& w) {
        const int k = static_cast<int>(first) + 924;  // as Float32Bins, first being at least 1
        moments_.add_sum_bin(k, w.mantissas);
        moments_.add_square_bin(2 * k + 24, w.high);
        moments_.add_square_bin(2 * k + 13, w.middle);  // 2 * hi * lo * 2^12
        moments_.add_square_bin(2 * k, w.low);
      };
      if (!detail::sum_by_exponent(b, v, n, is_nodata.has(), is_nodata.value(), add) &&
          !detail::sum_by_windows(b, v, n, is_nodata.has(), is_nodata.value(), add_window)) {
        for (int64_t i = 0; i < n; ++i)
          if (!is_nodata(v[i])) mixed.add(v[i]);
        unflushed += n;
      }
    }
    // A bin of 64 bits takes 2^39 mantissas: flush well before, every 2^24 cells or so.
    if (unflushed >= (int64_t{1} << 24) || y + 1 == block.height) {
      mixed.flush_into(moments_);
      unflushed = 0;
    }
  }
  add_block(block, valid, lo, hi);
}

void FirstSweep::add_block(const CellBlock& block, int64_t valid, double lo, double hi) {
  valid_ += valid;
  nodata_ += block.width * block.height - valid;
  if (valid > 0) {
    min_ = std::min(min_, lo);
    max_ = std::max(max_, hi);
  }
}

void FirstSweep::add(const CellBlock& block) {
  if (kind_.type == PixelType::Float32 && !count_digits_) return add_floats(block);
  visit(kind_.type, [&]<class T>(std::type_identity<T>) {
    const NodataTest<T> is_nodata(kind_.nodata);
    const int shift = key_bits(kind_.type) - digit_bits(kind_.type);
    constexpr bool small = sizeof(T) <= 2;  // sums come from the histogram
    // Floating extremes start at the infinities, so that a band of one infinity has it for both.
    constexpr bool floating = std::is_floating_point_v<T>;
    T lo = floating ? std::numeric_limits<T>::infinity() : std::numeric_limits<T>::max();
    T hi = floating ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::lowest();
    int64_t valid = 0;
    Float32Bins float_bins;
    int64_t unflushed = 0;
    for (int64_t y = 0; y < block.height; ++y) {
      const T* row = row_of<T>(block, y);
      for (int64_t x = 0; x < block.width; ++x) {
        const T v = row[x];
        if (is_nodata(v)) continue;
        ++valid;
        const T c = v + T{0};  // -0 as 0, as add_floats: extremes that do not depend on order
        lo = std::min(lo, c);
        hi = std::max(hi, c);
        if (count_digits_) ++digits_[key_of(v) >> shift];
        if constexpr (std::is_same_v<T, float>) {
          float_bins.add(v);
        } else if constexpr (std::is_floating_point_v<T>) {
          moments_.add(static_cast<double>(v));
        } else if constexpr (!small) {
          moments_.add_integer(v, 1);
        }
      }
      // A bin of 64 bits takes 2^39 mantissas: flush well before, every 2^24 cells or so.
      unflushed += block.width;
      if (std::is_same_v<T, float> && (unflushed >= (int64_t{1} << 24) || y + 1 == block.height)) {
        float_bins.flush_into(moments_);
        unflushed = 0;
      }
    }
    add_block(block, valid, double(lo), double(hi));
  });
}

void FirstSweep::merge(const FirstSweep& other) {
  valid_ += other.valid_;
  nodata_ += other.nodata_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  moments_.merge(other.moments_);
  add_counts(digits_, other.digits_);
}

std::vector<std::byte> FirstSweep::to_bytes() const {
  std::vector<std::byte> out;
  add_bytes(out, &valid_, sizeof valid_);
  add_bytes(out, &nodata_, sizeof nodata_);
  add_bytes(out, &min_, sizeof min_);
  add_bytes(out, &max_, sizeof max_);
  add_bytes(out, digits_.data(), digits_.size() * sizeof(int64_t));
  const auto moments = moments_.to_bytes();
  out.insert(out.end(), moments.begin(), moments.end());
  return out;
}

void FirstSweep::merge_bytes(std::span<const std::byte> bytes) {
  FirstSweep other(kind_);
  take_bytes(bytes, &other.valid_, sizeof other.valid_);
  take_bytes(bytes, &other.nodata_, sizeof other.nodata_);
  take_bytes(bytes, &other.min_, sizeof other.min_);
  take_bytes(bytes, &other.max_, sizeof other.max_);
  take_bytes(bytes, other.digits_.data(), other.digits_.size() * sizeof(int64_t));
  other.moments_ = ExactMoments::from_bytes(bytes);
  merge(other);
}

ExactMoments FirstSweep::moments() const {
  if (key_bits(kind_.type) > 16) return moments_;
  ExactMoments m;
  for (size_t key = 0; key < digits_.size(); ++key)
    if (digits_[key] != 0)
      m.add_integer(static_cast<int64_t>(value_of_key(kind_.type, key)), digits_[key]);
  return m;
}

Summary summarize(const FirstSweep& sweep) {
  Summary s;
  s.valid = sweep.valid();
  s.nodata = sweep.nodata();
  if (s.valid == 0) {
    s.minimum = s.maximum = s.mean = s.stddev = std::numeric_limits<double>::quiet_NaN();
    return s;
  }
  s.minimum = sweep.minimum();
  s.maximum = sweep.maximum();
  if (const auto sum = infinite_sum(s.minimum, s.maximum)) {
    s.mean = *sum;
    s.stddev = std::numeric_limits<double>::quiet_NaN();
    return s;
  }
  const ExactMoments m = sweep.moments();
  const BigInt sum = m.sum();
  const auto n = static_cast<uint64_t>(s.valid);
  s.mean = sum.divided(ExactMoments::sum_unit, static_cast<double>(n));
  BigInt spread = m.sum_of_squares().times(n);  // n * sum of squares - sum^2, exactly
  spread.subtract(sum.squared());
  s.stddev = spread.root_of_quotient(ExactMoments::square_unit,
                                     static_cast<double>(n) * static_cast<double>(n));
  return s;
}

namespace {

/// `v` as GDAL's statistics metadata keeps it ("%.14g") and GetStatistics reads it back.
double as_gdal_keeps(double v) {
  char text[64];
  std::snprintf(text, sizeof text, "%.14g", v);
  return std::strtod(text, nullptr);
}

}  // namespace

Buckets default_buckets(PixelType type, double minimum, double maximum) {
  if (type == PixelType::Byte) return {-0.5, 255.5, 256};
  // gdalinfo -stats -hist computes the statistics, stores them in the band's metadata, and
  // GetDefaultHistogram takes its range from the extremes read back from there.
  minimum = as_gdal_keeps(minimum);
  maximum = as_gdal_keeps(maximum);
  Buckets b;
  const double half = (maximum - minimum) / (2 * (b.count - 1));
  b.min = minimum - half;
  b.max = maximum + half;
  return b;
}

int bucket_of(double value, const Buckets& buckets) {
  const double scale = buckets.count / (buckets.max - buckets.min);
  const double index = std::floor((value - buckets.min) * scale);
  if (!(index >= 0)) return 0;
  if (index >= buckets.count) return buckets.count - 1;
  return static_cast<int>(index);
}

std::vector<int64_t> histogram_from_values(const FirstSweep& first, const Buckets& buckets) {
  if (key_bits(first.kind().type) > 16)
    throw Error("internal error: a histogram from values of a type wider than 16 bits");
  std::vector<int64_t> counts(static_cast<size_t>(buckets.count), 0);
  const auto& values = first.digits();
  for (size_t key = 0; key < values.size(); ++key)
    if (values[key] != 0)
      counts[static_cast<size_t>(bucket_of(value_of_key(first.kind().type, key), buckets))] +=
          values[key];
  return counts;
}

Selection::Selection(const FirstSweep& first, std::vector<double> percentiles)
    : type_(first.kind().type), valid_(first.valid()), percentiles_(std::move(percentiles)) {
  if (valid_ == 0) return;
  const auto n = static_cast<double>(valid_);
  for (double p : percentiles_) {
    // numpy: virtual index (n - 1) * q, its floor and the next index, clipped to the last.
    const double index = (n - 1) * (p / 100);
    const auto below = std::min<int64_t>(static_cast<int64_t>(std::floor(index)), valid_ - 1);
    targets_.push_back({below, 0});
    targets_.push_back({std::min<int64_t>(below + 1, valid_ - 1), 0});
  }
  for (Target& t : targets_) descend(t, first.digits());
  level_ = 1;
}

bool Selection::done() const {
  return targets_.empty() || level_ * digit_bits(type_) == key_bits(type_);
}

std::vector<uint64_t> Selection::prefixes() const {
  std::vector<uint64_t> out;
  for (const Target& t : targets_) out.push_back(t.prefix);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

/// Finds the digit under which the target's rank falls in `histogram` (of the cells with its
/// prefix), appends it to the prefix and makes the rank relative to that digit's cells.
void Selection::descend(Target& target, std::span<const int64_t> histogram) const {
  int64_t before = 0;
  for (size_t digit = 0; digit < histogram.size(); ++digit) {
    if (target.rank < before + histogram[digit]) {
      target.prefix = (target.prefix << digit_bits(type_)) | digit;
      target.rank -= before;
      return;
    }
    before += histogram[digit];
  }
  throw Error("internal error: a percentile's rank beyond the cells counted");
}

void Selection::refine(const std::vector<std::vector<int64_t>>& histograms) {
  const std::vector<uint64_t> known = prefixes();
  if (histograms.size() != known.size())
    throw Error("internal error: refining percentiles with the wrong histograms");
  for (Target& t : targets_) {
    const auto at = std::lower_bound(known.begin(), known.end(), t.prefix) - known.begin();
    descend(t, histograms[static_cast<size_t>(at)]);
  }
  ++level_;
}

std::vector<double> Selection::values() const {
  std::vector<double> out;
  if (targets_.empty()) {
    out.assign(percentiles_.size(), std::numeric_limits<double>::quiet_NaN());
    return out;
  }
  const auto n = static_cast<double>(valid_);
  for (size_t i = 0; i < percentiles_.size(); ++i) {
    const double a = value_of_key(type_, targets_[2 * i].prefix);
    const double b = value_of_key(type_, targets_[2 * i + 1].prefix);
    out.push_back(detail::numpy_lerp(a, b, n, percentiles_[i]));
  }
  return out;
}

LaterSweep::LaterSweep(BandKind kind, std::optional<Buckets> buckets, int level,
                       std::vector<uint64_t> prefixes)
    : kind_(kind), buckets_(buckets), level_(level), prefixes_(std::move(prefixes)) {
  if (buckets_) histogram_.assign(static_cast<size_t>(buckets_->count), 0);
  digits_.assign(prefixes_.size(), std::vector<int64_t>(size_t{1} << digit_bits(kind.type), 0));
}

template <class T>
void LaterSweep::add_cells(const CellBlock& block) {
  const NodataTest<T> is_nodata(kind_.nodata);
  const int bits = key_bits(kind_.type);
  const int digit = digit_bits(kind_.type);
  const int prefix_shift = bits - digit * level_;
  const int digit_shift = prefix_shift - digit;
  const uint64_t digit_mask = (uint64_t{1} << digit) - 1;
  const bool refine = !prefixes_.empty();
  std::optional<BucketIndex> bucket;
  if (buckets_) bucket.emplace(*buckets_);
  if constexpr (std::is_same_v<T, float>) {
    if (bucket && prefixes_.empty() && detail::have_avx2()) {
      const size_t stride = histogram_.size() + 1;
      counts_.assign(kBucketCopies * stride, 0);
      for (int64_t y = 0; y < block.height; ++y)
        count_buckets_avx2(row_of<float>(block, y), block.width, is_nodata.has(), is_nodata.value(),
                           *bucket, counts_);
      for (size_t c = 0; c < kBucketCopies; ++c)
        for (size_t k = 0; k < histogram_.size(); ++k) histogram_[k] += counts_[c * stride + k];
      return;
    }
  }
  for (int64_t y = 0; y < block.height; ++y) {
    const T* row = row_of<T>(block, y);
    for (int64_t x = 0; x < block.width; ++x) {
      const T v = row[x];
      if (is_nodata(v)) continue;
      if (bucket) ++histogram_[(*bucket)(double(v))];
      if (!refine) continue;
      const uint64_t key = key_of(v);
      const uint64_t prefix = key >> prefix_shift;
      const auto at = std::lower_bound(prefixes_.begin(), prefixes_.end(), prefix);
      if (at == prefixes_.end() || *at != prefix) continue;
      ++digits_[static_cast<size_t>(at - prefixes_.begin())][(key >> digit_shift) & digit_mask];
    }
  }
}

void LaterSweep::add(const CellBlock& block) {
  visit(kind_.type, [&]<class T>(std::type_identity<T>) { add_cells<T>(block); });
}

void LaterSweep::merge(const LaterSweep& other) {
  add_counts(histogram_, other.histogram_);
  for (size_t i = 0; i < digits_.size(); ++i) add_counts(digits_[i], other.digits_[i]);
}

std::vector<std::byte> LaterSweep::to_bytes() const {
  std::vector<std::byte> out;
  add_bytes(out, histogram_.data(), histogram_.size() * sizeof(int64_t));
  for (const auto& d : digits_) add_bytes(out, d.data(), d.size() * sizeof(int64_t));
  return out;
}

void LaterSweep::merge_bytes(std::span<const std::byte> bytes) {
  LaterSweep other(kind_, buckets_, level_, prefixes_);
  take_bytes(bytes, other.histogram_.data(), other.histogram_.size() * sizeof(int64_t));
  for (auto& d : other.digits_) take_bytes(bytes, d.data(), d.size() * sizeof(int64_t));
  merge(other);
}

}  // namespace tessera::stats
