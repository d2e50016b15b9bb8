// `tessera hydro`'s command line (TauDEM's tools and flags), parsed into a one-step job.
#pragma once

#include <string>
#include <vector>

#include "tessera/cli/dem_args.hpp"

namespace tessera::cli {

/// Parses `fill -z DEM -fel OUT`, `flowdir -fel DEM -p OUT [--encoding esri]` or
/// `flowacc -p DIRS -ad8 OUT [--encoding esri] [--type T]`, each with the output and run flags
/// of the one-step commands (-co, -of, -q, --report, --memory) and --tile N, into a job of one
/// step. Throws tessera::UsageError naming the unknown tool or flag or the missing one.
DemCommand parse_hydro_args(const std::vector<std::string>& args);

/// The usage text for `tessera hydro --help`.
std::string hydro_usage();

}  // namespace tessera::cli
