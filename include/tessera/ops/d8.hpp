// D8 flow directions: the eight neighbours, TauDEM's codes (1-8) and ESRI's (1-128), and the ops
// flowdir (steepest descent), flowacc (contributing area, Barnes 2017's tile graph) and
// watershed (basin labels, a tile graph of the same kind).
#pragma once

#include <cstdint>
#include <memory>

#include "tessera/ops/tile_graph.hpp"

namespace tessera::ops {

/// The eight directions in TauDEM's order, from 0: E, NE, N, NW, W, SW, S, SE (code k = index + 1).
inline constexpr int kD8Dx[8] = {1, 1, 0, -1, -1, -1, 0, 1};
inline constexpr int kD8Dy[8] = {0, -1, -1, -1, 0, 1, 1, 1};

enum class D8Encoding { TauDem, Esri };

/// A cell's direction as an index into kD8Dx / kD8Dy, or one of these.
inline constexpr int8_t kD8None = -1;  ///< a valid cell whose flow ends there (code 0)
inline constexpr int8_t kD8Void = -2;  ///< the raster's nodata

/// The code of direction `index` (0-7) in `encoding`.
int16_t d8_code(int index, D8Encoding encoding);
/// The direction index (0-7) of `code`, kD8None for 0, or -3 for a code `encoding` does not have.
int d8_index(int64_t code, D8Encoding encoding);

/// The op for the registry: `flowdir`, Int16 with nodata -32768.
std::unique_ptr<Op> make_flowdir(const Options& options);

/// The op for the registry: `flowacc`, Float32 with nodata -1 unless option `type` says otherwise.
std::unique_ptr<Op> make_flowacc(const Options& options);

/// The op for the registry: `watershed`, Int32 labels with nodata -2147483647 (TauDEM's).
std::unique_ptr<Op> make_watershed(const Options& options);

/// Cells on the perimeter of a width x height tile, and the place of cell (x, y) among them
/// (top row, bottom row, left column, right column, corners once), or -1 inside.
int64_t perimeter_count(int64_t width, int64_t height);
int64_t perimeter_index(int64_t x, int64_t y, int64_t width, int64_t height);

}  // namespace tessera::ops
