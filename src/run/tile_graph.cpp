// The tile-graph pass: each tile summarized alone, the summaries solved on rank 0, the solution
// handed back to every rank.
#include "tile_graph.hpp"

#include <malloc.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <utility>

#include "pass.hpp"
#include "stopwatch.hpp"
#include "tessera/ops/tile_graph.hpp"
#include "tessera/par/agreement.hpp"
#include "tessera/par/environment.hpp"
#include "tessera/par/gather.hpp"
#include "tile_source.hpp"

namespace tessera::run {

namespace {

using ops::Bytes;

/// Phase 1's stand-in for a tile-graph step: run() keeps the tile's summary in its slot of
/// `summaries` (one per tile; each tile is computed by one thread) and, with `kept`, what phase 2
/// needs of the tile there; it writes no cells.
class SummaryOp : public ops::Op {
 public:
  SummaryOp(std::shared_ptr<const ops::TileGraphOp> op, TileGrid grid,
            std::vector<Bytes>& summaries, ops::KeptTiles* kept)
      : op_(std::move(op)), grid_(grid), summaries_(summaries), kept_(kept) {}
  int64_t halo() const override { return op_->halo(); }
  PixelType output_type() const override { return op_->output_type(); }
  std::optional<double> output_nodata() const override { return op_->output_nodata(); }
  ops::CellType input_cells(PixelType source) const override { return op_->input_cells(source); }
  void run(const ops::TileIn& in, const ops::TileOut& /*out*/) const override {
    const int64_t tile =
        (in.owned.y / grid_.tile_height()) * grid_.across() + in.owned.x / grid_.tile_width();
    if (kept_ == nullptr) {
      summaries_[static_cast<size_t>(tile)] = op_->summarize(in, grid_);
      return;
    }
    thread_local Bytes kept;
    summaries_[static_cast<size_t>(tile)] = op_->summarize_keeping(in, grid_, kept);
    kept_->keep(tile, kept);
  }

