// One thread's work on one tile: read with halo, run every step, encode every output band.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "tessera/core/tile_buffer.hpp"
#include "tessera/io/geotiff.hpp"
#include "tessera/io/hdf5.hpp"
#include "tessera/io/raster_source.hpp"
#include "tessera/plan/plan.hpp"

namespace tessera::run {

/// Seconds one thread spent in each phase.
struct PhaseTimes {
  double read = 0;
  double compute = 0;
  double encode = 0;
};

/// Where each output band lives in the sequence of encoded band-tiles: key = tile * bands() + slot.
class BandSlots {
 public:
  explicit BandSlots(const plan::Plan& plan);
  int64_t bands() const { return static_cast<int64_t>(slots_.size()); }
  /// The output index and its 0-based band for slot `slot`.
  std::pair<size_t, int> at(int64_t slot) const { return slots_[static_cast<size_t>(slot)]; }

 private:
  std::vector<std::pair<size_t, int>> slots_;
};

/// Where one thread puts the band-tiles of the tiles it processes: into `encoded[slot]`, for the
/// main thread to send, order or write collectively; or, for slots with a file, straight into
/// that in-place output with pwrite (safe from any thread), without another copy.
class BandTiles {
 public:
  /// The file and band of an in-place slot; file null for the other slots.
  struct InPlace {
    io::TileFile* file = nullptr;
    int band = 0;
  };
  /// `in_place` (per slot, may be shorter than the slots) must outlive this.
  explicit BandTiles(const std::vector<InPlace>& in_place) : in_place_(&in_place) {}
  /// The vectors (one per slot) that the next tile's other band-tiles go to.
  void use(std::vector<std::vector<std::byte>>& encoded) { encoded_ = &encoded; }

  /// Band-tile `slot` of tile `tile` is `bytes`. Throws tessera::Error if writing fails.
  void put(size_t slot, int64_t tile, std::span<const std::byte> bytes);
  /// Seconds spent writing in place and the bytes written, so far.
  double write_seconds() const { return write_seconds_; }
  int64_t bytes_written() const { return bytes_written_; }

 private:
  std::vector<std::vector<std::byte>>* encoded_ = nullptr;
  const std::vector<InPlace>* in_place_;
  double write_seconds_ = 0;
  int64_t bytes_written_ = 0;
};

/// The buffers, GDAL handles and encoders of one thread. Everything is allocated on the first
/// tile and reused for every later one; nothing here is shared between threads.
class TileWorker {
 public:
  explicit TileWorker(const plan::Plan& plan);

  /// Processes tile `tile`, putting the bytes of each output band-tile into `out`: encoded
  /// for GeoTIFF outputs, the raw full tile (edges padded) for HDF5 outputs, which are written
  /// by collective writes on the main thread. Throws tessera::Error on failure.
  void process(int64_t tile, BandTiles& out);
  const PhaseTimes& times() const { return times_; }

 private:
  void read_inputs(Window grown);
  void read_tile(io::RasterReader& reader, TileBuffer& buffer, Window grown);
  Window compute_window(const plan::PlannedStep& step, Window owned) const;
  ops::TileIn tile_in(const plan::PlannedStep& step, Window owned, Window computed);
  void chained_cells(const plan::PlannedStep& step, Window owned, Window computed, ops::TileIn& in);
  void named_bands(const plan::PlannedStep& step, Window owned, Window computed, ops::TileIn& in);
  BandView input_cells(size_t input, ops::CellType cells);
  BandView step_band(size_t step);
  BandView step_cells(size_t step, ops::CellType cells);
  ops::TileOut tile_out(size_t step, Window owned, Window computed);
  void copy_owned(size_t step, Window owned);
  void run_steps(Window owned);
  void encode_outputs(int64_t tile, Window owned, BandTiles& out);
  void pad_edges(size_t step, Window owned);

  const plan::Plan& plan_;
  std::vector<std::optional<io::RasterReader>> readers_;  // per input, opened on first use
  // Per input, per cell type (CellType's order) steps read it as: its tile grown by the halo.
  std::vector<std::array<TileBuffer, 2>> input_cells_;
  std::vector<std::optional<io::RasterReader>> band_readers_;  // per plan band
  std::vector<TileBuffer> band_cells_;        // per plan band: its tile grown by the halo, own type
  std::vector<std::vector<TileBuffer>> out_;  // per step, per band: the tile encoders read
  std::vector<TileBuffer> wide_;  // per step with a margin: its one band over grow(tile, margin)
  // Per step, per cell type: its one band converted to the cells the steps reading it want,
  // when its type is not that already.
  std::vector<std::array<TileBuffer, 2>> chain_;
  std::vector<std::optional<io::TileEncoder>> encoders_;             // per GeoTIFF output
  std::vector<std::optional<io::Hdf5ChunkEncoder>> chunk_encoders_;  // per compressed HDF5 one
  PhaseTimes times_;
};

}  // namespace tessera::run
