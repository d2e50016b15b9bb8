// Writing float64 calc results into an output pixel type: rounding, saturation, nodata.
#pragma once

#include <cstdint>
#include <span>
#include <variant>

#include "tessera/core/pixel_type.hpp"
#include "tessera/core/tile_buffer.hpp"

namespace tessera::expr {

/// A writable row of cells of one output pixel type.
using OutCells =
    std::variant<std::span<uint8_t>, std::span<uint16_t>, std::span<int16_t>, std::span<uint32_t>,
                 std::span<int32_t>, std::span<float>, std::span<double>>;

/// Converts one result to an integer type T as GDAL writes a double into an integer band: rounds
/// half away from zero (2.5 -> 3, -2.5 -> -3) and saturates at T's range (300 -> 255 for uint8,
/// +inf -> the maximum, -inf -> the minimum); NaN gives 0, as in GDAL (convert_row writes nodata).
template <class T>
T round_saturate(double v);

/// Writes `in` into `out` (same length): NaN cells (nodata) get `nodata`; integer types round and
/// saturate as round_saturate(); float32 rounds to nearest, and values beyond its range become
/// +-inf (IEEE, as GDAL does); float64 copies. `nodata` itself is converted by the same rules.
void convert_row(std::span<const double> in, double nodata, OutCells out);

/// Row `y` of `band`, its width() cells, as convert_row() writes them.
OutCells out_cells(const BandView& band, int64_t y);

/// gdal_calc.py's default output nodata value for a type (255, 65535, -32768, 4294967293,
/// -2147483647, 3.402823466e+38, 1.7976931348623157e+308), for outputs given none.
double default_nodata(PixelType type);

}  // namespace tessera::expr
