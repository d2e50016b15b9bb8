// gdal_calc.py's command line (argparse spellings: "--flag value" or "--flag=value") turned into
// a job of one calc step per --calc, all written as the bands of one output.
#include "tessera/cli/calc_args.hpp"
#include "arg_util.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <optional>
#include <utility>

#include "tessera/core/error.hpp"

namespace tessera::cli {

namespace {

/// The letter of "-A" or of "--A_band", or nullopt.
std::optional<char> input_letter(const std::string& flag, std::string_view suffix) {
  const size_t dashes = suffix.empty() ? 1 : 2;
  if (flag.size() != dashes + 1 + suffix.size()) return std::nullopt;
  if (flag.compare(0, dashes, std::string(dashes, '-')) != 0) return std::nullopt;
  if (flag.compare(dashes + 1, suffix.size(), suffix) != 0) return std::nullopt;
  const char letter = flag[dashes];
  return letter >= 'A' && letter <= 'Z' ? std::optional<char>(letter) : std::nullopt;
}

class CalcParser {
 public:
  explicit CalcParser(const std::vector<std::string>& args) : args_(args) {}
  CalcCommand parse();

 private:
  std::string value_of(const std::string& flag);
  void parse_flag(const std::string& flag);
  bool parse_input_flag(const std::string& flag);
  void build_job();
  void add_inputs();
  void add_steps();
  void add_output();

