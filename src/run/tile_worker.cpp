// One thread's work on one tile: read with halo, run every step, hand every output band to the
// pass's sinks.
#include "tile_worker.hpp"

#include "stopwatch.hpp"

#include <cstring>
#include <span>

namespace tessera::run {

namespace {

bool step_reads(const plan::Plan& plan, size_t input, ops::CellType cells) {
  for (const auto& step : plan.steps)
    if (step.reads_input_cells() && step.input == input && step.cells == cells) return true;
  return false;
}

/// Sets the cells of a full tile buffer that lie outside `width` x `height` to `fill`, so that
/// the padding of edge tiles is the same whichever tile the buffer held before.
template <class T>
void fill_outside(View<T> tile, int64_t width, int64_t height, T fill) {
  for (int64_t y = 0; y < tile.height(); ++y) {
    T* row = tile.row(y);
    const int64_t from = y < height ? width : 0;
    std::fill(row + from, row + tile.width(), fill);
  }
}

template <class T>
T fill_value(const std::optional<double>& nodata) {
  return nodata ? static_cast<T>(*nodata) : T{0};
}

/// fill_outside() for a tile of `type` held as bytes.
void fill_outside_raw(View<std::byte> tile, PixelType type, int64_t width, int64_t height,
                      const std::optional<double>& nodata) {
  const auto cell = static_cast<int64_t>(size_of(type));
  const auto as = [&](auto zero) {
    using T = decltype(zero);
    View<T> typed(reinterpret_cast<T*>(tile.data()), tile.width() / cell, tile.height(),
                  tile.stride() / cell);
    fill_outside(typed, width, height, fill_value<T>(nodata));
  };
  switch (type) {
    case PixelType::UInt16:
      return as(uint16_t{});
    case PixelType::Int16:
      return as(int16_t{});
    case PixelType::UInt32:
      return as(uint32_t{});
    case PixelType::Int32:
      return as(int32_t{});
    case PixelType::Float64:
      return as(double{});
    case PixelType::Byte:
      return as(uint8_t{});
    case PixelType::Float32:
      return as(float{});
  }
}

}  // namespace

TileWorker::TileWorker(const plan::Plan& plan)
    : plan_(plan),
      readers_(plan.inputs.size()),
      int_cells_(plan.inputs.size()),
      float_cells_(plan.inputs.size()),
      byte_out_(plan.steps.size()),
      float_out_(plan.steps.size()),
      raw_out_(plan.steps.size()),
      band_readers_(plan.bands.size()),
      band_cells_(plan.bands.size()),
      wide_bytes_(plan.steps.size()),
      wide_floats_(plan.steps.size()),
      wide_raw_(plan.steps.size()),
      chain_ints_(plan.steps.size()),
      chain_floats_(plan.steps.size()) {
  for (size_t s = 0; s < plan.steps.size(); ++s) {
    const auto bands = static_cast<size_t>(plan.steps[s].impl->output_bands());
    const PixelType type = plan.steps[s].impl->output_type();
    if (type == PixelType::Byte) {
      byte_out_[s].resize(bands);
    } else if (type == PixelType::Float32) {
      float_out_[s].resize(bands);
    } else {
      raw_out_[s].resize(bands);
    }
  }
}

void TileWorker::process(int64_t tile, TileOutlet& out) {
  const Window owned = plan_.grid.owned(tile);
  grown_ = grow(owned, plan_.halo);
  {
    Timed timed(times_.read);
    read_inputs(grown_);
  }
  {
    Timed timed(times_.compute);
    run_steps(owned);
  }
  put_outputs(owned, out);
}

void TileWorker::read_inputs(Window grown) {
  const Window inside = intersect(grown, whole(plan_.grid.raster()));
  const int64_t dx = inside.x - grown.x;
  const int64_t dy = inside.y - grown.y;
  for (size_t i = 0; i < plan_.inputs.size(); ++i) {
    const bool as_int = step_reads(plan_, i, ops::CellType::Int32);
    const bool as_float = step_reads(plan_, i, ops::CellType::Float32);
    if (!as_int && !as_float) continue;
    if (!readers_[i]) readers_[i].emplace(plan_.inputs[i].path, plan_.inputs[i].band);
    if (as_int) {
      auto cells = int_cells_[i].view(grown.width, grown.height);
      readers_[i]->read(inside, cells.sub(dx, dy, inside.width, inside.height));
    }
    if (as_float) {
      auto cells = float_cells_[i].view(grown.width, grown.height);
      readers_[i]->read(inside, cells.sub(dx, dy, inside.width, inside.height));
    }
  }
  read_bands(grown);
}

/// Each band steps of named inputs read, once, in its own type.
void TileWorker::read_bands(Window grown) {
  const Window inside = intersect(grown, whole(plan_.grid.raster()));
  for (size_t k = 0; k < plan_.bands.size(); ++k) {
    const plan::PlannedBand& band = plan_.bands[k];
    const auto cell = static_cast<int64_t>(size_of(band.type));
    if (!band_readers_[k]) band_readers_[k].emplace(plan_.inputs[band.input].path, band.band);
    auto cells = band_cells_[k].view(grown.width * cell, grown.height);
    band_readers_[k]->read(inside, band.type,
                           cells.sub((inside.x - grown.x) * cell, inside.y - grown.y,
                                     inside.width * cell, inside.height));
  }
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
    const plan::PlannedBand& band = plan_.bands[k];
    const auto cell = static_cast<int64_t>(size_of(band.type));
    in.bands.push_back(
        {band.type, band_cells_[k].view(grown_.width * cell, grown_.height), band.nodata});
  }
  if (!step.bands.empty()) return in;
  if (step.cells == ops::CellType::Int32) {
    in.cells = ConstView<int32_t>(int_cells_[step.input].view(grown_.width, grown_.height));
  } else {
    in.cells = ConstView<float>(float_cells_[step.input].view(grown_.width, grown_.height));
  }
  return in;
}

