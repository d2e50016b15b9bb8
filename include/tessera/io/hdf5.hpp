// One HDF5 output written by every rank at once: parallel HDF5 over MPI-IO, chunk = tile,
// in the netCDF-4/CF layout GDAL's netCDF driver opens georeferenced.
#pragma once

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tessera/core/output_spec.hpp"
#include "tessera/io/temporary_files.hpp"

struct libdeflate_compressor;

namespace tessera::io {

/// What the processes writing one file in parallel agreed on; the caller gives it (io makes no
/// MPI call of its own: HDF5 takes the communicator and its hints).
struct Hdf5Share {
  MPI_Comm communicator = MPI_COMM_NULL;
  MPI_Info info = MPI_INFO_NULL;
  bool root = true;       ///< this process writes the coordinates and places the file
  std::string temporary;  ///< the file's temporary name, the same on every process
  /// Collective: runs a step and agrees on its outcome: every process returns, or every process
  /// throws (par::agreed). Making the file agrees on each step one process may fail alone before
  /// the next collective call, so that no process is left waiting in one. Null: one process.
  std::function<void(const std::function<void()>&)> agreed;
  /// Whether the root reserves the file's bytes while making it (see Hdf5Writer::reserve).
  bool reserve = true;
};

/// One band-tile of an output: band `band` (from 0) of tile `tile`.
struct BandTile {
  int band = 0;
  int64_t tile = 0;
};

/// The writer every rank of the run holds for one HDF5 output. Every method is collective:
/// each rank calls it, in the same order, the same number of times, from its main thread (the
/// MPI build of HDF5 is not thread-safe).
///
/// The file holds `x` and `y` (cell-centre coordinates, dimension scales), a scalar `crs` with
/// the WKT and GDAL's GeoTransform, and one (y, x) dataset per band named after
/// spec.band_descriptions, of spec.type, chunked spec.tile_height x spec.tile_width (clipped to
/// the raster), with grid_mapping = "crs" and _FillValue = spec.nodata. COMPRESS=DEFLATE adds
/// shuffle + deflate at ZLEVEL; the chunks are then written by collective filtered writes,
/// compressed on each rank's main thread (runs send compressed outputs through
/// Hdf5ChunkWriter instead). Unfiltered, the cells go by independent writes into chunks
/// allocated when the file is made, so the file's bytes do not depend on the ranks.
class Hdf5Writer {
 public:
  /// Creates the file at share.temporary (registered for removal on a signal) over
  /// share.communicator. Throws tessera::Error naming spec.path, on every process at once
  /// (share.agreed). A file that failed while being made is forsaken, not closed: its HDF5
  /// identifiers stay open (closing would flush, collectively, to the disk that failed it, and a
  /// process whose flush failed left the others waiting), its temporary is removed, and the
  /// process must end without MPI_Finalize, in which HDF5 closes every file left open.
  Hdf5Writer(const OutputSpec& spec, const Hdf5Share& share);
  /// Without commit(): discards and closes the file if the caller has not, and removes it, so
  /// nothing is left at spec.path. Closing is HDF5's collective close: in parallel, give the file
  /// up with discard() and close() first, on every rank.
  ~Hdf5Writer();
  Hdf5Writer(const Hdf5Writer&) = delete;
  Hdf5Writer& operator=(const Hdf5Writer&) = delete;

