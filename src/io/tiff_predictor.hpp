// libtiff's predictors (tif_predict.c) outside libtiff: the bytes its codecs are handed for a
// tile, so that a tile compressed without libtiff decodes, through libtiff, to the same cells.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera::io::detail {

/// Writes to `out` what libtiff's predictor `predictor` makes of a tile of `width` x `height`
/// cells of `cell_bytes` bytes each at `cells`, one sample a cell, in a little-endian file on a
/// little-endian machine: 1 the cells as they are; 2 (horizontal) each cell of a row less the
/// cell before it, as unsigned integers of the cell's width; 3 (floating point) each row's
/// cells cut into byte planes, most significant first, and each byte of the row less the byte
/// before it. `out` holds width x height x cell_bytes bytes and does not overlap `cells`.
void apply_predictor(int predictor, size_t cell_bytes, const std::byte* cells, int64_t width,
                     int64_t height, std::byte* out);

}  // namespace tessera::io::detail
