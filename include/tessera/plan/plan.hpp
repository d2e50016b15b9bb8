// The plan of a run: pure arithmetic from a JobSpec and its inputs' metadata, no MPI, no pixels.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "tessera/core/geometry.hpp"
#include "tessera/core/output_spec.hpp"
#include "tessera/core/raster_info.hpp"
#include "tessera/job/job_spec.hpp"
#include "tessera/ops/op.hpp"
#include "tessera/plan/pass.hpp"

namespace tessera::plan {

/// One band of one input that steps of named inputs (calc) read, in its own pixel type; the
/// executor reads each once per tile.
struct PlannedBand {
  size_t input = 0;  ///< index into Plan::inputs
  int band = 1;
  PixelType type = PixelType::Float32;
  std::optional<double> nodata;
};

/// Where one band an op of named inputs reads comes from: a band of an input, read from its
/// file, or the one band an earlier step gives, fused in the same tile.
struct BandSource {
  enum class Kind { Input, Step };
  Kind kind = Kind::Input;
  size_t index = 0;  ///< into Plan::bands (Input) or Plan::steps (Step)
  friend bool operator==(const BandSource&, const BandSource&) = default;
};

/// A band whose statistics a reduction pass computes before the passes of the steps that need
/// them: a band of an input (read from its file: a tile-graph step's result is the input its
/// stage file is, Plan::stages) or an earlier step's one band (computed in the reduction pass).
struct ReducedBand {
  BandSource::Kind kind = BandSource::Kind::Input;
  size_t index = 0;  ///< Input: index into Plan::inputs; Step: into Plan::steps
  int band = 1;      ///< Input: the band of the input's file
  PixelType type = PixelType::Float32;
  std::optional<double> nodata;
  std::vector<double> percentiles;  ///< every percentile steps ask of it, each once, sorted
  std::string label;                ///< "dem", "dem[2]" or a step id, for `tessera plan`
};

struct PlannedStep {
  std::string id;
  std::string op;
  std::shared_ptr<const ops::Op> impl;
  /// Index into Plan::inputs: the input it reads, or whose grid the steps it reads share.
  size_t input = 0;
  ops::CellType cells{};  ///< the cell type the op reads its input as
  /// The halo its tile read needs: its op's halo plus the largest halo of the steps it reads.
  int64_t halo = 0;
  /// Whether its op is one of named inputs (calc): no `in`, every band it reads in `reads`.
  bool named = false;
  /// Where each band of its op's band_inputs() comes from, in that order.
  std::vector<BandSource> reads;
  /// Index into Plan::bands of each input band among `reads`.
  std::vector<size_t> bands;
  /// The earlier step whose output it reads when its `in` names a step; `input` is then that
  /// step's input, whose grid and georeferencing it shares.
  std::optional<size_t> source;
  /// Every earlier step it reads (its `source`, or the steps its expr names), each once.
  std::vector<size_t> sources;
  /// Cells beyond the tile the step computes on each side, so that the steps reading it have
  /// their halo: the largest margin + op halo of its readers (0 when no step reads it).
  int64_t margin = 0;
  /// For each of its op's statistics(), in order: index into Plan::reduced of the band.
  std::vector<size_t> statistics;
  /// The tile-graph steps whose results it reads from the files an earlier pass wrote them to
  /// (Plan::stages), each once: its `in` or bands then name that file's input, not the step.
  std::vector<size_t> results;

  /// Whether it reads TileIn::cells of an input: an op of one input whose `in` is an input.
  bool reads_input_cells() const { return !named && !source; }
};

struct PlannedOutput {
  OutputSpec spec;
  std::vector<size_t> steps;  ///< index into Plan::steps, one per band group, in band order
  /// A stage raster the run writes for later passes to read and removes when it ends (no job
  /// output holds the step's result); listed after the job's outputs.
  bool scratch = false;
};

/// The result of a tile-graph step that later steps read: the step's pass writes it once, whole,
/// to a file (an output of the job that holds it, or a scratch raster), and the later passes read
/// that file as an input, with the halo they need, as they would read it in a job of their own.
struct StageResult {
  size_t step = 0;    ///< index into Plan::steps
  size_t input = 0;   ///< index into Plan::inputs: the file (and band) the readers read
  size_t output = 0;  ///< index into Plan::outputs of the file the step's pass writes it to
};

struct Plan {
  std::vector<RasterInfo> inputs;
  std::vector<std::string> input_names;  ///< job.inputs[i].name, for describe()
  std::vector<PlannedStep> steps;
  std::unordered_map<std::string, size_t> step_index;  ///< steps[step_index[id]].id == id
  std::vector<PlannedBand> bands;  ///< every band steps of named inputs read, each once
  std::vector<PlannedOutput> outputs;
  /// The bands reduction passes compute statistics of (empty when no step needs any); each is
  /// in the Pass::reduced of one reduction pass, which the passes of the steps needing it read.
  std::vector<ReducedBand> reduced;
  TileGrid grid;
  int64_t halo = 0;  ///< the largest halo any tile read needs
  /// The passes over the tiles, in the order they run (group_passes); every step is in at least
  /// one: a tile-graph pass per level of tile-graph steps (Plan::stages), a reduction pass before
  /// the passes of steps that need statistics, as soon as what it reduces is there (first, for
  /// the job's inputs; after the pass writing a tile-graph result, for that result; after the
  /// reduction giving a step its own statistics, for that step's), then the streaming pass.
  std::vector<Pass> passes;
  /// The folder where tile-graph steps whose op keeps tiles keep them between the phases (each
  /// rank's scratch file, removed when the pass ends); "" for none (phase 2 computes the tiles
  /// again). job.run.scratch, by default the folder of the first output.
  std::string scratch;
  /// The tile-graph results later passes read, each with the input they read it as. Those inputs
  /// come after the job's own in Plan::inputs (is_stage_input); their files exist only once the
  /// step's pass has run.
  std::vector<StageResult> stages;

