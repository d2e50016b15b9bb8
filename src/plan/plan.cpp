// Turns a checked JobSpec and its inputs' metadata into a Plan: ops, halos, tile grid, outputs.
#include "tessera/plan/plan.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "plan_detail.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/hidden_name.hpp"
#include "tessera/ops/tile_graph.hpp"
#include "tessera/plan/step_graph.hpp"

namespace tessera::plan {

namespace detail {

std::optional<size_t> find_input(const job::JobSpec& job, const std::string& name) {
  for (size_t i = 0; i < job.inputs.size(); ++i)
    if (job.inputs[i].name == name) return i;
  return std::nullopt;
}

std::vector<std::string> input_names(const job::JobSpec& job) {
  std::vector<std::string> names;
  for (const auto& input : job.inputs) names.push_back(input.name);
  return names;
}

std::vector<std::string> step_ids(const job::JobSpec& job) {
  std::vector<std::string> ids;
  for (const auto& step : job.steps) ids.push_back(step.id);
  return ids;
}

std::string names_or_none(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "none" : out;
}

const job::Position& option_place(const job::StepSpec& step, const std::string& key) {
  const auto where = step.option_where.find(key);
  return where != step.option_where.end() ? where->second : step.where;
}

void check_reads_earlier(size_t step, const std::vector<size_t>& sources) {
  for (size_t source : sources)
    if (source >= step)
      throw Error("plan: step " + std::to_string(step + 1) + " reads step " +
                  std::to_string(source + 1) + ", which does not come before it");
}

size_t planned(const Plan& plan, const std::string& id) {
  const auto it = plan.step_index.find(id);
  if (it == plan.step_index.end()) throw Error("plan: step '" + id + "' is not planned yet");
  return it->second;
}

}  // namespace detail

namespace {

using detail::find_input;
using detail::option_place;
using detail::planned;
using job::fail_at;

int64_t round_up(int64_t value, int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

}  // namespace

namespace detail {

bool is_tile_graph(const Plan& plan, size_t index) {
  return plan.steps[index].impl->pass_kind() == PassKind::TileGraph;
}

size_t stage_input(Plan& plan, size_t step) {
  for (const StageResult& stage : plan.stages)
    if (stage.step == step) return stage.input;
  const PlannedStep& from = plan.steps[step];
  RasterInfo info = plan.inputs[from.input];  // its grid and georeferencing
  info.path.clear();
  info.band = 1;
  info.band_count = 1;
  info.type = from.impl->output_type();
  info.nodata = from.impl->output_nodata();
  info.description = from.id;
  info.band_types = {info.type};
  info.band_nodata = {info.nodata};
  plan.inputs.push_back(std::move(info));
  plan.input_names.push_back(from.id);
  plan.stages.push_back({step, plan.inputs.size() - 1, 0});
  return plan.inputs.size() - 1;
}

}  // namespace detail

namespace {

using detail::is_tile_graph;
using detail::stage_input;

void add_result(PlannedStep& step, size_t source) {
  if (std::find(step.results.begin(), step.results.end(), source) == step.results.end())
    step.results.push_back(source);
}

/// Links `step` to the earlier step it reads: a tile-graph step's result is read from its stage
/// file, as an input of any type; any other step must give one band of Byte, Float32 or Float64
/// cells (what ops of one input read in a chain).
void link_source(const job::StepSpec& spec, PlannedStep& step, Plan& plan) {
  const size_t source = planned(plan, spec.in);
  if (is_tile_graph(plan, source)) {
    step.input = stage_input(plan, source);
    step.cells = step.impl->input_cells(plan.inputs[step.input].type);
    add_result(step, source);
    return;
  }
  const PlannedStep& from = plan.steps[source];
  const PixelType type = from.impl->output_type();
  const std::string what = "step '" + spec.id + "': in: step '" + spec.in + "'";
  const bool floating = type == PixelType::Float32 || type == PixelType::Float64;
  if (from.impl->output_bands() != 1 || (type != PixelType::Byte && !floating))
    fail_at(spec.in_where, what + " gives " + std::to_string(from.impl->output_bands()) +
                               " band(s) of " + std::string(name_of(type)) +
                               "; a step reads one band of Byte, Float32 or Float64");
  step.source = source;
  step.sources = {source};
  step.input = from.input;
  step.cells = step.impl->input_cells(type);
  if (floating && step.cells == ops::CellType::Int32)
    fail_at(spec.in_where,
            what + " gives " + std::string(name_of(type)) + " but " + spec.op + " reads integers");
}

/// Each step's margin: the largest margin + op halo of the steps that read it. Readers come
/// after what they read, so walking backwards settles a step's margin before it is passed on.
void add_margins(Plan& plan) {
  for (size_t i = plan.steps.size(); i-- > 0;) {
    const PlannedStep& step = plan.steps[i];
    for (size_t source : step.sources) {
      int64_t& margin = plan.steps[source].margin;
      margin = std::max(margin, step.margin + step.impl->halo());
    }
  }
}

void check_bands(const job::JobSpec& job, const std::vector<RasterInfo>& inputs) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    const job::InputSpec& input = job.inputs[i];
    if (inputs[i].band_count > 0 && input.band > inputs[i].band_count)
      fail_at(input.where, "input '" + input.name + "': band " + std::to_string(input.band) +
                               " does not exist in '" + input.path + "' (it has " +
                               std::to_string(inputs[i].band_count) + ")");
  }
}

/// The band `ref` of a step names, with its type and nodata; throws at the step's expr when the
/// input or the band does not exist.
PlannedBand resolve_band(const job::JobSpec& job, const std::vector<RasterInfo>& inputs,
                         const job::StepSpec& step, const ops::BandRef& ref) {
  const std::string what = "step '" + step.id + "': option '" + ref.option + "'";
  const auto input = find_input(job, ref.name);
  if (!input) fail_at(option_place(step, ref.option), what, "'" + ref.name + "' names no input");
  const RasterInfo& info = inputs[*input];
  const int band = ref.band.value_or(job.inputs[*input].band);
  if (band == info.band) return {*input, band, info.type, info.nodata};
  if (band > info.band_count || static_cast<size_t>(band) > info.band_types.size())
    fail_at(option_place(step, ref.option), what,
            ref.name + "[" + std::to_string(band) + "]: band " + std::to_string(band) +
                " does not exist in '" + info.path + "' (it has " +
                std::to_string(info.band_count) + ")");
  const auto k = static_cast<size_t>(band - 1);
  return {*input, band, info.band_types[k],
          k < info.band_nodata.size() ? info.band_nodata[k] : std::nullopt};
}

/// The index of `band` in plan.bands, adding it when no step reads it yet.
size_t add_band(Plan& plan, const PlannedBand& band) {
  size_t k = 0;
  while (k < plan.bands.size() &&
         !(plan.bands[k].input == band.input && plan.bands[k].band == band.band))
    ++k;
  if (k == plan.bands.size()) plan.bands.push_back(band);
  return k;
}

/// The earlier step `ref` of `step` names, which must give one band; `slope[1]` is that band,
/// `slope[2]` an error.
size_t resolve_step(const job::StepSpec& step, const ops::BandRef& ref, const Plan& plan) {
  const std::string what = "step '" + step.id + "': option '" + ref.option + "'";
  if (!plan.step_index.contains(ref.name))
    fail_at(option_place(step, ref.option), what,
            "'" + ref.name + "' names no input or earlier step");
  const size_t source = planned(plan, ref.name);
  const int bands = plan.steps[source].impl->output_bands();
  if (bands != 1)
    fail_at(option_place(step, ref.option), what,
            "step '" + ref.name + "' gives " + std::to_string(bands) + " bands; " +
                (ref.option == "expr" ? "an expression" : "an option") +
                " reads steps of one band");
  if (ref.band && *ref.band != 1)
    fail_at(option_place(step, ref.option), what,
            ref.name + "[" + std::to_string(*ref.band) + "]: step '" + ref.name +
                "' gives one band (name it alone or as " + ref.name + "[1])");
  return source;
}

/// Where each band of the step's band_inputs() comes from: input bands (added to plan.bands
/// once each), tile-graph steps' stage files (the same) and other earlier steps.
void plan_band_reads(const job::JobSpec& job, const std::vector<RasterInfo>& inputs,
                     const job::StepSpec& spec, PlannedStep& step, Plan& plan) {
  for (const auto& ref : step.impl->band_inputs()) {
    if (find_input(job, ref.name)) {
      step.bands.push_back(add_band(plan, resolve_band(job, inputs, spec, ref)));
      step.reads.push_back({BandSource::Kind::Input, step.bands.back()});
      continue;
    }
    const size_t source = resolve_step(spec, ref, plan);
    if (is_tile_graph(plan, source)) {
      const size_t input = stage_input(plan, source);
      const RasterInfo& info = plan.inputs[input];
      step.bands.push_back(add_band(plan, {input, info.band, info.type, info.nodata}));
      step.reads.push_back({BandSource::Kind::Input, step.bands.back()});
      add_result(step, source);
      continue;
    }
    step.reads.push_back({BandSource::Kind::Step, source});
    if (std::find(step.sources.begin(), step.sources.end(), source) == step.sources.end())
      step.sources.push_back(source);
  }
}

/// A step of named inputs: every band it reads from band_inputs(); its grid from the first.
void plan_named(const job::JobSpec& job, const std::vector<RasterInfo>& inputs,
                const job::StepSpec& spec, PlannedStep& step, Plan& plan) {
  if (step.impl->band_inputs().empty())
    fail_at(option_place(spec, "expr"), "step '" + spec.id + "': option 'expr'",
            "the expression reads no input (it needs one to give the output's grid)");
  step.named = true;
  plan_band_reads(job, inputs, spec, step, plan);
  step.input = step.bands.empty() ? plan.steps[step.sources.front()].input
                                  : plan.bands[step.bands.front()].input;
}

/// Gives an op of one input whose output depends on its source (Op::for_source) the type and
/// nodata of what it reads: the input's band, or the band of the earlier step it reads.
void bind_source(const job::StepSpec& spec, PlannedStep& step, const Plan& plan) {
  const std::vector<RasterInfo>& inputs = plan.inputs;  // the job's, and stage results' files
  if (spec.in.empty()) return;
  const bool from_step = step.source.has_value();
  ops::SourceBand source;
  source.type = from_step ? plan.steps[*step.source].impl->output_type() : inputs[step.input].type;
  source.nodata =
      from_step ? plan.steps[*step.source].impl->output_nodata() : inputs[step.input].nodata;
  source.size = inputs[step.input].size;
  try {
    if (auto bound = step.impl->for_source(source)) step.impl = std::move(bound);
  } catch (const Error& e) {
    fail_at(spec.in_where, "step '" + spec.id + "': " + e.what());
  }
}

/// Plans the steps in the graph's order, each after the steps it reads.
void plan_steps(const job::JobSpec& job, const std::vector<RasterInfo>& inputs,
                const StepGraph& graph, Plan& plan) {
  std::vector<int64_t> op_halos;
  std::vector<std::vector<size_t>> sources;
  for (size_t index : graph.order) {
    const job::StepSpec& spec = job.steps[index];
    PlannedStep step;
    step.id = spec.id;
    step.op = spec.op;
    step.impl = graph.ops[index];
    if (spec.in.empty()) {  // an op of named inputs (the graph checked it)
      plan_named(job, inputs, spec, step, plan);
    } else if (const auto input = find_input(job, spec.in)) {
      step.input = *input;
      step.cells = step.impl->input_cells(inputs[step.input].type);
    } else {
      link_source(spec, step, plan);
    }
    if (!step.named) plan_band_reads(job, inputs, spec, step, plan);
    bind_source(spec, step, plan);
    op_halos.push_back(step.impl->halo());
    sources.push_back(step.sources);
    plan.step_index.emplace(step.id, plan.steps.size());
    plan.steps.push_back(std::move(step));
  }
  const std::vector<int64_t> halos = path_halos(sources, op_halos);
  for (size_t i = 0; i < plan.steps.size(); ++i) plan.steps[i].halo = halos[i];
  add_margins(plan);
}

/// Throws at the job file's output whose steps run in different passes (a tile-graph step and a
/// step reading its result, say), naming two of them.
void check_outputs_in_one_pass(const job::JobSpec& job, const Plan& plan,
                               const std::vector<Pass>& passes) {
  std::vector<size_t> pass_of(plan.steps.size(), 0);  // the last pass computing each step: its own
  for (size_t p = 0; p < passes.size(); ++p)
    for (size_t s : passes[p].steps) pass_of[s] = p;
  for (size_t o = 0; o < job.outputs.size() && o < plan.outputs.size(); ++o) {
    const std::vector<size_t>& steps = plan.outputs[o].steps;
    for (size_t s : steps)
      if (pass_of[s] != pass_of[steps.front()])
        fail_at(job.outputs[o].from_where,
                "output '" + job.outputs[o].path + "': steps '" + plan.steps[steps.front()].id +
                    "' and '" + plan.steps[s].id +
                    "' are computed in different passes (one reads a tile-graph result the "
                    "other's pass writes); write them to separate outputs");
  }
}

/// The plan's passes, from the pass kind each step's op needs and the reductions of the bands
/// whose statistics steps need (each grouped as a step of its own, detail::pass_nodes).
std::vector<Pass> plan_passes(const job::JobSpec& job, const Plan& plan) {
  const detail::PassNodes nodes = detail::pass_nodes(plan);
  std::vector<std::vector<size_t>> outputs;
  for (const PlannedOutput& output : plan.outputs) outputs.push_back(nodes.of_steps(output.steps));
  try {
    return detail::plan_passes_of(nodes, group_passes(nodes.needs, outputs));
  } catch (const Error&) {
    check_outputs_in_one_pass(job, plan,
                              detail::plan_passes_of(nodes, group_passes(nodes.needs, {})));
    throw;
  }
}

bool nearly_equal(double a, double b) {
  return std::abs(a - b) <= 1e-9 * std::max({1.0, std::abs(a), std::abs(b)});
}

std::string geotransform_text(const RasterInfo& info) {
  if (!info.has_geotransform) return "none";
  std::string out;
  for (double v : info.geotransform) out += (out.empty() ? "" : ", ") + std::to_string(v);
  return "(" + out + ")";
}

/// What differs between two inputs' grids, "; "-separated, or "" when they match.
std::string grid_differences(const RasterInfo& a, const RasterInfo& b) {
  std::string out;
  const auto add = [&out](const std::string& text) { out += (out.empty() ? "" : "; ") + text; };
  if (!(a.size == b.size))
    add("size " + std::to_string(b.size.width) + " x " + std::to_string(b.size.height) + " vs " +
        std::to_string(a.size.width) + " x " + std::to_string(a.size.height));
  bool same_transform = a.has_geotransform == b.has_geotransform;
  for (size_t k = 0; k < 6 && same_transform && a.has_geotransform; ++k)
    same_transform = nearly_equal(a.geotransform[k], b.geotransform[k]);
  if (!same_transform) add("geotransform " + geotransform_text(b) + " vs " + geotransform_text(a));
  if (a.crs_wkt != b.crs_wkt || a.geokeys != b.geokeys) add("crs differs");
  return out;
}

/// The inputs the steps read, each once, in order of first use.
std::vector<size_t> inputs_read(const Plan& plan) {
  std::vector<size_t> used;
  const auto use = [&used](size_t input) {
    if (std::find(used.begin(), used.end(), input) == used.end()) used.push_back(input);
  };
  for (const PlannedStep& step : plan.steps) {
    use(step.input);
    for (size_t band : step.bands) use(plan.bands[band].input);
  }
  return used;
}

/// Every input the steps read must share the first one's size, geotransform and CRS.
void check_same_grid(const job::JobSpec& job, const Plan& plan) {
  const size_t first = plan.steps.front().input;
  for (size_t input : inputs_read(plan)) {
    const std::string differences = grid_differences(plan.inputs[first], plan.inputs[input]);
    if (differences.empty()) continue;
    const job::InputSpec& a = job.inputs[first];
    const job::InputSpec& b = job.inputs[input];
    fail_at(b.where, "input '" + b.name + "' is not on the grid of input '" + a.name + "'" +
                         (a.where.str().empty() ? "" : " (" + a.where.str() + ")") + ": " +
                         differences);
  }
}

}  // namespace

