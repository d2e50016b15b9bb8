// The plan's memory estimate and its readable description (what `tessera plan` prints).
#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <utility>

#include "tessera/ops/tile_graph.hpp"
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
    if (plan.is_stage_input(i)) continue;  // stages_text says where those are
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
  const std::string name =
      input < plan.input_names.size() ? plan.input_names[input] : std::to_string(input + 1);
  return plan.is_stage_input(input) ? "the result of " + name : name;
}

/// "nir band 1 (UInt16)" for a band of an input, "step slope (Float32)" for a step's band.
std::string band_text(const Plan& plan, const BandSource& read) {
  if (read.kind == BandSource::Kind::Step)
    return fmt::format("step {} ({})", plan.steps[read.index].id,
                       name_of(plan.steps[read.index].impl->output_type()));
  const PlannedBand& band = plan.bands[read.index];
  return fmt::format("{} band {} ({})", input_name(plan, band.input), band.band,
                     name_of(band.type));
}

/// "dem as Int32" for a step of one input; "nir band 1 (UInt16), step slope (Float32)" for calc.
std::string reads_text(const Plan& plan, const PlannedStep& step) {
  const std::string margin = step.margin > 0 ? fmt::format(", margin {}", step.margin) : "";
  const std::string as = " as " + std::string(name_of(ops::cell_pixel_type(step.cells)));
  std::string out;
  if (step.source) out = "step " + plan.steps[*step.source].id + as;
  if (!step.named && !step.source) out = input_name(plan, step.input) + as;
  for (const BandSource& read : step.reads)
    out += (out.empty() ? "" : ", ") + band_text(plan, read);
  if (step.source) return out + ", margin " + std::to_string(step.margin);
  return out + margin;
}

std::string steps_text(const Plan& plan) {
  std::string out;
  for (const PlannedStep& step : plan.steps)
    out += fmt::format("  {}: op {} reads {}, halo {}, gives {} band(s) of {}\n", step.id, step.op,
                       reads_text(plan, step), step.halo, step.impl->output_bands(),
                       name_of(step.impl->output_type()));
  return out;
}

/// The container: classic TIFF or BigTIFF for a GeoTIFF, HDF5 (netCDF-4/CF) otherwise.
std::string_view container_text(const OutputSpec& spec) {
  if (spec.format == OutputFormat::Hdf5) return "HDF5 (netCDF-4/CF)";
  return needs_bigtiff(spec) ? "BigTIFF" : "classic TIFF";
}

/// ", COG, 5 overview levels by AVERAGE", or "" for a file with none.
std::string overview_text(const OutputSpec& spec) {
  const int levels = overview_levels(spec);
  const std::string kind = spec.format == OutputFormat::Cog ? ", COG" : "";
  if (levels == 0) return kind;
  return fmt::format("{}, {} overview level(s) by {}", kind, levels,
                     name_of(spec.options.resampling));
}

std::string outputs_text(const Plan& plan) {
  std::string out;
  for (const PlannedOutput& output : plan.outputs) {
    const OutputSpec& spec = output.spec;
    if (spec.table) {
      out += fmt::format("  {}: zonal table of {} band(s) of {} by the zones of {}\n", spec.path,
                         spec.bands, name_of(spec.type), spec.table->zones);
      continue;
    }
    out += fmt::format("  {}: {} band(s) of {}, {}, {}{}{}\n", spec.path, spec.bands,
                       name_of(spec.type), compression_text(spec.options), container_text(spec),
                       overview_text(spec),
                       output.scratch ? "; a stage raster, removed at the end" : "");
  }
  return out;
}

/// "a, b" of the items' texts, or "none".
template <typename Text>
std::string joined(const std::vector<size_t>& items, Text text) {
  std::string out;
  for (size_t item : items) out += (out.empty() ? "" : ", ") + text(item);
  return out.empty() ? "none" : out;
}

/// "statistics of dem (count, min, max, mean, std, percentiles 2, 98), ndvi (...)": the bands
/// reduction pass `pass` reduces.
std::string reduced_text(const Plan& plan, const Pass& pass) {
  std::string out;
  for (size_t k : pass.reduced) {
    const ReducedBand& band = plan.reduced[k];
    out += (out.empty() ? "statistics of " : ", ") + band.label + " (count, min, max, mean, std";
    if (!band.percentiles.empty()) {
      out += ", percentiles";
      for (size_t i = 0; i < band.percentiles.size(); ++i)
        out += fmt::format("{}{:g}", i == 0 ? " " : ", ", band.percentiles[i]);
    }
    out += ")";
  }
  return out;
}