/// The input of a step in a chain: the window it computes with its own op's halo, cut from the
/// input tile or from the output of the step it reads (which covers grow(tile, its margin)).
void TileWorker::chained_cells(const plan::PlannedStep& step, Window owned, Window computed,
                               ops::TileIn& in) {
  const int64_t h = step.impl->halo();
  const int64_t margin = step.source ? plan_.steps[*step.source].margin : plan_.halo;
  const int64_t x = computed.x - h - (owned.x - margin);
  const int64_t y = computed.y - h - (owned.y - margin);
  const int64_t w = computed.width + 2 * h;
  const int64_t ht = computed.height + 2 * h;
  in.owned = computed;
  in.halo = h;
  if (!step.reads.empty()) return named_bands(step, owned, computed, in);
  if (step.source) {
    const auto& from = plan_.steps[*step.source];
    in.nodata = from.impl->output_nodata();
    in.source_type = from.impl->output_type();
    if (step.cells == ops::CellType::Int32) {
      in.cells = int_cells_of(*step.source).sub(x, y, w, ht);
    } else {
      in.cells = float_cells_of(*step.source).sub(x, y, w, ht);
    }
    return;
  }
  if (step.cells == ops::CellType::Int32) {
    in.cells = ConstView<int32_t>(int_cells_[step.input].view(grown_.width, grown_.height))
                   .sub(x, y, w, ht);
  } else {
    in.cells = ConstView<float>(float_cells_[step.input].view(grown_.width, grown_.height))
                   .sub(x, y, w, ht);
  }
}

/// The bands of a step of named inputs over the window it computes with its op's halo: input
/// bands cut from the tile read with the plan's halo, step bands from those steps' outputs.
void TileWorker::named_bands(const plan::PlannedStep& step, Window owned, Window computed,
                             ops::TileIn& in) {
  const int64_t h = step.impl->halo();
  for (const plan::BandSource& read : step.reads) {
    const bool is_step = read.kind == plan::BandSource::Kind::Step;
    const int64_t margin = is_step ? plan_.steps[read.index].margin : plan_.halo;
    const int64_t x = computed.x - h - (owned.x - margin);
    const int64_t y = computed.y - h - (owned.y - margin);
    const plan::PlannedBand* band = is_step ? nullptr : &plan_.bands[read.index];
    const PixelType type = is_step ? plan_.steps[read.index].impl->output_type() : band->type;
    const auto cell = static_cast<int64_t>(size_of(type));
    const ConstView<std::byte> all =
        is_step ? bytes_of(read.index)
                : band_cells_[read.index].view(grown_.width * cell, grown_.height);
    const auto nodata = is_step ? plan_.steps[read.index].impl->output_nodata() : band->nodata;
    in.bands.push_back(
        {type, all.sub(x * cell, y, (computed.width + 2 * h) * cell, computed.height + 2 * h),
         nodata});
  }
}

