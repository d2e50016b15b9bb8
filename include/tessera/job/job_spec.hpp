// A job as the user wrote it: inputs, a graph of steps and outputs, each with its place in the
// file.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tessera/core/output_spec.hpp"
#include "tessera/ops/op.hpp"

namespace tessera::job {

/// A place in a job file, for error messages: "terrain.toml:12:9"; or, in a job a command line
/// built, the flag that gave the value.
struct Position {
  Position() = default;
  Position(std::string file, int line, int column)
      : file(std::move(file)), line(line), column(column) {}

  std::string file;
  int line = 0;
  int column = 0;
  /// Set for a value a command line gave: its flag ("--calc", "-co"), or "" for a positional
  /// argument. A message about it then speaks of the flag, not of the job it became.
  std::optional<std::string> flag;
  /// "FILE:LINE:COLUMN", or "" for a job built in code (no file).
  std::string str() const;
  /// The place of a value a command line gave with `flag` ("" for a positional argument).
  static Position of_flag(std::string flag);
};

/// Throws tessera::Error as "FILE:LINE:COLUMN: message" (just "message" for a job built in code,
/// "FLAG: message" for a value a command line gave).
[[noreturn]] void fail_at(const Position& where, const std::string& message);
/// Throws tessera::Error for a mistake `detail` in `subject` ("step 'c'"): as
/// "FILE:LINE:COLUMN: subject: detail" for a job file's value, or "FLAG: detail" (just "detail"
/// for a positional argument) for a value a command line gave, whose user never wrote a subject.
[[noreturn]] void fail_at(const Position& where, const std::string& subject,
                          const std::string& detail);

struct InputSpec {
  std::string name;
  std::string path;  ///< resolved against the job file's folder when relative
  int band = 1;
  Position where;
  Position path_where;  ///< where `path` is written
};

struct StepSpec {
  std::string id;
  std::string op;
  std::string in;  ///< an input's name or another step's id; empty when the step has no `in`
  ops::Options options;
  std::map<std::string, Position> option_where;        ///< where each option's key is written
  std::map<std::string, Position> option_value_where;  ///< where each option's value begins
  Position where;
  Position id_where;  ///< where `id` is written
  Position op_where;  ///< where `op` is written
  Position in_where;  ///< where `in` is written
};

struct OutputFileSpec {
  std::vector<std::string> from;  ///< step ids, one band each
  std::string path;               ///< resolved against the job file's folder when relative
  OutputFormat format = OutputFormat::GeoTiff;
  std::vector<std::string> creation_options;  ///< NAME=VALUE, as gdaldem's -co
  /// Overview factors inside a GeoTIFF (2, 4, 8, ...), from `overviews` or --overviews.
  std::vector<int64_t> overviews;
  /// A zonal statistics table (format Table): the zones and what to compute per zone.
  std::optional<ZoneTableSpec> table;
  Position stats_where;  ///< where a table's `stats` is written
  Position zones_where;  ///< where a table's `zones` is written
  Position where;
  Position overviews_where;               ///< where `overviews` is written
  Position from_where;                    ///< where `from` is written
  std::vector<Position> from_item_where;  ///< where each step id of `from` is written
  Position path_where;                    ///< where `path` is written
};

struct RunSpec {
  std::optional<int64_t> tile;  ///< tile (and output block) size in cells
  /// Where tile-graph passes keep their tiles between the phases: a folder (resolved against the
  /// job file's folder), or "" for none (`scratch = false`: the tiles are computed again); unset,
  /// the folder of the first output.
  std::optional<std::string> scratch;
  Position where;
  Position tile_where;     ///< where `tile` is written
  Position scratch_where;  ///< where `scratch` is written
};

struct JobSpec {
  std::string file;
  std::vector<InputSpec> inputs;
  /// In the file's order; the plan orders them (plan::make_step_graph).
  std::vector<StepSpec> steps;
  std::vector<OutputFileSpec> outputs;
  RunSpec run;
};

/// Reads a job file into specs, with the place of every value. A mistake of TOML syntax, of an
/// unknown or missing key, or of a value's type or form throws tessera::Error as
/// "FILE:LINE:COLUMN: what was wrong and what was expected". The rules of the step graph (names,
/// order, cycles, ops and their options) are the plan's: plan::check_job.
JobSpec parse_job_file(const std::string& path);
/// The same, from text; `name` stands for the file in messages and relative paths resolve
/// against `base_dir`.
JobSpec parse_job_text(std::string_view text, const std::string& name, const std::string& base_dir);

}  // namespace tessera::job