/// "  pass 1 (streaming): steps a, b; writes x.tif" with its reads and phases below.
std::string passes_text(const Plan& plan) {
  std::string out;
  for (size_t p = 0; p < plan.passes.size(); ++p) {
    const Pass& pass = plan.passes[p];
    out += fmt::format("  pass {} ({}): steps {}; writes {}", p + 1, name_of(pass.kind),
                       joined(pass.steps, [&](size_t s) { return plan.steps[s].id; }),
                       joined(pass.outputs, [&](size_t o) { return plan.outputs[o].spec.path; }));
    if (!pass.reads_passes.empty())
      out += "; reads the results of pass " +
             joined(pass.reads_passes, [](size_t r) { return std::to_string(r + 1); });
    if (pass.kind == PassKind::Reduction) out += "; " + reduced_text(plan, pass);
    out += "\n";
    for (size_t k = 0; k < pass.phases.size(); ++k)
      out += fmt::format("    phase {} ({}): {}\n", k + 1,
                         pass.phases[k].kind == PhaseKind::Tiles ? "tiles" : "global",
                         pass.phases[k].what);
  }
  return out;
}

/// Whether a step of `pass` reads `stage`'s file, or the pass reduces it.
bool reads_stage(const Plan& plan, const Pass& pass, const StageResult& stage) {
  for (size_t s : pass.steps) {
    const auto& results = plan.steps[s].results;
    if (std::find(results.begin(), results.end(), stage.step) != results.end()) return true;
  }
  return std::any_of(pass.reduced.begin(), pass.reduced.end(), [&](size_t k) {
    const ReducedBand& band = plan.reduced[k];
    return band.kind == BandSource::Kind::Input && band.index == stage.input;
  });
}

/// "  fel (fill): written by pass 1 to out/fel.tif band 1; read by pass 2 as an input" for each
/// tile-graph result that later passes read.
std::string stages_text(const Plan& plan) {
  std::string out;
  for (const StageResult& stage : plan.stages) {
    const PlannedStep& step = plan.steps[stage.step];
    const RasterInfo& file = plan.inputs[stage.input];
    std::vector<size_t> writers;
    std::vector<size_t> readers;
    for (size_t p = 0; p < plan.passes.size(); ++p) {
      const auto& outputs = plan.passes[p].outputs;
      if (std::find(outputs.begin(), outputs.end(), stage.output) != outputs.end())
        writers.push_back(p);
      if (reads_stage(plan, plan.passes[p], stage)) readers.push_back(p);
    }
    const auto numbers = [](size_t p) { return std::to_string(p + 1); };
    const int64_t raw = plan.grid.raster().cells() * static_cast<int64_t>(size_of(file.type));
    out += fmt::format(
        "  {} ({}): written once by pass {} to {} band {}{}; read as an input by "
        "pass {}\n",
        step.id, step.op, joined(writers, numbers), file.path, file.band,
        plan.outputs[stage.output].scratch
            ? fmt::format(" (a scratch raster, at most {} on disk)", mib(raw))
            : "",
        joined(readers, numbers));
  }
  return out.empty() ? out : "stage results:\n" + out;
}

/// Whether the plan keeps the tiles of tile-graph step `graph` between its phases.
bool keeps_tiles(const Plan& plan, const ops::TileGraphOp& graph) {
  return !plan.scratch.empty() &&
         graph.kept_bytes(plan.grid.tile_width() * plan.grid.tile_height()) > 0;
}

/// What a tile-graph step does with its tiles between the phases.
std::string between_phases(const Plan& plan, const ops::TileGraphOp& graph) {
  if (!keeps_tiles(plan, graph))
    return "each tile is read and computed again" +
           std::string(graph.kept_bytes(1) > 0 ? " (no scratch folder)" : "");
  const int64_t most = graph.kept_bytes(plan.grid.tile_width() * plan.grid.tile_height());
  return fmt::format(
      "each tile's result is kept in scratch files in {} (at most {} on disk, {} a tile, "
      "removed at the end) and its input read again",
      plan.scratch, mib(most * plan.grid.count()), mib(most));
}

/// "  fel (fill): 1024 tiles, 2043904 perimeter cells; global solve about 140.3 MiB and 1.2 s on
/// rank 0, ..." for each tile-graph step.
std::string graphs_text(const Plan& plan) {
  std::string out;
  for (const PlannedStep& step : plan.steps) {
    const auto* graph = dynamic_cast<const ops::TileGraphOp*>(step.impl.get());
    if (graph == nullptr) continue;
    const auto memory = graph->graph_memory(plan.grid);
    const double seconds = graph->solve_seconds(plan.grid);
    out += fmt::format(
        "  {} ({}): {} tiles, {} perimeter cells; global solve about {}{} on rank 0, its "
        "solution about {} on every rank; between the phases {}\n",
        step.id, step.op, plan.grid.count(), ops::perimeter_cells(plan.grid), mib(memory.root),
        seconds > 0 ? fmt::format(" and {:.1f} s", seconds) : std::string(), mib(memory.solution),
        between_phases(plan, *graph));
  }
  return out.empty() ? out : "tile graphs:\n" + out;
}

}  // namespace

