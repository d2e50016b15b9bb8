// Reading and writing TIFF directories byte by byte (little-endian), for files laid out by hand.
#include "tiff_directory.hpp"

#include <algorithm>
#include <cstring>

#include "tessera/core/error.hpp"

namespace tessera::io::detail {
namespace {

uint64_t type_size(uint16_t type) {
  switch (type) {
    case 3:  // SHORT
    case 8:  // SSHORT
      return 2;
    case 4:   // LONG
    case 9:   // SLONG
    case 11:  // FLOAT
    case 13:  // IFD
      return 4;
    case 5:   // RATIONAL
    case 10:  // SRATIONAL
    case 12:  // DOUBLE
    case 16:  // LONG8
    case 17:  // SLONG8
    case 18:  // IFD8
      return 8;
    default:  // BYTE, ASCII, SBYTE, UNDEFINED
      return 1;
  }
}

uint64_t read_uint(const std::vector<std::byte>& file, uint64_t at, int bytes,
                   const std::string& label) {
  if (at + static_cast<uint64_t>(bytes) > file.size())
    throw Error(label + ": the TIFF directory runs past the end of the file");
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i)
    v = (v << 8) | static_cast<uint8_t>(file[static_cast<size_t>(at) + static_cast<size_t>(i)]);
  return v;
}

void put_uint(std::vector<std::byte>& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xff));
}

uint64_t even(uint64_t n) { return n + (n & 1); }

}  // namespace

std::vector<TiffEntry> first_directory(const std::vector<std::byte>& file,
                                       const std::string& label) {
  if (file.size() < 8 || file[0] != std::byte{'I'} || file[1] != std::byte{'I'})
    throw Error(label + ": not a little-endian TIFF");
  const uint64_t version = read_uint(file, 2, 2, label);
  if (version != 42 && version != 43) throw Error(label + ": not a TIFF or BigTIFF");
  const bool big = version == 43;
  const int word = big ? 8 : 4;
  const uint64_t ifd = read_uint(file, big ? 8 : 4, word, label);
  const uint64_t count = read_uint(file, ifd, big ? 8 : 2, label);
  std::vector<TiffEntry> entries;
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t at = ifd + (big ? 8 : 2) + i * (big ? 20 : 12);
    TiffEntry e;
    e.tag = static_cast<uint16_t>(read_uint(file, at, 2, label));
    e.type = static_cast<uint16_t>(read_uint(file, at + 2, 2, label));
    e.count = read_uint(file, at + 4, word, label);
    const uint64_t size = e.count * type_size(e.type);
    const uint64_t value_at = at + 4 + static_cast<uint64_t>(word);
    const uint64_t from =
        size <= static_cast<uint64_t>(word) ? value_at : read_uint(file, value_at, word, label);
    if (from + size > file.size()) throw Error(label + ": a TIFF tag's values run past the file");
    e.bytes.assign(file.begin() + static_cast<ptrdiff_t>(from),
                   file.begin() + static_cast<ptrdiff_t>(from + size));
    entries.push_back(std::move(e));
  }
  return entries;
}

TiffEntry offsets_entry(uint16_t tag, const std::vector<uint64_t>& values, bool wide) {
  TiffEntry e{tag, static_cast<uint16_t>(wide ? 16 : 4), values.size(), {}};
  e.bytes.reserve(values.size() * (wide ? 8 : 4));
  for (uint64_t v : values) put_uint(e.bytes, v, wide ? 8 : 4);
  return e;
}

TiffEntry long_entry(uint16_t tag, uint32_t value) {
  TiffEntry e{tag, 4, 1, {}};
  put_uint(e.bytes, value, 4);
  return e;
}

uint64_t directory_size(const std::vector<TiffEntry>& entries, bool bigtiff) {
  const uint64_t word = bigtiff ? 8 : 4;
  uint64_t size = (bigtiff ? 8 : 2) + entries.size() * (bigtiff ? 20 : 12) + word;
  for (const TiffEntry& e : entries)
    if (e.bytes.size() > word) size += even(e.bytes.size());
  return size;
}

std::vector<std::byte> directory_bytes(std::vector<TiffEntry> entries, uint64_t at, uint64_t next,
                                       bool bigtiff) {
  std::sort(entries.begin(), entries.end(),
            [](const TiffEntry& a, const TiffEntry& b) { return a.tag < b.tag; });
  const int word = bigtiff ? 8 : 4;
  std::vector<std::byte> out;
  std::vector<std::byte> outside;  // values too long for their entry, after the directory
  const uint64_t outside_at =
      at + (bigtiff ? 8 : 2) + entries.size() * (bigtiff ? 20 : 12) + static_cast<uint64_t>(word);
  put_uint(out, entries.size(), bigtiff ? 8 : 2);
  for (const TiffEntry& e : entries) {
    put_uint(out, e.tag, 2);
    put_uint(out, e.type, 2);
    put_uint(out, e.count, word);
    if (e.bytes.size() <= static_cast<size_t>(word)) {
      out.insert(out.end(), e.bytes.begin(), e.bytes.end());
      for (size_t pad = e.bytes.size(); pad < static_cast<size_t>(word); ++pad)
        out.push_back(std::byte{0});
      continue;
    }
    put_uint(out, outside_at + outside.size(), word);
    outside.insert(outside.end(), e.bytes.begin(), e.bytes.end());
    if (outside.size() & 1) outside.push_back(std::byte{0});
  }
  put_uint(out, next, word);
  out.insert(out.end(), outside.begin(), outside.end());
  return out;
}

}  // namespace tessera::io::detail
