// The job's step graph, resolved: each step's op built and checked, the steps it reads, an order.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "tessera/job/job_spec.hpp"
#include "tessera/ops/op.hpp"

namespace tessera::plan {

/// The steps of a job as a graph; every index is into job.steps (the file's order).
struct StepGraph {
  /// Each step's op, built from its options (which it checked).
  std::vector<std::shared_ptr<const ops::Op>> ops;
  /// The steps each step reads (its `in`, or the steps its expr names), each once, in the order
  /// it names them.
  std::vector<std::vector<size_t>> reads;
  /// Every step once, each after the steps it reads; the file's order when it already is one.
  std::vector<size_t> order;
};

/// Builds the step graph and checks every rule about it, throwing tessera::Error at the job
/// file's FILE:LINE:COLUMN: a job has steps; step ids are unique and are not input names; an op
/// exists and takes its options; an op of one input has an `in` naming an input or a step, an op
/// of named inputs (calc) has none; the steps do not read each other in a cycle.
StepGraph make_step_graph(const job::JobSpec& job);

/// Checks everything about a job that needs no input metadata, so that its mistakes show before
/// any raster is opened, and returns its step graph: the graph (make_step_graph) of the steps
/// the job's steps stand for (fill with epsilon is four; the graph's indices are into those), the
/// outputs (at least one; `from` names steps, each once; no two share a path) and the tile size.
/// Throws tessera::Error at the job file's FILE:LINE:COLUMN.
StepGraph check_job(const job::JobSpec& job);

/// Throws tessera::Error "run: tile: expected a positive multiple of 16, found N" unless `tile`
/// is one: the one check of a tile size.
void check_tile(int64_t tile);

}  // namespace tessera::plan