std::vector<int64_t> path_halos(const std::vector<std::vector<size_t>>& sources,
                                const std::vector<int64_t>& op_halos) {
  if (op_halos.size() != sources.size())
    throw Error("plan: " + std::to_string(op_halos.size()) + " halos given for " +
                std::to_string(sources.size()) + " steps");
  std::vector<int64_t> halos(sources.size(), 0);
  for (size_t i = 0; i < sources.size(); ++i) {
    int64_t widest = 0;
    detail::check_reads_earlier(i, sources[i]);
    for (size_t source : sources[i]) widest = std::max(widest, halos[source]);
    halos[i] = op_halos[i] + widest;
  }
  return halos;
}

TileGrid choose_grid(Extent raster, std::optional<int64_t> tile, bool exact) {
  const int64_t side = tile.value_or(default_tile);
  check_tile(side);
  if (exact && tile) return TileGrid(raster, side, side);
  const int64_t width = std::min(side, std::max<int64_t>(16, round_up(raster.width, 16)));
  const int64_t height = std::min(side, std::max<int64_t>(16, round_up(raster.height, 16)));
  return TileGrid(raster, width, height);
}

namespace {

/// The folder of the job's first output ("." for a bare file name; "" for a job without one).
std::string output_folder(const job::JobSpec& job) {
  if (job.outputs.empty()) return {};
  const std::string folder = std::filesystem::path(job.outputs.front().path).parent_path().string();
  return folder.empty() ? "." : folder;
}

/// job.run.scratch, by default the folder of the first output ("." for a bare file name).
std::string scratch_folder(const job::JobSpec& job) {
  if (job.run.scratch) return *job.run.scratch;
  return output_folder(job);
}

/// The output of the job that holds step `step`'s result as a GeoTIFF band (a COG's too), with
/// that band (from 1), if any: the later passes read the result there.
std::optional<std::pair<size_t, int>> output_holding(const Plan& plan, size_t step) {
  for (size_t o = 0; o < plan.outputs.size(); ++o) {
    const PlannedOutput& output = plan.outputs[o];
    const OutputFormat format = output.spec.format;
    if (format != OutputFormat::GeoTiff && format != OutputFormat::Cog) continue;
    int band = 1;
    for (size_t s : output.steps) {
      if (s == step) return std::make_pair(o, band);
      band += plan.steps[s].impl->output_bands();
    }
  }
  return std::nullopt;
}

/// The file name of step `step`'s scratch raster: ".FIRST.STEP.stage.tif" (FIRST the job's first
/// output's file name; shortened as hidden_stem says), the same when a stopped run resumes. In a
/// scratch folder of its own, which other jobs may share (whose first outputs, in other folders,
/// may have the same name), ".FIRST.STEP.HASH.stage.tif", HASH that of the first output's whole
/// path.
std::string stage_name(const job::JobSpec& job, const PlannedStep& step, bool own_folder) {
  const std::filesystem::path first(job.outputs.front().path);
  const std::string stem = hidden_stem(first.filename().string() + "." + step.id);
  if (own_folder) return stem + ".stage.tif";
  return stem + "." + name_hash(std::filesystem::absolute(first).lexically_normal().string()) +
         ".stage.tif";
}

/// A scratch raster for step `step`'s result, in `folder` (`own_folder`: the first output's),
/// named by stage_name(): tiled, ZSTD level 1 with the predictor that fits its type.
PlannedOutput stage_output(const job::JobSpec& job, const Plan& plan, size_t step,
                           const std::string& folder, bool own_folder) {
  const PlannedStep& from = plan.steps[step];
  job::OutputFileSpec file;
  file.from = {from.id};
  file.path = (std::filesystem::path(folder) / stage_name(job, from, own_folder)).string();
  const bool floating = from.impl->output_type() == PixelType::Float32 ||
                        from.impl->output_type() == PixelType::Float64;
  file.creation_options = {"COMPRESS=ZSTD", "ZSTD_LEVEL=1",
                           floating ? "PREDICTOR=3" : "PREDICTOR=2"};
  PlannedOutput output = detail::plan_output(plan, file);
  output.scratch = true;
  return output;
}

/// Chooses the file of each stage result: the job's output that holds it, else a scratch raster
/// (in the scratch folder, or the first output's when there is none) that the step's pass writes.
void place_stages(const job::JobSpec& job, Plan& plan) {
  const bool own_folder = !job.run.scratch || job.run.scratch->empty();
  const std::string folder = own_folder ? output_folder(job) : plan.scratch;
  for (StageResult& stage : plan.stages) {
    RasterInfo& info = plan.inputs[stage.input];
    info.block_width = plan.grid.tile_width();
    info.block_height = plan.grid.tile_height();
    if (const auto held = output_holding(plan, stage.step)) {
      stage.output = held->first;
      const OutputSpec& spec = plan.outputs[stage.output].spec;
      info.path = spec.path;
      info.band = held->second;
      info.band_count = spec.bands;
      info.band_types.assign(static_cast<size_t>(spec.bands), spec.type);
      info.band_nodata.assign(static_cast<size_t>(spec.bands), spec.nodata);
    } else {
      stage.output = plan.outputs.size();
      plan.outputs.push_back(stage_output(job, plan, stage.step, folder, own_folder));
      info.path = plan.outputs.back().spec.path;
    }
    for (PlannedBand& band : plan.bands)
      if (band.input == stage.input) band.band = info.band;
    for (ReducedBand& band : plan.reduced)
      if (band.kind == BandSource::Kind::Input && band.index == stage.input) band.band = info.band;
  }
}

}  // namespace

