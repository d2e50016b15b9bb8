// One thread's work on one tile: read with halo, run every step, hand every output band on.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "pass.hpp"
#include "tessera/core/tile_buffer.hpp"
#include "tessera/io/raster_source.hpp"
#include "tessera/plan/plan.hpp"

namespace tessera::run {

/// One tile buffer per ops::CellType, in its order.
using CellBuffers = std::array<TileBuffer, 3>;

/// The buffers and GDAL handles of one thread. Everything is allocated on the first
/// tile and reused for every later one; nothing here is shared between threads.
class TileWorker {
 public:
  /// A worker of the streaming pass `pass` of `plan` (both must outlive it).
  TileWorker(const plan::Plan& plan, const plan::Pass& pass);
  /// Processes tile `tile`, putting each band of each output into `out` as a full tile, its
  /// cells past the raster's edge set to the step's nodata (or 0). Throws tessera::Error.
  /// Output k of `out` is the pass's k-th output.
  void process(int64_t tile, TileOutlet& out);
  const PhaseTimes& times() const { return times_; }

 private:
  void read_inputs(Window grown);
  void read_tile(io::RasterReader& reader, TileBuffer& buffer, Window grown);
  void refuse_float32_misreads(size_t input, Window grown);
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
  void put_outputs(Window owned, TileOutlet& out);
  void pad_edges(size_t step, Window owned);

  const plan::Plan& plan_;
  const plan::Pass& pass_;
  std::vector<std::optional<io::RasterReader>> readers_;  // per input, opened on first use
  // Per input, per cell type (CellType's order) steps read it as: its tile grown by the halo.
  std::vector<CellBuffers> input_cells_;
  std::vector<std::optional<io::RasterReader>> band_readers_;  // per plan band
  std::vector<bool> band_read_;               // per plan band: whether a step of the pass reads it
  std::vector<TileBuffer> band_cells_;        // per plan band: its tile grown by the halo, own type
  std::vector<std::vector<TileBuffer>> out_;  // per step, per band: the tile the sinks take
  std::vector<TileBuffer> wide_;  // per step with a margin: its one band over grow(tile, margin)
  // Per step, per cell type: its one band converted to the cells the steps reading it want,
  // when its type is not that already.
  std::vector<CellBuffers> chain_;
  TileBuffer wide_check_{PixelType::Float64, 0, 0};  // a Float64 input read again, exactly
  PhaseTimes times_;
};

}  // namespace tessera::run
