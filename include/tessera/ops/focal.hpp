// Focal statistics over a square window: mean, sum, minimum, maximum (Float32, nodata -9999).
#pragma once

#include <cstdint>
#include <memory>

#include "tessera/ops/op.hpp"

namespace tessera::ops {

enum class FocalStat { Mean, Sum, Min, Max };

struct FocalParams {
  FocalStat stat = FocalStat::Mean;
  int64_t radius = 1;     ///< the window is (2 * radius + 1) cells square; the halo is radius
  double nodata = -9999;  ///< the output's nodata value
};

/// Reads options radius (an integer from 1 to 1000, required) and nodata; throws OptionError.
FocalParams focal_params(FocalStat stat, const Options& options);

/// The statistic of each owned cell's window of `in` (Float32 cells, in.halo >= p.radius).
/// Cells that are nodata (the source's nodata value, or NaN) and cells outside the raster are
/// left out of the window; a cell is nodata where its centre is nodata or its window holds no
/// valid cell. Sums are float64, each window's added column by column in a fixed order (each
/// column top to bottom, then the columns left to right), so a cell's value depends only on
/// the raster, never on where its tile starts; the result is rounded once to Float32.
void focal(const TileIn& in, View<float> out, const FocalParams& p);

/// The ops for the registry: focal.mean, focal.sum, focal.min, focal.max.
std::unique_ptr<Op> make_focal_mean(const Options& options);
std::unique_ptr<Op> make_focal_sum(const Options& options);
std::unique_ptr<Op> make_focal_min(const Options& options);
std::unique_ptr<Op> make_focal_max(const Options& options);

}  // namespace tessera::ops
