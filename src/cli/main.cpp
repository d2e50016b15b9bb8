// tessera's entry point: MPI set-up, subcommands, and the one place where errors are printed.
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "tessera/cli/calc_args.hpp"
#include "tessera/cli/dem_args.hpp"
#include "tessera/cli/focal_args.hpp"
#include "tessera/cli/hydro_args.hpp"
#include "tessera/core/error.hpp"
#include "tessera/io/output_paths.hpp"
#include "tessera/io/temporary_files.hpp"
#include "tessera/job/job_spec.hpp"
#include "tessera/par/agreement.hpp"
#include "tessera/par/environment.hpp"
#include "tessera/plan/step_graph.hpp"
#include "tessera/run/executor.hpp"
#include "tessera/run/generate.hpp"
#include "tessera/run/memory.hpp"
#include "tessera/run/probe.hpp"
#include "tessera/run/report.hpp"
#include "tessera/run/stats.hpp"
#include "tessera/run/zonal.hpp"

namespace {

using tessera::par::Environment;

/// Exit statuses: 0 done, 1 a bad input or a failed run, 2 a bad command line, 75 stopped by a
/// signal with the finished tiles journalled (sysexits' EX_TEMPFAIL: run it again, --resume).
enum Status : int { ok = 0, failed = 1, usage = 2, stopped = 75 };

/// The batch flags of run, dem, focal and calc (docs/cli.md#stopping-and-resuming).
struct BatchFlags {
  bool resume = false;
  bool restart = false;
  double checkpoint = 30;
};

tessera::run::JournalOptions journal_options(const BatchFlags& flags, std::string identity,
                                             std::string name) {
  if (flags.resume && flags.restart)
    throw tessera::UsageError("--resume and --restart cannot go together");
  if (!(flags.checkpoint >= 0))
    throw tessera::UsageError("--checkpoint expects seconds, 0 or more");
  using tessera::run::JournalMode;
  const JournalMode mode = flags.resume    ? JournalMode::Resume
                           : flags.restart ? JournalMode::Restart
                                           : JournalMode::Fresh;
  return {true, mode, std::move(identity), std::move(name), flags.checkpoint};
}

/// Takes --resume, --restart and --checkpoint SECONDS out of a gdal-style command line.
BatchFlags take_batch_flags(std::vector<std::string>& args) {
  BatchFlags flags;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--resume") {
      flags.resume = true;
    } else if (args[i] == "--restart") {
      flags.restart = true;
    } else if (args[i] == "--checkpoint") {
      if (i + 1 == args.size()) throw tessera::UsageError("--checkpoint expects seconds");
      try {
        flags.checkpoint = std::stod(args[++i]);
      } catch (const std::exception&) {
        throw tessera::UsageError("--checkpoint expects seconds, got '" + args[i] + "'");
      }
    } else {
      rest.push_back(args[i]);
    }
  }
  args = rest;
  return flags;
}

/// What a gdal-style command line asks of its outputs, for the journal: the words but those
/// that change nothing written (-q, --report FILE, --memory SIZE).
std::string command_identity(const std::string& command, const std::vector<std::string>& args) {
  std::string identity = command;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-q" || a == "-quiet" || a == "--quiet") continue;
    if (a == "--report" || a == "--memory") {
      ++i;
      continue;
    }
    identity += '\0';
    identity += a;
  }
  return identity;
}

/// A job file's bytes.
std::string file_text(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  std::string text;
  if (!f) return text;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, f)) > 0;) text.append(buffer, n);
  std::fclose(f);
  return text;
}

void print_error(const Environment& env, const std::string& message) {
  if (env.is_root()) fmt::print(stderr, "tessera: error: {}\n", tessera::printable(message));
}

/// Reads a job file and checks what needs no raster, so that its mistakes show before any opens.
tessera::job::JobSpec read_job(const std::string& path) {
  const tessera::Phase reading("reading the job file");
  tessera::job::JobSpec job;
  tessera::par::agreed([&] {
    job = tessera::job::parse_job_file(path);
    tessera::plan::check_job(job);
  });
  return job;
}

