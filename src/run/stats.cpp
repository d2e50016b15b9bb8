// `tessera stats`: the band's tiles read raw (band_tiles) and reduced (reduce_bands); the
// results printed, stored in the .aux.xml, written as JSON.
#include "tessera/run/stats.hpp"

#include <fmt/core.h>
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "output_checks.hpp"
#include "reduction.hpp"
#include "stopwatch.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/hidden_name.hpp"
#include "tessera/io/raster_source.hpp"
#include "tessera/io/statistics_metadata.hpp"
#include "tessera/io/temporary_files.hpp"
#include "tessera/par/agreement.hpp"
#include "tessera/par/environment.hpp"
#include "tessera/plan/plan.hpp"
#include "tessera/run/report.hpp"

namespace tessera::run {

namespace {

RasterInfo probe_band(const StatsRequest& request) {
  RasterInfo info;
  par::agreed([&] {
    io::init_gdal(plan::gdal_cache_bytes);
    info = io::probe(request.path, request.band);
  });
  return info;
}

double valid_percent(const stats::Summary& s) {
  const int64_t total = s.valid + s.nodata;
  return total == 0 ? 0.0 : 100.0 * static_cast<double>(s.valid) / static_cast<double>(total);
}

/// The percentage of valid cells as GDAL writes STATISTICS_VALID_PERCENT
/// (GDALRasterBand::SetValidPercent): "%.4g", but "99.999" where that would be "100" with some
/// cells nodata, so that 100 means every cell is valid.
std::string valid_percent_text(const stats::Summary& s) {
  if (s.valid == 0) return "0";
  if (s.nodata == 0) return "100";
  const std::string text = fmt::format("{:.4g}", valid_percent(s));
  return text == "100" ? "99.999" : text;
}

std::string percentile_name(double p) { return fmt::format("{:g}", p); }

/// A double in JSON: shortest round-trip digits, null for NaN.
std::string json_number(double v) { return std::isfinite(v) ? fmt::format("{}", v) : "null"; }

/// Whether GDAL can make the .aux.xml beside `path`: "NAME.aux.xml" must fit a file name, or
/// GDAL stores nothing without a word.
bool aux_name_fits(const std::string& path) {
  return std::filesystem::path(path).filename().string().size() + 8 <= file_name_bytes;
}

}  // namespace

void check_request(const StatsRequest& request) {
  for (double p : request.percentiles)
    if (!(p >= 0 && p <= 100))
      throw Error(fmt::format("stats: --percentiles: {:g} is not between 0 and 100", p));
  if (request.buckets) {
    if (request.buckets->count < 1)
      throw Error(
          fmt::format("stats: --buckets: {} is not a positive count", request.buckets->count));
    const double min = request.buckets->min;
    const double max = request.buckets->max;
    if (!(min < max))
      throw Error(fmt::format("stats: --range: {:g} {:g} is not a range (MIN < MAX)", min, max));
    // The buckets' width (MAX - MIN) / N must be a finite double, or every cell falls in one.
    if (!std::isfinite(max - min))
      throw Error(fmt::format("stats: --range: {:g} {:g} is not a finite range (MAX - MIN is {:g})",
                              min, max, max - min));
  }
}

StatsResult compute_stats(const StatsRequest& request, const RunOptions& options) {
  check_request(request);
  StatsResult result;
  result.info = probe_band(request);
  const RasterInfo& info = result.info;
  par::agreed([&] { result.grid = plan::choose_grid(info.size, request.tile); });
  BandToReduce band{
      {info.type, info.nodata}, request.percentiles, request.buckets, request.histogram};
  const TileGrid& grid = result.grid;
  Reduction reduction =
      reduce_bands(grid, options, [&] { return band_tiles({info}, grid); }, {band});
  ReducedBandResult& r = reduction.bands.at(0);
  result.summary = r.summary;
  result.buckets = r.buckets;
  result.histogram = std::move(r.histogram);
  result.percentiles = std::move(r.percentiles);
  result.sweeps = reduction.passes;
  result.report = reduction.report;
  return result;
}

std::string stats_text(const StatsResult& r, const StatsRequest& request) {
  const stats::Summary& s = r.summary;
  std::string text = fmt::format("Band {} Type={}\n", r.info.band, name_of(r.info.type));
  if (s.valid > 0)
    text += fmt::format("  Minimum={:.3f}, Maximum={:.3f}, Mean={:.3f}, StdDev={:.3f}\n", s.minimum,
                        s.maximum, s.mean, s.stddev);
  text += fmt::format("  Valid cells={}, NoData cells={}\n", s.valid, s.nodata);
  if (r.buckets) {
    text += fmt::format("  {} buckets from {:g} to {:g}:\n  ", r.buckets->count, r.buckets->min,
                        r.buckets->max);
    for (int64_t c : r.histogram) text += fmt::format("{} ", c);
    text += "\n";
  }
  for (size_t i = 0; i < request.percentiles.size(); ++i)
    text += fmt::format("  Percentile {}={:.17g}\n", percentile_name(request.percentiles[i]),
                        r.percentiles[i]);
  if (s.valid > 0) {
    text += "  Metadata:\n";
    text += fmt::format("    STATISTICS_MAXIMUM={:.14g}\n", s.maximum);
    text += fmt::format("    STATISTICS_MEAN={:.14g}\n", s.mean);
    text += fmt::format("    STATISTICS_MINIMUM={:.14g}\n", s.minimum);
    text += fmt::format("    STATISTICS_STDDEV={:.14g}\n", s.stddev);
    text += fmt::format("    STATISTICS_VALID_PERCENT={}\n", valid_percent_text(s));
  }
  return text;
}

std::string stats_json(const StatsResult& r, const StatsRequest& request) {
  const stats::Summary& s = r.summary;
  std::string json = fmt::format(
      "{{\n  \"path\": {},\n  \"band\": {},\n  \"type\": \"{}\",\n  \"valid_count\": {},\n"
      "  \"nodata_count\": {},\n  \"valid_percent\": {},\n  \"minimum\": {},\n"
      "  \"maximum\": {},\n  \"mean\": {},\n  \"stddev\": {}",
      json_string(r.info.path), r.info.band, name_of(r.info.type), s.valid, s.nodata,
      json_number(valid_percent(s)), json_number(s.minimum), json_number(s.maximum),
      json_number(s.mean), json_number(s.stddev));
  if (r.buckets) {
    std::vector<std::string> counts;
    for (int64_t c : r.histogram) counts.push_back(std::to_string(c));
    json += fmt::format(
        ",\n  \"histogram\": {{\"min\": {}, \"max\": {}, \"buckets\": {}, \"counts\": [{}]}}",
        json_number(r.buckets->min), json_number(r.buckets->max), r.buckets->count,
        fmt::join(counts, ", "));
  }
  if (!request.percentiles.empty()) {
    std::vector<std::string> items;
    for (size_t i = 0; i < request.percentiles.size(); ++i)
      items.push_back(fmt::format("\"{}\": {}", percentile_name(request.percentiles[i]),
                                  json_number(r.percentiles[i])));
    json += fmt::format(",\n  \"percentiles\": {{{}}}", fmt::join(items, ", "));
  }
  return json + "\n}\n";
}

void run_stats(const StatsRequest& request, const RunOptions& options) {
  std::error_code ignored;
  for (const std::string& path : {request.json_path, options.report_path})
    if (!path.empty() && std::filesystem::equivalent(path, request.path, ignored))
      throw Error("stats: " + path + " is the input; the JSON needs a path of its own");
  par::agreed([&] { check_report_path(options.report_path, {request.path}, {request.json_path}); });
  const auto start = Clock::now();
  StatsResult result = compute_stats(request, options);
  result.report.start = seconds_since_process_start() - seconds_since(start);
  const double wall = seconds_since(start);
  par::agreed([&] {
    if (par::world_rank() != 0) return;
    if (!request.json_path.empty())
      io::write_text_file(request.json_path, stats_json(result, request), "the statistics");
    if (request.store && result.summary.valid > 0 && !aux_name_fits(request.path)) {
      fmt::print(stderr,
                 "tessera: warning: {}.aux.xml: the name is longer than a file name may be; the "
                 "statistics are not stored (--no-aux says so)\n",
                 printable(request.path));
    } else if (request.store && result.summary.valid > 0) {
      io::BandStatistics stored{result.summary.minimum,
                                result.summary.maximum,
                                result.summary.mean,
                                result.summary.stddev,
                                valid_percent_text(result.summary),
                                std::nullopt};
      if (result.buckets && !request.buckets)
        stored.histogram = io::BandStatistics::Histogram{result.buckets->min, result.buckets->max,
                                                         result.histogram};
      io::write_statistics(request.path, request.band, stored);
    }
    if (!options.quiet) fmt::print("{}", stats_text(result, request));
  });
  if (!options.report_path.empty()) {  // last: a report that fails warns, the results are out
    const RunFacts facts{result.grid.raster(),
                         result.grid.tile_width(),
                         result.grid.tile_height(),
                         result.grid.count() * result.sweeps,
                         choose_threads(options.threads, options.ranks_on_node),
                         wall};
    par::agreed([&] { report_ranks(facts, result.report, true, options.report_path); });
  }
}

}  // namespace tessera::run
