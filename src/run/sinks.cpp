// The choice of sink: compressed outputs go through rank 0 in order; uncompressed ones are
// written where they were computed.
#include "sinks.hpp"

namespace tessera::run {

namespace {

/// Compressed HDF5 goes the GeoTIFF way: parallel HDF5 would deflate on one thread a rank.
/// In place needs every rank to see the file the writer made: one node.
std::unique_ptr<Sink> sink_of(const OutputSpec& spec, bool one_node) {
  if (spec.format == OutputFormat::Table) return zone_table_sink(spec);
  if (spec.format == OutputFormat::Cog || spec.options.overview_count.value_or(0) > 0)
    return cog_sink(spec);
  const bool compressed = spec.options.compression != Compression::None;
  if (spec.format == OutputFormat::Hdf5)
    return compressed ? hdf5_chunk_sink(spec) : parallel_hdf5_sink(spec);
  return one_node && !compressed ? in_place_geotiff_sink(spec) : ordered_geotiff_sink(spec);
}

}  // namespace

Sinks output_sinks(const std::vector<OutputSpec>& specs, bool one_node) {
  Sinks sinks;
  for (const auto& spec : specs) sinks.push_back(sink_of(spec, one_node));
  return sinks;
}

}  // namespace tessera::run
