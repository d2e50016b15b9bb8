// Shaded relief, as gdaldem hillshade computes it (Byte, 1..255, nodata 0).
#pragma once

#include <memory>

#include "tessera/ops/gradient.hpp"
#include "tessera/ops/op.hpp"

namespace tessera::ops {

/// gdaldem's lighting models: one light, -combined, -multidirectional or -igor.
enum class ShadeStyle { Single, Combined, Multidirectional, Igor };

struct HillshadeParams {
  double z = 1.0;          ///< vertical exaggeration
  double scale = 1.0;      ///< ratio of vertical to horizontal units
  double azimuth = 315.0;  ///< degrees; ignored by Multidirectional and Igor's own weighting
  double altitude = 45.0;  ///< degrees
  Gradient alg = Gradient::Horn;
  ShadeStyle style = ShadeStyle::Single;
  bool compute_edges = false;
};

/// Reads options z, scale, azimuth, altitude, alg, combined, multidirectional, igor,
/// compute_edges; throws OptionError for an unknown key, a bad value or two styles at once.
HillshadeParams hillshade_params(const Options& options);

/// Shades the owned cells of `in` into `out` (owned.width x owned.height), byte for byte as
/// gdaldem 3.6 does for the whole raster.
void hillshade(const TileIn& in, View<uint8_t> out, const HillshadeParams& p);

/// The op for the registry.
std::unique_ptr<Op> make_hillshade(const Options& options);

}  // namespace tessera::ops
