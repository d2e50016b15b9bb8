// Focal statistics, the methods of GRASS r.neighbors: over a square or circular window, with
// optional weights; nodata cells left out.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/ops/op.hpp"

namespace tessera::ops {

enum class FocalMethod {
  Mean,
  Sum,
  Count,
  Variance,
  Stddev,
  Min,
  Max,
  Range,
  Median,
  Percentile,  ///< quart1 (25), quart3 (75) and perc
  Mode,
  Minority,
  Diversity,
};

struct FocalParams {
  FocalMethod method = FocalMethod::Mean;
  int64_t radius = 1;           ///< the window is 2 * radius + 1 cells wide; the halo is radius
  bool circle = false;          ///< only cells at a distance <= radius from the centre
  double percentile = 50;       ///< for Percentile: 0 to 100
  std::vector<double> weights;  ///< (2r + 1)^2 weights, row by row from the top; empty: all 1
  double nodata = -9999;        ///< the output's nodata value
};

/// The method a name gives (r.neighbors' names and tessera's: average/mean, minimum/min,
/// maximum/max, majority/mode, variety/diversity, quart1, quart3, perc); sets `percentile` to 25
/// for quart1 and 75 for quart3. Throws Error naming the known methods.
FocalMethod parse_focal_method(std::string_view name, double& percentile);
/// The job-file name of a method: "mean", "stddev", "percentile", ...
std::string_view focal_method_name(FocalMethod method);
/// Every method's job-file name, comma separated, for messages.
std::string focal_method_names();

/// Whether the method's output keeps an integer source's type (minimum, maximum, range, median,
/// mode, minority, count, diversity) rather than a floating one.
bool keeps_integers(FocalMethod method);

/// The weights of a weights file in r.neighbors' format: `size` lines of `size` numbers
/// separated by blanks (blank lines skipped); throws Error "FILE:LINE: ..." for anything else,
/// and for weights that are all 0. `size` is odd.
std::vector<double> read_focal_weights(const std::string& path, int64_t size);
/// Gaussian weights exp(-(dx^2 + dy^2) / (2 sigma^2)) / (2 pi sigma^2) over the square window
/// of `radius`, as r.neighbors' weighting_function=gaussian computes them.
std::vector<double> gaussian_weights(int64_t radius, double sigma);

/// Reads the options of focal.<method_name> (radius or size, circle, weights_file, gauss,
/// percentile, nodata); throws OptionError naming the option, Error for an unknown method.
FocalParams focal_params(std::string_view method_name, const Options& options);

/// The statistic of each owned cell's window of `in` into `out` (owned.width x owned.height of
/// any pixel type; values rounded and saturated as GDAL converts them). Cells that are nodata
/// (the source's nodata value, or NaN) and cells outside the raster are left out of the window;
/// a cell is nodata where its centre is nodata or its window holds no valid cell.
void focal(const TileIn& in, const BandView& out, const FocalParams& p);

/// The output type of `method` on a source of type `source` (the step's input) whose nodata value
/// is `nodata`: UInt32 for count and diversity; Float64 for a Float64 source; for a Byte, (U)Int16
/// or Int32 source the source's own type for min, max, median, mode, minority, and for range the
/// unsigned type of its width (Byte, UInt16, UInt16, UInt32), whose largest value marks nodata;
/// where the valid values can span the source type's whole range (a nodata value other than
/// its lowest and largest), a range can reach that largest value, and range takes the next
/// wider type (UInt16, UInt32, UInt32, Float64); Float32 otherwise. A `weighted` count (a
/// sum of weights, as r.neighbors' count with weights) is floating: Float64 for a Float64
/// source, Float32 otherwise.
PixelType focal_output_type(FocalMethod method, PixelType source, bool weighted = false,
                            std::optional<double> nodata = std::nullopt);

/// The op focal.<method_name> (focal.mean, focal.quart1, ...), for the registry.
std::unique_ptr<Op> make_focal(std::string_view method_name, const Options& options);

}  // namespace tessera::ops
