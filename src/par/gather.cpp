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

}  // namespace tessera::par
