// One thread's work on one tile: read with halo, run every step, hand every output band to the
// pass's sinks.
#include "tile_worker.hpp"

#include "stopwatch.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <span>
#include <type_traits>

#include <fmt/core.h>

namespace tessera::run {

namespace {

/// Whether a step of `pass` reads input `input` as `cells`.
bool step_reads(const plan::Plan& plan, const plan::Pass& pass, size_t input, ops::CellType cells) {
  for (size_t s : pass.steps) {
    const plan::PlannedStep& step = plan.steps[s];
    if (step.reads_input_cells() && step.input == input && step.cells == cells) return true;
  }
  return false;
}

/// The index of `cells` in the per-cell-type arrays: CellType's order, Int32, Float32, Float64.
size_t index_of(ops::CellType cells) { return static_cast<size_t>(cells); }
static_assert(static_cast<int>(ops::CellType::Int32) == 0 &&
              static_cast<int>(ops::CellType::Float32) == 1 &&
              static_cast<int>(ops::CellType::Float64) == 2);

/// Buffers of width x height cells of each cell type, in CellType's order (nothing is allocated
/// before a buffer's first view()).
CellBuffers cell_buffers(int64_t width, int64_t height) {
  return {TileBuffer(PixelType::Int32, width, height),
          TileBuffer(PixelType::Float32, width, height),
          TileBuffer(PixelType::Float64, width, height)};
}

/// A band of Int32, Float32 or Float64 cells as TileIn::cells holds it.
decltype(ops::TileIn::cells) cells_of(const BandView& band) {
  if (band.type() == PixelType::Int32) return ConstView<int32_t>(band.as<int32_t>());
  if (band.type() == PixelType::Float64) return ConstView<double>(band.as<double>());
  return ConstView<float>(band.as<float>());
}

/// Sets the cells of a full tile buffer that lie outside `width` x `height` to the nodata value
/// (0 without one), so that the padding of edge tiles is the same whichever tile it held before.
void fill_outside(const BandView& tile, int64_t width, int64_t height,
                  const std::optional<double>& nodata) {
  visit(tile.type(), [&]<class T>(std::type_identity<T>) {
    const View<T> cells = tile.as<T>();
    const T fill = nodata ? static_cast<T>(*nodata) : T{0};
    for (int64_t y = 0; y < cells.height(); ++y)
      std::fill(cells.row(y) + (y < height ? width : 0), cells.row(y) + cells.width(), fill);
  });
}

/// `from` into `to`, of the same size, each cell converted by static_cast: exact for the
/// conversions a chain makes (Byte cells to Int32, Float32 or Float64; Float64 cells rounded to
/// Float32 as GDAL rounds them).
void convert_cells(const BandView& from, const BandView& to) {
  visit(from.type(), [&]<class F>(std::type_identity<F>) {
    visit(to.type(), [&]<class T>(std::type_identity<T>) {
      const View<F> source = from.as<F>();
      const View<T> target = to.as<T>();
      for (int64_t y = 0; y < source.height(); ++y)
        std::copy_n(source.row(y), source.width(), target.row(y));
    });
  });
}

}  // namespace

TileWorker::TileWorker(const plan::Plan& plan, const plan::Pass& pass)
    : plan_(plan),
      pass_(pass),
      readers_(plan.inputs.size()),
      input_cells_(plan.inputs.size(), cell_buffers(0, 0)),
      band_readers_(plan.bands.size()),
      band_read_(plan.bands.size(), false),
      out_(plan.steps.size()),
      wide_(plan.steps.size()),
      chain_(plan.steps.size()) {
  for (const plan::PlannedBand& band : plan.bands) band_cells_.emplace_back(band.type, 0, 0);
  for (size_t s : pass.steps)
    for (size_t k : plan.steps[s].bands) band_read_[k] = true;
  const int64_t tw = plan.grid.tile_width();
  const int64_t th = plan.grid.tile_height();
  for (size_t s = 0; s < plan.steps.size(); ++s) {
    const auto bands = static_cast<size_t>(plan.steps[s].impl->output_bands());
    const PixelType type = plan.steps[s].impl->output_type();
    const int64_t m = plan.steps[s].margin;
    out_[s].assign(bands, TileBuffer(type, tw, th));
    if (m > 0) wide_[s] = TileBuffer(type, tw + 2 * m, th + 2 * m);
    chain_[s] = cell_buffers(tw + 2 * m, th + 2 * m);
  }
}

void TileWorker::process(int64_t tile, TileOutlet& out) {
  const Window owned = plan_.grid.owned(tile);
  {
    Timed timed(times_.read);
    read_inputs(grow(owned, plan_.halo));
  }
  {
    Timed timed(times_.compute);
    run_steps(owned);
  }
  put_outputs(owned, out);
}

/// Each input tile steps of the pass read as cells, once per cell type; then each band they read
/// by name, once, in its own type (a stage result's file exists only from the pass after the one
/// that writes it).
void TileWorker::read_inputs(Window grown) {
  for (size_t i = 0; i < plan_.inputs.size(); ++i)
    for (const ops::CellType cells :
         {ops::CellType::Int32, ops::CellType::Float32, ops::CellType::Float64}) {
      if (!step_reads(plan_, pass_, i, cells)) continue;
      if (!readers_[i]) readers_[i].emplace(plan_.inputs[i].path, plan_.inputs[i].band);
      read_tile(*readers_[i], input_cells_[i][index_of(cells)], grown);
      if (cells == ops::CellType::Float32) refuse_float32_misreads(i, grown);
    }
  for (size_t k = 0; k < plan_.bands.size(); ++k) {
    const plan::PlannedBand& band = plan_.bands[k];
    if (!band_read_[k]) continue;
    if (!band_readers_[k]) band_readers_[k].emplace(plan_.inputs[band.input].path, band.band);
    read_tile(*band_readers_[k], band_cells_[k], grown);
  }
}

/// Input `input`, read as Float32 over `grown`, checked for what that reading loses without a
/// word where the raster is of a wider type (Float64, Int32, UInt32): a finite Float64 value past
/// Float32's range, which the conversion made an infinity (the steps would compute with, and
/// write, an infinity); and a value other than the nodata value that Float32 rounds onto the
/// nodata value's Float32, where the nodata value is no Float32 (a Float64 nodata of 1e-50 is 0
/// as Float32: every 0 of the raster would be a void, and written as nodata). Each is refused
/// naming its cell. An infinity of the file stays one, and the nodata value is nodata whatever it
/// became. The tile is read again as Float64 only when it holds an infinity or the nodata value's
/// Float32.
void TileWorker::refuse_float32_misreads(size_t input, Window grown) {
  const RasterInfo& info = plan_.inputs[input];
  const bool wide = info.type == PixelType::Float64;
  if (!wide && info.type != PixelType::Int32 && info.type != PixelType::UInt32) return;
  std::optional<float> rounded;  // the nodata value's Float32, when it is not the value itself
  if (info.nodata && static_cast<double>(static_cast<float>(*info.nodata)) != *info.nodata &&
      !std::isnan(*info.nodata))
    rounded = static_cast<float>(*info.nodata);
  if (!wide && !rounded) return;
  const Window inside = intersect(grown, whole(plan_.grid.raster()));
  const View<float> cells =
      input_cells_[input][index_of(ops::CellType::Float32)]
          .view()
          .sub(inside.x - grown.x, inside.y - grown.y, inside.width, inside.height)
          .as<float>();
  bool suspect = false;
  for (int64_t y = 0; y < cells.height() && !suspect; ++y)
    for (int64_t x = 0; x < cells.width(); ++x) {
      const float c = cells(x, y);
      suspect = suspect || (wide && std::isinf(c)) || (rounded && c == *rounded);
    }
  if (!suspect) return;
  wide_check_.resize(inside.width, inside.height);
  readers_[input]->read(inside, PixelType::Float64, wide_check_.view().bytes());
  const View<double> exact = wide_check_.view().as<double>();
  for (int64_t y = 0; y < exact.height(); ++y)
    for (int64_t x = 0; x < exact.width(); ++x) {
      const double v = exact(x, y);
      if (!std::isfinite(v) || v == info.nodata) continue;
      const auto as_read = static_cast<float>(v);
      if (!std::isfinite(as_read))
        throw Error(fmt::format(
            "{}: cell {}, {} holds {:.17g}, past Float32's range (+-3.4028235e+38), as which the "
            "steps read this Float64 raster; rescale it, or make such cells its nodata",
            info.path, inside.x + x, inside.y + y, v));
      if (rounded && as_read == *rounded)
        throw Error(fmt::format(
            "{}: cell {}, {} holds {}, which Float32 (as which the steps read this {} raster) "
            "makes {}, as it makes the nodata value {}: the cell would be a void; give the raster "
            "a nodata value Float32 holds (gdal_edit.py -a_nodata VALUE)",
            info.path, inside.x + x, inside.y + y, v, name_of(info.type), as_read, *info.nodata));
    }
}

/// `buffer` made the size of `grown`, and the part of `grown` inside the raster read into it,
/// converted to its type.
void TileWorker::read_tile(io::RasterReader& reader, TileBuffer& buffer, Window grown) {
  const Window inside = intersect(grown, whole(plan_.grid.raster()));
  buffer.resize(grown.width, grown.height);
  const BandView cells =
      buffer.view().sub(inside.x - grown.x, inside.y - grown.y, inside.width, inside.height);
  reader.read(inside, cells.type(), cells.bytes());
}

/// The window a step computes: its tile, grown by its margin inside the raster.
Window TileWorker::compute_window(const plan::PlannedStep& step, Window owned) const {
  if (step.margin == 0) return owned;
  return intersect(grow(owned, step.margin), whole(plan_.grid.raster()));
}

ops::TileIn TileWorker::tile_in(const plan::PlannedStep& step, Window owned, Window computed) {
  const auto& input = plan_.inputs[step.input];
  ops::TileIn in;
  in.raster = plan_.grid.raster();
  in.owned = owned;
  in.halo = plan_.halo;
  in.nodata = input.nodata;
  in.source_type = input.type;
  in.ewres = input.geotransform[1];
  in.nsres = input.geotransform[5];
  if (step.margin > 0 || !step.sources.empty()) {
    chained_cells(step, owned, computed, in);
    return in;
  }
  for (size_t k : step.bands) {
    const BandView band = band_cells_[k].view();
    in.bands.push_back({band.type(), band.bytes(), plan_.bands[k].nodata});
  }
  if (!step.named) in.cells = cells_of(input_cells(step.input, step.cells));
  return in;
}

/// The input of a step in a chain: the window it computes with its own op's halo, cut from the
/// input tile or from the output of the step it reads (which covers grow(tile, its margin)).
void TileWorker::chained_cells(const plan::PlannedStep& step, Window owned, Window computed,
                               ops::TileIn& in) {
  const int64_t h = step.impl->halo();
  const int64_t margin = step.source ? plan_.steps[*step.source].margin : plan_.halo;
  in.owned = computed;
  in.halo = h;
  named_bands(step, owned, computed, in);
  if (step.named) return;
  if (step.source) {
    const auto& from = plan_.steps[*step.source];
    in.nodata = from.impl->output_nodata();
    in.source_type = from.impl->output_type();
  }
  const BandView all =
      step.source ? step_cells(*step.source, step.cells) : input_cells(step.input, step.cells);
  in.cells =
      cells_of(all.sub(computed.x - h - (owned.x - margin), computed.y - h - (owned.y - margin),
                       computed.width + 2 * h, computed.height + 2 * h));
}

/// The bands a step reads by name over the window it computes with its op's halo: input bands
/// cut from the tile read with the plan's halo, step bands from those steps' outputs.
void TileWorker::named_bands(const plan::PlannedStep& step, Window owned, Window computed,
                             ops::TileIn& in) {
  const int64_t h = step.impl->halo();
  for (const plan::BandSource& read : step.reads) {
    const bool is_step = read.kind == plan::BandSource::Kind::Step;
    const int64_t margin = is_step ? plan_.steps[read.index].margin : plan_.halo;
    const BandView all = is_step ? step_band(read.index) : band_cells_[read.index].view();
    const BandView band =
        all.sub(computed.x - h - (owned.x - margin), computed.y - h - (owned.y - margin),
                computed.width + 2 * h, computed.height + 2 * h);
    const auto nodata =
        is_step ? plan_.steps[read.index].impl->output_nodata() : plan_.bands[read.index].nodata;
    in.bands.push_back({band.type(), band.bytes(), nodata});
  }
}

/// Input `i`'s tile grown by the plan's halo, as `cells`.
BandView TileWorker::input_cells(size_t i, ops::CellType cells) {
  return input_cells_[i][index_of(cells)].view();
}

/// Step `p`'s one band over grow(tile, its margin), in its own type.
BandView TileWorker::step_band(size_t p) {
  return plan_.steps[p].margin > 0 ? wide_[p].view() : out_[p][0].view();
}

/// Step `p`'s one band over grow(tile, its margin) as `cells`: itself when it has that type,
/// else converted.
BandView TileWorker::step_cells(size_t p, ops::CellType cells) {
  const BandView band = step_band(p);
  const BandView converted = chain_[p][index_of(cells)].view();
  if (band.type() == converted.type()) return band;
  convert_cells(band, converted);
  return converted;
}

/// The output views of a step: its tile buffers, or for a step with a margin its one wide band.
ops::TileOut TileWorker::tile_out(size_t s, Window owned, Window computed) {
  const int64_t m = plan_.steps[s].margin;
  ops::TileOut out;
  if (m > 0) {
    out.bands.push_back(wide_[s].view().sub(computed.x - (owned.x - m), computed.y - (owned.y - m),
                                            computed.width, computed.height));
    return out;
  }
  for (TileBuffer& buffer : out_[s])
    out.bands.push_back(buffer.view().sub(0, 0, owned.width, owned.height));
  return out;
}

/// For a step with a margin: its tile's own cells into the tile buffer the encoders read.
void TileWorker::copy_owned(size_t s, Window owned) {
  const int64_t m = plan_.steps[s].margin;
  const View<std::byte> wide = wide_[s].view().sub(m, m, owned.width, owned.height).bytes();
  const View<std::byte> tile = out_[s][0].bytes();
  for (int64_t y = 0; y < owned.height; ++y) std::copy_n(wide.row(y), wide.width(), tile.row(y));
}

void TileWorker::run_steps(Window owned) {
  for (size_t s : pass_.steps) {
    const auto& step = plan_.steps[s];
    const Window computed = compute_window(step, owned);
    step.impl->run(tile_in(step, owned, computed), tile_out(s, owned, computed));
    if (step.margin > 0) copy_owned(s, owned);
  }
}

void TileWorker::pad_edges(size_t s, Window owned) {
  if (owned.width == plan_.grid.tile_width() && owned.height == plan_.grid.tile_height()) return;
  for (TileBuffer& buffer : out_[s])
    fill_outside(buffer.view(), owned.width, owned.height, plan_.steps[s].impl->output_nodata());
}

/// Every band of every output of the pass, in the pass's order (its sinks'), each a full tile
/// with its edges padded.
void TileWorker::put_outputs(Window owned, TileOutlet& out) {
  for (size_t k = 0; k < pass_.outputs.size(); ++k) {
    int band = 0;
    for (size_t s : plan_.outputs[pass_.outputs[k]].steps) {
      pad_edges(s, owned);
      for (TileBuffer& plane : out_[s]) out.put(k, band++, plane.bytes().data());
    }
  }
}

}  // namespace tessera::run
