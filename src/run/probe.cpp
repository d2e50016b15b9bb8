// The metadata of a job's inputs, agreed on by every rank.
#include "tessera/run/probe.hpp"

#include <algorithm>

#include "tessera/core/error.hpp"
#include "tessera/io/crs.hpp"
#include "tessera/io/polygon_zones.hpp"
#include "tessera/io/raster_source.hpp"
#include "tessera/par/agreement.hpp"
#include "tessera/plan/plan.hpp"

namespace tessera::run {

std::vector<RasterInfo> probe_inputs(const job::JobSpec& job) {
  // GeoTIFF outputs can take the inputs' CRS as their GeoTIFF keys; HDF5 ones need its WKT, and
  // zonal tables too (to reproject polygons into it).
  const bool wkt = std::any_of(job.outputs.begin(), job.outputs.end(), [](const auto& output) {
    return output.format == OutputFormat::Hdf5 || output.format == OutputFormat::Table;
  });
  const io::CrsForm form = wkt ? io::CrsForm::Wkt : io::CrsForm::GeoKeys;
  std::vector<RasterInfo> inputs;
  const Phase probing("probing the inputs");
  par::agreed([&] {
    io::init_gdal(plan::gdal_cache_bytes);
    for (const auto& input : job.inputs) {
      try {
        inputs.push_back(io::probe(input.path, input.band, form));
      } catch (const Error& e) {
        job::fail_at(input.path_where, e.what());
      }
    }
    io::settle_crs(inputs);
    // A zonal table's zones: a raster or a vector file that opens, before any output is made.
    for (const auto& output : job.outputs) {
      if (!output.table) continue;
      const std::string& zones = output.table->zones;
      try {
        if (!io::is_vector_file(zones)) io::probe(zones, output.table->zones_band);
      } catch (const Error& e) {
        job::fail_at(output.zones_where, e.what());
      }
    }
  });
  return inputs;
}

}  // namespace tessera::run
