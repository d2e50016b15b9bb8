// gdaldem's command line, parsed into a one-step job.
#pragma once

#include <string>
#include <vector>

#include "tessera/job/job_spec.hpp"

namespace tessera::cli {

/// What `tessera dem` was asked: a job of one input, one step and one output, plus -q.
struct DemCommand {
  job::JobSpec job;
  bool quiet = false;
  std::string report;  ///< --report FILE.json: where to write the run report, or empty
  std::string memory;  ///< --memory SIZE: what a rank may use (run::parse_memory_size), or empty
  std::vector<std::string> warnings;  ///< flags gdaldem accepts that have no effect on this mode
};

/// Parses `MODE INPUT [COLOR_FILE] OUTPUT [flags]` with gdaldem 3.6's flags and spelling.
/// Throws tessera::UsageError naming the unknown flag, the missing value or the missing argument.
DemCommand parse_dem_args(const std::vector<std::string>& args);

/// gdaldem's usage text for `tessera dem --help`.
std::string dem_usage();

}  // namespace tessera::cli
