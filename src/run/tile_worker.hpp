// One thread's work on one tile: read with halo, run every step, hand every output band on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "pass.hpp"
#include "tessera/core/raster_view.hpp"
#include "tessera/io/raster_source.hpp"
#include "tessera/plan/plan.hpp"

namespace tessera::run {

/// The buffers, GDAL handles and encoders of one thread. Everything is allocated on the first
/// tile and reused for every later one; nothing here is shared between threads.
class TileWorker {
 public:
  explicit TileWorker(const plan::Plan& plan);

  /// Processes tile `tile`, putting each band of each output into `out` as a full tile, its
  /// cells past the raster's edge set to the step's nodata (or 0). Throws tessera::Error.
  void process(int64_t tile, TileOutlet& out);
  const PhaseTimes& times() const { return times_; }

 private:
  void read_inputs(Window grown);
  void read_bands(Window grown);
  Window compute_window(const plan::PlannedStep& step, Window owned) const;
  ops::TileIn tile_in(const plan::PlannedStep& step, Window owned, Window computed);
  void chained_cells(const plan::PlannedStep& step, Window owned, Window computed, ops::TileIn& in);
  ConstView<float> float_cells_of(size_t step);
  ConstView<int32_t> int_cells_of(size_t step);
  ConstView<std::byte> bytes_of(size_t step);
  void named_bands(const plan::PlannedStep& step, Window owned, Window computed, ops::TileIn& in);
  ops::TileOut tile_out(size_t step, Window owned, Window computed);
  void copy_owned(size_t step, Window owned);
  void run_steps(Window owned);
  void put_outputs(Window owned, TileOutlet& out);
  void pad_edges(size_t step, Window owned);

  const plan::Plan& plan_;
  std::vector<std::optional<io::RasterReader>> readers_;       // per input, opened on first use
  std::vector<Buffer<int32_t>> int_cells_;                     // per input
  std::vector<Buffer<float>> float_cells_;                     // per input
  std::vector<std::vector<Buffer<uint8_t>>> byte_out_;         // per step, per band
  std::vector<std::vector<Buffer<float>>> float_out_;          // per step, per band
  std::vector<std::vector<Buffer<std::byte>>> raw_out_;        // per step, per band: other types
  std::vector<std::optional<io::RasterReader>> band_readers_;  // per plan band
  std::vector<Buffer<std::byte>> band_cells_;                  // per plan band, its own type
  // Per step with a margin: its one band over grow(tile, margin) (Byte, Float32 or the raw
  // cells of other types); and per step read by another, its Byte cells converted to what the
  // reader wants.
  std::vector<Buffer<uint8_t>> wide_bytes_;
  std::vector<Buffer<float>> wide_floats_;
  std::vector<Buffer<std::byte>> wide_raw_;
  std::vector<Buffer<int32_t>> chain_ints_;
  std::vector<Buffer<float>> chain_floats_;
  Window grown_;
  PhaseTimes times_;
};

}  // namespace tessera::run
