// `tessera focal`'s command line (r.neighbors' methods and options), parsed into a one-step job.
#pragma once

#include <string>
#include <vector>

#include "tessera/cli/dem_args.hpp"

namespace tessera::cli {

/// Parses `METHOD INPUT OUTPUT (--size N | --radius R) [--circle] [--weights FILE]
/// [--gauss SIGMA] [--percentile P] [--nodata V] [-b BAND] [-of GTiff|HDF5] [-co NAME=VALUE]...
/// [-q] [--report FILE.json]` into a job of one focal.<method> step. Throws tessera::UsageError
/// naming the unknown flag or method, the missing value or the missing argument.
DemCommand parse_focal_args(const std::vector<std::string>& args);

/// The usage text for `tessera focal --help`.
std::string focal_usage();

}  // namespace tessera::cli
