// FNV-1a, the 64-bit hash tessera names files and checks journal records with: the same on every
// rank, node and run.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera {

inline constexpr uint64_t fnv1a_offset = 0xcbf29ce484222325;
inline constexpr uint64_t fnv1a_prime = 0x100000001b3;

/// `size` bytes at `data` hashed on from `hash`.
inline uint64_t fnv1a(const void* data, size_t size, uint64_t hash = fnv1a_offset) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) hash = (hash ^ p[i]) * fnv1a_prime;
  return hash;
}

}  // namespace tessera