/// The run options of a command: `memory` is --memory's text, or empty.
tessera::run::RunOptions run_options(const Environment& env, bool quiet, const std::string& report,
                                     const std::string& memory) {
  tessera::run::RunOptions options{quiet, 0, env.ranks_on_node(), report, std::nullopt, {}};
  if (!memory.empty()) options.memory_limit = tessera::run::parse_memory_size("--memory", memory);
  return options;
}

void run_job(const Environment& env, const std::string& path, bool quiet, const std::string& report,
             const std::string& memory, const BatchFlags& batch) {
  auto options = run_options(env, quiet, report, memory);
  options.journal = journal_options(batch, file_text(path), "the job file " + path);
  const auto job = read_job(path);
  if (const auto file = tessera::io::regular_file_id(report);
      file && file == tessera::io::regular_file_id(path))
    throw tessera::Error("--report " + report + ": is the job file " + path +
                         "; the report needs a file of its own");
  const auto plan = tessera::run::prepare(job);
  tessera::run::execute(plan, options);
}

/// Prints the plan with the memory a rank may use, then refuses it as a run would if it does
/// not fit.
void show_plan(const Environment& env, const std::string& path, const std::string& memory) {
  const auto options = run_options(env, false, {}, memory);
  const auto job = read_job(path);
  const auto plan = tessera::run::prepare(job);
  const int threads = tessera::run::choose_threads(0, env.ranks_on_node());
  const auto budget = tessera::run::rank_memory(options);
  if (env.is_root())
    fmt::print("{}memory a rank may use: {} ({})\n", plan.describe(env.size(), threads),
               tessera::run::size_text(budget.bytes), budget.source);
  tessera::par::agreed([&] { tessera::run::check_memory(plan, options); });
}

/// Runs the one-step job of `tessera dem` or `tessera focal`.
void run_command(const Environment& env, const tessera::cli::DemCommand& command,
                 const tessera::run::JournalOptions& journal) {
  auto options = run_options(env, command.quiet, command.report, command.memory);
  options.journal = journal;
  if (env.is_root())
    for (const auto& warning : command.warnings)
      fmt::print(stderr, "tessera: warning: {}\n", tessera::printable(warning));
  const auto plan = tessera::run::prepare(command.job);
  tessera::run::execute(plan, options);
}

/// `tessera generate`'s options, filled by CLI11.
struct GenerateArgs {
  tessera::run::GenerateSpec spec;
  std::string size = "4096x4096";
  std::string type = "Float32";
  std::vector<double> origin;
  std::optional<double> nodata;
  bool quiet = false;
  std::string report;
};

CLI::App* add_generate(CLI::App& app, GenerateArgs& g) {
  auto* gen = app.add_subcommand("generate", "write deterministic fractal terrain as a GeoTIFF");
  auto& terrain = g.spec.terrain;
  gen->add_option("output", g.spec.path, "the GeoTIFF to write")->required();
  gen->add_option("--size", g.size, "WIDTHxHEIGHT in cells")->capture_default_str();
  gen->add_option("--seed", terrain.seed, "the terrain's seed")->capture_default_str();
  gen->add_option("--type", g.type, "pixel type, Byte to Float64")->capture_default_str();
  gen->add_option("--cell", g.spec.cell, "cell size in CRS units")->capture_default_str();
  gen->add_option("--crs", g.spec.crs, "CRS, as GDAL takes it")->capture_default_str();
  gen->add_option("--origin", g.origin, "X,Y of the top-left corner")->delimiter(',')->expected(2);
  gen->add_option("--nodata", g.nodata, "nodata value written to the file");
  gen->add_option("--zmin", terrain.zmin, "lowest height")->capture_default_str();
  gen->add_option("--zmax", terrain.zmax, "highest height")->capture_default_str();
  gen->add_option("--octaves", terrain.octaves, "octaves of noise")->capture_default_str();
  gen->add_option("--coarse", terrain.coarse_shift, "coarsest lattice: 2^N cells")
      ->capture_default_str();
  gen->add_option("--persistence", terrain.persistence, "amplitude ratio between octaves")
      ->capture_default_str();
  gen->add_option("--co", g.spec.creation_options, "GeoTIFF creation option NAME=VALUE");
  gen->add_flag("-q,--quiet", g.quiet, "no progress and no summary");
  gen->add_option("--report", g.report, "write the run report as JSON");
  return gen;
}

