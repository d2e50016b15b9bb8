// Outputs in progress live under temporary names; a signal must not leave them behind.
#pragma once

#include <string>

namespace tessera::io {

/// Installs handlers for SIGINT, SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 that remove every
/// temporary output file still registered, then end the process by the same signal (so the
/// shell and Slurm see it). Call once from the main thread.
void remove_temporaries_on_signal();

/// Registers `path` for removal on a signal; returns its slot, or -1 when every slot is taken
/// (the file is then still removed on normal failure, only not on a signal).
int register_temporary(const std::string& path);
/// Forgets the registration of `slot` (the file was renamed into place or removed).
void unregister_temporary(int slot);

}  // namespace tessera::io
