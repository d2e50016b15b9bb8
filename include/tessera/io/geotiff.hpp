// One tiled GeoTIFF written from tiles compressed elsewhere: encoders on every rank, one writer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tessera/core/output_spec.hpp"

namespace tessera::io {

using tessera::OutputSpec;

/// Compresses one band-tile exactly as the output file's directory says (compression,
/// predictor, level). One encoder per thread; its buffers are allocated once and reused.
class TileEncoder {
 public:
  explicit TileEncoder(const OutputSpec& spec);
  ~TileEncoder();
  TileEncoder(TileEncoder&&) noexcept;
  TileEncoder& operator=(TileEncoder&&) noexcept;

  /// Encodes a full tile_width x tile_height tile of `spec.type` cells, row-major (edge tiles
  /// padded by the caller). The returned bytes stay valid until the next call.
  std::span<const std::byte> encode(const void* cells);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The single writer of one output. Creates the file under a temporary name beside the final
/// path; commit() closes it and renames it into place. Destroyed without commit(), it removes
/// the temporary file, so a failed run leaves nothing at the final path.
class GeoTiffWriter {
 public:
  explicit GeoTiffWriter(const OutputSpec& spec);
  ~GeoTiffWriter();
  GeoTiffWriter(const GeoTiffWriter&) = delete;
  GeoTiffWriter& operator=(const GeoTiffWriter&) = delete;

  /// Appends the encoded bytes of tile `tile` (row-major index in the tile grid) of band `band`
  /// (0-based). Tiles of a band are planes (INTERLEAVE=BAND). Throws tessera::Error on failure.
  void write_tile(int band, int64_t tile, std::span<const std::byte> encoded);
  /// Finishes the file and renames it to its final path. Throws tessera::Error on failure.
  void commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::io
