// The metadata of a job's inputs, read by every rank before a plan exists.
#pragma once

#include <vector>

#include "tessera/core/raster_info.hpp"
#include "tessera/job/job_spec.hpp"

namespace tessera::run {

/// Opens each input (each rank itself) and returns the metadata of the band it names, in the
/// order of job.inputs. Collective: every rank returns the same, or every rank throws.
std::vector<RasterInfo> probe_inputs(const job::JobSpec& job);

}  // namespace tessera::run
