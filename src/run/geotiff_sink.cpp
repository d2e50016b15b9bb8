// The ordered GeoTIFF sink: libtiff's codecs on every thread, one file appended on rank 0.
#include "ordered_sink.hpp"
#include "sinks.hpp"
#include "tessera/io/geotiff.hpp"

namespace tessera::run {

/// Each thread encodes with its own io::TileEncoder (the file's compression, predictor and
/// level); rank 0's io::GeoTiffWriter appends the encoded tiles (TIFFWriteRawTile) in tile
/// order.
std::unique_ptr<Sink> ordered_geotiff_sink(const OutputSpec& spec) {
  return std::make_unique<OrderedFileSink<io::TileEncoder, io::GeoTiffWriter>>(spec);
}

}  // namespace tessera::run