void run_generate(const Environment& env, GenerateArgs& g) {
  g.spec.size = tessera::run::parse_size(g.size);
  try {
    g.spec.type = tessera::parse_pixel_type(g.type);
  } catch (const tessera::Error& e) {
    throw tessera::UsageError(std::string("generate: --type: ") + e.what());
  }
  if (g.nodata && !tessera::holds(g.spec.type, *g.nodata))
    throw tessera::Error("generate: --nodata " + tessera::nodata_misfit(g.spec.type, *g.nodata));
  g.spec.nodata = g.nodata;
  if (g.origin.size() == 2) {
    g.spec.origin_x = g.origin[0];
    g.spec.origin_y = g.origin[1];
  }
  tessera::run::generate(g.spec, run_options(env, g.quiet, g.report, {}));
}

/// `tessera stats`'s options, filled by CLI11.
struct StatsArgs {
  tessera::run::StatsRequest request;
  std::optional<int> buckets;
  std::vector<double> range;
  bool no_aux = false;
  bool quiet = false;
  std::string report;
};

CLI::App* add_stats(CLI::App& app, StatsArgs& s) {
  auto* stats = app.add_subcommand(
      "stats", "exact statistics, histogram and percentiles of a band, as gdalinfo -stats -hist");
  auto& r = s.request;
  stats->add_option("input", r.path, "the raster (anything GDAL reads)")->required();
  stats->add_option("-b", r.band, "the band, from 1")->capture_default_str();
  stats->add_flag("--hist", r.histogram, "the histogram with GDAL's default buckets");
  stats->add_option("--buckets", s.buckets, "the histogram's bucket count, with --range");
  stats->add_option("--range", s.range, "MIN MAX of the histogram's buckets")->expected(2);
  stats->add_option("--percentiles", r.percentiles, "exact percentiles, P1,P2,... (0-100)")
      ->delimiter(',')
      ->check([](const std::string& p) {  // CLI11 reads "" as 0
        return p.empty() ? std::string("expected percentiles P1,P2,..., found an empty one")
                         : std::string();
      });
  stats->add_option("--json", r.json_path, "write the results as JSON");
  stats->add_option("--tile", r.tile, "tile size (a multiple of 16)");
  stats->add_flag("--no-aux", s.no_aux, "leave the .aux.xml alone (gdalinfo -stats writes it)");
  stats->add_flag("-q,--quiet", s.quiet, "print nothing");
  stats->add_option("--report", s.report, "write the run report as JSON (the passes summed)");
  return stats;
}

void run_stats(const Environment& env, StatsArgs& s) {
  if (s.buckets.has_value() != !s.range.empty())
    throw tessera::UsageError("stats: --buckets and --range go together");
  if (s.buckets) s.request.buckets = tessera::stats::Buckets{s.range[0], s.range[1], *s.buckets};
  s.request.store = !s.no_aux;
  tessera::run::run_stats(s.request, run_options(env, s.quiet, s.report, {}));
}

/// `tessera zonal`'s options, filled by CLI11.
struct ZonalArgs {
  tessera::run::ZonalRequest request;
  std::vector<std::string> stats;
  std::string report;
  bool quiet = false;
};

