// An exact sum of floating-point values: a fixed-point integer of 384 bits whose lowest bit is
// 2^-150, so that every Float32 value (and every double of magnitude below 2^160 whose bits lie
// above 2^-150) adds without rounding, and a sum is the same bits in any order.
#pragma once

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>

namespace tessera::ops {

class ExactSum {
 public:
  static constexpr int kLowestBit = -150;    ///< the value of the lowest bit: 2^-150
  static constexpr double kLimit = 0x1p160;  ///< add() takes values of magnitude below it

  /// Whether add() takes `v` exactly as it is (not beyond kLimit, not NaN or infinite).
  static bool fits(double v) { return std::abs(v) < kLimit; }

  /// Adds `v` (fits(v)), rounded to the nearest multiple of 2^-150 (exact for a Float32 value).
  void add(double v) {
    if (v == 0) return;
    int e = 0;
    const double m = std::frexp(std::abs(v), &e);              // |v| = m 2^e, 0.5 <= m < 1
    auto mantissa = static_cast<uint64_t>(std::ldexp(m, 53));  // |v| = mantissa 2^(e - 53)
    int shift = e - 53 - kLowestBit;
    if (shift < 0) {
      mantissa =
          shift <= -64 ? 0 : static_cast<uint64_t>(std::nearbyint(std::ldexp(m, 53 + shift)));
      shift = 0;
    }
    add_shifted(mantissa, shift, v < 0);
  }

  ExactSum& operator+=(const ExactSum& other) {
    unsigned carry = 0;
    for (size_t i = 0; i < kLimbs; ++i) {
      const uint64_t a = limb_[i];
      const uint64_t s = a + other.limb_[i];
      const uint64_t t = s + carry;
      carry = (s < a) + (t < s);
      limb_[i] = t;
    }
    return *this;
  }

  /// The sum rounded to the nearest double (ties to even).
  double value() const {
    if (negative()) {
      ExactSum minus = *this;
      minus.negate();
      return -minus.magnitude();
    }
    return magnitude();
  }

  friend bool operator==(const ExactSum&, const ExactSum&) = default;

 private:
  static constexpr size_t kLimbs = 6;

  bool negative() const { return (limb_[kLimbs - 1] >> 63) != 0; }

  void negate() {
    unsigned carry = 1;
    for (uint64_t& l : limb_) {
      l = ~l + carry;
      carry = carry && l == 0;
    }
  }

  /// The value of a non-negative sum, rounded once: its 64 highest bits, with a sticky bit
  /// standing for every lower one (it only decides a tie), converted to double.
  double magnitude() const {
    size_t top = kLimbs;
    while (top > 0 && limb_[top - 1] == 0) --top;
    if (top == 0) return 0;
    const uint64_t high = limb_[top - 1];
    const uint64_t low = top >= 2 ? limb_[top - 2] : 0;
    const int shift = std::countl_zero(high);
    uint64_t bits = shift == 0 ? high : (high << shift) | (low >> (64 - shift));
    bool sticky = (shift == 0 ? low : low << shift) != 0;
    for (size_t i = 0; i + 2 < top; ++i) sticky = sticky || limb_[i] != 0;
    if (sticky) bits |= 1;
    return std::ldexp(static_cast<double>(bits),
                      64 * static_cast<int>(top - 1) - shift + kLowestBit);
  }

  /// Adds (or subtracts) `mantissa` times 2^shift.
  void add_shifted(uint64_t mantissa, int shift, bool subtract) {
    std::array<uint64_t, kLimbs> term{};
    const auto at = static_cast<size_t>(shift / 64);
    const int bit = shift % 64;
    term[at] = mantissa << bit;
    if (bit != 0 && at + 1 < kLimbs) term[at + 1] = mantissa >> (64 - bit);
    ExactSum t;
    t.limb_ = term;
    if (subtract) t.negate();
    *this += t;
  }

  std::array<uint64_t, kLimbs> limb_{};
};

}  // namespace tessera::ops
