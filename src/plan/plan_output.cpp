// One output file of the plan: its bands, pixel type, nodata, georeferencing and options.
#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "plan_detail.hpp"
#include "tessera/core/error.hpp"
#include "tessera/stats/zonal.hpp"

namespace tessera::plan::detail {

using job::fail_at;

namespace {

std::string nodata_text(const std::optional<double>& nodata) {
  return nodata ? std::to_string(*nodata) : "none";
}

/// The index into plan.steps of each step `output` takes its bands from (check_outputs made
/// sure each names a step).
std::vector<size_t> output_steps(const Plan& plan, const job::OutputFileSpec& output) {
  std::vector<size_t> steps;
  for (const std::string& id : output.from) steps.push_back(planned(plan, id));
  return steps;
}

/// `from` names steps, each once, at least one.
void check_from(const job::JobSpec& job, const std::unordered_set<std::string>& ids,
                const job::OutputFileSpec& output, const std::string& what) {
  if (output.from.empty()) fail_at(output.from_where, what + ": expected at least one step");
  std::unordered_set<std::string> listed;
  for (size_t i = 0; i < output.from.size(); ++i) {
    const std::string& id = output.from[i];
    const job::Position& where =
        i < output.from_item_where.size() ? output.from_item_where[i] : output.from_where;
    if (!ids.contains(id))
      fail_at(where,
              what + ": '" + id + "' names no step (steps: " + names_or_none(step_ids(job)) + ")");
    if (!listed.insert(id).second) fail_at(where, what + ": step '" + id + "' listed twice");
  }
}

/// The steps of one file must agree on pixel type and nodata: a GeoTIFF has one of each.
/// Whether two nodata values are the same (NaN is the same as NaN).
bool same_nodata(const std::optional<double>& a, const std::optional<double>& b) {
  if (a && b && std::isnan(*a) && std::isnan(*b)) return true;
  return a == b;
}

void check_steps_agree(const Plan& plan, const PlannedOutput& out,
                       const job::OutputFileSpec& output, const std::string& what) {
  const PlannedStep& first = plan.steps[out.steps.front()];
  for (size_t index : out.steps) {
    const PlannedStep& step = plan.steps[index];
    if (step.impl->output_type() != first.impl->output_type())
      fail_at(output.from_where, what + ": steps give different pixel types (" + first.id + ": " +
                                     std::string(name_of(first.impl->output_type())) + ", " +
                                     step.id + ": " +
                                     std::string(name_of(step.impl->output_type())) +
                                     "); write them to separate outputs");
    if (!same_nodata(step.impl->output_nodata(), first.impl->output_nodata()))
      fail_at(output.from_where, what + ": steps give different nodata values (" + first.id + ": " +
                                     nodata_text(first.impl->output_nodata()) + ", " + step.id +
                                     ": " + nodata_text(step.impl->output_nodata()) +
                                     "); write them to separate outputs");
  }
}

/// "slope" for one band; "relief_red", "relief_green", ... for colours; "x_1", "x_2" otherwise.
void add_band_descriptions(const PlannedStep& step, std::vector<std::string>& out) {
  static const std::array<std::string_view, 4> colours{"red", "green", "blue", "alpha"};
  const int bands = step.impl->output_bands();
  if (bands == 1) {
    out.push_back(step.id);
    return;
  }
  const bool coloured = bands == 3 || bands == 4;
  for (int b = 0; b < bands; ++b)
    out.push_back(step.id + "_" + (coloured ? std::string(colours[b]) : std::to_string(b + 1)));
}

CreationOptions output_options(const job::OutputFileSpec& output, const TileGrid& grid,
                               const std::string& what) {
  CreationOptions options;
  try {
    options = parse_creation_options(output.creation_options, output.format);
    if (!output.overviews.empty()) options.overview_count = overview_count_of(output.overviews);
  } catch (const Error& e) {
    fail_at(output.where, what, e.what());
  }
  if (options.no_overviews && !output.overviews.empty())
    fail_at(output.overviews_where, what, "overviews: OVERVIEWS=NONE asks for none");
  const auto clashes = [](const std::optional<int64_t>& block, int64_t tile) {
    return block && *block != tile;
  };
  if (clashes(options.block_width, grid.tile_width()) ||
      clashes(options.block_height, grid.tile_height()))
    fail_at(output.where,
            what + ": co: " +
                (output.format == OutputFormat::Cog ? "BLOCKSIZE" : "BLOCKXSIZE and BLOCKYSIZE") +
                " must equal the tile size (" + std::to_string(grid.tile_width()) + " x " +
                std::to_string(grid.tile_height()) + "); set [run] tile instead");
  return options;
}

/// HDF5 outputs compress with shuffle + deflate (zlib levels 1 to 9) or not at all.
void check_hdf5_options(const CreationOptions& options, const job::OutputFileSpec& output,
                        const std::string& what) {
  if (options.compression != Compression::None && options.compression != Compression::Deflate)
    fail_at(output.where, what, "HDF5 outputs compress with DEFLATE or NONE only");
  if (options.predictor != 1)
    fail_at(output.where, what, "HDF5 outputs take no PREDICTOR (they shuffle bytes instead)");
  if (options.deflate_level > 9)
    fail_at(
        output.where, what,
        "ZLEVEL=" + std::to_string(options.deflate_level) + ": expected 1 to 9 for HDF5's deflate");
  if (!output.overviews.empty())
    fail_at(output.overviews_where, what, "HDF5 outputs hold no overviews (write a .tif for them)");
}

}  // namespace

void check_outputs(const job::JobSpec& job) {
  if (job.outputs.empty())
    fail_at({job.file, 1, 1}, "job has no [[output]] (expected at least one)");
  const std::vector<std::string> step_list = step_ids(job);
  const std::unordered_set<std::string> ids(step_list.begin(), step_list.end());
  std::unordered_map<std::string, size_t> first_with_path;
  for (size_t o = 0; o < job.outputs.size(); ++o) {
    const job::OutputFileSpec& output = job.outputs[o];
    const std::string what = "output " + std::to_string(o + 1);
    check_from(job, ids, output, what + ": from");
    const size_t other = first_with_path.emplace(output.path, o).first->second;
    if (other != o)
      fail_at(output.where, what + ": path '" + output.path +
                                "' is also the path of the output at " +
                                job.outputs[other].where.str());
  }
}

PlannedOutput plan_output(const Plan& plan, const job::OutputFileSpec& output) {
  const std::string what = "output '" + output.path + "'";
  PlannedOutput out;
  out.steps = output_steps(plan, output);
  check_steps_agree(plan, out, output, what);
  const PlannedStep& first = plan.steps[out.steps.front()];
  const RasterInfo& input = plan.inputs[first.input];
  OutputSpec& spec = out.spec;
  spec.path = output.path;
  spec.format = output.format;
  spec.size = input.size;
  spec.bands = 0;
  for (size_t index : out.steps) {
    spec.bands += plan.steps[index].impl->output_bands();
    add_band_descriptions(plan.steps[index], spec.band_descriptions);
  }
  spec.type = first.impl->output_type();
  spec.tile_width = plan.grid.tile_width();
  spec.tile_height = plan.grid.tile_height();
  spec.nodata = first.impl->output_nodata();
  spec.has_geotransform = input.has_geotransform;
  spec.geotransform = input.geotransform;
  spec.crs_wkt = input.crs_wkt;
  spec.geokeys = input.geokeys;
  if (spec.format == OutputFormat::Table) {
    spec.table = output.table;
    for (const std::string& name : spec.table->stats) {
      try {
        stats::parse_zone_stat(name);
      } catch (const Error& e) {
        fail_at(output.stats_where, what + ": stats", e.what());
      }
    }
    return out;
  }
  spec.options = output_options(output, plan.grid, what);
  if (spec.format == OutputFormat::Hdf5) check_hdf5_options(spec.options, output, what);
  try {
    overview_levels(spec);  // a count the raster cannot have fails here, before any cell is read
  } catch (const Error& e) {
    fail_at(output.overviews.empty() ? output.where : output.overviews_where, what, e.what());
  }
  return out;
}

}  // namespace tessera::plan::detail
