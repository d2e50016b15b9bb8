// gdal_calc.py's command line, parsed into a job of one calc step per --calc.
#pragma once

#include <string>
#include <vector>

#include "tessera/core/pixel_type.hpp"
#include "tessera/job/job_spec.hpp"

namespace tessera::cli {

/// What `tessera calc` was asked: inputs A-Z, one calc step (one output band) per --calc, one
/// output file, plus -q.
struct CalcCommand {
  job::JobSpec job;
  bool quiet = false;
  std::string memory;  ///< --memory SIZE: what a rank may use (run::parse_memory_size), or empty
  /// --type was not given: the steps' type is gdal_calc.py's default, which set_default_type()
  /// fills in once the inputs' types are known.
  bool type_from_inputs = false;
};

/// Parses gdal_calc.py's flags: -A..-Z FILE, --A_band..--Z_band N, --calc EXPR (repeatable),
/// --outfile FILE, --type T, --NoDataValue V, --format GTiff|HDF5, --co NAME=VALUE (repeatable),
/// --overwrite, -q/--quiet; values follow a space or '='. Throws tessera::UsageError for an unknown
/// flag or a missing value, tessera::Error when the output exists and --overwrite is not given.
CalcCommand parse_calc_args(const std::vector<std::string>& args);

/// gdal_calc.py's output type when --type is absent: the union (GDALDataTypeUnion) of the types
/// of the bands every -A..-Z input names, whether the expressions read it or not, given in the
/// order of command.job.inputs. Sets every step's type (and so gdal_calc.py's nodata for it,
/// unless --NoDataValue was given). Throws tessera::Error when that union is Int64.
void set_default_type(CalcCommand& command, const std::vector<PixelType>& input_types);

/// The usage text for `tessera calc --help`.
std::string calc_usage();

}  // namespace tessera::cli
