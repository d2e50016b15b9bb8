// Running a job on every rank: probe, plan, then one streaming pass from sources into sinks.
#include "tessera/run/executor.hpp"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <thread>

#include <fmt/core.h>

#include "journal.hpp"
#include "output_checks.hpp"
#include "pass.hpp"
#include "progress.hpp"
#include "reduction.hpp"
#include "sinks.hpp"
#include "stopwatch.hpp"
#include "tessera/core/error.hpp"
#include "tessera/io/temporary_files.hpp"
#include "tessera/par/agreement.hpp"
#include "tessera/par/environment.hpp"
#include "tessera/run/memory.hpp"
#include "tessera/run/probe.hpp"
#include "tessera/run/report.hpp"
#include "tile_graph.hpp"
#include "tile_source.hpp"

namespace tessera::run {

namespace {

/// Rank 0 prints the summary unless quiet; the JSON report goes to options.report_path if set.
/// `figures` are this rank's over every pass of the run; `sweeps` its sweeps over the tiles.
void report_run(const TileGrid& grid, RankReport figures, int threads, double start, double wall,
                const RunOptions& options, int sweeps = 1) {
  figures.start = start;
  const RunFacts facts{
      grid.raster(), grid.tile_width(), grid.tile_height(), grid.count(), threads, wall, sweeps};
  report_ranks(facts, figures, options.quiet, options.report_path);
}

/// The specs of `outputs` (indices into plan.outputs), in that order.
std::vector<OutputSpec> specs_of(const plan::Plan& plan, const std::vector<size_t>& outputs) {
  std::vector<OutputSpec> specs;
  for (size_t o : outputs) specs.push_back(plan.outputs[o].spec);
  return specs;
}

/// Every rank of the run is on this node.
bool one_node(const RunOptions& options) { return options.ranks_on_node == par::world_size(); }

/// The ids of pass `p`'s steps, as the report names the pass's parts.
std::string step_ids(const plan::Plan& plan, size_t p) {
  std::string ids;
  for (size_t s : plan.passes[p].steps) ids += (ids.empty() ? "" : ", ") + plan.steps[s].id;
  return ids;
}

}  // namespace

int choose_threads(int requested, int ranks_on_node) {
  if (requested > 0) return requested;
  if (const char* env = std::getenv("OMP_NUM_THREADS"); env != nullptr && std::atoi(env) > 0)
    return std::atoi(env);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, cores / std::max(1, ranks_on_node));
}

plan::Plan prepare(const job::JobSpec& job) {
  const std::vector<RasterInfo> inputs = probe_inputs(job);
  const Phase planning("planning");
  par::agreed([&] { check_output_paths(job); });
  plan::Plan result;
  par::agreed([&] { result = plan::make_plan(job, inputs); });
  return result;
}

MemoryBudget rank_memory(const RunOptions& options) {
  if (options.memory_limit) return {*options.memory_limit, "--memory"};
  return rank_budget(read_memory_facts(), options.ranks_on_node);
}

void check_memory(const plan::Plan& plan, const RunOptions& options) {
  const int threads = choose_threads(options.threads, options.ranks_on_node);
  const int64_t needed = plan.bytes_per_rank(threads);
  const MemoryBudget budget = rank_memory(options);
  if (needed <= budget.bytes) return;
  throw Error(fmt::format(
      "the plan needs {} a rank at {} thread(s) (tessera plan adds it up) but a rank has {} ({}): "
      "use smaller tiles, fewer steps in one job or fewer threads a rank (OMP_NUM_THREADS), or "
      "give --memory SIZE if more is there",
      size_text(needed), threads, size_text(budget.bytes), budget.source));
}

/// The plan's passes, in order, each reading the numbers of the reductions before it.
void execute_passes(const plan::Plan& plan, const RunOptions& options, Journal* journal);

/// The reduction pass `p`'s results: journalled by a run before, or computed now (and
/// journalled, so that a run that resumes does not compute them again).
std::vector<ReducedBandResult> reduced(const plan::Plan& plan, size_t p, const RunOptions& options,
                                       Journal* journal) {
  if (journal && journal->result(p)) return results_from_bytes(*journal->result(p));
  auto results = reduce_plan(plan, plan.passes[p], options);
  if (journal) par::agreed([&] { journal->append_result(p, results_to_bytes(results)); });
  return results;
}

