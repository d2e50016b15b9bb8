// The one owner of the step graph: names, ops and their options, edges, order and cycles.
#include "tessera/plan/step_graph.hpp"

#include <algorithm>
#include <functional>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>

#include "plan_detail.hpp"
#include "tessera/core/error.hpp"

namespace tessera::plan {

std::string detail::known_op_names() {
  std::string out;
  for (const auto& entry : ops::registry())
    if (!entry.internal) out += (out.empty() ? "" : ", ") + std::string(entry.name);
  return out;
}

namespace {

using detail::step_ids;
using job::fail_at;
using job::Position;

/// An edge of the step graph: a step reads step `step`, as written at `where` (its `in`, or the
/// name in its expr).
struct StepRead {
  size_t step = 0;
  Position where;
  std::string field;  ///< "in" or "expr"
};

/// The index of each step id, and what the steps' exprs may name: built once per job, so that
/// looking a name up does not take the time of the whole job.
struct JobNames {
  std::unordered_map<std::string, size_t> steps;
  std::unordered_map<std::string, size_t> inputs;
  expr::NameScope scope;
};

std::optional<size_t> find(const std::unordered_map<std::string, size_t>& index,
                           const std::string& name) {
  const auto it = index.find(name);
  return it == index.end() ? std::nullopt : std::optional<size_t>(it->second);
}

/// A step id names files (stage rasters, kept tiles) and HDF5 datasets: a '/' would make it a
/// path, "." and ".." name folders and groups.
void check_id_names(const job::StepSpec& step) {
  if (step.id.find('/') != std::string::npos)
    fail_at(step.id_where, "step '" + step.id +
                               "': id: a '/' cannot be in an id (ids name HDF5 datasets and "
                               "scratch files)");
  if (step.id == "." || step.id == "..")
    fail_at(step.id_where, "step '" + step.id + "': id: '" + step.id +
                               "' names a folder; ids name HDF5 datasets and scratch files");
}

/// Step ids are unique, are not input names, and can name a file.
JobNames check_ids(const job::JobSpec& job) {
  if (job.steps.empty()) fail_at({job.file, 1, 1}, "job has no [[step]] (expected at least one)");
  JobNames names{{}, {}, expr::NameScope(detail::input_names(job), step_ids(job))};
  for (size_t i = 0; i < job.inputs.size(); ++i) names.inputs.emplace(job.inputs[i].name, i);
  for (size_t i = 0; i < job.steps.size(); ++i) {
    const job::StepSpec& step = job.steps[i];
    const size_t first = names.steps.emplace(step.id, i).first->second;
    const std::string first_at = job.steps[first].where.str();
    if (first != i)
      fail_at(step.id_where, "duplicate step id '" + step.id + "'" +
                                 (first_at.empty() ? "" : " (first at " + first_at + ")"));
    if (names.inputs.contains(step.id))
      fail_at(step.id_where, "step '" + step.id + "': id is also an input's name");
    check_id_names(step);
  }
  return names;
}

/// An op of named inputs (calc) has no `in`; an op of one input has one naming an input or a step.
void check_in(const job::JobSpec& job, const JobNames& names, const job::StepSpec& step,
              const ops::OpEntry& entry) {
  const std::string what = "step '" + step.id + "'";
  if (entry.make_named != nullptr) {
    if (!step.in.empty())
      fail_at(step.in_where,
              what + ": in: " + step.op + " reads the inputs its expr names; remove in");
    return;
  }
  if (step.in.empty()) fail_at(step.where, what + ": missing key 'in'");
  if (names.inputs.contains(step.in) || names.steps.contains(step.in)) return;
  fail_at(step.in_where, what + ": in: '" + step.in + "' names no input or step (inputs: " +
                             detail::names_or_none(detail::input_names(job)) +
                             "; steps: " + detail::names_or_none(step_ids(job)) + ")");
}

/// The place of character `column` (from 1) of option `key`'s one-line string value, after its
/// opening quote; the option's key (or the step) when its value is not a string.
Position option_place(const job::StepSpec& step, const std::string& key, int column) {
  const auto value = step.option_value_where.find(key);
  const auto option = step.options.find(key);
  const bool text =
      option != step.options.end() && std::holds_alternative<std::string>(option->second);
  if (column <= 0 || !text || value == step.option_value_where.end())
    return detail::option_place(step, key);
  Position where = value->second;
  where.column += column;
  return where;
}

/// Throws ops::OptionError on 'nodata' unless the op's output type holds its nodata: a Byte
/// output with nodata 2.5 (or 300) would store its nodata cells as 3 (or 255), valid data under
/// a header that says 2.5. gdal_calc.py writes such files; GDAL's own tools round or clamp.
void check_nodata_fits(const ops::Op& op) {
  const std::optional<double> nodata = op.output_nodata();
  if (!nodata) return;
  const std::string misfit = nodata_misfit(op.output_type(), *nodata);
  if (!misfit.empty()) throw ops::OptionError("nodata", "option 'nodata': " + misfit);
}

/// The step's op, built from its options, which it checks (a calc expr against the names it may
/// read; its nodata against its output type); an option error points at its key, or inside its
/// text.
std::shared_ptr<const ops::Op> build_op(const job::JobSpec& job, const JobNames& names,
                                        const job::StepSpec& step) {
  const std::string what = "step '" + step.id + "'";
  if (ops::find_op(step.op) == nullptr)
    fail_at(step.op_where, what + ": unknown op '" + step.op +
                               "' (expected one of: " + detail::known_op_names() + ")");
  check_in(job, names, step, *ops::find_op(step.op));
  try {
    auto op = ops::make_op(step.op, step.options, names.scope.without(step.id));
    check_nodata_fits(*op);
    return op;
  } catch (const ops::OptionError& e) {
    const Position where = option_place(step, e.key(), e.column());
    fail_at(where, what, where.flag ? e.detail() : e.what());
  } catch (const Error& e) {
    fail_at(step.where, what, e.what());
  }
}

/// The steps `step` reads: its `in`, or the step ids its expr names, cells or statistics
/// (`max(acc)` reads acc's whole band before the step runs).
std::vector<StepRead> steps_read(const JobNames& names, const job::StepSpec& step,
                                 const ops::Op& op) {
  std::vector<StepRead> reads;
  if (const auto source = find(names.steps, step.in))
    reads.push_back({*source, step.in_where, "in"});
  for (const ops::BandRef& ref : op.band_inputs())
    if (const auto source = find(names.steps, ref.name))
      reads.push_back({*source, option_place(step, ref.option, ref.column), ref.option});
  for (const ops::StatisticRef& ref : op.statistics())
    if (const auto source = find(names.steps, ref.name))
      reads.push_back({*source, option_place(step, "expr", ref.column), "expr"});
  return reads;
}

/// Reports a cycle among the steps not placed: "step 'a': expr: steps read each other in a
/// cycle: a -> b -> a", at the read that leaves the cycle's first step in file order.
[[noreturn]] void fail_cycle(const job::JobSpec& job,
                             const std::vector<std::vector<StepRead>>& reads,
                             const std::vector<bool>& placed) {
  // Every unplaced step reads an unplaced step: walking those reads must come back somewhere.
  std::vector<size_t> path{
      static_cast<size_t>(std::find(placed.begin(), placed.end(), false) - placed.begin())};
  const auto unplaced_read = [&](size_t i) -> const StepRead& {
    return *std::find_if(reads[i].begin(), reads[i].end(),
                         [&](const StepRead& r) { return !placed[r.step]; });
  };
  std::vector<bool> on_path(placed.size(), false);
  while (!on_path[path.back()]) {
    on_path[path.back()] = true;
    path.push_back(unplaced_read(path.back()).step);
  }
  std::vector<size_t> cycle(std::find(path.begin(), path.end(), path.back()), path.end() - 1);
  std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
  std::string text;
  for (size_t i : cycle) text += job.steps[i].id + " -> ";
  const std::string& first_id = job.steps[cycle.front()].id;
  const StepRead& first = unplaced_read(cycle.front());
  fail_at(first.where, "step '" + first_id + "': " + first.field +
                           ": steps read each other in a cycle: " + text + first_id);
}

/// For each step, the steps that read it, once per read.
std::vector<std::vector<size_t>> readers(const std::vector<std::vector<StepRead>>& reads) {
  std::vector<std::vector<size_t>> out(reads.size());
  for (size_t i = 0; i < reads.size(); ++i)
    for (const StepRead& r : reads[i]) out[r.step].push_back(i);
  return out;
}

/// Kahn's order, taking the first step in file order whose steps are all placed, so that a file
/// already in order keeps it; no such step means a cycle. The steps ready wait in a heap.
std::vector<size_t> order_steps(const job::JobSpec& job,
                                const std::vector<std::vector<StepRead>>& reads) {
  const size_t n = reads.size();
  const auto read_by = readers(reads);
  std::vector<size_t> unplaced_reads(n);
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
  for (size_t i = 0; i < n; ++i)
    if ((unplaced_reads[i] = reads[i].size()) == 0) ready.push(i);
  std::vector<bool> placed(n, false);
  std::vector<size_t> order;
  while (!ready.empty()) {
    const size_t next = ready.top();
    ready.pop();
    placed[next] = true;
    order.push_back(next);
    for (size_t reader : read_by[next])
      if (--unplaced_reads[reader] == 0) ready.push(reader);
  }
  if (order.size() < n) fail_cycle(job, reads, placed);
  return order;
}

}  // namespace

void check_tile(int64_t tile) {
  if (tile < 16 || tile % 16 != 0)
    throw Error("expected a positive multiple of 16, found " + std::to_string(tile));
}

StepGraph make_step_graph(const job::JobSpec& job) {
  const JobNames names = check_ids(job);
  StepGraph graph;
  std::vector<std::vector<StepRead>> reads;
  for (const job::StepSpec& step : job.steps) {
    graph.ops.push_back(build_op(job, names, step));
    reads.push_back(steps_read(names, step, *graph.ops.back()));
    std::vector<size_t> sources;
    for (const StepRead& read : reads.back())
      if (std::find(sources.begin(), sources.end(), read.step) == sources.end())
        sources.push_back(read.step);
    graph.reads.push_back(std::move(sources));
  }
  graph.order = order_steps(job, reads);
  return graph;
}

StepGraph check_job(const job::JobSpec& job) {
  return detail::check_planned_job(detail::planned_steps(job));
}

StepGraph detail::check_planned_job(const job::JobSpec& job) {
  StepGraph graph = make_step_graph(job);
  detail::check_outputs(job);
  try {
    if (job.run.tile) check_tile(*job.run.tile);
  } catch (const Error& e) {
    fail_at(job.run.tile_where, "run: tile", e.what());
  }
  return graph;
}

}  // namespace tessera::plan
