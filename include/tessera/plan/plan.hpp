// The plan of a run: pure arithmetic from a JobSpec and its inputs' metadata, no MPI, no pixels.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tessera/core/geometry.hpp"
#include "tessera/core/output_spec.hpp"
#include "tessera/core/raster_info.hpp"
#include "tessera/job/job_spec.hpp"
#include "tessera/ops/op.hpp"

namespace tessera::plan {

/// One band of one input that steps of named inputs (calc) read, in its own pixel type; the
/// executor reads each once per tile.
struct PlannedBand {
  size_t input = 0;  ///< index into Plan::inputs
  int band = 1;
  PixelType type = PixelType::Float32;
  std::optional<double> nodata;
};

struct PlannedStep {
  std::string id;
  std::string op;
  std::shared_ptr<const ops::Op> impl;
  size_t input = 0;       ///< index into Plan::inputs
  ops::CellType cells{};  ///< the cell type the op reads its input as
  int64_t halo = 0;       ///< the halo its tile read needs, added up along its path of steps
  /// For an op of named inputs: index into Plan::bands of each band it reads, in the order of
  /// its band_inputs(); `input` is then the first one's input. Empty for ops of one input.
  std::vector<size_t> bands;
  /// The earlier step whose output it reads (its `in` names a step); `input` is then that
  /// step's input, whose grid and georeferencing it shares.
  std::optional<size_t> source;
  /// Cells beyond the tile the step computes on each side, so that the steps reading it have
  /// their halo: the largest margin + op halo of its readers (0 when no step reads it).
  int64_t margin = 0;
};

struct PlannedOutput {
  OutputSpec spec;
  std::vector<size_t> steps;  ///< index into Plan::steps, one per band group, in band order
};

struct Plan {
  std::vector<RasterInfo> inputs;
  std::vector<std::string> input_names;  ///< job.inputs[i].name, for describe()
  std::vector<PlannedStep> steps;
  std::vector<PlannedBand> bands;  ///< every band steps of named inputs read, each once
  std::vector<PlannedOutput> outputs;
  TileGrid grid;
  int64_t halo = 0;  ///< the largest halo any tile read needs

  /// Bytes each thread allocates once for its tile buffers: each input tile with its halo in
  /// 4-byte cells, each step's output tile, and encoder buffers of twice an output band's tile.
  int64_t bytes_per_thread() const;
  /// The estimate for one rank: threads x bytes_per_thread() + GDAL's block cache + overhead.
  int64_t bytes_per_rank(int threads) const;
  /// A readable description: grid, tiles, halo, ranks x threads, memory per rank.
  std::string describe(int ranks, int threads) const;
};

/// The GDAL block cache a rank is given (GDAL_CACHEMAX), counted in bytes_per_rank().
inline constexpr int64_t gdal_cache_bytes = int64_t{64} << 20;
/// What a rank holds besides tiles and the cache (program, MPI and GDAL libraries, metadata).
inline constexpr int64_t rank_overhead_bytes = int64_t{32} << 20;

/// Default tile size: a multiple of 16 (as TIFF requires), 512 unless the job asks otherwise.
inline constexpr int64_t default_tile = 512;

/// The halo each step's tile read needs: its op's halo (`op_halos[i]` for job.steps[i]) plus
/// the halo of the step it reads, added up along the path back to an input (a step of named
/// inputs, whose `in` is empty, reads inputs directly). Throws
/// tessera::Error at a step's `in` when it names neither an input nor an earlier step.
std::vector<int64_t> path_halos(const job::JobSpec& job, const std::vector<int64_t>& op_halos);

/// The tile grid for a raster: `tile` (or default_tile) cells square, each side clamped to the
/// raster's side rounded up to a multiple of 16, so that even a 1 x 1 raster gets a 16 x 16 tile.
/// Throws tessera::Error when `tile` is not a positive multiple of 16.
TileGrid choose_grid(Extent raster, std::optional<int64_t> tile);

/// Builds the plan. `inputs[i]` is the metadata of job.inputs[i]. Throws tessera::Error with the
/// job file position for what only metadata reveals (different grids, a band that does not exist).
Plan make_plan(const job::JobSpec& job, const std::vector<RasterInfo>& inputs);

}  // namespace tessera::plan
