// The two ways gdaldem estimates a cell's gradient from its 3x3 window.
#pragma once

namespace tessera::ops {

/// Horn (1981), gdaldem's default, or Zevenbergen & Thorne (1987), the smoother 4-neighbour one.
enum class Gradient { Horn, ZevenbergenThorne };

}  // namespace tessera::ops
