// The one explicit list of the ops tessera knows (no static self-registration).
#include "tessera/ops/aspect.hpp"
#include "tessera/ops/calc.hpp"
#include "tessera/ops/color_relief.hpp"
#include "tessera/ops/d8.hpp"
#include "tessera/ops/fill.hpp"
#include "tessera/ops/fill_epsilon.hpp"
#include "tessera/ops/fill_epsilon_bound.hpp"
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
const std::vector<OptionSpec> kFocalOptions{
    {"radius", "the window is 2 * radius + 1 cells wide (1-1000; this or size)"},
    {"size", "the window's width in cells, odd (3-2001; this or radius)"},
    {"circle", "only cells at a distance <= radius from the centre (bool)"},
    {"weights_file", "weights in r.neighbors' format: size lines of size numbers"},
    {"gauss", "Gaussian weights of this sigma, in cells"},
    {"nodata", "output nodata value (default -9999; integer outputs: see docs/jobs.md)"}};
const std::vector<OptionSpec> kFocalPercentileOptions = [] {
  auto options = kFocalOptions;
  options.push_back({"percentile", "the percentile, 0 to 100 (default 50)"});
  return options;
}();
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
       "mean of the valid cells of the window (Float32; Float64 for Float64 sources); nodata where "
       "the centre is nodata",
       kFocalOptions, [](const Options& o) { return make_focal("mean", o); }},
      {"focal.sum",
       "sum of the valid cells (weighted: a convolution); nodata where the centre is nodata",
       kFocalOptions, [](const Options& o) { return make_focal("sum", o); }},
      {"focal.count", "number of valid cells (UInt32); nodata where the centre is nodata",
       kFocalOptions, [](const Options& o) { return make_focal("count", o); }},
      {"focal.variance",
       "population variance of the valid cells; nodata where the centre is nodata", kFocalOptions,
       [](const Options& o) { return make_focal("variance", o); }},
      {"focal.stddev",
       "population standard deviation of the valid cells; nodata where the centre is nodata",
       kFocalOptions, [](const Options& o) { return make_focal("stddev", o); }},
      {"focal.min", "minimum (an integer source keeps its type); nodata where the centre is nodata",
       kFocalOptions, [](const Options& o) { return make_focal("min", o); }},
      {"focal.max", "maximum (an integer source keeps its type); nodata where the centre is nodata",
       kFocalOptions, [](const Options& o) { return make_focal("max", o); }},
      {"focal.range",
       "maximum - minimum (an integer source gives its unsigned type); nodata where the centre is "
       "nodata",
       kFocalOptions, [](const Options& o) { return make_focal("range", o); }},
      {"focal.median",
       "median (an integer source keeps its type, rounded); nodata where the centre is nodata",
       kFocalOptions, [](const Options& o) { return make_focal("median", o); }},
      {"focal.percentile",
       "the percentile 'percentile' of the valid cells (linear between ranks); nodata where the "
       "centre is nodata",
       kFocalPercentileOptions, [](const Options& o) { return make_focal("percentile", o); }},
      {"focal.quart1", "first quartile (percentile 25); nodata where the centre is nodata",
       kFocalOptions, [](const Options& o) { return make_focal("quart1", o); }},
      {"focal.quart3", "third quartile (percentile 75); nodata where the centre is nodata",
       kFocalOptions, [](const Options& o) { return make_focal("quart3", o); }},
      {"focal.mode",
       "most frequent value, the smallest on ties (integer sources); nodata where the centre is "
       "nodata",
       kFocalOptions, [](const Options& o) { return make_focal("mode", o); }},
      {"focal.minority",
       "least frequent value, the smallest on ties (integer sources); nodata where the centre is "
       "nodata",
       kFocalOptions, [](const Options& o) { return make_focal("minority", o); }},
      {"focal.diversity",
       "number of distinct values (integer sources; UInt32); nodata where the centre is nodata",
       kFocalOptions, [](const Options& o) { return make_focal("diversity", o); }},
      {"fill",
       "depressions filled (Float32, the DEM's nodata): each cell raised to the lowest level "
       "from which water leaves the raster over its edge or into a void (tile-graph pass)",
       {},
       make_fill},
      {"fill_epsilon",
       "fill's surface made strictly draining (Float32, the surface's nodata): the least surface "
       "at or above it on which every cell but the outlets has a strictly lower neighbour, each "
       "cell raised by whole Float32 steps (tile-graph pass; docs/hydrology.md)",
       {{"bound",
         "an input or step whose band (Float32) bounds the result from above and equals the "
         "surface where its flow leaves the raster: the bound op's output (required)"}},
       make_fill_epsilon,
       nullptr,
       true},
      {"flowdir",
       "D8 flow directions (Int16, nodata -32768) by steepest descent as TauDEM d8flowdir; "
       "flats drain to their outlets and away from higher terrain (Barnes et al. 2014; "
       "tile-graph pass); 0 on a flat without an outlet; nodata on the edge and next to voids",
       {{"encoding", "taudem (1-8, E then counter-clockwise; default) or esri (1-128)"}},
       make_flowdir},
      {"flowacc",
       "D8 contributing area in cells of a flow-direction raster (tile-graph pass, Barnes 2017)",
       {{"encoding", "taudem (1-8; default) or esri (1-128): the codes of the input"},
        {"type",
         "float32 (default, nodata -1, as TauDEM aread8), float64, int32, uint32 or "
         "uint16 (nodata 0); an area the type cannot hold is an error"},
        {"weight",
         "an input or step whose band weighs each cell (TauDEM aread8 -wg): areas are exact sums "
         "of the weights upstream, float32 or float64"}},
       make_flowacc},
      {"watershed",
       "a label per basin of a flow-direction raster (Int32, nodata -2147483647; tile-graph "
       "pass): basins numbered 1, 2, ... in raster order of the cells their flow ends at, or "
       "the id of the first outlet downstream (TauDEM gagewatershed)",
       {{"encoding", "taudem (1-8; default) or esri (1-128): the codes of the input"},
        {"outlets",
         "an input or step whose band holds outlet ids (0 or nodata: none); cells that reach no "
         "outlet get nodata"}},
       make_watershed},
      {"fill_epsilon_bound",
       "planned by fill with epsilon = true: per cell of fill's surface (Float32, nodata NaN) the "
       "bound U = max(K, U(next) + 1) along its flow path, U = K where the flow leaves the "
       "raster (K: the cell's key, consecutive Float32 values one apart); +infinity past the "
       "largest finite Float32",
       {{"directions", "the step or input holding flowdir's directions of the surface"},
        {"encoding", "taudem (1-8; default) or esri (1-128): the codes of the directions"}},
       make_fill_epsilon_bound,
       nullptr,
       true},
  };
}

}  // namespace

const std::vector<OpEntry>& registry() {
  static const std::vector<OpEntry> entries = make_registry();
  return entries;
}

}  // namespace tessera::ops
