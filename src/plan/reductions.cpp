// The statistics steps need of whole bands: which bands reduction passes reduce, and where each
// reduction goes among the passes (a step of its own for group_passes).
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "plan_detail.hpp"
#include "tessera/core/error.hpp"

namespace tessera::plan::detail {

namespace {

using job::fail_at;

const job::StepSpec& spec_of(const job::JobSpec& job, const std::string& id) {
  for (const job::StepSpec& spec : job.steps)
    if (spec.id == id) return spec;
  throw Error("internal error: no step '" + id + "' in the job");
}

/// Where a statistic's band comes from: the step's own `in` when the ref names none. A
/// tile-graph step's result is the input its stage file is (added when no step reads it yet).
ReducedBand band_of(const job::JobSpec& job, Plan& plan, const PlannedStep& step,
                    const job::StepSpec& spec, const ops::StatisticRef& ref) {
  const std::string name = ref.name.empty() ? spec.in : ref.name;
  const job::Position& where = ref.name.empty() ? spec.in_where : option_place(spec, "expr");
  const std::string what = "step '" + step.id + "': ";
  if (const auto input = find_input(job, name)) {
    const RasterInfo& info = plan.inputs[*input];
    const int band = ref.band.value_or(job.inputs[*input].band);
    ReducedBand b{BandSource::Kind::Input, *input, band, info.type, info.nodata, {}, name};
    if (band == info.band) return b;
    if (band > info.band_count || static_cast<size_t>(band) > info.band_types.size())
      fail_at(where, what + name + "[" + std::to_string(band) + "]: band " + std::to_string(band) +
                         " does not exist in '" + info.path + "' (it has " +
                         std::to_string(info.band_count) + ")");
    const auto k = static_cast<size_t>(band - 1);
    b.type = info.band_types[k];
    b.nodata = k < info.band_nodata.size() ? info.band_nodata[k] : std::nullopt;
    b.label = name + "[" + std::to_string(band) + "]";
    return b;
  }
  const auto found = plan.step_index.find(name);
  if (found == plan.step_index.end())
    fail_at(where, what + "'" + name + "' names no input or earlier step");
  const PlannedStep& source = plan.steps[found->second];
  if (source.impl->output_bands() != 1 || (ref.band && *ref.band != 1))
    fail_at(where, what + "statistics of step '" + name + "' take its one band");
  if (is_tile_graph(plan, found->second)) {
    const size_t input = stage_input(plan, found->second);
    const RasterInfo& info = plan.inputs[input];
    return {BandSource::Kind::Input, input, info.band, info.type, info.nodata, {}, name};
  }
  return {BandSource::Kind::Step,
          found->second,
          1,
          source.impl->output_type(),
          source.impl->output_nodata(),
          {},
          name};
}

/// The index in plan.reduced of `band`, added when new; its percentile added when asked.
size_t add_reduced(Plan& plan, ReducedBand band, const ops::StatisticRef& ref) {
  size_t k = 0;
  while (k < plan.reduced.size() &&
         !(plan.reduced[k].kind == band.kind && plan.reduced[k].index == band.index &&
           plan.reduced[k].band == band.band))
    ++k;
  if (k == plan.reduced.size()) plan.reduced.push_back(std::move(band));
  auto& ps = plan.reduced[k].percentiles;
  if (ref.kind == ops::StatisticRef::Kind::Percentile &&
      std::find(ps.begin(), ps.end(), ref.percentile) == ps.end()) {
    ps.push_back(ref.percentile);
    std::sort(ps.begin(), ps.end());
  }
  return k;
}

}  // namespace

void plan_statistics(const job::JobSpec& job, Plan& plan) {
  for (PlannedStep& step : plan.steps) {
    const auto refs = step.impl->statistics();
    if (refs.empty()) continue;
    const job::StepSpec& spec = spec_of(job, step.id);
    for (const ops::StatisticRef& ref : refs)
      step.statistics.push_back(add_reduced(plan, band_of(job, plan, step, spec, ref), ref));
  }
}

namespace {

/// The step whose result reduced band `band` needs first: the step it computes, or the
/// tile-graph step whose stage file it reads; none for a band of the job's inputs.
std::optional<size_t> reduced_after(const Plan& plan, const ReducedBand& band) {
  if (band.kind == BandSource::Kind::Step) return band.index;
  for (const StageResult& stage : plan.stages)
    if (stage.input == band.index) return stage.step;
  return std::nullopt;
}

constexpr size_t kNone = SIZE_MAX;

/// Adds the node of reduced band `k` unless it is there: a reduction reading the node of the step
/// it needs first (reduced_after).
void add_reduction_node(const Plan& plan, size_t k, PassNodes& nodes) {
  if (nodes.of_reduced[k] != kNone) return;
  StepNeeds needs{PassKind::Reduction, {}};
  if (const auto after = reduced_after(plan, plan.reduced[k])) {
    if (nodes.of_step[*after] == kNone)
      throw Error("internal error: a reduction of step '" + plan.steps[*after].id +
                  "' needed before it");
    needs.sources.push_back(nodes.of_step[*after]);
  }
  nodes.of_reduced[k] = nodes.needs.size();
  nodes.needs.push_back(std::move(needs));
  nodes.step.push_back(kNone);
  nodes.reduced.push_back(k);
}

/// What `of` (PassNodes::step or ::reduced) gives for each of `nodes`, in order, leaving out the
/// nodes it gives none for.
std::vector<size_t> own_indices(const std::vector<size_t>& nodes, const std::vector<size_t>& of) {
  std::vector<size_t> out;
  for (size_t node : nodes)
    if (of[node] != kNone) out.push_back(of[node]);
  return out;
}

}  // namespace

PassNodes pass_nodes(const Plan& plan) {
  PassNodes nodes;
  nodes.of_step.assign(plan.steps.size(), kNone);
  nodes.of_reduced.assign(plan.reduced.size(), kNone);
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const PlannedStep& step = plan.steps[i];
    for (size_t k : step.statistics) add_reduction_node(plan, k, nodes);
    StepNeeds needs{step.impl->pass_kind(), {}};
    for (size_t source : step.sources) needs.sources.push_back(nodes.of_step.at(source));
    for (size_t result : step.results) needs.sources.push_back(nodes.of_step.at(result));
    for (size_t k : step.statistics) needs.sources.push_back(nodes.of_reduced[k]);
    nodes.of_step[i] = nodes.needs.size();
    nodes.needs.push_back(std::move(needs));
    nodes.step.push_back(i);
    nodes.reduced.push_back(kNone);
  }
  return nodes;
}

std::vector<size_t> PassNodes::of_steps(const std::vector<size_t>& steps) const {
  std::vector<size_t> out;
  for (size_t s : steps) out.push_back(of_step.at(s));
  return out;
}

std::vector<Pass> plan_passes_of(const PassNodes& nodes, std::vector<Pass> passes) {
  for (Pass& pass : passes) {
    pass.reduced = own_indices(pass.steps, nodes.reduced);
    pass.steps = own_indices(pass.steps, nodes.step);
  }
  return passes;
}

}  // namespace tessera::plan::detail
