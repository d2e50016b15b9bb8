// `tessera zonal`: ZonalTiles reads the zones and the values of each tile; one ZonalSink per
// values raster folds them into per-thread zone tables, merged exactly on rank 0 at commit.
#include "tessera/run/zonal.hpp"

#include <fmt/core.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "pass.hpp"
#include "sink.hpp"
#include "stopwatch.hpp"
#include "tessera/core/error.hpp"
#include "tessera/io/crs.hpp"
#include "tessera/io/raster_source.hpp"
#include "tessera/par/agreement.hpp"
#include "tessera/par/environment.hpp"
#include "tessera/par/gather.hpp"
#include "tessera/plan/plan.hpp"

namespace tessera::run {

namespace {

/// One thread's reader of each tile's zones and values: for values raster k, output k gets the
/// zones as band 0 and the values as band 1, full tiles of rows tile_width() cells apart.
class ZonalTiles : public TileSource {
 public:
  ZonalTiles(const std::vector<RasterInfo>& rasters, const TileGrid& grid)
      : rasters_(rasters), grid_(grid) {
    for (const RasterInfo& r : rasters_) {
      readers_.emplace_back(r.path, r.band);
      cells_.emplace_back(static_cast<size_t>(grid.tile_width() * grid.tile_height()) *
                          size_of(r.type));
    }
  }
  void process(int64_t tile, TileOutlet& out) override {
    const Window owned = grid_.owned(tile);
    for (size_t k = 0; k < rasters_.size(); ++k) {
      const auto size = static_cast<int64_t>(size_of(rasters_[k].type));
      Timed timed(times_.read);
      readers_[k].read(owned, rasters_[k].type,
                       View<std::byte>(cells_[k].data(), owned.width * size, owned.height,
                                       grid_.tile_width() * size));
      bytes_read_ += owned.cells() * size;
    }
    for (size_t k = 1; k < rasters_.size(); ++k) {
      out.put(k - 1, 0, cells_[0].data());
      out.put(k - 1, 1, cells_[k].data());
    }
  }
  const PhaseTimes& times() const override { return times_; }
  int64_t bytes_read() const override { return bytes_read_; }

 private:
  const std::vector<RasterInfo>& rasters_;  // the zones, then each values raster
  TileGrid grid_;
  std::vector<io::RasterReader> readers_;
  std::vector<std::vector<std::byte>> cells_;
  PhaseTimes times_;
  int64_t bytes_read_ = 0;
};

/// Folds the zones and values of each tile into its thread's zone table; on commit, gathers the
/// ranks' tables to rank 0 and merges them there (exact, so in any order).
class ZonalSink : public Sink {
 public:
  ZonalSink(const TileGrid& grid, const RasterInfo& zones, const RasterInfo& values, bool counts)
      : grid_(grid), zones_(zones), values_(values), counts_(counts) {}
  void open(const SinkSetup& setup) override {
    tables_.assign(static_cast<size_t>(setup.threads), empty());
    zone_cells_.assign(static_cast<size_t>(setup.threads), nullptr);
  }
  void encode(const TilePlace& place, int band, const void* cells) override {
    const auto thread = static_cast<size_t>(place.thread);
    if (band == 0) {
      zone_cells_[thread] = static_cast<const std::byte*>(cells);
      return;
    }
    const Window owned = grid_.owned(place.tile);
    const int64_t stride = grid_.tile_width();
    tables_[thread].add({zone_cells_[thread], owned.width, owned.height, stride},
                        {static_cast<const std::byte*>(cells), owned.width, owned.height, stride});
  }
  void deliver(const Batch& /*batch*/) override {}
  int64_t held_bytes_per_tile() const override { return 0; }
  SinkFigures figures() const override { return {}; }
  void commit() override {
    std::vector<std::byte> mine;
    par::agreed([&] {
      stats::ZoneTable rank = empty();
      for (const auto& t : tables_) rank.merge(t);
      tables_.clear();
      mine = rank.to_bytes();
    });
    const auto ranks = par::gather_bytes_to_root(mine);
    par::agreed([&] {
      stats::ZoneTable all = empty();
      for (const auto& bytes : ranks) all.merge_bytes(bytes);
      result_ = all.sorted();
    });
  }
  void abandon() noexcept override {}
  /// On rank 0 after commit: the zones, by id.
  const std::map<int64_t, stats::ZoneTally>& result() const { return result_; }