namespace {

/// Cells of a tile grown by `margin` on every side.
int64_t grown_cells(const TileGrid& grid, int64_t margin) {
  return (grid.tile_width() + 2 * margin) * (grid.tile_height() + 2 * margin);
}

int64_t cell_bytes(const PlannedStep& step) {
  return static_cast<int64_t>(size_of(step.impl->output_type()));
}

/// The steps, input bands and outputs one pass's threads hold; every one for a plan without
/// passes.
struct PassParts {
  std::vector<size_t> steps;
  std::vector<size_t> bands;  // index into Plan::bands
  std::vector<size_t> outputs;
  std::vector<size_t> reduced_inputs;  // index into Plan::reduced: input bands a reduction reads
  bool whole = false;                  // the plan has no passes: every input counts
};

PassParts parts_of(const Plan& plan, const Pass* pass) {
  PassParts parts;
  for (size_t s = 0; s < plan.steps.size(); ++s) parts.steps.push_back(s);
  for (size_t o = 0; o < plan.outputs.size(); ++o) parts.outputs.push_back(o);
  parts.whole = pass == nullptr;
  if (pass != nullptr) {
    parts.steps = pass->steps;
    parts.outputs = pass->outputs;
    for (size_t k : pass->reduced)
      if (plan.reduced[k].kind == BandSource::Kind::Input) parts.reduced_inputs.push_back(k);
  }
  std::set<size_t> bands;
  for (size_t s : parts.steps) bands.insert(plan.steps[s].bands.begin(), plan.steps[s].bands.end());
  if (pass == nullptr)
    for (size_t k = 0; k < plan.bands.size(); ++k) bands.insert(k);
  parts.bands.assign(bands.begin(), bands.end());
  return parts;
}

/// Input tiles and input bands, read with the plan's halo, and the input bands a reduction reads.
int64_t input_bytes(const Plan& plan, const PassParts& parts) {
  std::set<std::pair<size_t, ops::CellType>> tiles;
  for (size_t s : parts.steps) {
    const PlannedStep& step = plan.steps[s];
    if (step.reads_input_cells()) tiles.insert({step.input, step.cells});
  }
  int64_t bytes = 0;
  for (const auto& [input, cells] : tiles)
    bytes += grown_cells(plan.grid, plan.halo) *
             static_cast<int64_t>(size_of(ops::cell_pixel_type(cells)));
  for (size_t k : parts.bands)
    bytes += grown_cells(plan.grid, plan.halo) * static_cast<int64_t>(size_of(plan.bands[k].type));
  for (size_t k : parts.reduced_inputs)  // read without a halo
    bytes += grown_cells(plan.grid, 0) * static_cast<int64_t>(size_of(plan.reduced[k].type));
  return bytes;
}

/// What a chain of steps holds besides their output tiles: each step others read over its tile
/// grown by its margin, and a step's cells converted for each other cell type one-input steps
/// read them as.
int64_t chain_bytes(const Plan& plan, const PassParts& parts) {
  int64_t bytes = 0;
  for (size_t s : parts.steps) {
    const PlannedStep& step = plan.steps[s];
    if (step.margin > 0) bytes += grown_cells(plan.grid, step.margin) * cell_bytes(step);
  }
  std::set<std::pair<size_t, ops::CellType>> converted;
  for (size_t s : parts.steps) {
    const PlannedStep& step = plan.steps[s];
    if (step.source &&
        plan.steps[*step.source].impl->output_type() != ops::cell_pixel_type(step.cells))
      converted.insert({*step.source, step.cells});
  }
  for (const auto& [source, cells] : converted)
    bytes += grown_cells(plan.grid, plan.steps[source].margin) *
             static_cast<int64_t>(size_of(ops::cell_pixel_type(cells)));
  return bytes;
}

/// What each thread of `parts`' pass allocates once (Plan::bytes_per_thread).
int64_t thread_bytes(const Plan& plan, const PassParts& parts) {
  const TileGrid& grid = plan.grid;
  const int64_t tile_cells = grid.tile_width() * grid.tile_height();
  int64_t bytes = input_bytes(plan, parts) + chain_bytes(plan, parts);
  for (size_t s : parts.steps) {
    const PlannedStep& step = plan.steps[s];
    bytes += tile_cells * cell_bytes(step) * step.impl->output_bands();
    if (const auto* graph = dynamic_cast<const ops::TileGraphOp*>(step.impl.get()))
      bytes += graph->work_bytes((grid.tile_width() + 2) * (grid.tile_height() + 2));
  }
  int64_t output_tile = 0;
  int64_t overview_extra = 0;
  for (size_t o : parts.outputs) {
    const OutputSpec& spec = plan.outputs[o].spec;
    const int64_t tile = tile_cells * static_cast<int64_t>(size_of(spec.type)) * spec.bands;
    output_tile += tile;
    // A file with overviews: its tiles' overview shares (a third of a tile each) over a claim of
    // 16 tiles, which one thread may hold alone, and the overview tile a thread assembles.
    if (overview_levels(spec) > 0) overview_extra += 16 * tile * 4 / 3 + tile;
  }
  // The encoder's buffers, the band-tiles of a tile, and those of the rest of its run.
  return bytes + 2 * output_tile + overview_extra +
         std::min(run_bytes_per_thread, (tiles_per_run - 1) * output_tile);
}

/// The readers one thread of `parts`' pass keeps: one per input its steps read as cells and one
/// per band they read by name.
int64_t mapped_bytes(const Plan& plan, const PassParts& parts) {
  std::set<size_t> inputs;
  for (size_t s : parts.steps)
    if (parts.whole || plan.steps[s].reads_input_cells()) inputs.insert(plan.steps[s].input);
  return static_cast<int64_t>(inputs.size() + parts.bands.size() + parts.reduced_inputs.size()) *
         mapped_bytes_per_reader;
}

/// The largest of `measure` over the plan's passes (the whole plan when it has none): a pass's
/// buffers are freed before the next allocates its own.
template <typename Measure>
int64_t largest_pass(const Plan& plan, Measure measure) {
  if (plan.passes.empty()) return measure(plan, parts_of(plan, nullptr));
  int64_t most = 0;
  for (const Pass& pass : plan.passes) most = std::max(most, measure(plan, parts_of(plan, &pass)));
  return most;
}

}  // namespace