/// Step `p`'s one band over grow(tile, its margin) as raw cells of its own type.
ConstView<std::byte> TileWorker::bytes_of(size_t p) {
  const int64_t m = plan_.steps[p].margin;
  const auto cell = static_cast<int64_t>(size_of(plan_.steps[p].impl->output_type()));
  const int64_t w = plan_.grid.tile_width() + 2 * m;
  const int64_t h = plan_.grid.tile_height() + 2 * m;
  const auto as_bytes = [&](auto view) {
    return ConstView<std::byte>(reinterpret_cast<const std::byte*>(view.data()), w * cell, h);
  };
  if (!byte_out_[p].empty()) return as_bytes((m > 0 ? wide_bytes_[p] : byte_out_[p][0]).view(w, h));
  if (!float_out_[p].empty())
    return as_bytes((m > 0 ? wide_floats_[p] : float_out_[p][0]).view(w, h));
  return (m > 0 ? wide_raw_[p] : raw_out_[p][0]).view(w * cell, h);
}

/// Step `p`'s one band over grow(tile, its margin) as Float32 cells (Byte converted).
ConstView<float> TileWorker::float_cells_of(size_t p) {
  const int64_t m = plan_.steps[p].margin;
  const int64_t w = plan_.grid.tile_width() + 2 * m;
  const int64_t h = plan_.grid.tile_height() + 2 * m;
  if (!float_out_[p].empty()) return (m > 0 ? wide_floats_[p] : float_out_[p][0]).view(w, h);
  const View<uint8_t> bytes = (m > 0 ? wide_bytes_[p] : byte_out_[p][0]).view(w, h);
  const View<float> cells = chain_floats_[p].view(w, h);
  std::copy(bytes.data(), bytes.data() + w * h, cells.data());
  return cells;
}

/// Step `p`'s one Byte band over grow(tile, its margin) as Int32 cells.
ConstView<int32_t> TileWorker::int_cells_of(size_t p) {
  const int64_t m = plan_.steps[p].margin;
  const int64_t w = plan_.grid.tile_width() + 2 * m;
  const int64_t h = plan_.grid.tile_height() + 2 * m;
  const View<uint8_t> bytes = (m > 0 ? wide_bytes_[p] : byte_out_[p][0]).view(w, h);
  const View<int32_t> cells = chain_ints_[p].view(w, h);
  std::copy(bytes.data(), bytes.data() + w * h, cells.data());
  return cells;
}

/// The output views of a step: its tile buffers, or for a step with a margin its one wide band
/// (Byte or Float32, as the plan allows for steps other steps read).
ops::TileOut TileWorker::tile_out(size_t s, Window owned, Window computed) {
  const int64_t tw = plan_.grid.tile_width();
  const int64_t th = plan_.grid.tile_height();
  const int64_t m = plan_.steps[s].margin;
  ops::TileOut out;
  if (m > 0) {
    const int64_t x = computed.x - (owned.x - m);
    const int64_t y = computed.y - (owned.y - m);
    const auto cell = static_cast<int64_t>(size_of(plan_.steps[s].impl->output_type()));
    if (!byte_out_[s].empty())
      out.bytes.push_back(
          wide_bytes_[s].view(tw + 2 * m, th + 2 * m).sub(x, y, computed.width, computed.height));
    else if (!float_out_[s].empty())
      out.floats.push_back(
          wide_floats_[s].view(tw + 2 * m, th + 2 * m).sub(x, y, computed.width, computed.height));
    else
      out.raw.push_back(wide_raw_[s]
                            .view((tw + 2 * m) * cell, th + 2 * m)
                            .sub(x * cell, y, computed.width * cell, computed.height));
    return out;
  }
  for (auto& buffer : byte_out_[s])
    out.bytes.push_back(buffer.view(tw, th).sub(0, 0, owned.width, owned.height));
  for (auto& buffer : float_out_[s])
    out.floats.push_back(buffer.view(tw, th).sub(0, 0, owned.width, owned.height));
  const auto cell = static_cast<int64_t>(size_of(plan_.steps[s].impl->output_type()));
  for (auto& buffer : raw_out_[s])
    out.raw.push_back(buffer.view(tw * cell, th).sub(0, 0, owned.width * cell, owned.height));
  return out;
}