 private:
  stats::ZoneTable empty() const {
    return stats::ZoneTable(zones_.type, zones_.nodata, {values_.type, values_.nodata}, counts_);
  }
  TileGrid grid_;
  RasterInfo zones_;
  RasterInfo values_;
  bool counts_;
  std::vector<stats::ZoneTable> tables_;
  std::vector<const std::byte*> zone_cells_;
  std::map<int64_t, stats::ZoneTally> result_;
};

std::string size_text(const RasterInfo& r) {
  std::string gt;
  for (double v : r.geotransform) gt += (gt.empty() ? "" : ", ") + fmt::format("{:g}", v);
  return fmt::format("{} x {} cells, geotransform ({})", r.size.width, r.size.height, gt);
}

bool nearly_equal(double a, double b) {
  return std::abs(a - b) <= 1e-9 * std::max({1.0, std::abs(a), std::abs(b)});
}

/// Throws naming both grids unless `values` is on the grid of `zones`.
void check_grid(const RasterInfo& zones, const RasterInfo& values) {
  bool same = zones.size == values.size && zones.has_geotransform == values.has_geotransform;
  for (size_t k = 0; k < 6 && same; ++k)
    same = nearly_equal(zones.geotransform[k], values.geotransform[k]);
  if (same && !io::same_crs(zones.crs_wkt, values.crs_wkt)) {
    throw Error("zonal: " + values.path + " and the zones " + zones.path +
                " are in different CRSs; warp one onto the other's grid first");
  }
  if (!same)
    throw Error("zonal: " + values.path + " (" + size_text(values) +
                ") is not on the grid of the zones " + zones.path + " (" + size_text(zones) + ")");
}

std::vector<RasterInfo> probe_rasters(const ZonalRequest& request) {
  std::vector<RasterInfo> rasters;
  par::agreed([&] {
    io::init_gdal(plan::gdal_cache_bytes);
    rasters.push_back(io::probe(request.zones, request.zones_band));
    if (!is_integer(rasters[0].type))
      throw Error("zonal: " + request.zones + " holds " + std::string(name_of(rasters[0].type)) +
                  " cells; zone ids must be integers (Byte to UInt32)");
    for (const std::string& path : request.values) {
      rasters.push_back(io::probe(path, 1));
      check_grid(rasters[0], rasters.back());
    }
  });
  return rasters;
}

/// Whether `out` is the file at `path` (an input would be replaced by the table).
bool same_file(const std::string& out, const std::string& path) {
  std::error_code ignored;
  return std::filesystem::equivalent(out, path, ignored);
}

void check_request(const ZonalRequest& request, const std::vector<RasterInfo>& rasters) {
  if (request.values.empty()) throw Error("zonal: --values names no raster");
  for (const RasterInfo& r : rasters)
    if (same_file(request.out, r.path))
      throw Error("zonal: --out " + request.out +
                  " is an input; the table needs a path of its own");
  bool counts = false;
  for (stats::ZoneStat s : request.stats) counts = counts || stats::needs_value_counts(s);
  for (size_t k = 1; k < rasters.size() && counts; ++k)
    if (!is_integer(rasters[k].type))
      throw Error("zonal: --stats median, majority, minority and variety need integer values; " +
                  rasters[k].path + " holds " + std::string(name_of(rasters[k].type)));
}

/// The file's name without folder and extension.
std::string stem(const std::string& path) { return std::filesystem::path(path).stem().string(); }

std::string cell_text(double v, stats::ZoneStat stat) {
  if (std::isnan(v)) return "";
  using S = stats::ZoneStat;
  if (stat == S::Count || stat == S::Nodata || stat == S::Variety)
    return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{}", v);
}

void write_whole(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tessera-tmp";
  std::error_code ignored;
  {
    std::ofstream out(temporary, std::ios::binary);
    out << text;
    if (!out.flush()) {
      std::filesystem::remove(temporary, ignored);
      throw Error(path + ": cannot write the table");
    }
  }
  std::error_code failed;
  std::filesystem::rename(temporary, path, failed);
  if (failed) {
    std::filesystem::remove(temporary, ignored);
    throw Error(path + ": cannot write the table: " + failed.message());
  }
}

}  // namespace

std::vector<stats::ZoneStat> default_zone_stats() {
  using S = stats::ZoneStat;
  return {S::Count, S::Min, S::Max, S::Mean, S::Std};
}

std::string zonal_csv(const ZonalRequest& request,
                      const std::vector<std::map<int64_t, stats::ZoneTally>>& tables) {
  std::string text = "zone";
  for (const std::string& values : request.values)
    for (stats::ZoneStat s : request.stats)
      text += fmt::format(",{}{}", request.values.size() > 1 ? stem(values) + "_" : "",
                          stats::name_of(s));
  text += "\n";
  std::set<int64_t> ids;
  for (const auto& table : tables)
    for (const auto& [id, tally] : table) ids.insert(id);
  const stats::ZoneTally none;
  for (int64_t id : ids) {
    text += std::to_string(id);
    for (const auto& table : tables) {
      const auto found = table.find(id);
      const stats::ZoneTally& tally = found == table.end() ? none : found->second;
      for (stats::ZoneStat s : request.stats) {
        text += ',';
        text += cell_text(stats::zone_value(tally, s), s);
      }
    }
    text += "\n";
  }
  return text;
}

void run_zonal(const ZonalRequest& request, const RunOptions& options) {
  if (request.values.empty()) throw Error("zonal: --values names no raster");
  const std::vector<RasterInfo> rasters = probe_rasters(request);
  par::agreed([&] { check_request(request, rasters); });
  TileGrid grid;
  par::agreed([&] { grid = plan::choose_grid(rasters[0].size, request.tile); });
  bool counts = false;
  for (stats::ZoneStat s : request.stats) counts = counts || stats::needs_value_counts(s);
  Sinks sinks;
  std::vector<ZonalSink*> zonal;
  for (size_t k = 1; k < rasters.size(); ++k) {
    auto sink = std::make_unique<ZonalSink>(grid, rasters[0], rasters[k], counts);
    zonal.push_back(sink.get());
    sinks.push_back(std::move(sink));
  }
  const int threads = choose_threads(options.threads, options.ranks_on_node);
  StreamingPass pass(
      grid, threads, [&] { return std::make_unique<ZonalTiles>(rasters, grid); }, sinks);
  pass.open();
  Progress progress(grid.count(), grid.raster().cells(), false);
  pass.run(progress);
  pass.commit();
  par::agreed([&] {
    if (par::world_rank() != 0) return;
    std::vector<std::map<int64_t, stats::ZoneTally>> tables;
    for (const ZonalSink* sink : zonal) tables.push_back(sink->result());
    write_whole(request.out, zonal_csv(request, tables));
  });
}

}  // namespace tessera::run
