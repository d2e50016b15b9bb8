// What is at an output's path before a run: its kind and its identity on disk (device, inode).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace tessera::io {

/// The kinds of file system object a path can name, as lstat(2) and stat(2) tell them.
enum class FileKind { Missing, Regular, Folder, CharDevice, BlockDevice, Fifo, Socket, Other };

/// A file's identity: two paths name the same file exactly when both numbers agree.
struct FileId {
  uint64_t device = 0;
  uint64_t inode = 0;
  bool operator==(const FileId&) const = default;
};

/// What `path` names, following symbolic links (a dangling link is Missing).
FileKind kind_of(const std::string& path);

/// "a character device", "a folder", ...: the kind as a message says it.
std::string name_of(FileKind kind);

/// The identity of the regular file at `path` (links followed); none when there is no regular
/// file there, as for GDAL's other names of rasters ("/vsizip/...", "NETCDF:\"x.h5\":band").
std::optional<FileId> regular_file_id(const std::string& path);

/// The identity of the file an output at `path` becomes: the existing file's, or, when nothing
/// is there yet, its folder's with the name, so that "a.tif" and "./a.tif" agree. None when the
/// folder does not exist either.
std::optional<std::string> output_identity(const std::string& path);

/// Why an output may not be written at `path` ("out/x.tif: is a character device, not a regular
/// file; tessera writes only regular files"), or none when `path` names nothing or a regular
/// file (a symbolic link is judged by what it points to; the link is what an output replaces).
std::optional<std::string> replace_problem(const std::string& path);

/// Throws tessera::Error with replace_problem(path) when there is one.
void check_replaceable(const std::string& path);

}  // namespace tessera::io
