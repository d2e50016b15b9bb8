// One tiled GeoTIFF written from tiles compressed elsewhere: encoders on every rank, one writer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tessera/core/output_spec.hpp"
#include "tessera/io/temporary_files.hpp"

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
  /// padded by the caller). The returned bytes stay valid until the next call; uncompressed,
  /// they are `cells` themselves.
  std::span<const std::byte> encode(const void* cells);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Where the band-tiles of an uncompressed GeoTIFF lie: tile by tile, the bands of a tile one
/// after the other (the order in which ordered outputs are appended), from byte `first`.
struct TileLayout {
  int64_t first = 0;
  int64_t tile_bytes = 0;
  int64_t tiles_per_band = 0;
  int bands = 1;

  /// The first byte of band `band` of tile `tile`.
  int64_t at(int band, int64_t tile) const { return first + (tile * bands + band) * tile_bytes; }
};

/// How a GeoTiffWriter takes up the temporary file an interrupted run left (journal.hpp): its
/// first `prefix_bytes` (the empty file GDAL made) and then, band-tile after band-tile in the
/// order they were appended, `written` are on disk and stay; anything after them is cut off.
/// With `written` empty, the tiles are laid out in advance (reserve_tiles) and stay as they are.
struct GeoTiffResume {
  int64_t prefix_bytes = 0;
  std::vector<ByteRange> written;
  std::vector<int64_t> tiles;  ///< the tile of each whole tile `written` holds, in order
};

/// One process's way into a GeoTIFF whose tiles GeoTiffWriter::reserve_tiles() laid out: writes
/// uncompressed band-tiles in place (pwrite), so that every rank writes its own tiles at once.
class TileFile {
 public:
  /// Opens `path` (the writer's temporary file) for writing; `label` names it in errors.
  TileFile(const std::string& path, const std::string& label, TileLayout layout);
  ~TileFile();
  TileFile(const TileFile&) = delete;
  TileFile& operator=(const TileFile&) = delete;

  /// Writes band-tile `tile` of band `band` (both from 0); throws tessera::Error, with what the
  /// system said (a full disk, say), on failure.
  void write(int band, int64_t tile, std::span<const std::byte> bytes);
  /// Makes what was written durable (fdatasync); throws tessera::Error on failure.
  void sync();

 private:
  std::string label_;
  TileLayout layout_;
  int fd_ = -1;
};

/// The single writer of one output. Creates the file under a temporary name beside the final
/// path; commit() closes it and renames it into place. Destroyed without commit(), it removes
/// the temporary file, so a failed run leaves nothing at the final path.
class GeoTiffWriter {
 public:
  /// The temporary name is temporary_path(spec.path, id). With `resume`, the file already at
  /// that name is taken up as it says instead of made anew.
  GeoTiffWriter(const OutputSpec& spec, int64_t id, const GeoTiffResume* resume = nullptr);
  explicit GeoTiffWriter(const OutputSpec& spec);
  ~GeoTiffWriter();
  GeoTiffWriter(const GeoTiffWriter&) = delete;
  GeoTiffWriter& operator=(const GeoTiffWriter&) = delete;

  /// The bytes of the empty file this writer starts from (its directory: size, tiling,
  /// compression, georeferencing, nodata, band descriptions), made under the output's temporary
  /// name and removed again, for a writer that lays the file out itself.
  static std::vector<std::byte> empty_file(const OutputSpec& spec);

  /// For an uncompressed output, before any write_tile: has libtiff record where every
  /// band-tile will lie, as if written in order, without writing their bytes, so that any
  /// process can then write them in place through a TileFile. Throws if the layout is not one
  /// tile after the other.
  TileLayout reserve_tiles();
  /// The file being written (renamed to the output's path by commit()).
  const std::string& temporary_path() const;

  /// The bytes of the empty file, before any tile (GeoTiffResume::prefix_bytes).
  int64_t prefix_bytes() const;

  /// Appends the encoded bytes of tile `tile` (row-major index in the tile grid) of band `band`
  /// (0-based). Tiles of a band are planes (INTERLEAVE=BAND). Returns where they went. Throws
  /// tessera::Error on failure.
  ByteRange write_tile(int band, int64_t tile, std::span<const std::byte> encoded);
  /// Makes every byte written so far durable (fdatasync). Throws tessera::Error on failure.
  void sync();
  /// Leaves the file, unfinished, at its temporary name for a later run to take up: closes it
  /// without libtiff writing its directory, and no longer removes it.
  void keep() noexcept;
  /// Finishes the file and renames it to its final path. Throws tessera::Error on failure.
  void commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The single writer of a GeoTIFF with overviews inside, laid out as GDAL's COG driver lays one
/// out: a ghost header (COG only), every directory and tile array before any tile, the coarsest
/// overview's tiles first and the full resolution's last, each tile between a 4-byte leader (its
/// size) and a trailer (its last 4 bytes again). Full-resolution tiles go to the temporary file
/// as they come; overview tiles to a spool file with no name. commit() has the file system
/// insert room for the directories and overviews before the full resolution (Linux's
/// FALLOC_FL_INSERT_RANGE: ext4, XFS), or copies the full resolution after them where it cannot,
/// then renames the file into place. Destroyed without commit(), it leaves nothing.
class CogWriter {
 public:
  /// `levels` overview levels, each halving the one beneath (the tile size stays).
  CogWriter(const OutputSpec& spec, int levels);
  ~CogWriter();
  CogWriter(const CogWriter&) = delete;
  CogWriter& operator=(const CogWriter&) = delete;

  /// Appends band `band` of full-resolution tile `tile`; the file keeps the order of the calls.
  void write_tile(int band, int64_t tile, std::span<const std::byte> encoded);
  /// Stores band `band` of tile `tile` of overview level `level` (from 1), in any order.
  void write_overview_tile(int level, int band, int64_t tile, std::span<const std::byte> encoded);
  /// Lays the file out and renames it into place. Throws tessera::Error when a tile is missing
  /// or a write fails.
  void commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::io
