// Runs a job on every rank: inputs probed, plan made, tiles streamed through the ops and written.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tessera/job/job_spec.hpp"
#include "tessera/plan/plan.hpp"
#include "tessera/run/memory.hpp"

namespace tessera::run {

/// What a run does with a journal found beside its first output.
enum class JournalMode {
  Fresh,    ///< refuses to run over one: the partial work would be lost unasked
  Resume,   ///< continues it (and starts from the beginning when there is none)
  Restart,  ///< removes it and starts from the beginning
};

struct JournalOptions {
  bool enabled = false;  ///< tessera run, dem, focal and calc journal; generate, stats, zonal not
  JournalMode mode = JournalMode::Fresh;
  std::string identity;       ///< what the job is: the job file's text, or the command line
  std::string identity_name;  ///< how a refusal names it: "the job file x.toml", "the command line"
  double checkpoint_seconds = 30;  ///< how often each rank makes its tiles durable and says so
};

struct RunOptions {
  bool quiet = false;  ///< no summary and no progress on rank 0
  int threads = 0;     ///< OpenMP threads per rank; 0 = OMP_NUM_THREADS, else cores / ranks on node
  int ranks_on_node = 1;
  std::string report_path;  ///< when set, rank 0 writes the run report there as JSON
  /// --memory: the bytes a rank may use, instead of what the machine and Slurm allow it.
  std::optional<int64_t> memory_limit;
  JournalOptions journal;  ///< whether and how the run journals its tiles, to be resumed
};

/// The threads a rank uses: `requested` when positive, OMP_NUM_THREADS when set, otherwise the
/// node's cores shared among the ranks on it (at least 1).
int choose_threads(int requested, int ranks_on_node);

/// Probes the job's inputs (each rank opens them itself), checks what is at the outputs' paths
/// (check_output_paths: only regular files are replaced, never an input) and plans the run.
/// Collective: every rank returns the same plan, or every rank throws.
plan::Plan prepare(const job::JobSpec& job);

/// The memory one rank may use: options.memory_limit, else the tightest of the node's memory,
/// its memory cgroup's limit and Slurm's --mem / --mem-per-cpu (run::rank_budget).
MemoryBudget rank_memory(const RunOptions& options);

/// Throws tessera::Error, saying what to change, when the plan's estimate for a rank
/// (Plan::bytes_per_rank at the threads the run will use) is more than rank_memory(). Not
/// collective: the caller agrees on the outcome (execute does).
void check_memory(const plan::Plan& plan, const RunOptions& options);

/// Runs the plan; first refuses one that does not fit the memory (check_memory). Collective. Every
/// output is complete at its final path when it returns on any rank; on failure every rank throws
/// the same tessera::Error and no output path has a file. With options.journal.enabled, a
/// stop signal ends it early on every rank with tessera::Stopped, the finished tiles kept under
/// the outputs' temporary names with a journal beside the first output, which a later run with
/// JournalMode::Resume continues to the same bytes.
void execute(const plan::Plan& plan, const RunOptions& options);

}  // namespace tessera::run