namespace {

/// Collective: a stop asked during start-up (MPI's, the inputs' probe, planning) ends the run
/// before it writes or journals anything, on every rank; a journal already there stays as it is.
void stop_if_asked() {
  if (const auto signal = par::max_over_ranks(io::stop_signal()); signal != 0)
    throw Stopped(static_cast<int>(signal), {});
}

/// The largest solution journalled (a record's length is 32 bits, and rank 0 reads the journal
/// whole): a run that resumes solves a larger one again, to the same bytes.
constexpr size_t kLargestJournalledSolution = size_t{1} << 31;

Bytes solutions_to_bytes(const GraphSolutions& solutions) {
  RecordWriter w;
  w.put(static_cast<int64_t>(solutions.size()));
  for (const auto& [step, solution] : solutions)
    w.put(static_cast<int64_t>(step)).put_all(*solution);
  return w.take();
}

GraphSolutions solutions_from_bytes(const Bytes& bytes) {
  RecordReader r(bytes);
  GraphSolutions solutions(static_cast<size_t>(r.get<int64_t>()));
  for (auto& [step, solution] : solutions) {
    step = static_cast<size_t>(r.get<int64_t>());
    solution = std::make_shared<const Bytes>(r.get_all<std::byte>());
  }
  return solutions;
}

/// The tile-graph pass `p`'s solutions: journalled by a run before, or solved now (phase 1 and
/// the global phase, whose figures go to `report`) and journalled, so that a run that resumes
/// goes straight to the pass's outputs (and, having kept no tiles in `scratch`, computes them
/// again: the same cells).
GraphSolutions solved(const plan::Plan& plan, size_t p, const RunOptions& options, Journal* journal,
                      RankReport& report, GraphScratch& scratch) {
  if (journal && journal->result(p)) {
    remove_stale_kept_tiles(plan, plan.passes[p]);  // a SIGKILL in its phase 3 left them
    return solutions_from_bytes(*journal->result(p));
  }
  GraphSolutions solutions = solve_tile_graph(plan, plan.passes[p], options, report, scratch);
  if (!journal) return solutions;
  const Bytes bytes = solutions_to_bytes(solutions);
  if (bytes.size() <= kLargestJournalledSolution)
    par::agreed([&] { journal->append_result(p, bytes); });
  return solutions;
}

}  // namespace

namespace {

/// The scratch rasters of a plan's stage results (Plan::stages): rank 0 removes them when the run
/// ends, finished or failed, unless kept for a run that resumes a stopped one.
class StageFiles {
 public:
  explicit StageFiles(const plan::Plan& plan) {
    for (const plan::PlannedOutput& output : plan.outputs)
      if (output.scratch) paths_.push_back(output.spec.path);
  }
  ~StageFiles() {
    if (kept_ || par::world_rank() != 0) return;
    for (const std::string& path : paths_) std::remove(path.c_str());
  }
  StageFiles(const StageFiles&) = delete;
  StageFiles& operator=(const StageFiles&) = delete;
  void keep() { kept_ = true; }

 private:
  std::vector<std::string> paths_;
  bool kept_ = false;
};

}  // namespace

/// The plan's passes in order: a reduction pass gives the steps that need statistics their
/// numbers (reduce_plan, with_statistics) before the later passes run them (a later reduction
/// pass among them: it reads the stage files of the passes before it, and computes steps given
/// the statistics of the reductions before it); a tile-graph pass
/// solves its graph (solve_tile_graph), then runs as a streaming pass whose tile-graph steps
/// finish each tile with the solution, writing the files later passes read its results from. A
/// journalled run keeps its journal from here to the end, and stops on a signal instead of
/// ending (io::StopScope): passes and sinks journal, the executor only holds. A reduction's
/// results, a tile-graph pass's solutions and the end of every pass but the last are journalled
/// once made: a run that resumes takes them from the journal and skips the passes that ended
/// (their outputs, and the stage rasters, are where they were committed).
void execute(const plan::Plan& plan, const RunOptions& options) {
  par::agreed([&] {
    check_report_path(options.report_path, plan);
    check_memory(plan, options);
  });
  std::optional<io::StopScope> stoppable;
  std::optional<Journal> journal;
  if (options.journal.enabled && !plan.outputs.empty()) {
    stoppable.emplace();
    stop_if_asked();
    journal.emplace(plan, options.journal);
  }
  StageFiles stages(plan);
  try {
    execute_passes(plan, options, journal ? &*journal : nullptr);
  } catch (const Stopped& stop) {
    if (!journal) throw;
    journal->keep();  // what the passes journalled before the stop is what a resume continues
    stages.keep();
    throw Stopped(stop.signal(), journal->path());
  } catch (const Error& failure) {
    // A run that fails leaves nothing, but a resume that failed (a full disk, say) keeps the
    // stopped run's ended passes for the next one, and the tiles its pass made durable where it
    // failed while streaming (StreamingPass::give_up).
    if (!journal || !journal->resuming() || !journal->keep_ended_passes()) throw;
    stages.keep();
    throw Error(
        fmt::format("{}; the journal {} is kept with the passes that ended{}: --resume "
                    "continues from there",
                    failure.what(), journal->path(),
                    journal->outputs_kept() ? " and the tiles made durable" : ""));
  }
}

