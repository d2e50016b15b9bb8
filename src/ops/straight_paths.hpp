// Pairs of cells of a piece that a straight path joins inside it, at Chebyshev's distance:
// flowdir's flats and fill_epsilon's fronts skip their searches.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace tessera::ops {

/// Which pairs of cells of one piece are as far apart inside it as on an open grid, Chebyshev's
/// distance max(|dx|, |dy|): those joined by a path of that length inside the piece, here one of
/// two (the diagonal steps first, then the straight ones; or the straight ones first). A
/// breadth-first distance inside a piece is never below Chebyshev's, so such a pair needs no
/// search. Along every line of cells of the tile (rows, columns, both diagonals) a prefix count
/// of *breaks* (a cell of no piece, or of another piece than the cell before it on the line)
/// says in constant time whether a segment of the line stays in one piece.
class StraightPaths {
 public:
  /// For padded cells of `rows` rows of `stride` cells, `piece` their labels (-1: no piece).
  void build(int64_t stride, int64_t rows, const std::vector<int32_t>& piece) {
    stride_ = stride;
    // The cell before each one on its line: west, north, north-west, north-east.
    constexpr int kBeforeX[kLines] = {-1, 0, -1, 1};
    constexpr int kBeforeY[kLines] = {0, -1, -1, -1};
    for (int f = 0; f < kLines; ++f) breaks_[f].resize(piece.size());
    for (int64_t y = 0; y < rows; ++y)
      for (int64_t x = 0; x < stride; ++x) {
        const auto c = static_cast<size_t>(y * stride + x);
        for (int f = 0; f < kLines; ++f) {
          const int64_t bx = x + kBeforeX[f];
          const int64_t by = y + kBeforeY[f];
          const bool has_before = bx >= 0 && by >= 0 && bx < stride;
          const auto b = static_cast<size_t>(by * stride + bx);
          const bool brk = piece[c] < 0 || !has_before || piece[b] != piece[c];
          breaks_[f][c] = (brk ? 1u : 0u) + (has_before ? breaks_[f][b] : 0u);
        }
      }
  }

  /// Whether padded cells a and b (of one piece) are Chebyshev's distance apart inside it by
  /// one of the two paths.
  bool straight(size_t a, size_t b) const {
    const auto s = static_cast<ptrdiff_t>(stride_);
    const ptrdiff_t ax = static_cast<ptrdiff_t>(a) % s, ay = static_cast<ptrdiff_t>(a) / s;
    const ptrdiff_t dx = static_cast<ptrdiff_t>(b) % s - ax,
                    dy = static_cast<ptrdiff_t>(b) / s - ay;
    const ptrdiff_t sx = dx > 0 ? 1 : dx < 0 ? -1 : 0, sy = dy > 0 ? 1 : dy < 0 ? -1 : 0;
    const ptrdiff_t diagonal = std::min(std::abs(dx), std::abs(dy));
    const ptrdiff_t rest = std::max(std::abs(dx), std::abs(dy)) - diagonal;
    const bool along_x = std::abs(dx) > std::abs(dy);
    const int diagonal_line = sx == sy ? 2 : 3;
    const int straight_line = along_x ? 0 : 1;
    const ptrdiff_t diagonal_step = sy * s + sx;
    const ptrdiff_t straight_step = along_x ? sx : sy * s;
    const auto pa = static_cast<ptrdiff_t>(a);
    const ptrdiff_t first = pa + diagonal * diagonal_step;  // diagonal steps first
    if (stays(diagonal_line, pa, first) && stays(straight_line, first, static_cast<ptrdiff_t>(b)))
      return true;
    const ptrdiff_t second = pa + rest * straight_step;  // straight steps first
    return stays(straight_line, pa, second) &&
           stays(diagonal_line, second, static_cast<ptrdiff_t>(b));
  }

 private:
  static constexpr int kLines = 4;
  /// Whether the segment of line family f between cells p and q stays in one piece.
  bool stays(int f, ptrdiff_t p, ptrdiff_t q) const {
    const auto lo = static_cast<size_t>(std::min(p, q));
    const auto hi = static_cast<size_t>(std::max(p, q));
    return breaks_[f][hi] == breaks_[f][lo];
  }

  int64_t stride_ = 0;
  std::vector<uint32_t> breaks_[kLines];
};

}  // namespace tessera::ops
