// The plan of a run: pure arithmetic from a JobSpec and its inputs' metadata, no MPI, no pixels.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tessera/core/geometry.hpp"
#include "tessera/core/output_spec.hpp"
#include "tessera/core/raster_info.hpp"
#include "tessera/job/job_spec.hpp"
#include "tessera/ops/op.hpp"

namespace tessera::plan {

struct PlannedStep {
  std::string id;
  std::string op;
  std::shared_ptr<const ops::Op> impl;
  size_t input = 0;         ///< index into Plan::inputs
  ops::CellType cells{};    ///< the cell type the op reads its input as
};

struct PlannedOutput {
  OutputSpec spec;
  std::vector<size_t> steps;  ///< index into Plan::steps, one per band group, in band order
};

struct Plan {
  std::vector<RasterInfo> inputs;
  std::vector<PlannedStep> steps;
  std::vector<PlannedOutput> outputs;
  TileGrid grid;
  int64_t halo = 0;  ///< the largest halo any tile read needs

  /// Bytes each thread allocates once for its tile buffers (inputs, outputs, encoders).
  int64_t bytes_per_thread() const;
  /// A readable description: grid, tiles, halo, ranks x threads, memory per rank.
  std::string describe(int ranks, int threads) const;
};

/// Default tile size: a multiple of 16 (as TIFF requires), 512 unless the job asks otherwise.
inline constexpr int64_t default_tile = 512;

/// Builds the plan. `inputs[i]` is the metadata of job.inputs[i]. Throws tessera::Error with the
/// job file position for what only metadata reveals (different grids, a band that does not exist).
Plan make_plan(const job::JobSpec& job, const std::vector<RasterInfo>& inputs);

}  // namespace tessera::plan