void execute_passes(const plan::Plan& plan, const RunOptions& options, Journal* journal) {
  const double before = seconds_since_process_start();
  const auto start = Clock::now();
  const int threads = choose_threads(options.threads, options.ranks_on_node);
  RankReport figures;
  int sweeps = 0;
  plan::Plan bound = plan;
  KnownStatistics statistics(plan.reduced.size());
  for (size_t p = 0; p < plan.passes.size(); ++p) {
    const plan::Pass& pass = plan.passes[p];
    const int number = static_cast<int>(p) + 1;
    begin_part();  // each pass's peak RSS apart in the report (what it left held counts in the
                   // next)
    if (pass.kind == plan::PassKind::Reduction) {
      std::vector<ReducedBandResult> results = reduced(bound, p, options, journal);
      for (size_t i = 0; i < pass.reduced.size(); ++i)
        statistics.at(pass.reduced[i]) = std::move(results.at(i));
      bound = with_statistics(plan, statistics);
      figures.parts.push_back(end_part(number, step_ids(plan, p), "statistics"));
      continue;
    }
    if (journal && journal->done(p)) {  // a run before committed its outputs
      remove_stale_kept_tiles(bound, pass);
      continue;
    }
    RankReport earlier;
    GraphScratch scratch;  // the pass's kept tiles: its files go with it, however it ends
    plan::Plan solved_plan;
    const plan::Plan* pass_plan = &bound;
    if (pass.kind == plan::PassKind::TileGraph) {
      sweeps += journal && journal->result(p) ? 0 : 1;  // phase 1, unless a run before solved it
      const GraphSolutions solutions = solved(bound, p, options, journal, earlier, scratch);
      solved_plan = with_solutions(bound, solutions, scratch);
      pass_plan = &solved_plan;
    }
    Sinks sinks = output_sinks(specs_of(*pass_plan, pass.outputs), one_node(options));
    add_figures(figures, earlier);
    add_figures(figures, stream_pass(pass_plan->grid, options,
                                     [&] { return plan_tiles(*pass_plan, pass_plan->passes[p]); },
                                     sinks, {journal, p}));
    figures.parts.push_back(end_part(number, step_ids(plan, p),
                                     pass.kind == plan::PassKind::TileGraph ? "finish" : "tiles"));
    ++sweeps;
    if (journal && p + 1 < plan.passes.size())
      par::agreed([&] { journal->append_done(p, stage_files(plan, p)); });
  }
  par::agreed([&] {
    report_run(bound.grid, figures, threads, before, seconds_since(start), options,
               std::max(sweeps, 1));
  });
}

void execute_sources(const plan::Plan& plan, const RunOptions& options, const SourceFactory& make) {
  std::vector<size_t> every(plan.outputs.size());
  std::iota(every.begin(), every.end(), size_t{0});
  Sinks sinks = output_sinks(specs_of(plan, every), one_node(options));
  run_streaming(plan.grid, options, make, sinks);
}

RankReport stream_pass(const TileGrid& grid, const RunOptions& options, const SourceFactory& make,
                       Sinks& sinks, PassJournal journal) {
  const int threads = choose_threads(options.threads, options.ranks_on_node);
  const Phase opening("opening the outputs");
  StreamingPass pass(grid, threads, make, sinks, journal);
  pass.open();
  Progress progress(grid.count(), grid.raster().cells(), !options.quiet && par::world_rank() == 0);
  if (journal.journal && journal.journal->resuming() && !options.quiet && par::world_rank() == 0)
    fmt::print(stderr, "tessera: resuming from {}: {} of {} tiles were done\n",
               journal.journal->path(), pass.resumed(), grid.count());
  {
    const Phase computing("computing tiles");
    pass.run(progress);
  }
  progress.finish();
  const Phase writing("writing the outputs");
  pass.commit();
  return pass.report();
}

void run_streaming(const TileGrid& grid, const RunOptions& options, const SourceFactory& make,
                   Sinks& sinks, PassJournal journal, const RankReport& earlier,
                   double earlier_wall) {
  const double before = seconds_since_process_start() - earlier_wall;  // the pass's start
  const auto start = Clock::now();
  const int threads = choose_threads(options.threads, options.ranks_on_node);
  RankReport figures = stream_pass(grid, options, make, sinks, journal);
  add_figures(figures, earlier);
  par::agreed([&] {
    report_run(grid, figures, threads, before, earlier_wall + seconds_since(start), options);
  });
}

}  // namespace tessera::run
