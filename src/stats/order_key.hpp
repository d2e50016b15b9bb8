// Order keys: each cell's value as an unsigned integer of its type's width whose order is the
// values' order, and back. Percentiles are found a digit of these keys at a time.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "tessera/core/pixel_type.hpp"

namespace tessera::stats::detail {

/// The cell's order key: an unsigned integer of the type's width whose order is the values'.
template <class T>
inline uint64_t key_of(T v) {
  if constexpr (std::is_same_v<T, float>) {
    const auto bits = std::bit_cast<uint32_t>(v);
    return (bits >> 31) != 0 ? uint32_t(~bits) : uint32_t(bits | 0x80000000u);
  } else if constexpr (std::is_same_v<T, double>) {
    const auto bits = std::bit_cast<uint64_t>(v);
    return (bits >> 63) != 0 ? ~bits : bits | (uint64_t{1} << 63);
  } else if constexpr (std::is_signed_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<U>(static_cast<U>(v) ^ (U{1} << (8 * sizeof(T) - 1)));
  } else {
    return v;
  }
}

template <class T>
inline T value_of(uint64_t key) {
  if constexpr (std::is_same_v<T, float>) {
    const auto k = static_cast<uint32_t>(key);
    return std::bit_cast<float>((k >> 31) != 0 ? (k & 0x7fffffffu) : ~k);
  } else if constexpr (std::is_same_v<T, double>) {
    return std::bit_cast<double>((key >> 63) != 0 ? (key & ~(uint64_t{1} << 63)) : ~key);
  } else if constexpr (std::is_signed_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(key) ^ (U{1} << (8 * sizeof(T) - 1))));
  } else {
    return static_cast<T>(key);
  }
}

inline double value_of_key(PixelType type, uint64_t key) {
  return visit(type, [&]<class T>(std::type_identity<T>) { return double(value_of<T>(key)); });
}

/// numpy.percentile's linear interpolation (its _lerp) between the values `a` and `b` at the ranks
/// below and above the virtual index (n - 1) * p / 100 of `n` sorted values.
inline double numpy_lerp(double a, double b, double n, double p) {
  const double index = (n - 1) * (p / 100);
  // The gamma: the index less its floor (the last index beyond the end).
  const double below = index >= n - 1 ? -1.0 : std::floor(index);
  const double t = index - below;
  const double diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

}  // namespace tessera::stats::detail
