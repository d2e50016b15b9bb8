// The rank's link to its launcher (mpirun's or srun's PMIx server): small messages without delay.
#pragma once

namespace tessera::par {

/// Sets TCP_NODELAY on every connected TCP socket of this process whose peer is on this host
/// (a loopback address, or the socket's own local address) and returns how many it set.
/// PMIx 4 talks to its local server over such a socket without it, so a few small messages in a
/// row wait for the peer's delayed acknowledgement: 40 ms in every MPI_Finalize.
int send_local_tcp_without_delay();

}  // namespace tessera::par
