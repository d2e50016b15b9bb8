// The metadata of a job's inputs, agreed on by every rank.
#include "tessera/run/probe.hpp"

#include "tessera/io/crs.hpp"
#include "tessera/io/raster_source.hpp"
#include "tessera/par/agreement.hpp"
#include "tessera/plan/plan.hpp"

namespace tessera::run {

std::vector<RasterInfo> probe_inputs(const job::JobSpec& job) {
  std::vector<RasterInfo> inputs;
  par::agreed([&] {
    io::init_gdal(plan::gdal_cache_bytes);
    for (const auto& input : job.inputs) inputs.push_back(io::probe(input.path, input.band));
    io::unify_crs(inputs);
  });
  return inputs;
}

}  // namespace tessera::run
