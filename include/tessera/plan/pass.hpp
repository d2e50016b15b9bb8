// Passes: the groups of steps a run makes one sweep over the tiles for, and their phases.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "tessera/ops/pass_kind.hpp"

namespace tessera::plan {

using ops::PassKind;

/// "reduction", "streaming" or "tile-graph".
std::string_view name_of(PassKind kind);

/// Tiles: every rank works on the tiles it claims. Global: one solve over what the tiles gave
/// (merged across ranks, or on one rank), whose result the next phase or pass reads.
enum class PhaseKind { Tiles, Global };

struct Phase {
  PhaseKind kind = PhaseKind::Tiles;
  std::string_view what;  ///< what the phase does, for `tessera plan`
};

/// The phases of a pass of `kind`: streaming one of tiles; reduction tiles then a global merge;
/// tile-graph (Barnes) tiles, a global solve on one rank, tiles again.
std::vector<Phase> phases_of(PassKind kind);

struct Pass {
  PassKind kind = PassKind::Streaming;
  /// Index into Plan::steps of every step the pass computes, in execution order: the steps of its
  /// kind, and the streaming steps they read, fused in the same tiles (a streaming step read by
  /// steps of two passes is computed in both, as no step writes an intermediate file).
  std::vector<size_t> steps;
  std::vector<size_t> outputs;       ///< index into Plan::outputs of the files it writes
  std::vector<size_t> reads_passes;  ///< earlier passes whose results its steps read
  /// A reduction pass of a plan: index into Plan::reduced of each band it reduces, in order
  /// (group_passes leaves it empty: its reductions are steps of their own).
  std::vector<size_t> reduced;
  std::vector<Phase> phases;
};

/// What grouping needs to know of one step: the pass kind its op needs and the earlier steps it
/// reads (indices into the same list, each smaller than its own).
struct StepNeeds {
  PassKind kind = PassKind::Streaming;
  std::vector<size_t> sources;
};

/// Groups steps (in execution order) into passes, in the order they run. A step's level is the
/// most reduction or tile-graph results along a path to it: a step reading such a result runs in
/// a later pass than it. Reduction and tile-graph steps of one kind and level share a pass. A
/// streaming step runs fused in the passes of the steps that read it and, when an output takes
/// it or no step reads it, in the one streaming pass, at the highest level of those steps.
/// `outputs[i]` lists the steps of output i; each output goes to the pass of its steps. Throws
/// tessera::Error when an output's steps run in different passes, or a source is not earlier.
std::vector<Pass> group_passes(const std::vector<StepNeeds>& steps,
                               const std::vector<std::vector<size_t>>& outputs);

}  // namespace tessera::plan