 private:
  std::shared_ptr<const ops::TileGraphOp> op_;
  TileGrid grid_;
  std::vector<Bytes>& summaries_;
  ops::KeptTiles* kept_;
};

/// One tile-graph step of the pass: its index in the plan, its op, the summaries of the tiles
/// this rank computed and, when it keeps them, where.
struct GraphStep {
  size_t step = 0;
  std::shared_ptr<const ops::TileGraphOp> op;
  std::vector<Bytes> summaries;
  TileScratch* scratch = nullptr;
};

std::vector<GraphStep> graph_steps(const plan::Plan& plan, const plan::Pass& pass) {
  std::vector<GraphStep> steps;
  for (size_t s : pass.steps) {
    auto op = std::dynamic_pointer_cast<const ops::TileGraphOp>(plan.steps[s].impl);
    if (op) steps.push_back({s, std::move(op), std::vector<Bytes>(plan.grid.count())});
  }
  return steps;
}

/// Collective: a scratch file on every rank for each step whose op keeps its tiles, when the plan
/// has a scratch folder; on failure every rank throws and no file is left.
GraphScratch open_scratch(const plan::Plan& plan, std::vector<GraphStep>& steps) {
  GraphScratch scratch;
  if (plan.scratch.empty()) return scratch;
  const auto id = par::broadcast_from_root<int64_t>(TileScratch::new_id());
  par::agreed([&] {
    for (GraphStep& g : steps) {
      const int64_t tile_cells = plan.grid.tile_width() * plan.grid.tile_height();
      if (g.op->kept_bytes(tile_cells) == 0) continue;
      scratch.emplace_back(g.step, std::make_unique<TileScratch>(
                                       plan.scratch, plan.steps[g.step].id, id, plan.grid.count()));
      g.scratch = scratch.back().second.get();
    }
  });
  return scratch;
}

/// Phase 1: every rank computes the tiles it claims; each step's summaries land in `steps`.
RankReport summarize_tiles(const plan::Plan& plan, const plan::Pass& pass,
                           std::vector<GraphStep>& steps, const RunOptions& options) {
  plan::Plan first = plan;
  for (GraphStep& g : steps)
    first.steps[g.step].impl = std::make_shared<SummaryOp>(g.op, plan.grid, g.summaries, g.scratch);
  plan::Pass tiles_only = pass;
  tiles_only.outputs.clear();
  Sinks none;
  const int threads = choose_threads(options.threads, options.ranks_on_node);
  StreamingPass run(
      plan.grid, threads, [&] { return plan_tiles(first, tiles_only); }, none);
  run.open();
  Progress progress(plan.grid.count(), plan.grid.raster().cells(), false);
  run.run(progress);
  run.commit();
  return run.report();
}

/// This rank's summaries of one step as (tile, bytes) records, each made in its summary's place
/// (its tile and size put before it): one record a piece, for gather_pieces_to_root.
std::vector<Bytes> records(std::vector<Bytes>& summaries) {
  std::vector<Bytes> pieces;
  for (size_t t = 0; t < summaries.size(); ++t) {
    Bytes& s = summaries[t];
    if (s.empty()) continue;
    const int64_t header[2] = {static_cast<int64_t>(t), static_cast<int64_t>(s.size())};
    const auto* h = reinterpret_cast<const std::byte*>(header);
    s.insert(s.begin(), h, h + sizeof header);
    pieces.push_back(std::move(s));
  }
  summaries.clear();
  summaries.shrink_to_fit();
  return pieces;
}

/// Rank 0: each tile's summary where it lies in its rank's records (which must outlive them).
ops::Summaries unpack(const std::vector<Bytes>& ranks, int64_t tiles) {
  ops::Summaries summaries(static_cast<size_t>(tiles));
  for (const Bytes& bytes : ranks) {
    size_t at = 0;
    while (at < bytes.size()) {
      int64_t header[2];
      std::memcpy(header, bytes.data() + at, sizeof header);
      at += sizeof header;
      summaries[static_cast<size_t>(header[0])] = {bytes.data() + at,
                                                   static_cast<size_t>(header[1])};
      at += static_cast<size_t>(header[1]);
    }
  }
  return summaries;
}

/// The global phase of one step: summaries to rank 0, solved there, the solution on every rank.
/// Every rank holds each summary once: rank 0 its own where they were made, the others' in the
/// strings their records arrived in, read in place; the others free each record once sent.
std::shared_ptr<const Bytes> solve_on_root(const plan::Plan& plan, GraphStep& g) {
  std::vector<Bytes> ranks = par::gather_pieces_to_root(records(g.summaries));
  malloc_trim(0);  // the records sent, on ranks but 0
  Bytes solution;
  par::agreed([&] {
    if (par::world_rank() != 0) return;
    const ops::Summaries summaries = unpack(ranks, plan.grid.count());
    for (const auto& s : summaries)
      if (s.empty()) throw Error("internal error: a tile's summary is missing at the global solve");
    solution = g.op->solve(plan.grid, summaries);
  });
  ranks.clear();
  ranks.shrink_to_fit();
  const auto size = par::broadcast_from_root<uint64_t>(solution.size());
  solution.resize(size);
  par::broadcast_bytes(solution.data(), solution.size());
  return std::make_shared<const Bytes>(std::move(solution));
}

}  // namespace

GraphSolutions solve_tile_graph(const plan::Plan& plan, const plan::Pass& pass,
                                const RunOptions& options, RankReport& report,
                                GraphScratch& scratch) {
  std::vector<GraphStep> steps = graph_steps(plan, pass);
  const int number = static_cast<int>(&pass - plan.passes.data()) + 1;
  std::string ids;
  for (size_t s : pass.steps) ids += (ids.empty() ? "" : ", ") + plan.steps[s].id;
  {
    const Phase phase("computing the tiles' graphs");
    scratch = open_scratch(plan, steps);
    report = summarize_tiles(plan, pass, steps, options);
    for (auto& [step, kept] : scratch) kept->share();
  }
  report.parts.push_back(end_part(number, ids, "summaries"));
  const Phase phase("solving the tiles' graphs");
  const auto start = Clock::now();
  GraphSolutions solutions;
  for (GraphStep& g : steps) solutions.emplace_back(g.step, solve_on_root(plan, g));
  report.communicate += seconds_since(start);  // the global phase: messages and rank 0's solve
  report.parts.push_back(end_part(number, ids, "global"));
  return solutions;
}

void remove_stale_kept_tiles(const plan::Plan& plan, const plan::Pass& pass) {
  if (plan.scratch.empty()) return;
  const int64_t tile_cells = plan.grid.tile_width() * plan.grid.tile_height();
  for (size_t s : pass.steps) {
    auto op = std::dynamic_pointer_cast<const ops::TileGraphOp>(plan.steps[s].impl);
    if (op && op->kept_bytes(tile_cells) > 0)
      TileScratch::remove_stale(plan.scratch, plan.steps[s].id);
  }
}

plan::Plan with_solutions(const plan::Plan& plan, const GraphSolutions& solutions,
                          const GraphScratch& scratch) {
  plan::Plan second = plan;
  for (const auto& [step, solution] : solutions) {
    const auto op = std::dynamic_pointer_cast<const ops::TileGraphOp>(plan.steps[step].impl);
    if (!op) throw Error("internal error: a graph solution for a step that is not a tile-graph op");
    const ops::KeptTiles* kept = nullptr;
    for (const auto& [kept_step, file] : scratch)
      if (kept_step == step) kept = file.get();
    second.steps[step].impl = op->with_kept_solution(plan.grid, solution, kept);
  }
  return second;
}

}  // namespace tessera::run
