// `tessera generate`: a plan with one output and no input, run with terrain tiles as its source.
#include "tessera/run/generate.hpp"

#include <cmath>

#include "output_checks.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/output_spec.hpp"
#include "tessera/io/crs.hpp"
#include "tessera/io/output_paths.hpp"
#include "tessera/io/raster_source.hpp"
#include "tessera/par/agreement.hpp"
#include "tile_source.hpp"

namespace tessera::run {

namespace {

/// GDAL's block cache: generate reads nothing, the writer needs little.
constexpr int64_t generate_cache_bytes = 16LL << 20;

/// The output file's spec, its tile size from -co BLOCKXSIZE / BLOCKYSIZE or the plan's default.
OutputSpec output_spec(const GenerateSpec& g) {
  if (format_of_path(g.path) != OutputFormat::GeoTiff)
    throw UsageError("generate: " + g.path + ": the output must be a GeoTIFF (.tif or .tiff)");
  if (!(g.cell > 0 && std::isfinite(g.cell)))
    throw UsageError("generate: --cell must be a positive number");
  OutputSpec spec;
  spec.path = g.path;
  spec.size = g.size;
  spec.type = g.type;
  spec.nodata = g.nodata;
  spec.has_geotransform = true;
  spec.geotransform = {g.origin_x, g.cell, 0, g.origin_y, 0, -g.cell};
  spec.crs_wkt = io::crs_wkt(g.crs, "generate: --crs");
  spec.band_descriptions = {"elevation"};
  spec.options = parse_creation_options(g.creation_options);
  if (spec.options.block_width && spec.options.block_height &&
      *spec.options.block_width != *spec.options.block_height)
    throw UsageError("generate: -co BLOCKXSIZE and BLOCKYSIZE must be equal");
  return spec;
}

}  // namespace

plan::Plan generate_plan(const GenerateSpec& g) {
  ops::check(g.terrain);
  if (g.size.width <= 0 || g.size.height <= 0)
    throw UsageError("generate: --size must be positive");
  OutputSpec spec = output_spec(g);
  const auto& o = spec.options;
  plan::Plan plan;
  plan.grid = plan::choose_grid(g.size, o.block_width ? o.block_width : o.block_height);
  spec.tile_width = plan.grid.tile_width();
  spec.tile_height = plan.grid.tile_height();
  plan.outputs.push_back({spec, {}});
  return plan;
}

namespace {

int64_t parse_side(const std::string& text, const std::string& whole) {
  size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || value <= 0)
    throw UsageError("generate: --size '" + whole + "': expected WIDTHxHEIGHT, e.g. 16000x16000");
  return value;
}

}  // namespace

Extent parse_size(const std::string& text) {
  const size_t x = text.find_first_of("xX");
  if (x == std::string::npos) return {parse_side(text, text), parse_side(text, text)};
  return {parse_side(text.substr(0, x), text), parse_side(text.substr(x + 1), text)};
}

void generate(const GenerateSpec& spec, const RunOptions& options) {
  plan::Plan plan;
  par::agreed([&] {
    io::init_gdal(generate_cache_bytes);
    io::check_replaceable(spec.path);
    check_report_path(options.report_path, {}, {spec.path});
    plan = generate_plan(spec);
  });
  execute_sources(plan, options, [&] { return terrain_tiles(plan, spec.terrain); });
}

}  // namespace tessera::run
