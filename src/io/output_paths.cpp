// What is at an output's path: its kind and identity, so that a run replaces only regular files
// and never one of its inputs.
#include "tessera/io/output_paths.hpp"

#include <sys/stat.h>

#include <filesystem>

#include "tessera/core/error.hpp"

namespace tessera::io {

namespace {

FileKind kind_of_mode(mode_t mode) {
  if (S_ISREG(mode)) return FileKind::Regular;
  if (S_ISDIR(mode)) return FileKind::Folder;
  if (S_ISCHR(mode)) return FileKind::CharDevice;
  if (S_ISBLK(mode)) return FileKind::BlockDevice;
  if (S_ISFIFO(mode)) return FileKind::Fifo;
  if (S_ISSOCK(mode)) return FileKind::Socket;
  return FileKind::Other;
}

std::string id_text(const struct stat& st) {
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

}  // namespace

FileKind kind_of(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return FileKind::Missing;
  return kind_of_mode(st.st_mode);
}

std::string name_of(FileKind kind) {
  switch (kind) {
    case FileKind::Missing:
      return "missing";
    case FileKind::Regular:
      return "a regular file";
    case FileKind::Folder:
      return "a folder";
    case FileKind::CharDevice:
      return "a character device";
    case FileKind::BlockDevice:
      return "a block device";
    case FileKind::Fifo:
      return "a fifo (named pipe)";
    case FileKind::Socket:
      return "a socket";
    case FileKind::Other:
      break;
  }
  return "not a file";
}

std::optional<FileId> regular_file_id(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return FileId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
}

std::optional<std::string> output_identity(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) == 0) return id_text(st);
  const std::filesystem::path p(path);
  const std::string folder = p.has_parent_path() ? p.parent_path().string() : ".";
  if (stat(folder.c_str(), &st) != 0) return std::nullopt;
  return id_text(st) + "/" + p.filename().string();
}

std::optional<std::string> replace_problem(const std::string& path) {
  const FileKind kind = kind_of(path);
  if (kind == FileKind::Missing || kind == FileKind::Regular) return std::nullopt;
  return path + ": is " + name_of(kind) + ", not a regular file; tessera writes only regular files";
}

void check_replaceable(const std::string& path) {
  if (const auto problem = replace_problem(path)) throw Error(*problem);
}

}  // namespace tessera::io
