// Locks that mark a temporary output as live, and the removal of those no live run holds.
#pragma once

#include <string>

namespace tessera::io {

/// Creates `path` if it does not exist and holds a shared lock (an open file description lock,
/// fcntl F_OFD_SETLKW) on it for as long as the returned descriptor stays open: the mark of a live
/// run, which the kernel drops when the process ends however it ends. Returns -1 when the file
/// cannot be opened (the writer that creates it says why); on a file system without locks the file
/// is held but not marked.
int hold_temporary(const std::string& path);

/// Removes the temporary files of the same output as `temporary` (".NAME.tmp-ID" beside it,
/// any other ID) that no live run holds: left by a run killed with SIGKILL, which could not
/// remove its own. Files that are not regular, and those it cannot lock, are left alone.
void remove_stale_temporaries(const std::string& temporary);

}  // namespace tessera::io
