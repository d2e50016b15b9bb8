// libtiff's horizontal and floating-point predictors, row by row, from the cells into a copy.
#include "tiff_predictor.hpp"

#include <cstring>
#include <string>

#include "tessera/core/error.hpp"

namespace tessera::io::detail {
namespace {

/// Predictor 2 on one row of `count` cells of type U: libtiff's horDiff8/16/32/64. Each cell
/// is read with its neighbour (no value carried from one step to the next), so the loop
/// vectorises.
template <class U>
void difference_row(const std::byte* in, std::byte* out, int64_t count) {
  std::memcpy(out, in, sizeof(U));
  for (int64_t i = 1; i < count; ++i) {
    U now;
    U before;
    std::memcpy(&now, in + i * sizeof(U), sizeof(U));
    std::memcpy(&before, in + (i - 1) * sizeof(U), sizeof(U));
    const auto d = static_cast<U>(now - before);
    std::memcpy(out + i * sizeof(U), &d, sizeof(U));
  }
}

void horizontal(size_t cell_bytes, const std::byte* in, std::byte* out, int64_t count) {
  switch (cell_bytes) {
    case 1:
      return difference_row<uint8_t>(in, out, count);
    case 2:
      return difference_row<uint16_t>(in, out, count);
    case 4:
      return difference_row<uint32_t>(in, out, count);
    case 8:
      return difference_row<uint64_t>(in, out, count);
    default:
      throw Error("internal error: no horizontal predictor for cells of " +
                  std::to_string(cell_bytes) + " bytes");
  }
}

/// Predictor 3 on one row: libtiff's fpDiff. Plane p holds byte cell_bytes - 1 - p of every cell
/// (little-endian: the most significant byte first); then each byte less the one before it.
void floating(size_t cell_bytes, const std::byte* in, std::byte* out, int64_t count) {
  const auto n = static_cast<size_t>(count);
  for (size_t b = 0; b < cell_bytes; ++b) {
    std::byte* plane = out + (cell_bytes - 1 - b) * n;
    for (size_t i = 0; i < n; ++i) plane[i] = in[i * cell_bytes + b];
  }
  for (size_t i = n * cell_bytes - 1; i > 0; --i)
    out[i] =
        static_cast<std::byte>(static_cast<uint8_t>(out[i]) - static_cast<uint8_t>(out[i - 1]));
}

}  // namespace

void apply_predictor(int predictor, size_t cell_bytes, const std::byte* cells, int64_t width,
                     int64_t height, std::byte* out) {
  const auto row = static_cast<size_t>(width) * cell_bytes;
  if (predictor == 1) {
    std::memcpy(out, cells, row * static_cast<size_t>(height));
    return;
  }
  if (predictor != 2 && predictor != 3)
    throw Error("internal error: no TIFF predictor " + std::to_string(predictor));
  for (int64_t y = 0; y < height; ++y) {
    const std::byte* in = cells + static_cast<size_t>(y) * row;
    std::byte* to = out + static_cast<size_t>(y) * row;
    if (predictor == 2)
      horizontal(cell_bytes, in, to, width);
    else
      floating(cell_bytes, in, to, width);
  }
}

}  // namespace tessera::io::detail
