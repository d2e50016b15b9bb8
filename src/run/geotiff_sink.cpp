// The ordered GeoTIFF sink: libtiff's codecs on every thread, one file appended on rank 0.
#include <filesystem>

#include "ordered_sink.hpp"
#include "sinks.hpp"
#include "tessera/io/geotiff.hpp"

namespace tessera::run {

size_t make_file(std::optional<io::GeoTiffWriter>& file, const OutputSpec& spec, int64_t id,
                 const OrderedResume* resume) {
  const bool there = std::filesystem::exists(io::temporary_path(spec.path, id));
  if (!resume || resume->written.empty() || !there) {
    file.emplace(spec, id);
    return 0;
  }
  const io::GeoTiffResume take_up{resume->prefix_bytes, resume->written, resume->tiles};
  file.emplace(spec, id, &take_up);
  return resume->written.size();
}

/// Each thread encodes with its own io::TileEncoder (the file's compression, predictor and
/// level); rank 0's io::GeoTiffWriter appends the encoded tiles (TIFFWriteRawTile) in tile
/// order.
std::unique_ptr<Sink> ordered_geotiff_sink(const OutputSpec& spec) {
  return std::make_unique<OrderedFileSink<io::TileEncoder, io::GeoTiffWriter>>(spec);
}

}  // namespace tessera::run