CLI::App* add_zonal(CLI::App& app, ZonalArgs& z) {
  auto* zonal = app.add_subcommand(
      "zonal", "statistics of rasters per zone of a zone raster or per polygon (CSV or vector)");
  auto& r = z.request;
  zonal->add_option("--zones", r.zones, "raster of integer zone ids, or a vector file of polygons")
      ->required();
  zonal->add_option("--zones-band", r.zones_band, "the zones raster's band")->capture_default_str();
  zonal->add_option("--layer", r.layer, "the polygons' layer (the file's only one by default)");
  zonal->add_option("--id", r.id_field, "the field naming each polygon zone (FID by default)");
  zonal->add_flag("--all-touched", r.all_touched,
                  "every cell a polygon touches, not only cells whose centre it holds");
  zonal->add_option("--values", r.values, "rasters on the zones' grid")->required();
  zonal->add_flag("--categorical", r.categorical,
                  "also the count of each value (class) in each zone, a column per class");
  zonal
      ->add_option("--stats", z.stats,
                   "count,nodata,sum,mean,min,max,range,std,variance,"
                   "median,percentile_Q,majority,minority,variety")
      ->delimiter(',');
  zonal->add_option("--out", r.out, "the table: .csv, or .gpkg/.shp/.geojson for polygons")
      ->required();
  zonal->add_option("--tile", r.tile, "tile size (a multiple of 16)");
  zonal->add_option("--report", z.report, "write the run report as JSON to this file");
  zonal->add_flag("-q,--quiet", z.quiet, "no progress");
  return zonal;
}

void run_zonal(const Environment& env, ZonalArgs& z) {
  z.request.stats.clear();
  for (const std::string& name : z.stats) {
    try {
      z.request.stats.push_back(tessera::stats::parse_zone_stat(name));
    } catch (const tessera::Error& e) {
      throw tessera::UsageError(std::string("zonal: --stats: ") + e.what());
    }
  }
  if (z.request.stats.empty()) z.request.stats = tessera::run::default_zone_stats();
  tessera::run::run_zonal(z.request, run_options(env, z.quiet, z.report, {}));
}

/// The command line for CLI11, which takes no multi-letter flag with one dash: generate's -co,
/// spelt as gdal's tools spell it, becomes --co. CLI11 wants the arguments in reverse order.
std::vector<std::string> cli11_args(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "generate")
    std::replace(args.begin(), args.end(), std::string("-co"), std::string("--co"));
  std::reverse(args.begin(), args.end());
  return args;
}

void run_calc(const Environment& env, std::vector<std::string> args) {
  const BatchFlags batch = take_batch_flags(args);
  auto command = tessera::cli::parse_calc_args(args);
  auto options = run_options(env, command.quiet, {}, command.memory);
  options.journal = journal_options(batch, command_identity("calc", args), "the command line");
  if (command.type_from_inputs) {
    std::vector<tessera::PixelType> types;
    for (const auto& info : tessera::run::probe_inputs(command.job)) types.push_back(info.type);
    tessera::par::agreed([&] { tessera::cli::set_default_type(command, types); });
  }
  const auto plan = tessera::run::prepare(command.job);
  tessera::run::execute(plan, options);
}

/// stats, zonal and generate keep no journal: a stopped one runs again from the start. Their
/// --resume, --restart and --checkpoint are refused saying so, not as words CLI11 does not know.
void refuse_batch_flags(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  if (command != "stats" && command != "zonal" && command != "generate") return;
  for (int i = 2; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--resume" || word == "--restart" || word == "--checkpoint")
      throw tessera::UsageError(fmt::format(
          "{}: {}: tessera {} keeps no journal; a stopped one is run again from the start", command,
          word, command));
  }
}

/// A flag given a value (`--quiet=false`) is refused by every command alike: CLI11 would take it
/// (run, zonal, stats, generate). Only words in a flag's place: the word after an option that
/// takes a value is that value (CLI11 takes it, whatever it looks like: `--report --quiet=r.json`
/// writes r.json's report to a file of that name). The gdal-style commands' parsers check the
/// words they read as flags themselves (refuse_flag_value).
void refuse_flag_values(CLI::App& app, int argc, char** argv) {
  if (argc < 3) return;
  const std::string command = argv[1];
  CLI::App* sub = nullptr;
  try {
    sub = app.get_subcommand(command);
  } catch (const CLI::OptionNotFound&) {
    return;
  }
  if (sub->get_prefix_command()) return;
  for (int i = 2; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--") return;
    if (word.size() < 2 || word[0] != '-') continue;
    const size_t eq = word.find('=');
    const CLI::Option* option = sub->get_option_no_throw(word.substr(0, eq));
    if (option == nullptr) continue;
    if (option->get_expected_max() == 0 && eq != std::string::npos)
      throw tessera::UsageError(
          fmt::format("{}: {} takes no value, got '{}': give the flag, or leave it out", command,
                      word.substr(0, eq), word));
    if (option->get_expected_max() > 0 && eq == std::string::npos) ++i;  // its value
  }
}