bool Plan::is_stage_input(size_t input) const {
  return std::any_of(stages.begin(), stages.end(),
                     [&](const StageResult& stage) { return stage.input == input; });
}

namespace {

/// The tile-graph ops number a tile's cells, with the ring of two cells they read around it, in
/// 32 bits (flowacc's and watershed's walks in signed ones): a larger tile is refused before any
/// work, naming the first step that could not take it (its cells' numbers would wrap).
void check_tile_graph_tiles(const job::JobSpec& job, const Plan& plan) {
  const int64_t width = plan.grid.tile_width();
  const int64_t height = plan.grid.tile_height();
  const int64_t perimeter = ops::perimeter_cells(plan.grid);
  for (size_t s = 0; s < plan.steps.size(); ++s) {
    if (!detail::is_tile_graph(plan, s)) continue;
    const PlannedStep& step = plan.steps[s];
    if ((width + 4) * (height + 4) > std::numeric_limits<int32_t>::max())
      fail_at(job.run.tile_where, "run: tile",
              "tiles of " + std::to_string(width) + " x " + std::to_string(height) +
                  " cells are more than step '" + step.id + "' (" + step.op +
                  ") numbers; a tile-graph step takes tiles of at most 46336 x 46336 cells");
    const bool numbers_perimeter =
        step.op == "fill" || step.op == "flowdir" || step.op == "fill_epsilon";
    if (numbers_perimeter && perimeter > ops::kMostNumberedPerimeterCells)
      fail_at(job.run.tile_where, "run: tile",
              "the tile graph of step '" + step.id + "' (" + step.op + ") would have " +
                  std::to_string(perimeter) + " perimeter cells, more than its global solve " +
                  "numbers (" + std::to_string(ops::kMostNumberedPerimeterCells) +
                  "); use larger tiles");
  }
}

/// Whether an output names its block size (BLOCKSIZE, BLOCKXSIZE or BLOCKYSIZE, from a job's
/// `co` or the command line's -co, which set the tile too): the tile is then that block, not
/// clamped to a smaller raster (the two must agree: plan_output).
bool asks_block_size(const job::JobSpec& job) {
  for (const auto& output : job.outputs)
    for (const std::string& item : output.creation_options) {
      std::string name = item.substr(0, item.find('='));
      for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (name == "BLOCKSIZE" || name == "BLOCKXSIZE" || name == "BLOCKYSIZE") return true;
    }
  return false;
}

}  // namespace

Plan make_plan(const job::JobSpec& written, const std::vector<RasterInfo>& inputs) {
  if (inputs.size() != written.inputs.size())
    throw Error("plan: " + std::to_string(inputs.size()) + " input rasters given for a job with " +
                std::to_string(written.inputs.size()) + " inputs");
  const job::JobSpec job = detail::planned_steps(written);
  const StepGraph graph = detail::check_planned_job(job);
  check_bands(job, inputs);
  Plan plan;
  plan.inputs = inputs;
  plan.input_names = detail::input_names(job);
  plan_steps(job, inputs, graph, plan);
  for (const PlannedStep& step : plan.steps) plan.halo = std::max(plan.halo, step.halo);
  check_same_grid(job, plan);
  plan.grid =
      choose_grid(inputs[plan.steps.front().input].size, job.run.tile, asks_block_size(job));
  check_tile_graph_tiles(job, plan);
  for (const auto& output : job.outputs) plan.outputs.push_back(detail::plan_output(plan, output));
  detail::plan_statistics(job, plan);
  plan.scratch = scratch_folder(job);
  place_stages(job, plan);
  plan.passes = plan_passes(job, plan);
  return plan;
}

}  // namespace tessera::plan
