// MPI handles for MPI-IO libraries, and the two small collectives lock-step writers need.
#include "tessera/par/mpi_io.hpp"

#include <array>

namespace tessera::par {

MPI_Comm io_communicator() { return MPI_COMM_WORLD; }

MPI_Info io_info() { return MPI_INFO_NULL; }

RoundVote vote_rounds(int64_t tiles, bool failed) {
  const std::array<int64_t, 2> mine{tiles, failed ? 1 : 0};
  std::array<int64_t, 2> most{0, 0};
  MPI_Allreduce(mine.data(), most.data(), 2, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD);
  return {most[0], most[1] != 0};
}

}  // namespace tessera::par