/// For a step with a margin: its tile's own cells into the tile buffer the encoders read.
void TileWorker::copy_owned(size_t s, Window owned) {
  const int64_t tw = plan_.grid.tile_width();
  const int64_t th = plan_.grid.tile_height();
  const int64_t m = plan_.steps[s].margin;
  const auto copy = [&](auto wide, auto tile) {
    for (int64_t y = 0; y < owned.height; ++y)
      std::copy_n(wide.row(y + m) + m, owned.width, tile.row(y));
  };
  const auto cell = static_cast<int64_t>(size_of(plan_.steps[s].impl->output_type()));
  if (!byte_out_[s].empty()) {
    copy(wide_bytes_[s].view(tw + 2 * m, th + 2 * m), byte_out_[s][0].view(tw, th));
  } else if (!float_out_[s].empty()) {
    copy(wide_floats_[s].view(tw + 2 * m, th + 2 * m), float_out_[s][0].view(tw, th));
  } else {
    // Rows of raw cells: the same copy counted in bytes.
    const auto wide = wide_raw_[s].view((tw + 2 * m) * cell, th + 2 * m);
    const auto tile = raw_out_[s][0].view(tw * cell, th);
    for (int64_t y = 0; y < owned.height; ++y)
      std::copy_n(wide.row(y + m) + m * cell, owned.width * cell, tile.row(y));
  }
}

void TileWorker::run_steps(Window owned) {
  for (size_t s = 0; s < plan_.steps.size(); ++s) {
    const auto& step = plan_.steps[s];
    const Window computed = compute_window(step, owned);
    step.impl->run(tile_in(step, owned, computed), tile_out(s, owned, computed));
    if (step.margin > 0) copy_owned(s, owned);
  }
}

void TileWorker::pad_edges(size_t s, Window owned) {
  const int64_t tw = plan_.grid.tile_width();
  const int64_t th = plan_.grid.tile_height();
  if (owned.width == tw && owned.height == th) return;
  const auto nodata = plan_.steps[s].impl->output_nodata();
  for (auto& buffer : byte_out_[s])
    fill_outside(buffer.view(tw, th), owned.width, owned.height, fill_value<uint8_t>(nodata));
  for (auto& buffer : float_out_[s])
    fill_outside(buffer.view(tw, th), owned.width, owned.height, fill_value<float>(nodata));
  const PixelType type = plan_.steps[s].impl->output_type();
  const auto cell = static_cast<int64_t>(size_of(type));
  for (auto& buffer : raw_out_[s])
    fill_outside_raw(buffer.view(tw * cell, th), type, owned.width, owned.height, nodata);
}

/// Every band of every output, in output order, each a full tile with its edges padded.
void TileWorker::put_outputs(Window owned, TileOutlet& out) {
  const int64_t tw = plan_.grid.tile_width();
  const int64_t th = plan_.grid.tile_height();
  for (size_t o = 0; o < plan_.outputs.size(); ++o) {
    const OutputSpec& spec = plan_.outputs[o].spec;
    int band = 0;
    for (size_t s : plan_.outputs[o].steps) {
      pad_edges(s, owned);
      std::vector<const void*> planes;
      for (auto& buffer : byte_out_[s]) planes.push_back(buffer.view(tw, th).data());
      for (auto& buffer : float_out_[s]) planes.push_back(buffer.view(tw, th).data());
      const auto cell = static_cast<int64_t>(size_of(spec.type));
      for (auto& buffer : raw_out_[s]) planes.push_back(buffer.view(tw * cell, th).data());
      for (const void* plane : planes) out.put(o, band++, plane);
    }
  }
}

}  // namespace tessera::run