int64_t Plan::bytes_per_thread() const { return largest_pass(*this, thread_bytes); }

int64_t Plan::mapped_bytes_per_thread() const { return largest_pass(*this, mapped_bytes); }

int64_t Plan::graph_bytes() const {
  int64_t bytes = 0;
  for (const PlannedStep& step : steps)
    if (const auto* graph = dynamic_cast<const ops::TileGraphOp*>(step.impl.get())) {
      const auto memory = graph->graph_memory(grid);
      const int64_t places = keeps_tiles(*this, *graph) ? 24 * grid.count() : 0;
      bytes = std::max(bytes, memory.root + memory.solution + places);
    }
  return bytes;
}

int64_t Plan::scratch_bytes() const {
  int64_t bytes = 0;
  for (const PlannedStep& step : steps)
    if (const auto* graph = dynamic_cast<const ops::TileGraphOp*>(step.impl.get()))
      if (keeps_tiles(*this, *graph))
        bytes += graph->kept_bytes(grid.tile_width() * grid.tile_height()) * grid.count();
  return bytes;
}

int64_t Plan::graph_tile_phase_bytes() const {
  int64_t bytes = 0;
  for (const PlannedStep& step : steps)
    if (const auto* graph = dynamic_cast<const ops::TileGraphOp*>(step.impl.get())) {
      const auto memory = graph->graph_memory(grid);
      const int64_t places = keeps_tiles(*this, *graph) ? 24 * grid.count() : 0;
      bytes = std::max({bytes, memory.summaries.value_or(memory.root), memory.solution + places});
    }
  return bytes;
}

int64_t Plan::bytes_per_rank(int threads) const {
  const int64_t tiles =
      threads * (bytes_per_thread() + mapped_bytes_per_thread()) + graph_tile_phase_bytes();
  return std::max(tiles, graph_bytes()) + gdal_cache_bytes + rank_overhead_bytes;
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
  text += "passes:\n" + passes_text(*this);
  text += stages_text(*this);
  text += fmt::format("run: {} rank(s) x {} thread(s)\n", ranks, threads);
  text += graphs_text(*this);
  const std::string tiles =
      fmt::format("{} threads x ({} tile buffers + {} mapped input pages)", threads,
                  mib(bytes_per_thread()), mib(mapped_bytes_per_thread()));
  const std::string cache = fmt::format("{} GDAL block cache + {} overhead", mib(gdal_cache_bytes),
                                        mib(rank_overhead_bytes));
  if (graph_bytes() == 0)
    return text + fmt::format("memory per rank: {} + {} = {}\n", tiles, cache,
                              mib(bytes_per_rank(threads)));
  return text + fmt::format(
                    "memory per rank: {} + the larger of the phases over the tiles, {} + {} "
                    "summaries or solution, and the global phase, {} tile graph (rank 0's) = {}\n",
                    cache, tiles, mib(graph_tile_phase_bytes()), mib(graph_bytes()),
                    mib(bytes_per_rank(threads)));
}

}  // namespace tessera::plan
