// Turns a checked JobSpec and its inputs' metadata into a Plan: ops, halos, tile grid, outputs.
#include "tessera/plan/plan.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "plan_detail.hpp"
#include "tessera/core/error.hpp"

namespace tessera::plan {

namespace detail {

void fail_at(const job::Position& where, const std::string& message) {
  const std::string place = where.str();
  throw Error(place.empty() ? message : place + ": " + message);
}

}  // namespace detail

namespace {

using detail::fail_at;

std::optional<size_t> find_input(const job::JobSpec& job, const std::string& name) {
  for (size_t i = 0; i < job.inputs.size(); ++i)
    if (job.inputs[i].name == name) return i;
  return std::nullopt;
}

/// The index of the step named `id` among the first `before` steps.
std::optional<size_t> find_step(const job::JobSpec& job, const std::string& id, size_t before) {
  for (size_t i = 0; i < std::min(before, job.steps.size()); ++i)
    if (job.steps[i].id == id) return i;
  return std::nullopt;
}

int64_t round_up(int64_t value, int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

std::vector<std::string> input_names(const job::JobSpec& job) {
  std::vector<std::string> names;
  for (const auto& input : job.inputs) names.push_back(input.name);
  return names;
}

/// Every step id but `id`: the steps an expression of step `id` may name.
std::vector<std::string> other_step_ids(const job::JobSpec& job, const std::string& id) {
  std::vector<std::string> ids;
  for (const auto& step : job.steps)
    if (step.id != id) ids.push_back(step.id);
  return ids;
}

std::shared_ptr<const ops::Op> build_op(const job::JobSpec& job, const job::StepSpec& step) {
  const std::string what = "step '" + step.id + "'";
  try {
    return ops::make_op(step.op, step.options, input_names(job), other_step_ids(job, step.id));
  } catch (const ops::OptionError& e) {
    const auto where = step.option_where.find(e.key());
    fail_at(where != step.option_where.end() ? where->second : step.where, what + ": " + e.what());
  } catch (const Error& e) {
    fail_at(step.where, what + ": " + e.what());
  }
}

/// The input a step reads, or nullopt when its `in` names an earlier step.
std::optional<size_t> step_input(const job::JobSpec& job, size_t index) {
  const job::StepSpec& step = job.steps[index];
  if (const auto input = find_input(job, step.in)) return *input;
  if (find_step(job, step.in, index)) return std::nullopt;
  fail_at(step.in_where, "step '" + step.id + "': in: '" + step.in +
                             "' names no input or step that comes before it");
}

/// Links `step` to the earlier step it reads, which must give one band of Byte or Float32
/// cells (what ops of one input read).
void link_source(const job::JobSpec& job, size_t index, PlannedStep& step, const Plan& plan) {
  const job::StepSpec& spec = job.steps[index];
  const size_t source = *find_step(job, spec.in, index);
  const PlannedStep& from = plan.steps[source];
  const PixelType type = from.impl->output_type();
  const std::string what = "step '" + spec.id + "': in: step '" + spec.in + "'";
  if (from.impl->output_bands() != 1 || (type != PixelType::Byte && type != PixelType::Float32))
    fail_at(spec.in_where, what + " gives " + std::to_string(from.impl->output_bands()) +
                               " band(s) of " + std::string(name_of(type)) +
                               "; a step reads one band of Byte or Float32");
  step.source = source;
  step.sources = {source};
  step.input = from.input;
  step.cells = step.impl->input_cells(type);
  if (type == PixelType::Float32 && step.cells == ops::CellType::Int32)
    fail_at(spec.in_where, what + " gives Float32 but " + spec.op + " reads integers");
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

/// Where a step's option `key` is written, or the step's own place.
const job::Position& option_place(const job::StepSpec& step, const std::string& key) {
  const auto where = step.option_where.find(key);
  return where != step.option_where.end() ? where->second : step.where;
}

/// The band `ref` of a step names, with its type and nodata; throws at the step's expr when the
/// input or the band does not exist.
PlannedBand resolve_band(const job::JobSpec& job, const std::vector<RasterInfo>& inputs,
                         const job::StepSpec& step, const ops::BandRef& ref) {
  const std::string what = "step '" + step.id + "': expr: ";
  const auto input = find_input(job, ref.name);
  if (!input) fail_at(option_place(step, "expr"), what + "'" + ref.name + "' names no input");
  const RasterInfo& info = inputs[*input];
  const int band = ref.band.value_or(job.inputs[*input].band);
  if (band == info.band) return {*input, band, info.type, info.nodata};
  if (band > info.band_count || static_cast<size_t>(band) > info.band_types.size())
    fail_at(option_place(step, "expr"), what + ref.name + "[" + std::to_string(band) + "]: band " +
                                            std::to_string(band) + " does not exist in '" +
                                            info.path + "' (it has " +
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

/// The earlier step `ref` of step `index` names, which must give one band; `slope[1]` is that
/// band, `slope[2]` an error.
size_t resolve_step(const job::JobSpec& job, size_t index, const ops::BandRef& ref,
                    const Plan& plan) {
  const job::StepSpec& step = job.steps[index];
  const std::string what = "step '" + step.id + "': expr: ";
  const auto source = find_step(job, ref.name, index);
  if (!source)
    fail_at(option_place(step, "expr"),
            what + "'" + ref.name + "' names no input or step that comes before it");
  const int bands = plan.steps[*source].impl->output_bands();
  if (bands != 1)
    fail_at(option_place(step, "expr"), what + "step '" + ref.name + "' gives " +
                                            std::to_string(bands) +
                                            " bands; an expression reads steps of one band");
  if (ref.band && *ref.band != 1)
    fail_at(option_place(step, "expr"),
            what + ref.name + "[" + std::to_string(*ref.band) + "]: step '" + ref.name +
                "' gives one band (name it alone or as " + ref.name + "[1])");
  return *source;
}

/// Where each band a step of named inputs reads comes from: input bands (added to plan.bands
/// once each) and earlier steps.
void plan_named(const job::JobSpec& job, const std::vector<RasterInfo>& inputs, size_t index,
                PlannedStep& step, Plan& plan) {
  const job::StepSpec& spec = job.steps[index];
  const auto refs = step.impl->band_inputs();
  if (refs.empty())
    fail_at(option_place(spec, "expr"),
            "step '" + spec.id + "': expr reads no input (it needs one to give the output's grid)");
  for (const auto& ref : refs) {
    if (find_input(job, ref.name)) {
      step.bands.push_back(add_band(plan, resolve_band(job, inputs, spec, ref)));
      step.reads.push_back({BandSource::Kind::Input, step.bands.back()});
      continue;
    }
    const size_t source = resolve_step(job, index, ref, plan);
    step.reads.push_back({BandSource::Kind::Step, source});
    if (std::find(step.sources.begin(), step.sources.end(), source) == step.sources.end())
      step.sources.push_back(source);
  }
  step.input = step.bands.empty() ? plan.steps[step.sources.front()].input
                                  : plan.bands[step.bands.front()].input;
}

bool reads_named_inputs(const std::string& op) {
  const ops::OpEntry* entry = ops::find_op(op);
  return entry != nullptr && entry->make_named != nullptr;
}

void plan_steps(const job::JobSpec& job, const std::vector<RasterInfo>& inputs, Plan& plan) {
  std::vector<int64_t> op_halos;
  std::vector<std::vector<size_t>> sources;
  for (size_t i = 0; i < job.steps.size(); ++i) {
    PlannedStep step;
    step.id = job.steps[i].id;
    step.op = job.steps[i].op;
    step.impl = build_op(job, job.steps[i]);
    if (reads_named_inputs(step.op)) {
      plan_named(job, inputs, i, step, plan);
    } else if (const auto input = step_input(job, i)) {
      step.input = *input;
      step.cells = step.impl->input_cells(inputs[step.input].type);
    } else {
      link_source(job, i, step, plan);
    }
    op_halos.push_back(step.impl->halo());
    sources.push_back(step.sources);
    plan.steps.push_back(std::move(step));
  }
  const std::vector<int64_t> halos = path_halos(sources, op_halos);
  for (size_t i = 0; i < plan.steps.size(); ++i) plan.steps[i].halo = halos[i];
  add_margins(plan);
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
    for (size_t source : sources[i]) {
      if (source >= i)
        throw Error("plan: step " + std::to_string(i + 1) + " reads step " +
                    std::to_string(source + 1) + ", which does not come before it");
      widest = std::max(widest, halos[source]);
    }
    halos[i] = op_halos[i] + widest;
  }
  return halos;
}

TileGrid choose_grid(Extent raster, std::optional<int64_t> tile) {
  const int64_t side = tile.value_or(default_tile);
  if (side < 16 || side % 16 != 0)
    throw Error("run: tile: expected a positive multiple of 16, found " + std::to_string(side));
  const int64_t width = std::min(side, std::max<int64_t>(16, round_up(raster.width, 16)));
  const int64_t height = std::min(side, std::max<int64_t>(16, round_up(raster.height, 16)));
  return TileGrid(raster, width, height);
}

Plan make_plan(const job::JobSpec& job, const std::vector<RasterInfo>& inputs) {
  if (inputs.size() != job.inputs.size())
    throw Error("plan: " + std::to_string(inputs.size()) + " input rasters given for a job with " +
                std::to_string(job.inputs.size()) + " inputs");
  if (job.steps.empty()) fail_at({job.file, 1, 1}, "job has no [[step]] (expected at least one)");
  check_bands(job, inputs);
  Plan plan;
  plan.inputs = inputs;
  for (const auto& input : job.inputs) plan.input_names.push_back(input.name);
  plan_steps(job, inputs, plan);
  for (const PlannedStep& step : plan.steps) plan.halo = std::max(plan.halo, step.halo);
  check_same_grid(job, plan);
  try {
    plan.grid = choose_grid(inputs[plan.steps.front().input].size, job.run.tile);
  } catch (const Error& e) {
    fail_at(job.run.where, e.what());
  }
  for (const auto& output : job.outputs) plan.outputs.push_back(detail::plan_output(plan, output));
  return plan;
}

}  // namespace tessera::plan
