// TIFF directories as values: read from a file's bytes, written anywhere, classic or BigTIFF.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tessera::io::detail {

/// One directory entry: its tag, TIFF field type, value count and value bytes (little-endian).
struct TiffEntry {
  uint16_t tag = 0;
  uint16_t type = 0;
  uint64_t count = 0;
  std::vector<std::byte> bytes;
};

/// The entries of the first directory of a little-endian TIFF or BigTIFF held in `file`; throws
/// tessera::Error starting with `label` when the bytes are no such file.
std::vector<TiffEntry> first_directory(const std::vector<std::byte>& file,
                                       const std::string& label);

/// An entry of LONG (4-byte) or, when `wide`, LONG8 values.
TiffEntry offsets_entry(uint16_t tag, const std::vector<uint64_t>& values, bool wide);
/// An entry of one LONG.
TiffEntry long_entry(uint16_t tag, uint32_t value);

/// Bytes a directory of `entries` takes, values outside it included.
uint64_t directory_size(const std::vector<TiffEntry>& entries, bool bigtiff);
/// The directory of `entries` (sorted by tag here) as it lies at byte `at` of the file, its
/// values outside it right after it, pointing on to the directory at `next` (0: the last).
std::vector<std::byte> directory_bytes(std::vector<TiffEntry> entries, uint64_t at, uint64_t next,
                                       bool bigtiff);

}  // namespace tessera::io::detail
