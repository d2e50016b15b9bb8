// Pieces the gdaldem- and gdal_calc.py-style command lines share.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <functional>

#include "tessera/cli/dem_args.hpp"
#include "tessera/job/job_spec.hpp"

namespace tessera::cli {

/// Whether two texts are equal ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b);
/// The raster format -of / --format names (GTiff, COG, HDF5, any case), or nullopt.
std::optional<OutputFormat> raster_format_named(std::string_view name);

/// `text` as a number; throws tessera::UsageError ("-z expects a number, got 'x'") otherwise.
double parse_number(std::string_view flag, const std::string& text);

/// `text` as a whole number of at most `most`; throws tessera::UsageError ("--tile expects a
/// whole number, got '16.5'") otherwise, where a cast would cut it (16.5 to 16, 1e30 to any).
int64_t parse_integer(std::string_view flag, const std::string& text,
                      int64_t most = int64_t{1} << 53);

/// Sets run.tile to the size BLOCKXSIZE / BLOCKYSIZE ask for among NAME=VALUE creation options
/// (given with `flag`, "-co" or "--co"), its place to that flag; throws UsageError when the two
/// differ.
void set_block_size(job::RunSpec& run, const std::vector<std::string>& creation_options,
                    std::string_view flag);

/// Throws UsageError (`hydro: --quiet takes no value, got '--quiet=false': give the flag, or leave
/// it out`) when `word`, met where `command`'s parser expects a flag, is one of the flags that take
/// no value (-q, -quiet, --quiet, --resume, --restart) given one. Only a word in a flag's place is
/// checked: a flag's value (a path such as `--quiet=x.tif` after -fel) is the user's to name.
void refuse_flag_value(std::string_view command, std::string_view word);

/// --overviews 2,4,8: the factors, which must be 2, 4, 8, ... in order; throws UsageError.
std::vector<int64_t> parse_overviews(std::string_view flag, const std::string& text);

/// The output and run flags of the one-step commands (tessera dem, tessera focal): -co (--co),
/// -of (GTiff, COG, HDF5), --overviews, -q (-quiet, --quiet), --report and --memory.
class OutputFlags {
 public:
  /// Takes `flag` when it is one of these, its value (if it has one) from `value`, into itself or
  /// `command`; false for any other flag. `tool` names the command in errors.
  bool take(const std::string& flag, const std::function<std::string()>& value, DemCommand& command,
            std::string_view tool);
  /// Adds the job's one output, step `step` written to `path`, in -of's format (else the one
  /// `path`'s extension says) with the -co options, and run.tile from BLOCKXSIZE / BLOCKYSIZE.
  void add_output(job::JobSpec& job, const std::string& step, const std::string& path) const;

 private:
  std::vector<std::string> creation_options_;
  std::optional<OutputFormat> format_;
  std::string format_name_;  ///< as -of gave it, for the message of a second -of
  std::vector<int64_t> overviews_;
};

}  // namespace tessera::cli
