// One thread's work on one tile: read with halo, run every step, encode every output band
// (GeoTIFF) or copy it out raw (HDF5).
#include "tile_worker.hpp"

#include <chrono>
#include <cstring>
#include <span>

namespace tessera::run {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

bool step_reads(const plan::Plan& plan, size_t input, ops::CellType cells) {
  for (const auto& step : plan.steps)
    if (step.input == input && step.cells == cells) return true;
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

/// The cells of a full tile of `spec`, as bytes: what HDF5 outputs take instead of encoded tiles.
std::span<const std::byte> raw_tile(const void* plane, const OutputSpec& spec) {
  const auto bytes = static_cast<size_t>(spec.tile_width * spec.tile_height) * size_of(spec.type);
  return {static_cast<const std::byte*>(plane), bytes};
}

template <class T>
T fill_value(const std::optional<double>& nodata) {
  return nodata ? static_cast<T>(*nodata) : T{0};
}

}  // namespace

BandSlots::BandSlots(const plan::Plan& plan) {
  for (size_t o = 0; o < plan.outputs.size(); ++o)
    for (int b = 0; b < plan.outputs[o].spec.bands; ++b) slots_.emplace_back(o, b);
}

TileWorker::TileWorker(const plan::Plan& plan)
    : plan_(plan),
      readers_(plan.inputs.size()),
      int_cells_(plan.inputs.size()),
      float_cells_(plan.inputs.size()),
      byte_out_(plan.steps.size()),
      float_out_(plan.steps.size()),
      encoders_(plan.outputs.size()) {
  for (size_t s = 0; s < plan.steps.size(); ++s) {
    const auto bands = static_cast<size_t>(plan.steps[s].impl->output_bands());
    if (plan.steps[s].impl->output_type() == PixelType::Byte) {
      byte_out_[s].resize(bands);
    } else {
      float_out_[s].resize(bands);
    }
  }
}

void TileWorker::process(int64_t tile, std::vector<std::vector<std::byte>>& encoded) {
  const Window owned = plan_.grid.owned(tile);
  grown_ = grow(owned, plan_.halo);
  auto start = Clock::now();
  read_inputs(grown_);
  times_.read += seconds_since(start);
  start = Clock::now();
  run_steps(owned);
  times_.compute += seconds_since(start);
  start = Clock::now();
  encode_outputs(owned, encoded);
  times_.encode += seconds_since(start);
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
}

void TileWorker::run_steps(Window owned) {
  const int64_t tw = plan_.grid.tile_width();
  const int64_t th = plan_.grid.tile_height();
  for (size_t s = 0; s < plan_.steps.size(); ++s) {
    const auto& step = plan_.steps[s];
    const auto& input = plan_.inputs[step.input];
    ops::TileIn in;
    in.raster = plan_.grid.raster();
    in.owned = owned;
    in.halo = plan_.halo;
    in.nodata = input.nodata;
    in.source_type = input.type;
    in.ewres = input.geotransform[1];
    in.nsres = input.geotransform[5];
    if (step.cells == ops::CellType::Int32) {
      in.cells = ConstView<int32_t>(int_cells_[step.input].view(grown_.width, grown_.height));
    } else {
      in.cells = ConstView<float>(float_cells_[step.input].view(grown_.width, grown_.height));
    }
    ops::TileOut out;
    for (auto& buffer : byte_out_[s])
      out.bytes.push_back(buffer.view(tw, th).sub(0, 0, owned.width, owned.height));
    for (auto& buffer : float_out_[s])
      out.floats.push_back(buffer.view(tw, th).sub(0, 0, owned.width, owned.height));
    step.impl->run(in, out);
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
}

void TileWorker::encode_outputs(Window owned, std::vector<std::vector<std::byte>>& encoded) {
  const int64_t tw = plan_.grid.tile_width();
  const int64_t th = plan_.grid.tile_height();
  size_t slot = 0;
  for (size_t o = 0; o < plan_.outputs.size(); ++o) {
    const OutputSpec& spec = plan_.outputs[o].spec;
    const bool raw = spec.format == OutputFormat::Hdf5;
    if (!raw && !encoders_[o]) encoders_[o].emplace(spec);
    for (size_t s : plan_.outputs[o].steps) {
      pad_edges(s, owned);
      std::vector<const void*> planes;
      for (auto& buffer : byte_out_[s]) planes.push_back(buffer.view(tw, th).data());
      for (auto& buffer : float_out_[s]) planes.push_back(buffer.view(tw, th).data());
      for (const void* plane : planes) {
        const auto bytes = raw ? raw_tile(plane, spec) : encoders_[o]->encode(plane);
        encoded[slot].assign(bytes.begin(), bytes.end());
        ++slot;
      }
    }
  }
}

}  // namespace tessera::run
