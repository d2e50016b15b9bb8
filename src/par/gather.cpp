// all_gather_bytes: the sizes in one allgather, then the bytes in one allgatherv;
// gather_bytes_to_root: the sizes in one gather, then each rank's bytes in a message to rank 0.
#include "tessera/par/gather.hpp"

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>

#include "tessera/core/error.hpp"
#include "tessera/par/environment.hpp"

namespace tessera::par {

namespace {
/// The tag of gather_bytes_to_root()'s messages (tile_mail.cpp's are 7101 and 7102).
constexpr int gather_tag = 7201;
}  // namespace

std::vector<std::vector<std::byte>> all_gather_bytes(std::span<const std::byte> bytes) {
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    throw Error("internal error: " + std::to_string(bytes.size()) + " bytes to gather at once");
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int mine = static_cast<int>(bytes.size());
  std::vector<int> counts(static_cast<size_t>(size));
  MPI_Allgather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
  std::vector<int> offsets(static_cast<size_t>(size));
  int64_t total = 0;
  for (size_t r = 0; r < counts.size(); ++r) {
    offsets[r] = static_cast<int>(total);
    total += counts[r];
  }
  if (total > INT_MAX) throw Error("internal error: " + std::to_string(total) + " bytes gathered");
  std::vector<std::byte> all(static_cast<size_t>(total));
  MPI_Allgatherv(bytes.data(), mine, MPI_BYTE, all.data(), counts.data(), offsets.data(), MPI_BYTE,
                 MPI_COMM_WORLD);
  std::vector<std::vector<std::byte>> out;
  for (size_t r = 0; r < counts.size(); ++r)
    out.emplace_back(all.begin() + offsets[r], all.begin() + offsets[r] + counts[r]);
  return out;
}

namespace {

/// Sends `n` bytes to rank 0 in messages of at most `most` bytes (none when n is 0).
void send_to_root(const std::byte* bytes, size_t n, size_t most = kMostMessageBytes) {
  while (n > 0) {
    const size_t part = std::min(n, most);
    MPI_Send(bytes, static_cast<int>(part), MPI_BYTE, 0, gather_tag, MPI_COMM_WORLD);
    bytes += part;
    n -= part;
  }
}

/// Rank 0: rank `from`'s `count` bytes, in the messages send_to_root split them into.
std::vector<std::byte> receive_from(int from, int64_t count) {
  std::vector<std::byte> into(static_cast<size_t>(count));
  size_t done = 0;
  while (done < into.size()) {
    MPI_Status status;
    MPI_Probe(from, gather_tag, MPI_COMM_WORLD, &status);
    int part = 0;
    MPI_Get_count(&status, MPI_BYTE, &part);
    if (part <= 0 || done + static_cast<size_t>(part) > into.size())
      throw Error("internal error: rank " + std::to_string(from) + " sent more than it said");
    MPI_Recv(into.data() + done, part, MPI_BYTE, from, gather_tag, MPI_COMM_WORLD,
             MPI_STATUS_IGNORE);
    done += static_cast<size_t>(part);
  }
  return into;
}

/// Rank 0: every rank's count of bytes to send it (its own `mine` first); the others: empty.
std::vector<int64_t> counts_at_root(int64_t mine) {
  std::vector<int64_t> counts(static_cast<size_t>(world_size()));
  MPI_Gather(&mine, 1, MPI_INT64_T, counts.data(), 1, MPI_INT64_T, 0, MPI_COMM_WORLD);
  if (world_rank() != 0) counts.clear();
  return counts;
}

/// gather_bytes_to_root() with rank 0's own bytes given as `own`.
std::vector<std::vector<std::byte>> gather_to_root(std::span<const std::byte> bytes,
                                                   std::vector<std::byte> own) {
  const std::vector<int64_t> counts = counts_at_root(static_cast<int64_t>(bytes.size()));
  if (world_rank() != 0) {
    send_to_root(bytes.data(), bytes.size());
    return {};
  }
  // Each rank's bytes straight into its own string: no buffer of them all to copy them out of.
  std::vector<std::vector<std::byte>> out;
  out.push_back(std::move(own));
  for (size_t r = 1; r < counts.size(); ++r)
    out.push_back(receive_from(static_cast<int>(r), counts[r]));
  return out;
}

}  // namespace

std::vector<std::vector<std::byte>> gather_pieces_to_root(
    std::vector<std::vector<std::byte>>&& pieces, size_t most_message_bytes) {
  if (most_message_bytes == 0 || most_message_bytes > kMostMessageBytes)
    throw Error("internal error: messages of " + std::to_string(most_message_bytes) + " bytes");
  int64_t mine = 0;
  for (const auto& piece : pieces) mine += static_cast<int64_t>(piece.size());
  const std::vector<int64_t> counts = counts_at_root(mine);
  if (world_rank() != 0) {
    for (auto& piece : pieces) {
      send_to_root(piece.data(), piece.size(), most_message_bytes);
      std::vector<std::byte>().swap(piece);
    }
    pieces.clear();
    return {};
  }
  std::vector<std::vector<std::byte>> out;
  for (auto& piece : pieces)
    if (!piece.empty()) out.push_back(std::move(piece));
  pieces.clear();
  for (size_t r = 1; r < counts.size(); ++r)
    out.push_back(receive_from(static_cast<int>(r), counts[r]));
  return out;
}

std::vector<std::vector<std::byte>> gather_bytes_to_root(std::span<const std::byte> bytes) {
  std::vector<std::byte> own;
  if (world_rank() == 0) own.assign(bytes.begin(), bytes.end());
  return gather_to_root(bytes, std::move(own));
}

std::vector<std::vector<std::byte>> gather_bytes_to_root(std::vector<std::byte>&& bytes) {
  const std::span<const std::byte> view(bytes);  // moving the string keeps its bytes in place
  return gather_to_root(view, world_rank() == 0 ? std::move(bytes) : std::vector<std::byte>());
}

}  // namespace tessera::par