bool wants_dem_help(const std::vector<std::string>& args) {
  return args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "--usage";
}

int dispatch(const Environment& env, int argc, char** argv) {
  CLI::App app{"tessera: huge rasters on many cores and many machines (MPI x OpenMP)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tessera " TESSERA_VERSION);
  std::string job_path;
  bool quiet = false;
  auto* run = app.add_subcommand("run", "run a job file");
  run->add_option("job", job_path, "the job file (TOML)")->required();
  run->add_flag("-q,--quiet", quiet, "no progress and no summary");
  std::string report;
  run->add_option("--report", report, "write the run report as JSON");
  std::string memory;
  const char* memory_help =
      "memory a rank may use, such as 4G (default: the node's, its cgroup's "
      "or Slurm's limit, shared by the ranks on the node)";
  run->add_option("--memory", memory, memory_help);
  BatchFlags batch;
  run->add_flag("--resume", batch.resume,
                "continue a run a signal stopped (or that was killed) from its journal");
  run->add_flag("--restart", batch.restart, "start over, removing an interrupted run's journal");
  run->add_option("--checkpoint", batch.checkpoint,
                  "seconds between each rank's checkpoints of the tiles it made durable")
      ->capture_default_str();
  auto* plan = app.add_subcommand("plan", "print the plan of a job: grid, tiles, halo, memory");
  plan->add_option("job", job_path, "the job file (TOML)")->required();
  plan->add_option("--memory", memory, memory_help);
  auto* dem = app.add_subcommand("dem", "gdaldem's modes, with gdaldem's command line");
  dem->prefix_command();
  dem->set_help_flag();  // gdaldem's usage, not CLI11's (wants_dem_help)
  auto* focal = app.add_subcommand("focal", "focal statistics, r.neighbors' methods");
  focal->prefix_command();
  focal->set_help_flag();  // focal_usage(), not CLI11's
  auto* hydro = app.add_subcommand("hydro",
                                   "depression filling, D8 flow directions and areas, "
                                   "with TauDEM's flags");
  hydro->prefix_command();
  hydro->set_help_flag();  // hydro_usage(), not CLI11's
  auto* calc = app.add_subcommand("calc", "map algebra, with gdal_calc.py's command line");
  calc->prefix_command();
  calc->set_help_flag();  // gdal_calc.py's usage, not CLI11's
  GenerateArgs generate_args;
  auto* gen = add_generate(app, generate_args);
  StatsArgs stats_args;
  auto* stats = add_stats(app, stats_args);
  ZonalArgs zonal_args;
  auto* zonal = add_zonal(app, zonal_args);
  const std::string first = argc > 1 ? argv[1] : "";
  if (!first.empty() && first[0] != '-' && first != "run" && first != "plan" && first != "dem" &&
      first != "generate" && first != "calc" && first != "stats" && first != "zonal" &&
      first != "focal" && first != "hydro")
    throw tessera::UsageError(
        "unknown command '" + first +
        "' (expected run, plan, dem, focal, hydro, calc, generate, stats or zonal)");
  refuse_batch_flags(argc, argv);
  refuse_flag_values(app, argc, argv);
  try {
    app.parse(cli11_args(argc, argv));
  } catch (const CLI::CallForHelp& e) {
    return env.is_root() ? app.exit(e) : ok;
  } catch (const CLI::CallForVersion& e) {
    return env.is_root() ? app.exit(e) : ok;
  } catch (const CLI::ParseError& e) {
    print_error(env, std::string(e.what()) + " (see tessera --help)");
    return usage;
  }
  if (*run) run_job(env, job_path, quiet, report, memory, batch);
  if (*gen) run_generate(env, generate_args);
  if (*plan) show_plan(env, job_path, memory);
  if (*stats) run_stats(env, stats_args);
  if (*zonal) run_zonal(env, zonal_args);
  if (*dem) {
    auto args = dem->remaining();
    if (wants_dem_help(args)) {
      if (env.is_root()) fmt::print("{}", tessera::cli::dem_usage());
      return args.empty() ? usage : ok;
    }
    const BatchFlags batch_flags = take_batch_flags(args);
    const auto journal =
        journal_options(batch_flags, command_identity("dem", args), "the command line");
    run_command(env, tessera::cli::parse_dem_args(args), journal);
  }
  if (*focal) {
    auto args = focal->remaining();
    if (wants_dem_help(args)) {
      if (env.is_root()) fmt::print("{}", tessera::cli::focal_usage());
      return args.empty() ? usage : ok;
    }
    const BatchFlags batch_flags = take_batch_flags(args);
    const auto journal =
        journal_options(batch_flags, command_identity("focal", args), "the command line");
    run_command(env, tessera::cli::parse_focal_args(args), journal);
  }
  if (*hydro) {
    auto args = hydro->remaining();
    if (wants_dem_help(args)) {
      if (env.is_root()) fmt::print("{}", tessera::cli::hydro_usage());
      return args.empty() ? usage : ok;
    }
    const BatchFlags batch_flags = take_batch_flags(args);
    const auto journal =
        journal_options(batch_flags, command_identity("hydro", args), "the command line");
    run_command(env, tessera::cli::parse_hydro_args(args), journal);
  }
  if (*calc) {
    const auto args = calc->remaining();
    if (wants_dem_help(args)) {
      if (env.is_root()) fmt::print("{}", tessera::cli::calc_usage());
      return args.empty() ? usage : ok;
    }
    run_calc(env, args);
  }
  return ok;
}

