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

std::shared_ptr<const ops::Op> build_op(const job::StepSpec& step) {
  const std::string what = "step '" + step.id + "'";
  try {
    return ops::make_op(step.op, step.options);
  } catch (const ops::OptionError& e) {
    const auto where = step.option_where.find(e.key());
    fail_at(where != step.option_where.end() ? where->second : step.where, what + ": " + e.what());
  } catch (const Error& e) {
    fail_at(step.where, what + ": " + e.what());
  }
}

/// The input a step reads; chained steps are refused until the executor can run chains.
size_t step_input(const job::JobSpec& job, size_t index) {
  const job::StepSpec& step = job.steps[index];
  if (const auto input = find_input(job, step.in)) return *input;
  const std::string what = "step '" + step.id + "': in";
  if (find_step(job, step.in, index))
    fail_at(step.in_where, what + ": expected an input's name, found step '" + step.in +
                               "' (chaining steps comes later)");
  fail_at(step.in_where, what + ": '" + step.in + "' names no input");
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

std::vector<PlannedStep> plan_steps(const job::JobSpec& job,
                                    const std::vector<RasterInfo>& inputs) {
  std::vector<PlannedStep> steps;
  std::vector<int64_t> op_halos;
  for (size_t i = 0; i < job.steps.size(); ++i) {
    PlannedStep step{job.steps[i].id, job.steps[i].op, build_op(job.steps[i]), step_input(job, i)};
    step.cells = step.impl->input_cells(inputs[step.input].type);
    op_halos.push_back(step.impl->halo());
    steps.push_back(std::move(step));
  }
  const std::vector<int64_t> halos = path_halos(job, op_halos);
  for (size_t i = 0; i < steps.size(); ++i) steps[i].halo = halos[i];
  return steps;
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
  if (a.crs_wkt != b.crs_wkt) add("crs differs");
  return out;
}

/// Every input a step reads must share the first one's size, geotransform and CRS.
void check_same_grid(const job::JobSpec& job, const Plan& plan) {
  const size_t first = plan.steps.front().input;
  for (const PlannedStep& step : plan.steps) {
    const std::string differences = grid_differences(plan.inputs[first], plan.inputs[step.input]);
    if (differences.empty()) continue;
    const job::InputSpec& a = job.inputs[first];
    const job::InputSpec& b = job.inputs[step.input];
    fail_at(b.where, "input '" + b.name + "' is not on the grid of input '" + a.name + "'" +
                         (a.where.str().empty() ? "" : " (" + a.where.str() + ")") + ": " +
                         differences);
  }
}

}  // namespace

std::vector<int64_t> path_halos(const job::JobSpec& job, const std::vector<int64_t>& op_halos) {
  if (op_halos.size() != job.steps.size())
    throw Error("plan: " + std::to_string(op_halos.size()) + " halos given for " +
                std::to_string(job.steps.size()) + " steps");
  std::vector<int64_t> halos(job.steps.size(), 0);
  for (size_t i = 0; i < job.steps.size(); ++i) {
    const job::StepSpec& step = job.steps[i];
    halos[i] = op_halos[i];
    if (find_input(job, step.in)) continue;
    const auto source = find_step(job, step.in, i);
    if (!source)
      fail_at(step.in_where,
              "step '" + step.id + "': in: '" + step.in + "' names no input or earlier step");
    halos[i] += halos[*source];
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
  plan.steps = plan_steps(job, inputs);
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
