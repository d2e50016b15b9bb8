// The tile-graph pass (Barnes 2016, 2017): phase 1 and the global solve; phase 2 is a streaming
// pass of the plan this returns.
#pragma once

#include "tessera/plan/plan.hpp"
#include "tessera/run/executor.hpp"
#include "tessera/run/report.hpp"

namespace tessera::run {

/// Runs phase 1 of the plan's tile-graph pass `pass` (every rank claims tiles; each tile's steps
/// run, and each tile-graph step keeps its summary of the tile), gathers the summaries to rank 0,
/// solves each tile-graph step's graph there, and broadcasts the solutions. Returns the plan
/// with each of those steps' op replaced by its phase-2 op, so that `pass` then runs as a
/// streaming pass that recomputes each tile from its inputs and finishes it. Collective; on
/// failure every rank throws the same tessera::Error. `report` gets this rank's figures.
plan::Plan solve_tile_graph(const plan::Plan& plan, const plan::Pass& pass,
                            const RunOptions& options, RankReport& report);

}  // namespace tessera::run
