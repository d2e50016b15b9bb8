// gdal_calc.py's command line, parsed into a job of one calc step per --calc.
#pragma once

#include <string>
#include <vector>

#include "tessera/job/job_spec.hpp"

namespace tessera::cli {

/// What `tessera calc` was asked: inputs A-Z, one calc step (one output band) per --calc, one
/// output file, plus -q.
struct CalcCommand {
  job::JobSpec job;
  bool quiet = false;
};

/// Parses gdal_calc.py's flags: -A..-Z FILE, --A_band..--Z_band N, --calc EXPR (repeatable),
/// --outfile FILE, --type T, --NoDataValue V, --format GTiff|HDF5, --co NAME=VALUE (repeatable),
/// --overwrite, -q/--quiet; values follow a space or '='. Throws tessera::UsageError for an unknown
/// flag or a missing value, tessera::Error when the output exists and --overwrite is not given.
CalcCommand parse_calc_args(const std::vector<std::string>& args);

/// The usage text for `tessera calc --help`.
std::string calc_usage();

}  // namespace tessera::cli
