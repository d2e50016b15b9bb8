// Pieces of the planner shared by its source files.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tessera/plan/plan.hpp"
#include "tessera/plan/step_graph.hpp"

namespace tessera::plan::detail {

/// The index of the input named `name`, or nullopt.
std::optional<size_t> find_input(const job::JobSpec& job, const std::string& name);
/// The job's input names, in order.
std::vector<std::string> input_names(const job::JobSpec& job);
/// The job's step ids, in the file's order.
std::vector<std::string> step_ids(const job::JobSpec& job);
/// "a, b, c" for "expected one of" lists, or "none".
std::string names_or_none(const std::vector<std::string>& names);
/// The ops a user may name, "a, b, c", for an unknown op's message.
std::string known_op_names();

/// `job` with each step that stands for several passes (`fill` with `epsilon = true`) made the
/// steps of those passes, with ids "STEP.fill", "STEP.flowdir", "STEP.bound" and the last the
/// step's own; the others as they are. Throws tessera::Error at the job's place for a step id
/// or input name that is one of the ids added, and for an `in`, an option's text or an output's
/// `from` naming one.
job::JobSpec planned_steps(const job::JobSpec& job);

/// check_job() of a job whose steps are already planned_steps()'s.
StepGraph check_planned_job(const job::JobSpec& job);

/// Where a step's option `key` is written, or the step's own place.
const job::Position& option_place(const job::StepSpec& step, const std::string& key);

/// The index into plan.steps of the step `id`, which the step graph placed before every step
/// that reads it and check_job made sure exists; throws tessera::Error when it is not planned.
size_t planned(const Plan& plan, const std::string& id);
/// Throws tessera::Error unless every one of `sources` (what step `step` reads) comes before it.
void check_reads_earlier(size_t step, const std::vector<size_t>& sources);

/// Checks the job's outputs against its steps: at least one output; `from` names steps, each
/// once; no two outputs share a path. Throws tessera::Error at the job file's position.
void check_outputs(const job::JobSpec& job);

/// The output file `output` becomes, given the plan's steps, inputs and grid. Throws
/// tessera::Error at the output's position when its steps disagree on pixel type or nodata.
PlannedOutput plan_output(const Plan& plan, const job::OutputFileSpec& output);

/// Whether step `index` is a tile-graph step: the steps reading its result read it from the file
/// its pass writes (a stage result), not fused in the same tile.
bool is_tile_graph(const Plan& plan, size_t index);
/// The index into plan.inputs of tile-graph step `step`'s result, added (with its StageResult)
/// when nothing reads it yet: one band of the step's type and nodata on its grid, whose file
/// place_stages chooses.
size_t stage_input(Plan& plan, size_t step);

/// Resolves the statistics each step's op needs into plan.reduced and PlannedStep::statistics
/// (a tile-graph step's statistics are those of its stage file, added to plan.stages); throws
/// tessera::Error at the step's place for a band that does not exist.
void plan_statistics(const job::JobSpec& job, Plan& plan);

/// What group_passes groups for a plan: each step, and before the first step that needs a
/// reduced band, that band's reduction, a step of kind Reduction that reads the step it computes
/// or the tile-graph step whose result it reads (nothing, for a band of the job's inputs). A
/// reduction is then a barrier as a tile-graph step is: it runs in a reduction pass as soon as
/// what it reads is there, and the steps needing it in later passes.
struct PassNodes {
  std::vector<StepNeeds> needs;    ///< every node, each after the nodes it reads
  std::vector<size_t> of_step;     ///< the node of each step
  std::vector<size_t> of_reduced;  ///< the node of each reduced band
  std::vector<size_t> step;        ///< each node's step, or SIZE_MAX for a reduction
  std::vector<size_t> reduced;     ///< each node's reduced band, or SIZE_MAX for a step
  /// The nodes of `steps`, in that order.
  std::vector<size_t> of_steps(const std::vector<size_t>& steps) const;
};
PassNodes pass_nodes(const Plan& plan);
/// group_passes' passes of `nodes` as the plan's: Pass::steps the steps' indices, Pass::reduced
/// the reduced bands'.
std::vector<Pass> plan_passes_of(const PassNodes& nodes, std::vector<Pass> passes);

}  // namespace tessera::plan::detail
