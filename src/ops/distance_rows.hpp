// Rows of distances between a piece's perimeter cells inside a tile, run-coded: flowdir's flats
// and fill_epsilon's fronts keep them in their summaries.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tessera/core/error.hpp"

namespace tessera::ops {

/// Appends v to `out` in 7-bit groups, the low ones first, each but the last with its top bit set.
inline void put_varint(std::vector<uint8_t>& out, uint32_t v) {
  for (; v >= 0x80; v >>= 7) out.push_back(static_cast<uint8_t>(v | 0x80));
  out.push_back(static_cast<uint8_t>(v));
}

/// The distances between a piece's k perimeter cells inside the tile, row by row. Each entry is
/// coded from the one before it in its row: 0 the same, 1 one more, 2 one less, 3 the next of
/// `escapes` (a row's first entry, or a jump). Neighbouring cells of a side differ by at most
/// one step, and along a side the distance mostly stays or grows by one for many cells, so a
/// row's codes are kept as runs of one code (a varint each: length x 4 + code): a row of a piece
/// with few obstacles takes a few bytes instead of k / 4.
struct DistanceRows {
  std::vector<uint8_t> runs;
  std::vector<uint32_t> escapes;
  std::vector<uint32_t> row_run;     ///< per row: its first run's index in runs
  std::vector<uint32_t> row_escape;  ///< per row: its first entry's index in escapes

  void add_row(std::span<const uint32_t> row) {
    row_run.push_back(static_cast<uint32_t>(runs.size()));
    row_escape.push_back(static_cast<uint32_t>(escapes.size()));
    int last = -1;
    uint32_t length = 0;
    for (size_t j = 0; j < row.size(); ++j) {
      int code = 3;
      if (j > 0 && row[j] == row[j - 1]) code = 0;
      if (j > 0 && row[j] == row[j - 1] + 1) code = 1;
      if (j > 0 && row[j] + 1 == row[j - 1]) code = 2;
      if (code == 3) escapes.push_back(row[j]);
      if (code != last && length > 0) put_varint(runs, length << 2 | static_cast<uint32_t>(last));
      length = code == last ? length + 1 : 1;
      last = code;
    }
    if (length > 0) put_varint(runs, length << 2 | static_cast<uint32_t>(last));
  }
};

/// Calls f(j, distance) for the k entries of a row DistanceRows coded: its runs from `runs[at]`,
/// its escapes from `escapes[escape]` (any type indexed by position). Throws for runs cut short.
template <class Escapes, class F>
void each_in_row(std::span<const uint8_t> runs, const Escapes& escapes, size_t at, size_t escape,
                 size_t k, F f) {
  uint32_t d = 0;
  for (size_t j = 0; j < k;) {
    uint32_t run = 0;
    for (int shift = 0;; shift += 7) {
      if (at >= runs.size()) throw Error("internal error: a row of distances is cut short");
      const uint8_t byte = runs[at++];
      run |= static_cast<uint32_t>(byte & 0x7f) << shift;
      if (byte < 0x80) break;
    }
    const uint32_t code = run & 3;
    for (uint32_t n = run >> 2; n > 0 && j < k; --n, ++j) {
      d = code == 0 ? d : code == 1 ? d + 1 : code == 2 ? d - 1 : escapes[escape++];
      f(j, d);
    }
  }
}

}  // namespace tessera::ops
