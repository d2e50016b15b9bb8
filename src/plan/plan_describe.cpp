// The plan's memory estimate and its readable description (what `tessera plan` prints).
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "tessera/plan/plan.hpp"

namespace tessera::plan {

namespace {

std::string mib(int64_t bytes) {
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20));
}

std::string compression_text(const CreationOptions& o) {
  std::string text(o.compression == Compression::None ? "no compression" : name_of(o.compression));
  if (o.compression == Compression::Zstd) text += fmt::format(" level {}", o.zstd_level);
  if (o.compression == Compression::Deflate) text += fmt::format(" level {}", o.deflate_level);
  if (o.predictor != 1) text += fmt::format(", predictor {}", o.predictor);
  return text;
}

std::string inputs_text(const Plan& plan) {
  std::string out;
  for (size_t i = 0; i < plan.inputs.size(); ++i) {
    const RasterInfo& info = plan.inputs[i];
    const std::string name =
        i < plan.input_names.size() ? plan.input_names[i] : std::to_string(i + 1);
    out += fmt::format("  {}: {} band {}, {} x {} {}{}\n", name, info.path, info.band,
                       info.size.width, info.size.height, name_of(info.type),
                       info.nodata ? fmt::format(", nodata {}", *info.nodata) : "");
  }
  return out;
}

std::string input_name(const Plan& plan, size_t input) {
  return input < plan.input_names.size() ? plan.input_names[input] : std::to_string(input + 1);
}

/// "dem as Int32" for a step of one input; "nir band 1, red band 1 as their own types" for calc.
std::string reads_text(const Plan& plan, const PlannedStep& step) {
  if (step.source)
    return "step " + plan.steps[*step.source].id +
           (step.cells == ops::CellType::Int32 ? " as Int32" : " as Float32") + ", margin " +
           std::to_string(step.margin);
  if (step.bands.empty())
    return input_name(plan, step.input) +
           (step.cells == ops::CellType::Int32 ? " as Int32" : " as Float32");
  std::string out;
  for (size_t k : step.bands)
    out += fmt::format("{}{} band {} ({})", out.empty() ? "" : ", ",
                       input_name(plan, plan.bands[k].input), plan.bands[k].band,
                       name_of(plan.bands[k].type));
  return out;
}

std::string steps_text(const Plan& plan) {
  std::string out;
  for (const PlannedStep& step : plan.steps)
    out += fmt::format("  {}: op {} reads {}, halo {}, gives {} band(s) of {}\n", step.id, step.op,
                       reads_text(plan, step), step.halo, step.impl->output_bands(),
                       name_of(step.impl->output_type()));
  return out;
}

std::string outputs_text(const Plan& plan) {
  std::string out;
  for (const PlannedOutput& output : plan.outputs) {
    const OutputSpec& spec = output.spec;
    out += fmt::format("  {}: {} band(s) of {}, {}, {}\n", spec.path, spec.bands,
                       name_of(spec.type), compression_text(spec.options),
                       needs_bigtiff(spec) ? "BigTIFF" : "classic TIFF");
  }
  return out;
}

}  // namespace

int64_t Plan::bytes_per_thread() const {
  const int64_t tile_width = grid.tile_width();
  const int64_t tile_height = grid.tile_height();
  const int64_t tile_cells = tile_width * tile_height;
  std::map<size_t, int64_t> input_halos;
  for (const PlannedStep& step : steps)
    if (step.bands.empty()) input_halos[step.input] = std::max(input_halos[step.input], step.halo);
  int64_t bytes = 0;
  for (const auto& [input, halo] : input_halos)
    bytes += (tile_width + 2 * halo) * (tile_height + 2 * halo) * 4;
  for (const PlannedBand& band : bands)
    bytes += (tile_width + 2 * halo) * (tile_height + 2 * halo) *
             static_cast<int64_t>(size_of(band.type));
  for (const PlannedStep& step : steps)
    bytes += tile_cells * static_cast<int64_t>(size_of(step.impl->output_type())) *
             step.impl->output_bands();
  for (const PlannedOutput& output : outputs)
    bytes += 2 * tile_cells * static_cast<int64_t>(size_of(output.spec.type)) * output.spec.bands;
  return bytes;
}

int64_t Plan::bytes_per_rank(int threads) const {
  return threads * bytes_per_thread() + gdal_cache_bytes + rank_overhead_bytes;
}

std::string Plan::describe(int ranks, int threads) const {
  const Extent raster = grid.raster();
  std::string text = fmt::format("raster: {} x {} cells\n", raster.width, raster.height);
  text += "inputs:\n" + inputs_text(*this);
  text += fmt::format("tiles: {} x {} cells, {} across x {} down = {}\n", grid.tile_width(),
                      grid.tile_height(), grid.across(), grid.down(), grid.count());
  text += fmt::format("halo: {}\n", halo);
  text += "steps:\n" + steps_text(*this);
  text += "outputs:\n" + outputs_text(*this);
  text += fmt::format("run: {} rank(s) x {} thread(s)\n", ranks, threads);
  text += fmt::format(
      "memory per rank: {} threads x {} tile buffers + {} GDAL block cache + {} overhead = {}\n",
      threads, mib(bytes_per_thread()), mib(gdal_cache_bytes), mib(rank_overhead_bytes),
      mib(bytes_per_rank(threads)));
  return text;
}

}  // namespace tessera::plan
