// tessera's entry point: MPI set-up, subcommands, and the one place where errors are printed.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "tessera/cli/dem_args.hpp"
#include "tessera/core/error.hpp"
#include "tessera/io/temporary_files.hpp"
#include "tessera/job/job_spec.hpp"
#include "tessera/par/agreement.hpp"
#include "tessera/par/environment.hpp"
#include "tessera/run/executor.hpp"

namespace {

using tessera::par::Environment;

/// Exit statuses: 0 done, 1 a bad input or a failed run, 2 a bad command line.
enum Status : int { ok = 0, failed = 1, usage = 2 };

void print_error(const Environment& env, const std::string& message) {
  if (env.is_root()) fmt::print(stderr, "tessera: error: {}\n", message);
}

tessera::job::JobSpec read_job(const std::string& path) {
  tessera::job::JobSpec job;
  tessera::par::agreed([&] { job = tessera::job::parse_job_file(path); });
  return job;
}

void run_job(const Environment& env, const std::string& path, bool quiet) {
  const auto job = read_job(path);
  const auto plan = tessera::run::prepare(job);
  tessera::run::execute(plan, {quiet, 0, env.ranks_on_node()});
}

void show_plan(const Environment& env, const std::string& path) {
  const auto job = read_job(path);
  const auto plan = tessera::run::prepare(job);
  const int threads = tessera::run::choose_threads(0, env.ranks_on_node());
  if (env.is_root()) fmt::print("{}", plan.describe(env.size(), threads));
}

void run_dem(const Environment& env, const std::vector<std::string>& args) {
  const auto command = tessera::cli::parse_dem_args(args);
  if (env.is_root())
    for (const auto& warning : command.warnings) fmt::print(stderr, "tessera: warning: {}\n", warning);
  const auto plan = tessera::run::prepare(command.job);
  tessera::run::execute(plan, {command.quiet, 0, env.ranks_on_node()});
}

bool wants_dem_help(const std::vector<std::string>& args) {
  return args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "--usage";
}

int dispatch(const Environment& env, int argc, char** argv) {
  CLI::App app{"tessera: huge rasters on many cores and many machines (MPI x OpenMP)"};
  app.require_subcommand(1);
  std::string job_path;
  bool quiet = false;
  auto* run = app.add_subcommand("run", "run a job file");
  run->add_option("job", job_path, "the job file (TOML)")->required();
  run->add_flag("-q,--quiet", quiet, "no summary at the end");
  auto* plan = app.add_subcommand("plan", "print the plan of a job: grid, tiles, halo, memory");
  plan->add_option("job", job_path, "the job file (TOML)")->required();
  auto* dem = app.add_subcommand("dem", "gdaldem's modes, with gdaldem's command line");
  dem->prefix_command();
  const std::string first = argc > 1 ? argv[1] : "";
  if (!first.empty() && first[0] != '-' && first != "run" && first != "plan" && first != "dem")
    throw tessera::UsageError("unknown command '" + first +
                              "' (expected run, plan or dem)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return env.is_root() ? app.exit(e) : ok;
  } catch (const CLI::ParseError& e) {
    print_error(env, std::string(e.what()) + " (see tessera --help)");
    return usage;
  }
  if (*run) run_job(env, job_path, quiet);
  if (*plan) show_plan(env, job_path);
  if (*dem) {
    const auto args = dem->remaining();
    if (wants_dem_help(args)) {
      if (env.is_root()) fmt::print("{}", tessera::cli::dem_usage());
      return args.empty() ? usage : ok;
    }
    run_dem(env, args);
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Environment env(argc, argv);
    tessera::io::remove_temporaries_on_signal();
    try {
      return dispatch(env, argc, argv);
    } catch (const tessera::UsageError& e) {
      print_error(env, e.what());
      return usage;
    } catch (const std::exception& e) {
      print_error(env, e.what());
      return failed;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tessera: error: %s\n", e.what());
    return failed;
  }
}
