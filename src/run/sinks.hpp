// The sinks of a plan's outputs, one per output, chosen by format, compression and placement.
#pragma once

#include <memory>
#include <vector>

#include "sink.hpp"
#include "tessera/core/output_spec.hpp"

namespace tessera::run {

/// A GeoTIFF (geotiff_sink.cpp), or a COMPRESS=DEFLATE HDF5 file (hdf5_chunk_sink.cpp),
/// encoded by every rank's threads and written in tile order by rank 0 (ordered_sink.hpp).
std::unique_ptr<Sink> ordered_geotiff_sink(const OutputSpec& spec);
std::unique_ptr<Sink> hdf5_chunk_sink(const OutputSpec& spec);

/// An uncompressed GeoTIFF whose tiles every rank writes in place, at offsets rank 0 reserved:
/// only for ranks that share one file system view (one node) (in_place_sink.cpp).
std::unique_ptr<Sink> in_place_geotiff_sink(const OutputSpec& spec);

/// An uncompressed HDF5 file every rank writes its own tiles of, over MPI-IO, in lock-step
/// rounds (hdf5_sink.cpp).
std::unique_ptr<Sink> parallel_hdf5_sink(const OutputSpec& spec);

/// A zonal statistics table (OutputFormat::Table): each band's statistics per zone, the table
/// written by rank 0 at commit (zonal.cpp).
std::unique_ptr<Sink> zone_table_sink(const OutputSpec& spec);

/// A COG, or a GeoTIFF with overviews: encoded and halved into overviews by every rank's
/// threads, written by rank 0 (cog_sink.cpp).
std::unique_ptr<Sink> cog_sink(const OutputSpec& spec);

/// The sink of each output, in order. `one_node`: every rank runs on one node.
Sinks output_sinks(const std::vector<OutputSpec>& specs, bool one_node);

}  // namespace tessera::run
