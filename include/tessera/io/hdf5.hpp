// One HDF5 output written by every rank at once: parallel HDF5 over MPI-IO, chunk = tile,
// in the netCDF-4/CF layout GDAL's netCDF driver opens georeferenced.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "tessera/core/output_spec.hpp"

namespace tessera::io {

/// The writer every rank of the run holds for one HDF5 output. Every method is collective:
/// each rank calls it, in the same order, the same number of times, from its main thread (the
/// MPI build of HDF5 is not thread-safe).
///
/// The file holds `x` and `y` (cell-centre coordinates, dimension scales), a scalar `crs` with
/// the WKT and GDAL's GeoTransform, and one (y, x) dataset per band named after
/// spec.band_descriptions, of spec.type, chunked spec.tile_height x spec.tile_width (clipped to
/// the raster), with grid_mapping = "crs" and _FillValue = spec.nodata. COMPRESS=DEFLATE adds
/// shuffle + deflate at ZLEVEL; the chunks are then written by collective filtered writes.
class Hdf5Writer {
 public:
  /// Creates the file under a temporary name beside spec.path (the same name on every rank,
  /// registered for removal on a signal). Throws tessera::Error naming spec.path.
  explicit Hdf5Writer(const OutputSpec& spec);
  /// Without commit(): closes and removes the temporary file, so nothing is left at spec.path.
  ~Hdf5Writer();
  Hdf5Writer(const Hdf5Writer&) = delete;
  Hdf5Writer& operator=(const Hdf5Writer&) = delete;

  /// This rank's part of one collective write to band `band` (0-based): tile `tile` (row-major
  /// index in the tile grid), from `cells`, a full tile_width x tile_height tile of spec.type,
  /// row-major; the cells past the raster's edge are not written.
  void write_tile(int band, int64_t tile, std::span<const std::byte> cells);
  /// This rank's part of one collective write to band `band` when it has no tile to give.
  void join_round(int band);
  /// Closes the file and renames it to spec.path (rank 0). Throws tessera::Error on failure.
  void commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::io
