// The two kinds of tile source the commands run, and running a plan's streaming pass with them.
#pragma once

#include <memory>

#include "pass.hpp"
#include "sink.hpp"
#include "tessera/ops/terrain_noise.hpp"
#include "tessera/plan/plan.hpp"
#include "tessera/run/executor.hpp"

namespace tessera::run {

/// A thread's source of the steps of the plan's streaming pass `pass` over its inputs
/// (TileWorker): output k of its tiles is the pass's k-th output.
std::unique_ptr<TileSource> plan_tiles(const plan::Plan& plan, const plan::Pass& pass);

/// A thread's source of terrain tiles for the plan's one output, with no input: heights as
/// float64 rows, converted to the output's type as GDAL converts a double.
std::unique_ptr<TileSource> terrain_tiles(const plan::Plan& plan,
                                          const ops::TerrainParams& terrain);

/// Runs a streaming pass over `grid` with tiles from `make`'s sources into `sinks` and returns
/// this rank's figures, without reporting them. Collective, failing as run_streaming() does.
RankReport stream_pass(const TileGrid& grid, const RunOptions& options, const SourceFactory& make,
                       Sinks& sinks, PassJournal journal = {});

/// Runs a streaming pass over `grid` with tiles from `make`'s sources into `sinks`, then prints
/// or writes the run report as `options` say. Collective; on failure every rank throws the same
/// tessera::Error and every sink has been abandoned. The report adds `earlier`, this rank's
/// figures of the pass's earlier phases, and `earlier_wall` seconds to the run's wall time.
void run_streaming(const TileGrid& grid, const RunOptions& options, const SourceFactory& make,
                   Sinks& sinks, PassJournal journal = {}, const RankReport& earlier = {},
                   double earlier_wall = 0);

/// run_streaming() into the sinks of the plan's outputs (output_sinks()), all of them, in order:
/// a plan of one pass that writes every output, such as generate's.
void execute_sources(const plan::Plan& plan, const RunOptions& options, const SourceFactory& make);

}  // namespace tessera::run
