// The HDF5 chunk sink: DEFLATE chunks made on every thread, stored by one process on rank 0.
#include "ordered_sink.hpp"
#include "sinks.hpp"
#include "tessera/io/hdf5.hpp"

namespace tessera::run {

/// Each thread shuffles and deflates its tiles into chunks with its own io::Hdf5ChunkEncoder,
/// as HDF5's filters would; rank 0's io::Hdf5ChunkWriter, a file it makes alone (no MPI-IO),
/// stores them as they are (H5Dwrite_chunk) in tile order. Parallel HDF5 filters only inside
/// collective writes, on one thread a rank: this way every thread compresses.
std::unique_ptr<Sink> hdf5_chunk_sink(const OutputSpec& spec) {
  return std::make_unique<OrderedFileSink<io::Hdf5ChunkEncoder, io::Hdf5ChunkWriter>>(spec);
}

}  // namespace tessera::run