  /// Whether input `input` is a stage result's file rather than an input of the job.
  bool is_stage_input(size_t input) const;
  /// Bytes each thread allocates once for its tile buffers, as the executor allocates them:
  /// each input tile with the plan's halo (4-byte cells, once per cell type steps read it as;
  /// bands of named inputs in their own type), each step's output tile, each step others read
  /// over its tile grown by its margin (and its Byte cells converted for the steps reading
  /// them), and encoder buffers of twice an output band's tile.
  int64_t bytes_per_thread() const;
  /// The pages of uncompressed inputs one thread's readers keep mapped, at most: one
  /// mapped_bytes_per_reader per input and per band read in its own type.
  int64_t mapped_bytes_per_thread() const;
  /// The global phase of its tile-graph steps, estimated (TileGraphOp::graph_memory): rank 0's
  /// bytes while it solves plus the solution every rank holds, of the largest step, and where
  /// every kept tile lies (24 bytes a tile) when it keeps tiles in the scratch folder; 0 for none.
  int64_t graph_bytes() const;
  /// What a rank holds of its tile-graph steps beside its tiles, of the largest step: in phase 1
  /// its tiles' summaries (TileGraphOp::GraphMemory::summaries, all tiles' counted), in phase 3
  /// the solution and where every kept tile lies; 0 for none.
  int64_t graph_tile_phase_bytes() const;
  /// The estimate for one rank: GDAL's block cache + overhead + the larger of the phases over the
  /// tiles, threads x (bytes_per_thread() + mapped_bytes_per_thread()) +
  /// graph_tile_phase_bytes(), and the global phase of the tile graphs, graph_bytes(). A pass's
  /// threads and their buffers end with it, and with them what its ops kept per thread: the
  /// global phase holds no tiles, and each pass holds only its own.
  int64_t bytes_per_rank(int threads) const;
  /// The most bytes the scratch folder holds over all ranks (TileGraphOp::kept_bytes of every
  /// tile, for each step that keeps tiles); 0 when none does.
  int64_t scratch_bytes() const;
  /// A readable description: grid, tiles, halo, ranks x threads, memory per rank.
  std::string describe(int ranks, int threads) const;
};

/// The GDAL block cache a rank is given (GDAL_CACHEMAX), counted in bytes_per_rank().
inline constexpr int64_t gdal_cache_bytes = int64_t{64} << 20;
/// What a rank holds besides tiles and the cache (program, MPI and GDAL libraries, metadata).
inline constexpr int64_t rank_overhead_bytes = int64_t{32} << 20;

/// The most consecutive tiles a thread takes from one claim: a run of neighbours along a tile row
/// lets its reader find each tile's halo among the blocks it read for the tile before.
inline constexpr int64_t tiles_per_run = 8;
/// The most of a run's band-tiles a thread holds beyond its first tile's (those not written in
/// place wait for the main thread until the run ends): runs are shortened to keep within it.
inline constexpr int64_t run_bytes_per_thread = int64_t{16} << 20;

/// Default tile size: a multiple of 16 (as TIFF requires), 512 unless the job asks otherwise.
inline constexpr int64_t default_tile = 512;

/// The halo each step's tile read needs: its op's halo (`op_halos[i]`) plus the largest halo of
/// the steps it reads (`sources[i]`, each an earlier step), added up along every path back to
/// the inputs. Throws tessera::Error when a step reads itself or a later step.
std::vector<int64_t> path_halos(const std::vector<std::vector<size_t>>& sources,
                                const std::vector<int64_t>& op_halos);

/// The tile grid for a raster: `tile` (or default_tile) cells square, each side clamped to the
/// raster's side rounded up to a multiple of 16, so that even a 1 x 1 raster gets a 16 x 16 tile;
/// with `exact` (the tile is an output's block size asked for), `tile` cells square whatever the
/// raster's size. Throws tessera::Error when `tile` is not a positive multiple of 16 (check_tile).
TileGrid choose_grid(Extent raster, std::optional<int64_t> tile, bool exact = false);

/// Builds the plan, its steps in the step graph's order. `inputs[i]` is the metadata of
/// job.inputs[i]. Checks the job first (check_job), then throws tessera::Error with the job file
/// position for what only metadata and built ops reveal (different grids, a band that does not
/// exist, a step reading a step of several bands).
Plan make_plan(const job::JobSpec& job, const std::vector<RasterInfo>& inputs);

}  // namespace tessera::plan
