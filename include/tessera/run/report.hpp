// The run report: what each rank spent its time and bytes on, the summary table and its JSON.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/core/geometry.hpp"

namespace tessera::run {

/// The peak RSS of one part of a run (a pass, or a phase of a tile-graph pass), measured apart.
struct PartPeak {
  int pass = 0;       ///< the plan's pass, from 1
  std::string steps;  ///< the ids of the pass's steps, joined by ", "
  /// "tiles", "statistics"; a tile-graph pass's "summaries", "global", "finish"
  std::string phase;
  double peak_rss_mb = 0;
};

/// One rank's figures. Read, compute and encode are thread-seconds summed over its threads;
/// communicate, write and wait are its main thread's seconds.
struct RankReport {
  int64_t tiles = 0;
  /// Seconds before the run: the CPU time spent before main (loading the program's libraries),
  /// then main to the run's start (MPI_Init, reading the inputs' metadata, planning).
  double start = 0;
  double read = 0;
  double compute = 0;
  double encode = 0;
  double communicate = 0;
  double write = 0;
  double wait = 0;
  int64_t bytes_read = 0;      ///< input cells read, at the inputs' pixel size
  int64_t bytes_sent = 0;      ///< encoded tiles sent to the GeoTIFF writer (ranks > 0)
  int64_t bytes_received = 0;  ///< encoded tiles received from other ranks (rank 0)
  int64_t bytes_written = 0;   ///< tile bytes this rank wrote to output files
  double peak_rss_mb = 0;
  /// The peak RSS of each part of the run, in the order they ran (a job's passes; empty for the
  /// commands of one pass that are no job): the same parts on every rank.
  std::vector<PartPeak> parts;
};

/// What the whole run was.
struct RunFacts {
  Extent raster;
  int64_t tile_width = 0;
  int64_t tile_height = 0;
  int64_t tiles = 0;
  int threads = 0;
  double wall = 0;  ///< seconds, on rank 0
  /// Sweeps the run made over the tiles: 1 for one streaming pass; a tile-graph pass makes two
  /// (its phases 1 and 3), each pass of a job of several one more. A rank's `tiles` counts the
  /// tiles it computed in all of them.
  int sweeps = 1;
};

/// Adds `more`'s figures (another pass or phase of the same run) to `total`'s; peak RSS: the
/// larger of the two; `more`'s parts after `total`'s.
void add_figures(RankReport& total, const RankReport& more);

/// This process's peak resident set size in MB since it started (every part included).
double peak_rss_mb();

/// Begins a part of the run whose peak RSS part_peak_rss_mb() then gives: the kernel's peak RSS
/// of the process (VmHWM) is reset to its RSS now, by writing 5 to /proc/self/clear_refs (Linux
/// 4.0 on). Exact (the kernel keeps the peak at every page it maps) and cheap (two system calls
/// at a part's ends, nothing in between). Returns false where the peak cannot be reset: part
/// peaks are then the process's peak so far (part_peaks_reset()).
bool begin_part();

/// The process's peak RSS in MB since the last begin_part() (since it started, if none could
/// reset the peak).
double part_peak_rss_mb();

/// Whether the last begin_part() reset the peak: a part's peak counts only that part.
bool part_peaks_reset();

/// The part of the run since the last begin_part(), with its peak RSS; begins the next part.
PartPeak end_part(int pass, std::string steps, std::string phase);

/// Call first thing in main: RankReport::start counts from here, plus the CPU time the process
/// had spent by then (loading its libraries).
void mark_process_start();
/// Seconds since the process started, as RankReport::start counts them; 0 without a mark.
double seconds_since_process_start();

/// Collective: every rank's report, in rank order, on every rank.
std::vector<RankReport> gather_reports(const RankReport& mine);

/// The summary rank 0 prints: one line of facts, then min, max and imbalance (max / mean) of each
/// figure over the ranks.
std::string summary_table(const RunFacts& facts, const std::vector<RankReport>& ranks);

/// The whole report as JSON: the facts, every rank's figures and the min / max / mean / imbalance.
std::string report_json(const RunFacts& facts, const std::vector<RankReport>& ranks);

/// `text` as a JSON string literal, quotes included.
std::string json_string(std::string_view text);

/// Writes `text` to `path`; throws tessera::Error "<path>: cannot write the report".
void write_text_file(const std::string& path, const std::string& text);

/// Collective: gathers every rank's `mine`; rank 0 prints the summary table unless `quiet` and
/// writes the JSON report to `report_path` unless it is empty. A report that cannot be written
/// (its path was checked before the run; a disk full by now) is a warning on stderr, not an
/// error: the run's outputs are in place and whole.
void report_ranks(const RunFacts& facts, const RankReport& mine, bool quiet,
                  const std::string& report_path);

}  // namespace tessera::run
