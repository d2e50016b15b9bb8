// Groups a plan's steps into passes from the kind of pass each step's op needs.
#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "plan_detail.hpp"
#include "tessera/core/error.hpp"
#include "tessera/plan/pass.hpp"

namespace tessera::plan {

namespace {

/// Within a level, passes run in this order; none reads another's result.
int kind_rank(PassKind kind) {
  switch (kind) {
    case PassKind::Reduction:
      return 0;
    case PassKind::TileGraph:
      return 1;
    case PassKind::Streaming:
      break;
  }
  return 2;
}

/// Each step's level: the most results of reduction or tile-graph steps along a path to it.
std::vector<int> levels(const std::vector<StepNeeds>& steps) {
  std::vector<int> level(steps.size(), 0);
  for (size_t i = 0; i < steps.size(); ++i) {
    detail::check_reads_earlier(i, steps[i].sources);
    for (size_t source : steps[i].sources) {
      const bool barrier = steps[source].kind != PassKind::Streaming;
      level[i] = std::max(level[i], level[source] + (barrier ? 1 : 0));
    }
  }
  return level;
}

/// Whether a step's pass is its own: a reduction or tile-graph step, or a streaming step an
/// output takes or no step reads (the others run only fused into their readers' passes).
std::vector<bool> anchors(const std::vector<StepNeeds>& steps,
                          const std::vector<std::vector<size_t>>& outputs) {
  std::vector<bool> read(steps.size(), false);
  std::vector<bool> written(steps.size(), false);
  for (const StepNeeds& step : steps)
    for (size_t source : step.sources) read[source] = true;
  for (const auto& output : outputs)
    for (size_t step : output) written.at(step) = true;
  std::vector<bool> anchor(steps.size());
  for (size_t i = 0; i < steps.size(); ++i)
    anchor[i] = steps[i].kind != PassKind::Streaming || written[i] || !read[i];
  return anchor;
}

/// Adds the streaming steps `step` reads, and theirs, to `out`, but those `in_pass` marks with
/// `pass` (which it marks as it adds). A loop, not recursion: a chain of steps may be long.
void add_fused(const std::vector<StepNeeds>& steps, size_t step, size_t pass,
               std::vector<size_t>& in_pass, std::vector<size_t>& out) {
  std::vector<size_t> todo{step};
  while (!todo.empty()) {
    const size_t next = todo.back();
    todo.pop_back();
    for (size_t source : steps[next].sources) {
      if (steps[source].kind != PassKind::Streaming || in_pass[source] == pass) continue;
      in_pass[source] = pass;
      out.push_back(source);
      todo.push_back(source);
    }
  }
}

void sort_unique(std::vector<size_t>& items) {
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
}

/// The pass of each output: the one pass its steps' own pass is.
void assign_outputs(const std::vector<std::vector<size_t>>& outputs,
                    const std::vector<size_t>& pass_of, std::vector<Pass>& passes) {
  for (size_t o = 0; o < outputs.size(); ++o) {
    if (outputs[o].empty()) continue;
    const size_t pass = pass_of[outputs[o].front()];
    for (size_t step : outputs[o])
      if (pass_of[step] != pass)
        throw Error("plan: output " + std::to_string(o + 1) + " takes steps " +
                    std::to_string(outputs[o].front() + 1) + " and " + std::to_string(step + 1) +
                    ", which run in different passes; write them to separate outputs");
    passes[pass].outputs.push_back(o);
  }
}

}  // namespace

std::string_view name_of(PassKind kind) {
  switch (kind) {
    case PassKind::Reduction:
      return "reduction";
    case PassKind::TileGraph:
      return "tile-graph";
    case PassKind::Streaming:
      break;
  }
  return "streaming";
}

std::vector<Phase> phases_of(PassKind kind) {
  switch (kind) {
    case PassKind::Reduction:
      return {{PhaseKind::Tiles, "partial results of each tile"},
              {PhaseKind::Global, "merge the partial results in a fixed order"}};
    case PassKind::TileGraph:
      return {{PhaseKind::Tiles, "solve each tile alone, keep its edge graph"},
              {PhaseKind::Global, "solve the graph of every tile's edges on one rank"},
              {PhaseKind::Tiles, "finish each tile with what the solve gives it"}};
    case PassKind::Streaming:
      break;
  }
  return {{PhaseKind::Tiles, "compute each tile and write it"}};
}

std::vector<Pass> group_passes(const std::vector<StepNeeds>& steps,
                               const std::vector<std::vector<size_t>>& outputs) {
  const std::vector<int> level = levels(steps);
  const std::vector<bool> anchor = anchors(steps, outputs);
  // Streaming steps read no result of later passes: they all share the last one they may run in.
  int streaming_level = 0;
  for (size_t i = 0; i < steps.size(); ++i)
    if (anchor[i] && steps[i].kind == PassKind::Streaming)
      streaming_level = std::max(streaming_level, level[i]);
  std::map<std::pair<int, int>, std::vector<size_t>> groups;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (!anchor[i]) continue;
    const bool streaming = steps[i].kind == PassKind::Streaming;
    groups[{streaming ? streaming_level : level[i], kind_rank(steps[i].kind)}].push_back(i);
  }
  std::vector<Pass> passes;
  std::vector<size_t> pass_of(steps.size(), 0);
  std::vector<size_t> in_pass(steps.size(), SIZE_MAX);  // the last pass each step joined
  for (const auto& [key, own] : groups) {
    Pass pass;
    pass.kind = steps[own.front()].kind;
    pass.phases = phases_of(pass.kind);
    pass.steps = own;
    for (size_t step : own) in_pass[step] = passes.size();
    for (size_t step : own) {
      pass_of[step] = passes.size();
      add_fused(steps, step, passes.size(), in_pass, pass.steps);
    }
    sort_unique(pass.steps);
    passes.push_back(std::move(pass));
  }
  for (Pass& pass : passes) {
    for (size_t step : pass.steps)
      for (size_t source : steps[step].sources)
        if (steps[source].kind != PassKind::Streaming) pass.reads_passes.push_back(pass_of[source]);
    sort_unique(pass.reads_passes);
  }
  assign_outputs(outputs, pass_of, passes);
  return passes;
}

}  // namespace tessera::plan
