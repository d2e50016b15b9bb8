// all_gather_bytes: the sizes in one allgather, then the bytes in one allgatherv;
// gather_bytes_to_root: the sizes in one gather, then each rank's bytes in a message to rank 0.
#include "tessera/par/gather.hpp"

#include <mpi.h>

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

/// gather_bytes_to_root() with rank 0's own bytes given as `own`.
std::vector<std::vector<std::byte>> gather_to_root(std::span<const std::byte> bytes,
                                                   std::vector<std::byte> own) {
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    throw Error("internal error: " + std::to_string(bytes.size()) + " bytes to gather at once");
  int size = 1;
  int rank = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const int mine = static_cast<int>(bytes.size());
  std::vector<int> counts(static_cast<size_t>(size));
  MPI_Gather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (rank != 0) {
    MPI_Send(bytes.data(), mine, MPI_BYTE, 0, gather_tag, MPI_COMM_WORLD);
    return {};
  }
  // Each rank's bytes straight into its own string: no buffer of them all to copy them out of.
  std::vector<std::vector<std::byte>> out(static_cast<size_t>(size));
  out[0] = std::move(own);
  std::vector<MPI_Request> requests(static_cast<size_t>(size), MPI_REQUEST_NULL);
  for (int r = 1; r < size; ++r) {
    auto& into = out[static_cast<size_t>(r)];
    into.resize(static_cast<size_t>(counts[static_cast<size_t>(r)]));
    MPI_Irecv(into.data(), counts[static_cast<size_t>(r)], MPI_BYTE, r, gather_tag, MPI_COMM_WORLD,
              &requests[static_cast<size_t>(r)]);
  }
  MPI_Waitall(size, requests.data(), MPI_STATUSES_IGNORE);
  return out;
}

}  // namespace

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