  /// This rank's part of one collective write to band `band` (0-based): tile `tile` (row-major
  /// index in the tile grid), from `cells`, a full tile_width x tile_height tile of spec.type,
  /// row-major; the cells past the raster's edge are not written.
  void write_tile(int band, int64_t tile, std::span<const std::byte> cells);
  /// This rank's part of one collective write to band `band` when it has no tile to give.
  void join_round(int band);
  /// Not collective; the root only, before any tile is written: copies the chunks of `chunks`
  /// byte for byte from `from`, a file an interrupted run made with the same layout (chunks
  /// allocated when the file is made lie at the same places), and makes them durable.
  void copy_chunks(const std::string& from, const std::vector<BandTile>& chunks);
  /// Not collective: makes the tiles this process wrote durable (fdatasync through a descriptor
  /// of its own: MPI-IO's independent writes are the system's by then).
  void sync();
  /// Not collective; the root only: reserves the file's bytes on disk (fallocate, where the file
  /// system has it), so that no later write fails on one process alone for a full disk. Done
  /// while the file is made unless share.reserve is false. Throws tessera::Error naming spec.path.
  void reserve();
  /// Collective: closes the file and leaves it, unfinished, at its temporary name.
  void keep() noexcept;
  /// Giving the file up without closing it, after a failure the processes agreed on: its HDF5
  /// identifiers stay open (as when making it failed: see the constructor), and the process must
  /// end without MPI_Finalize. With `keep_file`, the file stays at its temporary name, as a kill
  /// leaves it (the tiles made durable in it are the next --resume's); otherwise it is removed.
  void forsake(bool keep_file) noexcept;
  /// Closes the file and renames it to spec.path (the root). Throws tessera::Error on failure.
  void commit();
  /// Giving the file up, on the root before any process closes it: drops the file's bytes, so
  /// that closing writes nothing to a disk that may have failed the run by being full.
  void discard() noexcept;
  /// Giving the file up, on every process after the root discarded: closes the file (HDF5's
  /// collective close); the writer's destruction then removes it.
  void close() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Compresses band-tiles into the chunks of a COMPRESS=DEFLATE HDF5 output, as HDF5's shuffle
/// and deflate filters would store them, on any thread: the cells' bytes shuffled, then a zlib
/// stream at ZLEVEL made by libdeflate (as GDAL's GeoTIFF DEFLATE is; twice zlib's speed here),
/// which HDF5's deflate filter inflates. One encoder per thread; its buffers are allocated once
/// and reused.
class Hdf5ChunkEncoder {
 public:
  explicit Hdf5ChunkEncoder(const OutputSpec& spec);
  /// The chunk of a full tile_width x tile_height tile of spec.type cells, row-major (edge tiles
  /// padded by the caller): the tile, cut to the raster's size when the raster is smaller than
  /// a tile. The bytes stay valid until the next call.
  std::span<const std::byte> encode(const void* cells);

 private:
  OutputSpec spec_;
  int64_t chunk_width_;
  int64_t chunk_height_;
  std::vector<std::byte> chunk_;
  std::vector<std::byte> shuffled_;
  std::vector<std::byte> compressed_;
  struct FreeCompressor {
    void operator()(libdeflate_compressor* compressor) const;
  };
  std::unique_ptr<libdeflate_compressor, FreeCompressor> compressor_;
};

/// Rank 0's writer of a COMPRESS=DEFLATE HDF5 output: the file Hdf5Writer makes, made by this
/// process alone (no MPI-IO), whose chunks arrive compressed (Hdf5ChunkEncoder) and are stored
/// as they are (H5Dwrite_chunk), in the order given. Not collective; main thread only.
/// How a Hdf5ChunkWriter continues an interrupted run's file: the chunks `written` (in the order
/// written: tile by tile, band by band within a tile) are read from `from` and stored again in a
/// new file, as that run stored them, so the new file is that run's up to there.
struct Hdf5ChunkResume {
  std::string from;
  std::vector<ByteRange> written;
  std::vector<int64_t> tiles;  ///< the tile of each whole tile `written` holds, in order
};

class Hdf5ChunkWriter {
 public:
  /// Creates the file under a temporary name beside spec.path (temporary_path(spec.path, id)),
  /// with `resume`'s chunks in it when given. Throws tessera::Error naming spec.path.
  Hdf5ChunkWriter(const OutputSpec& spec, int64_t id, const Hdf5ChunkResume* resume = nullptr);
  explicit Hdf5ChunkWriter(const OutputSpec& spec);
  /// Without commit(): closes and removes the temporary file.
  ~Hdf5ChunkWriter();
  Hdf5ChunkWriter(const Hdf5ChunkWriter&) = delete;
  Hdf5ChunkWriter& operator=(const Hdf5ChunkWriter&) = delete;

  /// Stores `chunk` (from Hdf5ChunkEncoder) as tile `tile` of band `band` (both from 0); returns
  /// where it lies in the file.
  ByteRange write_tile(int band, int64_t tile, std::span<const std::byte> chunk);
  /// Makes the chunks stored so far durable (fdatasync).
  void sync();
  /// Closes the file and leaves it, unfinished, at its temporary name.
  void keep() noexcept;
  /// Closes the file and moves it into place at spec.path.
  void commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::io
