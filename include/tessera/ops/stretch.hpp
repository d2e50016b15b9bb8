// stretch and normalize: ops whose cells depend on statistics of the whole band they read (a
// reduction pass computes them first).
#pragma once

#include <memory>
#include <optional>

#include "tessera/ops/op.hpp"

namespace tessera::ops {

/// stretch: a linear stretch to Byte between two bounds of the band: its `low` and `high`
/// percentiles (mode percentile; 2 and 98 by default, the cumulative count cut QGIS shows), or
/// its minimum and maximum (mode minmax). Valid cells map to 1..255 (low to 1, high to 255,
/// rounded half away from zero, clamped); nodata cells give 0, the output's nodata.
struct StretchParams {
  bool minmax = false;
  double low = 2;
  double high = 98;
};

/// normalize: the z-score (value - mean) / standard deviation of the band (population standard
/// deviation, as tessera stats gives it), as `type` (float32 or float64) with `nodata`.
struct NormalizeParams {
  PixelType type = PixelType::Float32;
  std::optional<double> nodata;
};

/// Reads options mode, low, high; throws OptionError (a percentile outside 0-100, low >= high).
StretchParams stretch_params(const Options& options);
/// Reads options type, nodata; throws OptionError.
NormalizeParams normalize_params(const Options& options);

/// (v - low) * (254 / (high - low)) + 1 converted to Byte (rounded half away from zero, as GDAL
/// writes a double) and clamped to 1..255, so that a valid cell stays valid below `low` and above
/// `high`; 1 where high == low; 0, the output's nodata, for nodata.
void stretch(const TileIn& in, const BandView& out, double low, double high);
/// (v - mean) / std converted to out.type(), `nodata` where the input is nodata or std is 0.
void normalize(const TileIn& in, const BandView& out, double mean, double std, double nodata);

/// The ops for the registry.
std::unique_ptr<Op> make_stretch(const Options& options);
std::unique_ptr<Op> make_normalize(const Options& options);

}  // namespace tessera::ops
