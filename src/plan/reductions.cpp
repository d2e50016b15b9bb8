// The statistics steps need of whole bands: which bands the reduction pass reduces, and the pass
// itself, put before the streaming pass that reads its results.
#include <algorithm>
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

/// Where a statistic's band comes from: the step's own `in` when the ref names none.
ReducedBand band_of(const job::JobSpec& job, const Plan& plan, const PlannedStep& step,
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

/// Whether each step needs statistics, itself or through a step it reads.
std::vector<bool> needing(const Plan& plan) {
  std::vector<bool> needs(plan.steps.size(), false);
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    needs[i] = !plan.steps[i].impl->statistics().empty();
    for (size_t source : plan.steps[i].sources) needs[i] = needs[i] || needs[source];
  }
  return needs;
}

/// Whether each step is a tile-graph step or reads one's result, itself or through a step it
/// reads: its statistics would need a reduction pass after that step's pass.
std::vector<bool> after_tile_graph(const Plan& plan) {
  std::vector<bool> after(plan.steps.size(), false);
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    after[i] =
        plan.steps[i].impl->pass_kind() == PassKind::TileGraph || !plan.steps[i].results.empty();
    for (size_t source : plan.steps[i].sources) after[i] = after[i] || after[source];
  }
  return after;
}

/// `step` and every step it reads, and theirs, into `out`.
void add_with_sources(const Plan& plan, size_t step, std::vector<size_t>& out) {
  std::vector<size_t> todo{step};
  while (!todo.empty()) {
    const size_t next = todo.back();
    todo.pop_back();
    if (std::find(out.begin(), out.end(), next) != out.end()) continue;
    out.push_back(next);
    for (size_t source : plan.steps[next].sources) todo.push_back(source);
  }
}

}  // namespace

void plan_statistics(const job::JobSpec& job, Plan& plan) {
  const std::vector<bool> needs = needing(plan);
  const std::vector<bool> after = after_tile_graph(plan);
  for (PlannedStep& step : plan.steps) {
    const auto refs = step.impl->statistics();
    if (refs.empty()) continue;
    const job::StepSpec& spec = spec_of(job, step.id);
    for (const ops::StatisticRef& ref : refs) {
      ReducedBand band = band_of(job, plan, step, spec, ref);
      if (band.kind == BandSource::Kind::Step && needs[band.index])
        fail_at(ref.name.empty() ? spec.in_where : option_place(spec, "expr"),
                "step '" + step.id + "': statistics of step '" + band.label +
                    "', which needs statistics itself, would need a second reduction pass "
                    "(tessera plans one)");
      if (band.kind == BandSource::Kind::Step && after[band.index])
        fail_at(ref.name.empty() ? spec.in_where : option_place(spec, "expr"),
                "step '" + step.id + "': statistics of step '" + band.label +
                    "', which is or reads a tile-graph result, would need a reduction pass after "
                    "that tile-graph pass (tessera plans one, before the others): write it to a "
                    "file and take its statistics in a second job");
      step.statistics.push_back(add_reduced(plan, std::move(band), ref));
    }
  }
}

void add_reduction_pass(Plan& plan) {
  if (plan.reduced.empty()) return;
  Pass reduction;
  reduction.kind = PassKind::Reduction;
  reduction.phases = phases_of(PassKind::Reduction);
  for (const ReducedBand& band : plan.reduced)
    if (band.kind == BandSource::Kind::Step) add_with_sources(plan, band.index, reduction.steps);
  std::sort(reduction.steps.begin(), reduction.steps.end());
  for (Pass& pass : plan.passes) {
    for (size_t& r : pass.reads_passes) ++r;
    const bool reads = std::any_of(pass.steps.begin(), pass.steps.end(),
                                   [&](size_t s) { return !plan.steps[s].statistics.empty(); });
    if (reads) pass.reads_passes.insert(pass.reads_passes.begin(), 0);
  }
  plan.passes.insert(plan.passes.begin(), std::move(reduction));
}

}  // namespace tessera::plan::detail