/// The subcommand's exit status; its error printed once.
int run(const Environment& env, int argc, char** argv) {
  try {
    return dispatch(env, argc, argv);
  } catch (const tessera::UsageError& e) {
    print_error(env, e.what());
    return usage;
  } catch (const tessera::Stopped& e) {
    if (env.is_root()) fmt::print(stderr, "tessera: {}\n", tessera::printable(e.what()));
    return stopped;
  } catch (...) {
    print_error(env, tessera::failure_message());
    return failed;
  }
}

/// Whether the command journals its tiles: run, dem, focal, hydro and calc.
bool journals(int argc, char** argv) {
  if (argc < 2) return false;
  const std::string command = argv[1];
  return command == "run" || command == "dem" || command == "focal" || command == "hydro" ||
         command == "calc";
}

/// Holds the stop signals from before any library's initializer runs (the executable's
/// .preinit_array comes first): GDAL's, HDF5's and MPI's libraries take a while to start, and a
/// signal sent meanwhile would end the process by its default action. main releases them to its
/// handlers. Started by the front `tessera` (front.cpp), the process holds them already, from
/// before the dynamic loader; this covers the program run by its own path.
extern "C" void hold_stop_signals_at_start(int /*argc*/, char** /*argv*/, char** /*env*/) {
  tessera::io::hold_stop_signals();
}
[[gnu::used,
  gnu::section(".preinit_array")]] void (*hold_at_start)(int, char**,
                                                         char**) = hold_stop_signals_at_start;

}  // namespace

int main(int argc, char** argv) {
  tessera::run::mark_process_start();
  try {
    // The commands that journal take a stop signal as "stop" from here to the process's end (the
    // executor and the passes see it; one that comes after the run has its status leaves that
    // status as it is), so the scope is never destroyed. It is in place before the handlers
    // release what was held since the start: a signal during MPI's start must not end the process.
    if (journals(argc, argv)) new tessera::io::StopScope;  // NOLINT: lives until the process ends
    tessera::io::remove_temporaries_on_signal();
    Environment env(argc, argv);
    const int status = run(env, argc, argv);
    env.set_exit_status(status);
    return status;
  } catch (...) {
    std::fprintf(stderr, "tessera: error: %s\n",
                 tessera::printable(tessera::failure_message()).c_str());
    return failed;
  }
}
