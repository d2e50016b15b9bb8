// The HDF5 chunk sink: DEFLATE chunks made on every thread, stored by one process on rank 0.
#include <cstdio>

#include "ordered_sink.hpp"
#include "sinks.hpp"
#include "tessera/io/hdf5.hpp"

namespace tessera::run {

/// A new file, into which the chunks the interrupted run's file holds are copied first; that
/// file is removed once they are durable in the new one.
size_t make_file(std::optional<io::Hdf5ChunkWriter>& file, const OutputSpec& spec, int64_t id,
                 const OrderedResume* resume) {
  const std::string from =
      resume && !resume->written.empty() ? io::set_aside_for_resume(spec.path, id) : "";
  if (from.empty()) {
    file.emplace(spec, id);
    return 0;
  }
  const io::Hdf5ChunkResume copy{from, resume->written, resume->tiles};
  file.emplace(spec, id, &copy);
  std::remove(from.c_str());
  return resume->written.size();
}

/// Each thread shuffles and deflates its tiles into chunks with its own io::Hdf5ChunkEncoder,
/// as HDF5's filters would; rank 0's io::Hdf5ChunkWriter, a file it makes alone (no MPI-IO),
/// stores them as they are (H5Dwrite_chunk) in tile order. Parallel HDF5 filters only inside
/// collective writes, on one thread a rank: this way every thread compresses.
std::unique_ptr<Sink> hdf5_chunk_sink(const OutputSpec& spec) {
  return std::make_unique<OrderedFileSink<io::Hdf5ChunkEncoder, io::Hdf5ChunkWriter>>(spec);
}

}  // namespace tessera::run
