// A job as the user wrote it: inputs, a graph of steps and outputs, each with its place in the
// file.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/core/output_spec.hpp"
#include "tessera/ops/op.hpp"

namespace tessera::job {

/// A place in a job file, for error messages: "terrain.toml:12:9".
struct Position {
  std::string file;
  int line = 0;
  int column = 0;
  /// "FILE:LINE:COLUMN", or "" for a job built in code (no file).
  std::string str() const;
};

struct InputSpec {
  std::string name;
  std::string path;  ///< resolved against the job file's folder when relative
  int band = 1;
  Position where;
};

struct StepSpec {
  std::string id;
  std::string op;
  std::string in;  ///< an input's name or another step's id
  ops::Options options;
  std::map<std::string, Position> option_where;
  Position where;
  Position in_where;  ///< where `in` is written
};

struct OutputFileSpec {
  std::vector<std::string> from;  ///< step ids, one band each
  std::string path;               ///< resolved against the job file's folder when relative
  OutputFormat format = OutputFormat::GeoTiff;
  std::vector<std::string> creation_options;  ///< NAME=VALUE, as gdaldem's -co
  Position where;
  Position from_where;  ///< where `from` is written
};

struct RunSpec {
  std::optional<int64_t> tile;  ///< tile (and output block) size in cells
  Position where;
};

struct JobSpec {
  std::string file;
  std::vector<InputSpec> inputs;
  /// In an order where each step comes after the steps it reads (the file's order when it
  /// already is one).
  std::vector<StepSpec> steps;
  std::vector<OutputFileSpec> outputs;
  RunSpec run;
};

/// Reads and checks a job file. Every mistake throws tessera::Error as
/// "FILE:LINE:COLUMN: what was wrong and what was expected", before any raster is opened.
JobSpec parse_job_file(const std::string& path);
/// The same, from text; `name` stands for the file in messages and relative paths resolve
/// against `base_dir`.
JobSpec parse_job_text(std::string_view text, const std::string& name, const std::string& base_dir);

}  // namespace tessera::job
