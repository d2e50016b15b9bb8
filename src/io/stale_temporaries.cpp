// Temporary files a killed run left behind: each run locks its own, so the next run writing the
// same output can tell a live one from a stale one and remove the stale ones.
#include "stale_temporaries.hpp"

#include "tessera/io/temporary_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

namespace tessera::io {

namespace {

/// Takes a lock on the whole file behind `fd`, of `type` (F_RDLCK: held by a live run; F_WRLCK:
/// only when nothing holds it), waiting for it or not. Open file description locks: they belong
/// to the descriptor, not the process (closing another descriptor of the file, as GDAL and HDF5
/// do, keeps them), they go when the process ends however it ends, and they do not collide with
/// the flock() that HDF5 takes on the files it makes.
bool lock_whole_file(int fd, short type, bool wait) {
  struct flock lock {};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  return fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &lock) == 0;
}

/// ".NAME.tmp-" of a temporary path ".NAME.tmp-ID": what every temporary name of the same
/// output starts with; empty when `name` is not such a name.
std::string temporary_prefix(const std::string& name) {
  const auto at = name.rfind(".tmp-");
  if (name.empty() || name[0] != '.' || at == std::string::npos || at == 0) return {};
  return name.substr(0, at + 5);
}

/// Whether `name` is `prefix` followed by one or more digits.
bool has_prefix_and_id(const std::string& name, const std::string& prefix) {
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return false;
  return name.find_first_not_of("0123456789", prefix.size()) == std::string::npos;
}

/// Removes `path` when it is a regular file no live run holds locked. A lock that cannot be
/// tried (a file system without locks) leaves the file alone.
void remove_if_stale(const std::string& path) {
  const int fd = open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return;
  struct stat st {};
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && lock_whole_file(fd, F_WRLCK, false))
    unlink(path.c_str());  // its run is gone: nothing else holds the lock
  close(fd);
}

}  // namespace

int hold_temporary(const std::string& path) {
  while (true) {
    const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return -1;                               // the writer that opens it next says why
    if (!lock_whole_file(fd, F_RDLCK, true)) return fd;  // no locks here: held, not marked live
    struct stat st {};
    if (fstat(fd, &st) == 0 && st.st_nlink > 0) return fd;
    close(fd);  // a cleaner took it for stale between the open and the lock: make it again
  }
}

void remove_stale_temporaries(const std::string& temporary) {
  const std::filesystem::path own(temporary);
  const std::string prefix = temporary_prefix(own.filename().string());
  if (prefix.empty()) return;
  std::filesystem::path folder = own.parent_path();
  if (folder.empty()) folder = ".";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
    const std::string name = entry.path().filename().string();
    if (name != own.filename().string() && has_prefix_and_id(name, prefix))
      remove_if_stale(entry.path().string());
  }
}

void remove_stale_numbered_temporaries(const std::string& folder, const std::string& start,
                                       int64_t own_id) {
  const std::string own = ".tmp-" + std::to_string(own_id);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.compare(0, start.size(), start) != 0) continue;
    const auto digits_end = name.find_first_not_of("0123456789", start.size());
    if (digits_end == start.size() || digits_end == std::string::npos) continue;
    const std::string prefix = name.substr(0, digits_end) + ".tmp-";
    if (has_prefix_and_id(name, prefix) && name.compare(digits_end, std::string::npos, own) != 0)
      remove_if_stale(entry.path().string());
  }
}

}  // namespace tessera::io
