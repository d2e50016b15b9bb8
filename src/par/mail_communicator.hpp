// The communicator the tile mail travels on (private to par).
#pragma once

#include <mpi.h>

namespace tessera::par {

/// MPI_COMM_WORLD's ranks in a context of their own, made by Environment once MPI is initialised
/// and freed before MPI_Finalize (MPI_COMM_WORLD without an Environment). The Inbox receives
/// whatever tag comes next, so on MPI_COMM_WORLD it would take a message another part of the
/// run sent rank 0 (a gather's) as a tile: here nothing else travels.
MPI_Comm mail_communicator();

}  // namespace tessera::par
