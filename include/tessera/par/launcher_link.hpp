// The rank's link to its launcher (mpirun's or srun's PMIx server): small messages without delay,
// and no life after the launcher's.
#pragma once

namespace tessera::par {

/// Sets TCP_NODELAY on every connected TCP socket of this process whose peer is on this host
/// (a loopback address, or the socket's own local address) and returns how many it set.
/// PMIx 4 talks to its local server over such a socket without it, so a few small messages in a
/// row wait for the peer's delayed acknowledgement: 40 ms in every MPI_Finalize.
int send_local_tcp_without_delay();

/// For a rank whose parent is Open MPI's launcher (mpirun, or its orted on other nodes): asks the
/// kernel for SIGTERM when that parent dies (PR_SET_PDEATHSIG), so that a rank never runs on,
/// orphaned, after its launcher was killed; the SIGTERM handler then removes its temporary files
/// (io::remove_temporaries_on_signal). Returns whether it asked. Other launchers (srun) and
/// runs with no launcher are left alone: a shell's death must not end a `nohup tessera` run.
bool end_with_launcher();

}  // namespace tessera::par
