// The tile-graph pass (Barnes 2016, 2017): phase 1 and the global solve; phase 2 is a streaming
// pass of the plan this returns.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "tessera/ops/tile_graph.hpp"
#include "tessera/plan/plan.hpp"
#include "tessera/run/executor.hpp"
#include "tessera/run/report.hpp"
#include "tile_scratch.hpp"

namespace tessera::run {

/// Each tile-graph step's solution (its op's solve() bytes), with the step's index in the plan.
using GraphSolutions = std::vector<std::pair<size_t, std::shared_ptr<const ops::Bytes>>>;

/// The scratch files of the steps that keep their tiles between the phases, with each step's
/// index in the plan.
using GraphScratch = std::vector<std::pair<size_t, std::unique_ptr<TileScratch>>>;

/// Runs phase 1 of the plan's tile-graph pass `pass` (every rank claims tiles; each tile's steps
/// run, and each tile-graph step keeps its summary of the tile and, when the plan has a scratch
/// folder and its op keeps tiles, what phase 2 needs of the tile in `scratch`), gathers the
/// summaries to rank 0, solves each tile-graph step's graph there, and broadcasts the solutions,
/// which every rank returns. Collective; on failure every rank throws the same tessera::Error
/// (the scratch files are removed when `scratch` goes). `report` gets this rank's figures, and
/// the peak RSS of phase 1 ("summaries") and of the global phase ("global") as parts of the run.
/// `pass` is one of plan.passes.
GraphSolutions solve_tile_graph(const plan::Plan& plan, const plan::Pass& pass,
                                const RunOptions& options, RankReport& report,
                                GraphScratch& scratch);

/// For a run that resumes pass `pass` from its journalled solutions, or skips it as done: removes
/// the files a run killed with SIGKILL left of its steps that keep tiles in the plan's scratch
/// folder (no TileScratch of this run would, having none). Not collective.
void remove_stale_kept_tiles(const plan::Plan& plan, const plan::Pass& pass);

/// The plan with each solved step's op replaced by its phase-2 op, so that the tile-graph pass
/// then runs as a streaming pass that finishes each tile from what `scratch` kept of it, or
/// computes it again from its inputs. `scratch` must outlive that pass.
plan::Plan with_solutions(const plan::Plan& plan, const GraphSolutions& solutions,
                          const GraphScratch& scratch = {});

}  // namespace tessera::run
