// Pieces of the planner shared by its source files.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tessera/plan/plan.hpp"

namespace tessera::plan::detail {

/// The index of the input named `name`, or nullopt.
std::optional<size_t> find_input(const job::JobSpec& job, const std::string& name);
/// The job's input names, in order.
std::vector<std::string> input_names(const job::JobSpec& job);
/// The job's step ids, in the file's order.
std::vector<std::string> step_ids(const job::JobSpec& job);
/// "a, b, c" for "expected one of" lists, or "none".
std::string names_or_none(const std::vector<std::string>& names);
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

/// Resolves the statistics each step's op needs into plan.reduced and PlannedStep::statistics;
/// throws tessera::Error at the step's place for a band that does not exist or that would need a
/// second reduction pass (the statistics of a step that needs statistics itself).
void plan_statistics(const job::JobSpec& job, Plan& plan);
/// Puts the reduction pass first when plan.reduced is not empty: it computes the steps the
/// reduced bands need; the later passes read its results.
void add_reduction_pass(Plan& plan);

}  // namespace tessera::plan::detail
