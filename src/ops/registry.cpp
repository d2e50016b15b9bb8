// The one explicit list of the ops tessera knows (no static self-registration).
#include "tessera/ops/aspect.hpp"
#include "tessera/ops/calc.hpp"
#include "tessera/ops/color_relief.hpp"
#include "tessera/ops/focal.hpp"
#include "tessera/ops/hillshade.hpp"
#include "tessera/ops/op.hpp"
#include "tessera/ops/reclassify.hpp"
#include "tessera/ops/roughness.hpp"
#include "tessera/ops/set_type.hpp"
#include "tessera/ops/slope.hpp"
#include "tessera/ops/stretch.hpp"
#include "tessera/ops/tpi.hpp"
#include "tessera/ops/tri.hpp"

namespace tessera::ops {
namespace {

const OptionSpec kComputeEdges{"compute_edges", "compute values at the raster edges (bool)"};
const OptionSpec kGradientAlg{"alg", "Horn (default) or ZevenbergenThorne"};
const OptionSpec kRadius{"radius", "the window is 2 * radius + 1 cells square (required, 1-1000)"};
const OptionSpec kFocalNodata{"nodata", "output nodata value (default -9999)"};
const OptionSpec kScale{"scale",
                        "ratio of vertical to horizontal units (default 1; 111120 for "
                        "metres over degrees)"};

std::vector<OpEntry> make_registry() {
  return {
      {"hillshade",
       "shaded relief (Byte, nodata 0), as gdaldem hillshade",
       {{"z", "vertical exaggeration (default 1)"},
        kScale,
        {"azimuth", "light azimuth in degrees (default 315)"},
        {"altitude", "light altitude in degrees (default 45)"},
        kGradientAlg,
        {"combined", "combined shading (bool)"},
        {"multidirectional", "multidirectional shading (bool)"},
        {"igor", "Igor's shading, from slope and aspect only (bool)"},
        kComputeEdges},
       make_hillshade},
      {"slope",
       "slope (Float32, nodata -9999), as gdaldem slope",
       {kScale, kGradientAlg, {"units", "degrees (default) or percent"}, kComputeEdges},
       make_slope},
      {"aspect",
       "aspect (Float32, nodata -9999), as gdaldem aspect",
       {kGradientAlg,
        {"trigonometric", "angle counter-clockwise from east instead of an azimuth (bool)"},
        {"zero_for_flat", "0 for flat areas instead of nodata (bool)"},
        kComputeEdges},
       make_aspect},
      {"color-relief",
       "colour relief (Byte RGB or RGBA), as gdaldem color-relief",
       {{"color_file", "gdaldem colour text file (required)"},
        {"alpha", "add an alpha band (bool)"},
        {"exact_color_entry", "only exact matches of the colour file's values (bool)"},
        {"nearest_color_entry", "the nearest entry instead of interpolating (bool)"},
        {"source_min", "the band's minimum, for percentage entries"},
        {"source_max", "the band's maximum, for percentage entries"}},
       make_color_relief},
      {"TRI",
       "terrain ruggedness index (Float32, nodata -9999), as gdaldem TRI",
       {{"alg", "Riley (default) or Wilson"}, kComputeEdges},
       make_tri},
      {"TPI",
       "topographic position index (Float32, nodata -9999), as gdaldem TPI",
       {kComputeEdges},
       make_tpi},
      {"roughness",
       "roughness (Float32, nodata -9999), as gdaldem roughness",
       {kComputeEdges},
       make_roughness},
      {"calc",
       "map algebra over bands of named inputs (docs/expressions.md)",
       {{"expr", "the expression; its names are the job's inputs, name[2] picks band 2 (required)"},
        {"type", "output type: uint8, uint16, int16, uint32, int32, float32 (default), float64"},
        {"nodata", "output nodata value (default: gdal_calc.py's for the type)"}},
       nullptr,
       make_calc},
      {"set-type",
       "in * scale + offset as another pixel type (GDAL's rounding and saturation)",
       {{"type", "output type: uint8, uint16, int16, uint32, int32, float32, float64 (required)"},
        {"scale", "multiplies each cell (default 1)"},
        {"offset", "added after the scale (default 0)"},
        {"nodata", "output nodata value (default: gdal_calc.py's for the type)"}},
       make_set_type},
      {"reclassify",
       "value ranges to values, with a default for cells in no range",
       {{"table", "\"LOW..HIGH=VALUE; ...\": [LOW, HIGH) becomes VALUE, first match (required)"},
        {"default", "the value of cells in no range (default: nodata)"},
        {"type", "output type: uint8 (default) .. float64"},
        {"nodata", "output nodata value (default: gdal_calc.py's for the type)"}},
       make_reclassify},
      {"stretch",
       "linear stretch to Byte (1..255, nodata 0) between two percentiles or the minimum and "
       "maximum of the whole band (a reduction pass computes them first)",
       {{"mode", "percentile (default) or minmax"},
        {"low", "the percentile stretched to 1 (default 2)"},
        {"high", "the percentile stretched to 255 (default 98)"}},
       make_stretch},
      {"normalize",
       "z-score (value - mean) / std of the whole band (a reduction pass computes them first)",
       {{"type", "float32 (default) or float64"},
        {"nodata", "output nodata value (default: gdal_calc.py's for the type)"}},
       make_normalize},
      {"focal.mean",
       "mean of the valid cells of a square window (Float32); nodata where the centre is nodata",
       {kRadius, kFocalNodata},
       make_focal_mean},
      {"focal.sum",
       "sum of the valid cells of a square window (Float32); nodata where the centre is nodata",
       {kRadius, kFocalNodata},
       make_focal_sum},
      {"focal.min",
       "minimum of the valid cells of a square window (Float32)",
       {kRadius, kFocalNodata},
       make_focal_min},
      {"focal.max",
       "maximum of the valid cells of a square window (Float32)",
       {kRadius, kFocalNodata},
       make_focal_max},
  };
}

}  // namespace

const std::vector<OpEntry>& registry() {
  static const std::vector<OpEntry> entries = make_registry();
  return entries;
}

}  // namespace tessera::ops
