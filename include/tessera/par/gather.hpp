// Gathers of variable-sized byte strings, for merging partial results (reductions) exactly.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace tessera::par {

/// The most bytes one message of the gathers to rank 0 carries (MPI counts bytes in an int).
inline constexpr size_t kMostMessageBytes = size_t{1} << 30;

/// Collective: every rank's `bytes` (any size, each below 2 GiB), on every rank, in rank order.
std::vector<std::vector<std::byte>> all_gather_bytes(std::span<const std::byte> bytes);

/// Collective: every rank's `bytes` on rank 0, in rank order; an empty list on the other ranks.
/// Rank 0 receives each rank's bytes into its string (any size: sent in messages of at most
/// 1 GiB), holding no other copy.
std::vector<std::vector<std::byte>> gather_bytes_to_root(std::span<const std::byte> bytes);

/// gather_bytes_to_root(), where rank 0's own string is moved into the list (not copied).
std::vector<std::vector<std::byte>> gather_bytes_to_root(std::vector<std::byte>&& bytes);

/// Collective: every rank's `pieces` on rank 0, which gets its own non-empty pieces first, each
/// as it was (moved, not copied), then one string per other rank, in rank order, of that rank's
/// pieces one after the other; an empty list on the other ranks. A rank sends each piece as it
/// lies, in messages of at most `most_message_bytes` (1 GiB; less for the tests), and frees it
/// once sent: it never holds its pieces twice. `pieces` is left empty.
std::vector<std::vector<std::byte>> gather_pieces_to_root(
    std::vector<std::vector<std::byte>>&& pieces, size_t most_message_bytes = kMostMessageBytes);

}  // namespace tessera::par
