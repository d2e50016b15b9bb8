// all_gather_bytes: the sizes in one allgather, then the bytes in one allgatherv.
#include "tessera/par/gather.hpp"

#include <mpi.h>

#include <climits>
#include <cstdint>
#include <string>

#include "tessera/core/error.hpp"

namespace tessera::par {

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

std::vector<std::vector<std::byte>> gather_bytes_to_root(std::span<const std::byte> bytes) {
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    throw Error("internal error: " + std::to_string(bytes.size()) + " bytes to gather at once");
  int size = 1;
  int rank = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const int mine = static_cast<int>(bytes.size());
  std::vector<int> counts(static_cast<size_t>(size));
  MPI_Gather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  std::vector<int> offsets(static_cast<size_t>(size));
  int64_t total = 0;
  for (size_t r = 0; r < counts.size(); ++r) {
    offsets[r] = static_cast<int>(total);
    total += counts[r];
  }
  // Only rank 0 knows the total: it tells every rank whether the gather can go ahead.
  int too_big = rank == 0 && total > INT_MAX ? 1 : 0;
  MPI_Bcast(&too_big, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (too_big != 0) throw Error("gather: more than 2 GiB of partial results for one rank");
  std::vector<std::byte> all(static_cast<size_t>(rank == 0 ? total : 0));
  MPI_Gatherv(bytes.data(), mine, MPI_BYTE, all.data(), counts.data(), offsets.data(), MPI_BYTE, 0,
              MPI_COMM_WORLD);
  std::vector<std::vector<std::byte>> out;
  if (rank != 0) return out;
  for (size_t r = 0; r < counts.size(); ++r)
    out.emplace_back(all.begin() + offsets[r], all.begin() + offsets[r] + counts[r]);
  return out;
}

}  // namespace tessera::par
