// What a library doing MPI-IO over the run's ranks needs from par: the communicator, rounds.
#pragma once

#include <mpi.h>

#include <cstdint>

namespace tessera::par {

/// The communicator of the run (every rank) and the hints for MPI-IO files opened on it. Only
/// targets that link MPI include this header: it hands MPI handles to libraries such as
/// parallel HDF5, which take them as arguments.
MPI_Comm io_communicator();
MPI_Info io_info();

/// What the ranks said before a round of collective writes.
struct RoundVote {
  int64_t rounds = 0;   ///< the most tiles any rank has for this batch; 0 when all are done
  bool failed = false;  ///< some rank failed: every rank stops writing
};

/// Collective: each rank says how many tiles it holds and whether it failed; every rank
/// gets the largest count and whether any rank failed (one allreduce).
RoundVote vote_rounds(int64_t tiles, bool failed);

}  // namespace tessera::par
