// Pieces of the planner shared by its source files.
#pragma once

#include <string>

#include "tessera/plan/plan.hpp"

namespace tessera::plan::detail {

/// Throws tessera::Error as "FILE:LINE:COLUMN: message" (just "message" for a job built in code).
[[noreturn]] void fail_at(const job::Position& where, const std::string& message);

/// The output file `output` becomes, given the plan's steps, inputs and grid. Throws
/// tessera::Error at the output's position when its steps disagree on pixel type or nodata.
PlannedOutput plan_output(const Plan& plan, const job::OutputFileSpec& output);

}  // namespace tessera::plan::detail
