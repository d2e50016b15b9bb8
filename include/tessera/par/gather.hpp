// Gathers of variable-sized byte strings, for merging partial results (reductions) exactly.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace tessera::par {

/// Collective: every rank's `bytes` (any size, each below 2 GiB), on every rank, in rank order.
std::vector<std::vector<std::byte>> all_gather_bytes(std::span<const std::byte> bytes);

/// Collective: every rank's `bytes` on rank 0, in rank order; an empty list on the other ranks.
/// Rank 0 receives each rank's bytes into its string (each below 2 GiB), holding no other copy.
std::vector<std::vector<std::byte>> gather_bytes_to_root(std::span<const std::byte> bytes);

/// gather_bytes_to_root(), where rank 0's own string is moved into the list (not copied).
std::vector<std::vector<std::byte>> gather_bytes_to_root(std::vector<std::byte>&& bytes);

}  // namespace tessera::par
