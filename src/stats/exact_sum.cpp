// BigInt's schoolbook arithmetic and its rounding to a double; ExactMoments' bins.
#include "tessera/stats/exact_sum.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "tessera/core/error.hpp"

namespace tessera::stats {

namespace {

constexpr size_t kSumBins = 2046;                  // k = 0 .. 2045
constexpr size_t kSquareBins = 2 * 2045 + 53 + 1;  // 2k and 2k + 53

/// value * 2^(shift % 64) as three limbs, lowest first.
std::array<uint64_t, 3> shifted(UInt128 value, int bits) {
  const auto lo = static_cast<uint64_t>(value);
  const auto hi = static_cast<uint64_t>(value >> 64);
  if (bits == 0) return {lo, hi, 0};
  return {lo << bits, (hi << bits) | (lo >> (64 - bits)), hi >> (64 - bits)};
}

}  // namespace

void BigInt::add(UInt128 value, int shift) {
  const auto parts = shifted(value, shift % 64);
  uint64_t carry = 0;
  for (auto i = static_cast<size_t>(shift / 64); i < limbs_.size(); ++i) {
    const size_t j = i - static_cast<size_t>(shift / 64);
    const uint64_t part = j < 3 ? parts[j] : 0;
    if (j >= 3 && carry == 0) break;
    const UInt128 total = static_cast<UInt128>(limbs_[i]) + part + carry;
    limbs_[i] = static_cast<uint64_t>(total);
    carry = static_cast<uint64_t>(total >> 64);
  }
}

void BigInt::subtract(UInt128 value, int shift) {
  const auto parts = shifted(value, shift % 64);
  uint64_t borrow = 0;
  for (auto i = static_cast<size_t>(shift / 64); i < limbs_.size(); ++i) {
    const size_t j = i - static_cast<size_t>(shift / 64);
    const uint64_t part = j < 3 ? parts[j] : 0;
    if (j >= 3 && borrow == 0) break;
    const uint64_t before = limbs_[i];
    limbs_[i] = before - part - borrow;
    borrow = (before < part || before - part < borrow) ? 1 : 0;
  }
}

void BigInt::add(const BigInt& other) {
  uint64_t carry = 0;
  for (size_t i = 0; i < limbs_.size(); ++i) {
    const UInt128 total = static_cast<UInt128>(limbs_[i]) + other.limbs_[i] + carry;
    limbs_[i] = static_cast<uint64_t>(total);
    carry = static_cast<uint64_t>(total >> 64);
  }
}

void BigInt::subtract(const BigInt& other) { add(other.negated()); }

bool BigInt::zero() const {
  for (uint64_t limb : limbs_)
    if (limb != 0) return false;
  return true;
}

BigInt BigInt::negated() const {
  BigInt result;
  for (size_t i = 0; i < limbs_.size(); ++i) result.limbs_[i] = ~limbs_[i];
  result.add(1, 0);
  return result;
}

BigInt BigInt::times(uint64_t n) const {
  if (negative()) return negated().times(n).negated();
  BigInt result;
  uint64_t carry = 0;
  for (size_t i = 0; i < limbs_.size(); ++i) {
    const UInt128 product = static_cast<UInt128>(limbs_[i]) * n + carry;
    result.limbs_[i] = static_cast<uint64_t>(product);
    carry = static_cast<uint64_t>(product >> 64);
  }
  if (carry != 0 || result.negative()) throw Error("internal error: exact sum overflows");
  return result;
}

BigInt BigInt::squared() const {
  if (negative()) return negated().squared();
  BigInt result;
  for (size_t i = 0; i < limbs_.size(); ++i) {
    if (limbs_[i] == 0) continue;
    for (size_t j = 0; i + j < limbs_.size(); ++j) {
      if (limbs_[j] == 0) continue;
      const UInt128 product = static_cast<UInt128>(limbs_[i]) * limbs_[j];
      result.add(product, static_cast<int>(64 * (i + j)));
    }
  }
  if (result.negative()) throw Error("internal error: exact square overflows");
  return result;
}

double BigInt::divided(int unit, double divisor) const {
  const double quotient = to_double(unit) / divisor;
  if (!std::isinf(quotient) || std::isinf(divisor)) return quotient;
  const int k = std::ilogb(divisor) + 1;  // both scaled by 2^-k: the same rounding, in range
  return to_double(unit - k) / std::ldexp(divisor, -k);
}

double BigInt::root_of_quotient(int unit, double divisor) const {
  // Scaled by 2^-shift under the root and 2^(shift / 2) out of it: exact, and in range.
  for (int shift = 0; shift <= 2048; shift += 1024) {
    const double quotient = to_double(unit - shift) / divisor;
    if (!std::isinf(quotient)) return std::ldexp(std::sqrt(std::max(0.0, quotient)), shift / 2);
  }
  return std::numeric_limits<double>::infinity();
}

double BigInt::to_double(int unit) const {
  if (negative()) return -negated().to_double(unit);
  int top = static_cast<int>(limbs_.size()) - 1;
  while (top >= 0 && limbs_[static_cast<size_t>(top)] == 0) --top;
  if (top < 0) return 0.0;
  const int high_bit = 64 * top + 63 - std::countl_zero(limbs_[static_cast<size_t>(top)]);
  // The 64 bits from high_bit down, and whether any bit below them is set, a word at a time.
  const int low = high_bit - 63;  // the lowest bit of `head`
  uint64_t head = 0;
  bool sticky = false;
  if (low <= 0) {
    head = limbs_[0] << -low;
  } else {
    const auto word = static_cast<size_t>(low / 64);
    const int shift = low % 64;
    head = limbs_[word] >> shift;
    if (shift != 0) head |= limbs_[word + 1] << (64 - shift);
    sticky = shift != 0 && (limbs_[word] & ((uint64_t{1} << shift) - 1)) != 0;
    for (size_t w = 0; w < word && !sticky; ++w) sticky = limbs_[w] != 0;
  }
  // Keep as many bits as the result's precision allows (fewer when it is subnormal).
  const int lowest_exponent = high_bit + unit;  // exponent of the leading bit
  int keep = 53;
  if (lowest_exponent < -1022) keep = std::max(0, 53 - (-1022 - lowest_exponent));
  const int drop = 64 - keep;
  uint64_t kept = drop >= 64 ? 0 : head >> drop;
  const uint64_t rest = drop >= 64 ? head : head & ((uint64_t{1} << drop) - 1);
  const uint64_t half = uint64_t{1} << (drop - 1);
  if (rest > half || (rest == half && (sticky || (kept & 1) != 0))) ++kept;
  return std::ldexp(static_cast<double>(kept), high_bit - 63 + drop + unit);
}

ExactMoments::ExactMoments() : sum_(kSumBins, 0), squares_(kSquareBins, 0) {}

void ExactMoments::merge(const ExactMoments& other) {
  for (size_t i = 0; i < sum_.size(); ++i) sum_[i] += other.sum_[i];
  for (size_t i = 0; i < squares_.size(); ++i) squares_[i] += other.squares_[i];
}

BigInt ExactMoments::sum() const {
  BigInt total;
  for (size_t k = 0; k < sum_.size(); ++k) {
    const Int128 bin = sum_[k];
    if (bin > 0) total.add(static_cast<UInt128>(bin), static_cast<int>(k));
    if (bin < 0) total.subtract(-static_cast<UInt128>(bin), static_cast<int>(k));
  }
  return total;
}

BigInt ExactMoments::sum_of_squares() const {
  BigInt total;
  for (size_t k = 0; k < squares_.size(); ++k)
    if (squares_[k] != 0) total.add(squares_[k], static_cast<int>(k));
  return total;
}

std::vector<std::byte> ExactMoments::to_bytes() const {
  std::vector<std::byte> bytes(sizeof(Int128) * (kSumBins + kSquareBins));
  std::memcpy(bytes.data(), sum_.data(), sizeof(Int128) * kSumBins);
  std::memcpy(bytes.data() + sizeof(Int128) * kSumBins, squares_.data(),
              sizeof(Int128) * kSquareBins);
  return bytes;
}

ExactMoments ExactMoments::from_bytes(std::span<const std::byte> bytes) {
  if (bytes.size() != sizeof(Int128) * (kSumBins + kSquareBins))
    throw Error("internal error: exact sums of the wrong size");
  ExactMoments m;
  std::memcpy(m.sum_.data(), bytes.data(), sizeof(Int128) * kSumBins);
  std::memcpy(m.squares_.data(), bytes.data() + sizeof(Int128) * kSumBins,
              sizeof(Int128) * kSquareBins);
  return m;
}

}  // namespace tessera::stats