  const std::vector<std::string>& args_;
  size_t next_ = 0;
  std::optional<std::string> inline_value_;  // the part after '=' in "--flag=value"
  std::map<char, std::string> files_;
  std::map<char, int> bands_;
  std::vector<std::string> calcs_;
  std::string outfile_;
  std::optional<std::string> type_;
  std::optional<double> nodata_;
  std::optional<OutputFormat> format_;
  std::string format_name_;  ///< as --format gave it, for the message of a second one
  std::vector<int64_t> overviews_;
  std::vector<std::string> creation_options_;
  bool overwrite_ = false;
  CalcCommand command_;
};

std::string CalcParser::value_of(const std::string& flag) {
  if (inline_value_) return *std::exchange(inline_value_, std::nullopt);
  if (next_ >= args_.size()) throw UsageError(flag + " expects a value");
  return args_[next_++];
}

bool CalcParser::parse_input_flag(const std::string& flag) {
  if (const auto letter = input_letter(flag, "")) {
    files_[*letter] = value_of(flag);
    return true;
  }
  const auto letter = input_letter(flag, "_band");
  if (!letter) return false;
  const double band = parse_number(flag, value_of(flag));
  if (band < 1 || band != static_cast<int>(band))
    throw UsageError(flag + " expects a band number from 1");
  bands_[*letter] = static_cast<int>(band);
  return true;
}

void CalcParser::parse_flag(const std::string& flag) {
  if (parse_input_flag(flag)) return;
  if (flag == "--calc") {
    calcs_.push_back(value_of(flag));
  } else if (flag == "--outfile") {
    outfile_ = value_of(flag);
  } else if (flag == "--type") {
    type_ = value_of(flag);
  } else if (flag == "--NoDataValue") {
    nodata_ = parse_number(flag, value_of(flag));
  } else if (flag == "--format" || flag == "-of") {
    const std::string format = value_of(flag);
    if (!format_name_.empty())  // gdal_calc.py takes the last: one of the two was a mistake
      throw UsageError(flag + " given twice ('" + format_name_ + "', '" + format +
                       "'): one format");
    format_name_ = format;
    format_ = raster_format_named(format);
    if (!format_)
      throw UsageError("--format " + format + ": tessera calc writes GTiff, COG or HDF5");
  } else if (flag == "--overviews") {
    overviews_ = parse_overviews(flag, value_of(flag));
  } else if (flag == "--co") {
    creation_options_.push_back(value_of(flag));
  } else if (flag == "--memory") {
    command_.memory = value_of(flag);
  } else if (flag == "--overwrite") {
    overwrite_ = true;
  } else if (flag == "-q" || flag == "--quiet") {
    command_.quiet = true;
  } else {
    throw UsageError("unknown flag '" + flag + "' (see tessera calc --help)");
  }
  if (inline_value_) throw UsageError(flag + " takes no value");
}

CalcCommand CalcParser::parse() {
  while (next_ < args_.size()) {
    const std::string& arg = args_[next_++];
    if (arg.size() < 2 || arg[0] != '-')
      throw UsageError("unexpected argument '" + arg + "' (inputs are given as -A FILE)");
    refuse_flag_value("calc", arg);
    const size_t eq = arg.rfind("--", 0) == 0 ? arg.find('=') : std::string::npos;
    inline_value_ = eq == std::string::npos ? std::nullopt : std::optional(arg.substr(eq + 1));
    parse_flag(arg.substr(0, eq));
  }
  build_job();
  return std::move(command_);
}

void CalcParser::add_inputs() {
  for (const auto& [letter, band] : bands_)
    if (files_.count(letter) == 0)
      throw UsageError(std::string("--") + letter + "_band given without -" + letter);
  for (const auto& [letter, path] : files_) {
    job::InputSpec input;
    input.name = std::string(1, letter);
    input.path = path;
    input.band = bands_.count(letter) != 0 ? bands_.at(letter) : 1;
    input.where = input.path_where = job::Position::of_flag("");  // the path says which
    command_.job.inputs.push_back(input);
  }
}

void CalcParser::add_steps() {
  for (size_t i = 0; i < calcs_.size(); ++i) {
    job::StepSpec step;
    step.id = calcs_.size() == 1 ? "calc" : "calc_" + std::to_string(i + 1);
    step.op = "calc";
    step.options["expr"] = calcs_[i];
    if (type_) step.options["type"] = *type_;
    if (nodata_) step.options["nodata"] = *nodata_;
    step.where = job::Position::of_flag("");
    const std::string calc = calcs_.size() == 1 ? "--calc" : "--calc #" + std::to_string(i + 1);
    step.option_where = {{"expr", job::Position::of_flag(calc)},
                         {"type", job::Position::of_flag("--type")},
                         {"nodata", job::Position::of_flag("--NoDataValue")}};
    command_.job.steps.push_back(step);
  }
}

void CalcParser::add_output() {
  job::OutputFileSpec output;
  for (const auto& step : command_.job.steps) output.from.push_back(step.id);
  output.path = outfile_;
  output.format = format_.value_or(format_of_path(outfile_).value_or(OutputFormat::GeoTiff));
  output.creation_options = creation_options_;
  output.overviews = overviews_;
  output.overviews_where = job::Position::of_flag("--overviews");
  output.where = job::Position::of_flag("--co");
  output.path_where = job::Position::of_flag("");  // the path says which
  command_.job.outputs.push_back(output);
}

void CalcParser::build_job() {
  if (calcs_.empty()) throw UsageError("missing --calc (the expression)");
  if (outfile_.empty()) throw UsageError("missing --outfile");
  if (files_.empty()) throw UsageError("missing an input (-A FILE)");
  if (!overwrite_ && std::filesystem::exists(outfile_))
    throw Error("--outfile: '" + outfile_ + "' exists (use --overwrite to replace it)");
  command_.job.file = "tessera calc";
  command_.type_from_inputs = !type_;
  add_inputs();
  add_steps();
  add_output();
  set_block_size(command_.job.run, creation_options_, "--co");
}

}  // namespace

CalcCommand parse_calc_args(const std::vector<std::string>& args) {
  return CalcParser(args).parse();
}

void set_default_type(CalcCommand& command, const std::vector<PixelType>& input_types) {
  const auto& inputs = command.job.inputs;
  if (input_types.size() != inputs.size() || inputs.empty())
    throw Error("calc: " + std::to_string(input_types.size()) + " input types for " +
                std::to_string(inputs.size()) + " inputs");
  std::optional<PixelType> type = input_types.front();
  for (size_t i = 1; i < input_types.size() && type; ++i) {
    const auto wider = type_union(*type, input_types[i]);
    if (!wider)
      throw Error("--type: gdal_calc.py's default for input " + inputs[i].name + " (" +
                  std::string(name_of(input_types[i])) + ") with " + std::string(name_of(*type)) +
                  " inputs is Int64, which tessera does not write; give --type");
    type = wider;
  }
  for (auto& step : command.job.steps) step.options["type"] = std::string(name_of(*type));
  command.type_from_inputs = false;
}

std::string calc_usage() {
  return R"(Usage: tessera calc -A FILE [-B FILE ...] --calc EXPR [--calc EXPR ...] --outfile FILE
                    [--A_band N ...] [--type T] [--NoDataValue V] [--format GTiff|COG|HDF5]
                    [--co NAME=VALUE ...] [--overviews 2,4,...] [--overwrite] [-q] [--memory SIZE]
                                                                  (gdal_calc.py's command line)

  -A .. -Z FILE     inputs, named A .. Z in the expressions; --A_band N picks band N (default 1)
  --calc EXPR       one output band each, in order; numpy spellings accepted (docs/expressions.md):
                    (A-B)/(A+B), A*(A>0), numpy.where(...), logical_and, minimum
  --type T          Byte, UInt16, Int16, UInt32, Int32, Float32, Float64 (default: as
                    gdal_calc.py, the smallest type holding every input band's type)
  --NoDataValue V   the output's nodata (default: gdal_calc.py's for the type)
  --format F, -of F GTiff, COG (a cloud-optimised GeoTIFF with overviews; GDAL's COG options),
                    or HDF5 (also chosen by an outfile ending in .h5)
  --co NAME=VALUE   creation options as tessera dem's -co (COMPRESS, PREDICTOR, BLOCKXSIZE...)
  --overviews F,..  overviews inside a GTiff: the factors 2,4,8,... (OVERVIEW_RESAMPLING by --co)
  --overwrite       replace an existing outfile (without it, an existing outfile is an error)
  --memory SIZE     what a rank may use, such as 4G (default: the node's memory, its cgroup's
                    limit or Slurm's --mem / --mem-per-cpu, shared by the ranks on the node)
Values follow the flag after a space or '=' (--calc="A*2"). A cell is nodata where any input it
reads is nodata. Run under mpirun to use several ranks.
)";
}

}  // namespace tessera::cli
