// Exact sums of doubles and of their squares: integer arithmetic, so that any order of adding
// and merging gives the same bits.
#pragma once

#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <vector>

namespace tessera::stats {

/// 128-bit integers (a GCC and Clang extension, named once here so -Wpedantic stays quiet).
__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 UInt128;

/// A signed integer of 4608 bits in two's complement: wide enough for the sum of 2^64 squares of
/// any finite doubles, counted in units of 2^-2148 (the square of the smallest subnormal).
class BigInt {
 public:
  static constexpr int limbs = 72;

  /// Adds value * 2^shift; 0 <= shift and the result fits (the callers' ranges ensure it).
  void add(UInt128 value, int shift);
  void subtract(UInt128 value, int shift);
  void add(const BigInt& other);
  void subtract(const BigInt& other);
  bool negative() const { return (limbs_.back() >> 63) != 0; }
  bool zero() const;
  /// This times `n`, which must not overflow.
  BigInt times(uint64_t n) const;
  /// The square of this number.
  BigInt squared() const;
  /// This number times 2^unit, rounded to the nearest double (ties to even); infinite when it is
  /// beyond the doubles' range.
  double to_double(int unit) const;
  /// to_double(unit) / divisor, and the same bits, but finite wherever the quotient is, even when
  /// this number is beyond the doubles' range (the sum of squares of values past 1e154).
  double divided(int unit, double divisor) const;
  /// The square root of max(0, to_double(unit) / divisor), and the same bits, but finite wherever
  /// the root is, even when the quotient is beyond the doubles' range (a standard deviation of
  /// values past 1e154, whose variance no double holds).
  double root_of_quotient(int unit, double divisor) const;

 private:
  BigInt negated() const;
  std::array<uint64_t, limbs> limbs_{};
};

/// The sum of values whose smallest is `min` and largest `max` when either is infinite: +inf or
/// -inf, or NaN when they hold both (as IEEE arithmetic adds them; their mean is the same and
/// their standard deviation NaN, as numpy gives them); none when both are finite, when
/// ExactMoments, which takes finite values only, holds the sum.
inline std::optional<double> infinite_sum(double min, double max) {
  const bool up = std::isinf(max) && max > 0;
  const bool down = std::isinf(min) && min < 0;
  if (!up && !down) return std::nullopt;
  if (up && down) return std::numeric_limits<double>::quiet_NaN();
  return up ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
}

/// The exact sum of finite doubles and of their squares (infinities and NaN are left out). Each
/// double is m * 2^(k - 1074) with m an integer below 2^53: m is added to a 128-bit bin per k, its
/// square (split in two halves of 53 bits) to bins per 2k, so adding costs a few integer additions
/// and nothing is rounded.
class ExactMoments {
 public:
  ExactMoments();
  void add(double x) {
    const auto bits = std::bit_cast<uint64_t>(x);
    const auto biased = static_cast<int>((bits >> 52) & 0x7ff);
    if (biased == 0x7ff) return;  // an infinity (or NaN): its sums are the extremes' (infinite_sum)
    const uint64_t fraction = bits & ((uint64_t{1} << 52) - 1);
    const uint64_t m = biased == 0 ? fraction : fraction | (uint64_t{1} << 52);
    const int k = biased == 0 ? 0 : biased - 1;
    const auto signed_m = static_cast<Int128>(m);
    sum_[static_cast<size_t>(k)] += (bits >> 63) != 0 ? -signed_m : signed_m;
    const UInt128 square = static_cast<UInt128>(m) * m;
    squares_[static_cast<size_t>(2 * k + 53)] += square >> 53;
    squares_[static_cast<size_t>(2 * k)] += square & ((uint64_t{1} << 53) - 1);
  }
  /// Adds the integer `v` (|v| < 2^32) `count` times.
  void add_integer(int64_t v, int64_t count) {
    const auto magnitude = static_cast<UInt128>(v < 0 ? -v : v);
    sum_[1074] += static_cast<Int128>(v) * count;
    squares_[2148] += magnitude * magnitude * static_cast<UInt128>(count);
  }
  /// Adds `v` * 2^(k - 1074) to the sum and `square` * 2^(position - 2148) to the sum of
  /// squares: for callers that gather many cells' mantissas per exponent first.
  void add_sum_bin(int k, Int128 v) { sum_[static_cast<size_t>(k)] += v; }
  void add_square_bin(int position, UInt128 square) {
    squares_[static_cast<size_t>(position)] += square;
  }
  void merge(const ExactMoments& other);
  /// The sum, in units of 2^-1074.
  BigInt sum() const;
  /// The sum of squares, in units of 2^-2148.
  BigInt sum_of_squares() const;
  /// The bins as bytes, for merging across ranks, and back.
  std::vector<std::byte> to_bytes() const;
  static ExactMoments from_bytes(std::span<const std::byte> bytes);

  static constexpr int sum_unit = -1074;
  static constexpr int square_unit = -2148;

 private:
  std::vector<Int128> sum_;       // per k
  std::vector<UInt128> squares_;  // per 2k, and 2k + 53
};

}  // namespace tessera::stats
