// Whole reads and writes at a file offset: pread/pwrite until every byte is done.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

namespace tessera::io {

/// Writes the n bytes at `bytes` to `fd` at offset `at`, retrying short writes and EINTR;
/// returns 0, or the errno that stopped it (ENOSPC for a write that wrote nothing).
inline int pwrite_all(int fd, const std::byte* bytes, size_t n, int64_t at) {
  for (size_t done = 0; done < n;) {
    const ssize_t put =
        pwrite(fd, bytes + done, n - done, static_cast<off_t>(at + static_cast<int64_t>(done)));
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) return put < 0 ? errno : ENOSPC;
    done += static_cast<size_t>(put);
  }
  return 0;
}

/// Reads n bytes of `fd` at offset `at` into `bytes`, retrying short reads and EINTR; returns 0,
/// or the errno that stopped it (EIO for the file ending first).
inline int pread_all(int fd, std::byte* bytes, size_t n, int64_t at) {
  for (size_t done = 0; done < n;) {
    const ssize_t got =
        pread(fd, bytes + done, n - done, static_cast<off_t>(at + static_cast<int64_t>(done)));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return got < 0 ? errno : EIO;
    done += static_cast<size_t>(got);
  }
  return 0;
}

}  // namespace tessera::io
