// `tessera zonal`: band_tiles reads the zones and values of each tile as one output's bands;
// ZonalSink folds them (or the values under each polygon, rasterised per tile) into per-thread
// zone tables, merged exactly on rank 0 at commit, which writes the table.
#include "tessera/run/zonal.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>

#include "output_checks.hpp"
#include "pass.hpp"
#include "reduction.hpp"
#include "sink.hpp"
#include "stopwatch.hpp"
#include "tessera/core/error.hpp"
#include "tessera/io/crs.hpp"
#include "tessera/io/polygon_zones.hpp"
#include "tessera/io/raster_source.hpp"
#include "tessera/io/temporary_files.hpp"
#include "tessera/par/agreement.hpp"
#include "tessera/par/environment.hpp"
#include "tessera/par/gather.hpp"
#include "tessera/plan/plan.hpp"
#include "tessera/run/report.hpp"

namespace tessera::run {

namespace {

std::string size_text(const RasterInfo& r) {
  std::string gt;
  // Shortest round-trip digits: grids that differ in the 7th digit print differently.
  for (double v : r.geotransform) gt += (gt.empty() ? "" : ", ") + fmt::format("{}", v);
  return fmt::format("{} x {} cells, geotransform ({})", r.size.width, r.size.height, gt);
}

bool nearly_equal(double a, double b) {
  return std::abs(a - b) <= 1e-9 * std::max({1.0, std::abs(a), std::abs(b)});
}

/// Throws naming both grids unless `values` is on the grid of `grid` (the zones raster, or the
/// first values raster for polygon zones).
void check_grid(const RasterInfo& grid, const std::string& whose, const RasterInfo& values) {
  bool same = grid.size == values.size && grid.has_geotransform == values.has_geotransform;
  for (size_t k = 0; k < 6 && same; ++k)
    same = nearly_equal(grid.geotransform[k], values.geotransform[k]);
  if (same && !io::same_crs(grid.crs_wkt, values.crs_wkt)) {
    throw Error("zonal: " + values.path + " and " + whose + grid.path +
                " are in different CRSs; warp one onto the other's grid first");
  }
  if (!same)
    throw Error("zonal: " + values.path + " (" + size_text(values) + ") is not on the grid of " +
                whose + grid.path + " (" + size_text(grid) + ")");
}

/// Whether the zones are polygons: --layer or --id say so, or a file GDAL opens as vectors only.
bool polygon_zones(const ZonalRequest& request) {
  return request.layer || request.id_field || io::is_vector_file(request.zones);
}

/// Whether `out` is the file at `path` (an input would be replaced by the table).
bool same_file(const std::string& out, const std::string& path) {
  std::error_code ignored;
  return std::filesystem::equivalent(out, path, ignored);
}

bool needs_counts(const ZonalRequest& request) {
  bool counts = request.categorical;
  for (const stats::ZoneStatistic& s : request.stats)
    counts = counts || stats::needs_value_counts(s);
  return counts;
}

/// Whether only median and percentiles need the value counts: digit sweeps can find those past
/// the cap, so the tables may give the counts up.
bool sweeps_can_replace_counts(const ZonalRequest& request) {
  using S = stats::ZoneStat;
  if (request.categorical) return false;
  for (const stats::ZoneStatistic& s : request.stats)
    if (stats::needs_value_counts(s) && s.stat != S::Median && s.stat != S::Percentile)
      return false;
  return true;
}

/// The percentiles the request's median and percentile_Q columns ask for.
std::vector<double> percentiles_asked(const ZonalRequest& request) {
  std::vector<double> out;
  for (const stats::ZoneStatistic& s : request.stats) {
    if (s.stat == stats::ZoneStat::Median) out.push_back(50);
    if (s.stat == stats::ZoneStat::Percentile) out.push_back(s.percentile);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

/// The file's name without folder and extension.
std::string stem(const std::string& path) { return std::filesystem::path(path).stem().string(); }

bool is_count(const stats::ZoneStatistic& stat) {
  using S = stats::ZoneStat;
  return stat.stat == S::Count || stat.stat == S::Nodata || stat.stat == S::Variety;
}

/// A CSV field: quoted when it holds a comma, a quote or a line break.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

/// One zone's row of the table, after its id.
std::vector<double> zone_row(const std::vector<ZonalColumn>& columns,
                             const std::vector<stats::ZoneList>& tables, int64_t zone) {
  static const stats::ZoneTally none;
  std::vector<double> row;
  for (const ZonalColumn& column : columns) {
    const stats::ZoneTally* found = stats::find_zone(tables[column.raster], zone);
    const stats::ZoneTally& tally = found == nullptr ? none : *found;
    if (column.value) {
      const auto count = tally.values.find(*column.value);
      row.push_back(count == tally.values.end() ? 0.0 : static_cast<double>(count->second));
    } else {
      row.push_back(stats::zone_value(tally, column.stat));
    }
  }
  return row;
}

std::string csv_line(const std::string& id, const std::vector<ZonalColumn>& columns,
                     const std::vector<double>& row) {
  std::string line = csv_field(id);
  for (size_t c = 0; c < row.size(); ++c) {
    line += ',';
    if (std::isnan(row[c])) continue;
    line += columns[c].integer() ? fmt::format("{}", static_cast<int64_t>(row[c]))
                                 : fmt::format("{}", row[c]);
  }
  return line + "\n";
}

std::string header(const std::string& id_name, const std::vector<ZonalColumn>& columns) {
  std::string text = csv_field(id_name);
  for (const ZonalColumn& column : columns) {
    text += ',';
    text += csv_field(column.name);
  }
  return text + "\n";
}

/// The table of polygon zones: one row per feature, in the layer's order.
std::string polygon_csv(const ZonalRequest& request, const io::PolygonZones& zones,
                        const std::vector<stats::ZoneList>& tables) {
  const std::vector<ZonalColumn> columns = zonal_columns(request, tables);
  std::string text = header(zones.id_name(), columns);
  for (int64_t k = 0; k < zones.count(); ++k)
    text += csv_line(zones.id(k), columns, zone_row(columns, tables, k));
  return text;
}

/// The layer copied with the statistics as fields, at request.out: written under a temporary
/// name (a Shapefile's other files too), then moved into place, the .shp last.
void write_polygon_layer(const ZonalRequest& request, const io::PolygonZones& zones,
                         const std::vector<stats::ZoneList>& tables) {
  const std::vector<ZonalColumn> columns = zonal_columns(request, tables);
  std::vector<std::vector<double>> rows;
  for (int64_t k = 0; k < zones.count(); ++k) rows.push_back(zone_row(columns, tables, k));
  std::vector<std::string> names;
  std::vector<bool> integers;
  for (const ZonalColumn& column : columns) {
    names.push_back(column.name);
    integers.push_back(column.integer());
  }
  const std::filesystem::path out(request.out);
  const std::string extension = out.extension().string();
  io::TemporaryFile temporary(io::temporary_path(request.out, getpid()) + extension);
  const std::filesystem::path base = std::filesystem::path(temporary.path()).replace_extension();
  // A Shapefile is several files: the others are named as the .shp, with their own extension.
  const std::vector<std::string> others =
      io::vector_driver_for(request.out) == "ESRI Shapefile"
          ? std::vector<std::string>{".shx", ".dbf", ".prj", ".cpg"}
          : std::vector<std::string>{};
  const auto remove_others = [&] {
    std::error_code ignored;
    for (const std::string& other : others)
      std::filesystem::remove(std::filesystem::path(base).concat(other), ignored);
  };
  try {
    io::write_zone_layer({request.zones, request.layer, request.id_field}, temporary.path(),
                         request.out, names, integers, rows);
    for (const std::string& other : others) {
      const std::filesystem::path from = std::filesystem::path(base).concat(other);
      if (std::filesystem::exists(from))
        io::move_into_place(from.string(),
                            std::filesystem::path(out).replace_extension(other).string(),
                            request.out);
    }
    io::move_into_place(temporary.path(), request.out, request.out);
    temporary.release();
  } catch (...) {
    remove_others();
    throw;
  }
}

/// The polygons' cells in one tile: each piece a zone's covered part, with its mask.
struct Cover {
  struct Piece {
    int64_t zone;
    Window part;    // tile-relative
    size_t offset;  // of its mask in `masks`
  };
  std::vector<Piece> pieces;
  std::vector<uint8_t> masks;
};

/// A zonal table: each band-tile it is given (band k: values band k) is folded per zone into
/// its thread's zone tables, one per band. With `sweeps` (tessera zonal), a table may give its
/// value counts up past the cap when digit sweeps can find what they were for: then commit
/// writes nothing, and sweeps_needed() says so; given digit requests (one per band), the tables
/// count those digits and commit only merges them (results()). The zones of a tile are read (a zone
/// raster, by each thread's own reader) or rasterised (polygons) with its band 0. On commit the
/// ranks' tables are gathered to rank 0 and merged there (exact, so in any order), and rank 0
/// writes the table.
class ZonalSink : public Sink {
 public:
  /// `grid_info`: the grid of the values (size, geotransform, CRS as WKT); `values`: each band's
  /// name, type and nodata.
  /// `polygons`: polygon zones an earlier sink read (the digit sweeps of tessera zonal), or
  /// null to read them on open.
  ZonalSink(ZonalRequest request, std::vector<RasterInfo> values, const TileGrid& grid,
            RasterInfo grid_info, bool sweeps = false,
            std::vector<std::shared_ptr<const stats::DigitRequest>> digits = {},
            std::shared_ptr<const io::PolygonZones> polygons = nullptr)
      : request_(std::move(request)),
        values_(std::move(values)),
        grid_(grid),
        grid_info_(std::move(grid_info)),
        polygons_(std::move(polygons)),
        sweeps_(sweeps && sweeps_can_replace_counts(request_)),
        digits_(std::move(digits)) {}

  bool sweeps_needed() const { return sweeps_needed_; }
  /// The polygon zones (null for a zone raster), once open.
  std::shared_ptr<const io::PolygonZones> polygons() const { return polygons_; }
  /// Rank 0's merged tables, one per values band (empty elsewhere).
  std::vector<stats::ZoneList>& results() { return results_; }
  /// Rank 0: writes the table of `results`.
  void write(const std::vector<stats::ZoneList>& results) const {
    if (!polygons_)
      io::write_text_file(request_.out, zonal_csv(request_, results), "the table");
    else if (io::vector_driver_for(request_.out).empty())
      io::write_text_file(request_.out, polygon_csv(request_, *polygons_, results), "the table");
    else
      write_polygon_layer(request_, *polygons_, results);
  }

  void open(const SinkSetup& setup) override {
    par::agreed([&] { find_zones(); });
    const auto threads = static_cast<size_t>(setup.threads);
    par::agreed([&] {
      empty_.clear();
      for (size_t k = 0; k < values_.size(); ++k) {
        empty_.emplace_back(zone_raster_ ? zone_raster_->type : PixelType::Int32,
                            zone_raster_ ? zone_raster_->nodata : std::nullopt,
                            stats::BandKind{values_[k].type, values_[k].nodata},
                            needs_counts(request_) && digits_.empty());
        if (sweeps_) empty_.back().give_up_counts_past_the_cap();
        if (!digits_.empty()) empty_.back().count_digits(digits_.at(k));
      }
      tables_.assign(threads, empty_);
      covers_.assign(threads, Cover{});
      zone_readers_.clear();
      burners_.clear();
      zone_cells_.clear();
      for (size_t t = 0; t < threads; ++t) {
        if (polygons_) {
          burners_.push_back(std::make_unique<io::PolygonBurner>(*polygons_, request_.all_touched));
        } else {
          zone_readers_.emplace_back(zone_raster_->path, zone_raster_->band);
          zone_cells_.emplace_back(static_cast<size_t>(grid_.tile_width() * grid_.tile_height()) *
                                   size_of(zone_raster_->type));
        }
      }
    });
  }

  void encode(const TilePlace& place, int band, const void* cells) override {
    const auto thread = static_cast<size_t>(place.thread);
    const Window owned = grid_.owned(place.tile);
    const int64_t stride = grid_.tile_width();
    const auto* bytes = static_cast<const std::byte*>(cells);
    const auto k = static_cast<size_t>(band);
    if (!polygons_) {
      std::vector<std::byte>& zones = zone_cells_[thread];
      const auto size = static_cast<int64_t>(size_of(zone_raster_->type));
      if (band == 0)
        zone_readers_[thread].read(
            owned, zone_raster_->type,
            View<std::byte>(zones.data(), owned.width * size, owned.height, stride * size));
      tables_[thread][k].add({zones.data(), owned.width, owned.height, stride},
                             {bytes, owned.width, owned.height, stride});
      return;
    }
    Cover& cover = covers_[thread];
    if (band == 0) cover_tile(thread, owned);
    const auto size = static_cast<int64_t>(size_of(values_[k].type));
    for (const Cover::Piece& piece : cover.pieces) {
      const std::byte* first = bytes + (piece.part.y * stride + piece.part.x) * size;
      tables_[thread][k].add_masked(piece.zone,
                                    {first, piece.part.width, piece.part.height, stride},
                                    cover.masks.data() + piece.offset, piece.part.width);
    }
  }
  void deliver(const Batch& /*batch*/) override {}
  int64_t held_bytes_per_tile() const override { return 0; }
  SinkFigures figures() const override { return {}; }

  void commit() override {
    std::vector<stats::ZoneList> results;
    bool dropped = false;
    for (size_t k = 0; k < empty_.size(); ++k) {
      std::vector<std::byte> mine;
      par::agreed([&] {
        // Into the first thread's table, each table freed once merged: one copy of the zones.
        stats::ZoneTable rank = std::move(tables_.at(0)[k]);
        for (size_t t = 1; t < tables_.size(); ++t) {
          rank.merge(tables_[t][k]);
          tables_[t][k] = empty_[k];
        }
        mine = rank.to_bytes();
      });
      auto ranks = par::gather_bytes_to_root(mine);
      mine = {};
      par::agreed([&] {
        stats::ZoneTable all = empty_[k];
        for (auto& bytes : ranks) {
          all.merge_bytes(bytes);
          bytes = {};
        }
        dropped = dropped || all.dropped();
        results.push_back(all.take_sorted());
      });
    }
    tables_.clear();
    sweeps_needed_ = par::broadcast_from_root(dropped);
    if (sweeps_needed_ || !digits_.empty()) {
      results_ = std::move(results);
      return;
    }
    par::agreed([&] {
      if (par::world_rank() == 0) write(results);
    });
  }
  void abandon() noexcept override {}

 private:
  /// Probes the zone raster (integer ids, on the values' grid) or reads the polygons.
  void find_zones() {
    if (polygon_zones(request_)) {
      if (polygons_) return;
      polygons_ = std::make_shared<const io::PolygonZones>(
          io::PolygonSource{request_.zones, request_.layer, request_.id_field}, grid_info_);
      check_fields_free();
      return;
    }
    if (request_.all_touched)
      throw Error("zonal: --all-touched applies to polygon zones; " + request_.zones +
                  " is a raster");
    if (!io::vector_driver_for(request_.out).empty())
      throw Error("zonal: " + request_.out +
                  ": a vector table needs polygon zones; write a .csv for raster zones");
    RasterInfo zones = io::probe(request_.zones, request_.zones_band);
    if (!is_integer(zones.type))
      throw Error("zonal: " + request_.zones + " holds " + std::string(name_of(zones.type)) +
                  " cells; zone ids must be integers (Byte to UInt32)");
    check_grid(zones, "the zones ", grid_info_);
    zone_raster_ = std::move(zones);
  }

  /// A vector table copies the layer's fields and adds one per column: a field of the layer
  /// named as a column (in any case, as GeoPackage and Shapefile compare them) is refused
  /// before any tile is read, not when the table is written.
  void check_fields_free() const {
    if (io::vector_driver_for(request_.out).empty()) return;
    const auto lower = [](std::string text) {
      for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return text;
    };
    std::set<std::string> fields;
    for (const std::string& field : polygons_->field_names()) fields.insert(lower(field));
    for (const ZonalColumn& column :
         zonal_columns(request_, std::vector<stats::ZoneList>(values_.size())))
      if (fields.count(lower(column.name)) > 0)
        throw Error("zonal: " + request_.out + ": layer '" + polygons_->layer_name() + "' of " +
                    request_.zones + " has a field '" + column.name +
                    "' already, which the table adds: write a .csv, or ask other --stats");
  }

  /// The polygons that cover cells of the tile `owned`, into the thread's cover.
  void cover_tile(size_t thread, const Window& owned) {
    Cover& cover = covers_[thread];
    cover.pieces.clear();
    cover.masks.clear();
    for (int64_t zone : polygons_->zones_meeting(owned)) {
      const size_t offset = cover.masks.size();
      const Window part = burners_[thread]->burn(zone, owned, cover.masks);
      if (!part.empty()) cover.pieces.push_back({zone, part, offset});
    }
  }

  ZonalRequest request_;
  std::vector<RasterInfo> values_;
  TileGrid grid_;
  RasterInfo grid_info_;
  std::optional<RasterInfo> zone_raster_;
  std::shared_ptr<const io::PolygonZones> polygons_;
  std::vector<stats::ZoneTable> empty_;
  std::vector<std::vector<stats::ZoneTable>> tables_;  // [thread][values band]
  bool sweeps_;  // the tables may give value counts up, for digit sweeps
  std::vector<std::shared_ptr<const stats::DigitRequest>> digits_;  // per band: a digit sweep
  bool sweeps_needed_ = false;
  std::vector<stats::ZoneList> results_;
  std::vector<io::RasterReader> zone_readers_;      // raster zones: one per thread
  std::vector<std::vector<std::byte>> zone_cells_;  // and its tile of zone ids
  std::vector<Cover> covers_;                       // polygon zones: per thread
  std::vector<std::unique_ptr<io::PolygonBurner>> burners_;
};

}  // namespace

std::vector<stats::ZoneStatistic> default_zone_stats() {
  using S = stats::ZoneStat;
  return {{S::Count}, {S::Min}, {S::Max}, {S::Mean}, {S::Std}};
}

bool ZonalColumn::integer() const { return value.has_value() || is_count(stat); }

std::vector<ZonalColumn> zonal_columns(const ZonalRequest& request,
                                       const std::vector<stats::ZoneList>& tables) {
  std::vector<ZonalColumn> columns;
  for (size_t k = 0; k < tables.size(); ++k) {
    const std::string prefix =
        tables.size() > 1 && k < request.value_names.size() ? request.value_names[k] + "_" : "";
    for (const stats::ZoneStatistic& s : request.stats)
      columns.push_back({prefix + stats::name_of(s), k, s, std::nullopt});
    if (!request.categorical) continue;
    std::set<double> classes;
    for (const auto& [id, tally] : tables.at(k))
      for (const auto& [value, count] : tally.values) classes.insert(value);
    for (double value : classes)
      columns.push_back({fmt::format("{}class_{}", prefix, value), k, {}, value});
  }
  return columns;
}

std::string zonal_csv(const ZonalRequest& request, const std::vector<stats::ZoneList>& tables) {
  const std::vector<ZonalColumn> columns = zonal_columns(request, tables);
  std::string text = header("zone", columns);
  std::vector<int64_t> ids;
  for (const auto& table : tables)
    for (const auto& [id, tally] : table) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  for (int64_t id : ids)
    text += csv_line(std::to_string(id), columns, zone_row(columns, tables, id));
  return text;
}

void run_zonal(const ZonalRequest& request, const RunOptions& options) {
  if (request.values.empty()) throw Error("zonal: --values names no raster");
  std::vector<RasterInfo> rasters;
  par::agreed([&] {
    io::init_gdal(plan::gdal_cache_bytes);
    for (const std::string& path : request.values) {
      rasters.push_back(io::probe(path, 1));
      check_grid(rasters[0], "", rasters.back());
    }
    for (const std::string& path : {request.out, options.report_path})
      for (const std::string& input : request.values)
        if (!path.empty() && same_file(path, input))
          throw Error("zonal: " + path + " is an input; it needs a path of its own");
    if (same_file(request.out, request.zones))
      throw Error("zonal: --out " + request.out +
                  " is the zones; the table needs a path of its own");
    io::check_output_folder(request.out);
    std::vector<std::string> inputs = request.values;
    inputs.push_back(request.zones);
    check_report_path(options.report_path, inputs, {request.out});
  });
  ZonalRequest named = request;
  named.value_names.clear();
  for (const std::string& path : request.values) named.value_names.push_back(stem(path));
  TileGrid grid;
  par::agreed([&] { grid = plan::choose_grid(rasters[0].size, request.tile); });
  BandLayout layout(1);
  for (size_t k = 0; k < rasters.size(); ++k) layout[0].push_back(k);
  const int threads = choose_threads(options.threads, options.ranks_on_node);
  const auto start = Clock::now();
  // One pass over the tiles with the sink `sink`.
  const auto sweep = [&](std::unique_ptr<ZonalSink> sink) {
    Sinks sinks;
    sinks.push_back(std::move(sink));
    StreamingPass pass(
        grid, threads, [&] { return band_tiles(rasters, grid, layout); }, sinks);
    pass.open();
    Progress progress(grid.count(), grid.raster().cells(),
                      !options.quiet && par::world_rank() == 0);
    pass.run(progress);
    progress.finish();
    pass.commit();
    return std::make_pair(std::move(sinks), pass.report());
  };
  auto [first_sinks, first_report] =
      sweep(std::make_unique<ZonalSink>(named, rasters, grid, rasters[0], true));
  RankReport mine = first_report;
  auto& first = static_cast<ZonalSink&>(*first_sinks.at(0));
  if (first.sweeps_needed()) {
    // Past the cap: digit sweeps of the percentiles, each a pass over the tiles; rank 0 holds
    // the tables and the selections, and sends each sweep's requests to every rank.
    std::vector<stats::ZoneList>& results = first.results();
    std::vector<stats::ZoneSelection> selections;
    par::agreed([&] {
      if (par::world_rank() == 0)
        for (size_t k = 0; k < rasters.size(); ++k)
          selections.emplace_back(rasters[k].type, results[k], percentiles_asked(named));
    });
    while (true) {
      std::vector<std::byte> bytes;
      par::agreed([&] {
        if (par::world_rank() != 0) return;
        bool any = false;
        for (const stats::ZoneSelection& s : selections) any = any || !s.done();
        if (!any) return;
        for (const stats::ZoneSelection& s : selections) {
          const std::vector<std::byte> one =
              s.done() ? stats::DigitRequest{}.to_bytes() : s.request().to_bytes();
          const auto size = static_cast<uint64_t>(one.size());
          const auto* at = reinterpret_cast<const std::byte*>(&size);
          bytes.insert(bytes.end(), at, at + sizeof size);
          bytes.insert(bytes.end(), one.begin(), one.end());
        }
      });
      bytes.resize(par::broadcast_from_root(static_cast<uint64_t>(bytes.size())));
      if (bytes.empty()) break;
      par::broadcast_bytes(bytes.data(), bytes.size());
      std::vector<std::shared_ptr<const stats::DigitRequest>> requests;
      std::span<const std::byte> rest(bytes);
      for (size_t k = 0; k < rasters.size(); ++k) {
        uint64_t size = 0;
        std::memcpy(&size, rest.data(), sizeof size);
        requests.push_back(std::make_shared<const stats::DigitRequest>(
            stats::DigitRequest::from_bytes(rest.subspan(sizeof size, size))));
        rest = rest.subspan(sizeof size + size);
      }
      auto [sinks, report] = sweep(std::make_unique<ZonalSink>(named, rasters, grid, rasters[0],
                                                               false, requests, first.polygons()));
      add_figures(mine, report);
      auto& counted = static_cast<ZonalSink&>(*sinks.at(0));
      par::agreed([&] {
        if (par::world_rank() != 0) return;
        for (size_t k = 0; k < selections.size(); ++k)
          if (!selections[k].done()) selections[k].refine(*requests[k], counted.results()[k]);
      });
    }
    par::agreed([&] {
      if (par::world_rank() != 0) return;
      for (size_t k = 0; k < selections.size(); ++k) selections[k].fill(results[k]);
      first.write(results);
    });
  }
  if (!options.report_path.empty()) {
    mine.start = seconds_since_process_start() - seconds_since(start);
    const RunFacts facts{grid.raster(), grid.tile_width(), grid.tile_height(),
                         grid.count(),  threads,           seconds_since(start)};
    par::agreed([&] { report_ranks(facts, mine, true, options.report_path); });
  }
}

std::unique_ptr<Sink> zone_table_sink(const OutputSpec& spec) {
  const ZoneTableSpec& table = spec.table.value();
  ZonalRequest request;
  request.zones = table.zones;
  request.zones_band = table.zones_band;
  request.layer = table.layer;
  request.id_field = table.id_field;
  request.all_touched = table.all_touched;
  request.categorical = table.categorical;
  for (const std::string& name : table.stats) request.stats.push_back(stats::parse_zone_stat(name));
  if (request.stats.empty()) request.stats = default_zone_stats();
  request.out = spec.path;
  request.value_names = spec.band_descriptions;
  RasterInfo grid_info;
  grid_info.path = spec.path;
  grid_info.size = spec.size;
  grid_info.has_geotransform = spec.has_geotransform;
  grid_info.geotransform = spec.geotransform;
  grid_info.crs_wkt = spec.crs_wkt;
  std::vector<RasterInfo> values(static_cast<size_t>(spec.bands));
  for (RasterInfo& band : values) {
    band.type = spec.type;
    band.nodata = spec.nodata;
  }
  return std::make_unique<ZonalSink>(std::move(request), std::move(values),
                                     TileGrid(spec.size, spec.tile_width, spec.tile_height),
                                     std::move(grid_info));
}

}  // namespace tessera::run
