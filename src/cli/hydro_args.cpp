// `tessera hydro TOOL -z dem.tif -fel fel.tif ...` (TauDEM's flags) turned into a one-step job.
#include "tessera/cli/hydro_args.hpp"

#include <map>
#include <optional>
#include <utility>

#include "arg_util.hpp"
#include "tessera/core/error.hpp"

namespace tessera::cli {
namespace {

/// One tool: the op it runs, TauDEM's flags of its input and its output, and of a second
/// raster it may read (its flag, and the op's option that names it); "" when none.
struct Tool {
  const char* op;
  const char* input_flag;
  const char* output_flag;
  const char* extra_flag = "";
  const char* extra_option = "";
};

const std::map<std::string, Tool>& tools() {
  static const std::map<std::string, Tool> known{
      {"fill", {"fill", "-z", "-fel"}},
      {"flowdir", {"flowdir", "-fel", "-p"}},
      {"flowacc", {"flowacc", "-p", "-ad8", "-wg", "weight"}},
      {"watershed", {"watershed", "-p", "-gw", "-o", "outlets"}}};
  return known;
}

/// Walks the arguments once: the tool first, then flags and their values.
class HydroParser {
 public:
  explicit HydroParser(const std::vector<std::string>& args) : args_(args) {}
  DemCommand parse();

 private:
  const std::string& value_of(const std::string& flag);
  /// `flag`'s value into `path`; a path flag given twice is refused (one of the two rasters
  /// would be dropped without a word: an output not written, or the wrong input read).
  void take_path(const std::string& flag, std::optional<std::string>& path);
  void parse_flag(const Tool& tool, const std::string& flag);
  void build_job(const std::string& name, const Tool& tool);

  const std::vector<std::string>& args_;
  size_t next_ = 1;
  std::optional<std::string> input_;
  std::optional<std::string> extra_;  // the tool's second raster (flowacc -wg, watershed -o)
  std::optional<std::string> output_path_;
  std::optional<int64_t> tile_;         // --tile, which BLOCKXSIZE / BLOCKYSIZE must not contradict
  std::optional<std::string> scratch_;  // --scratch DIR, or "" for --no-scratch
  ops::Options options_;
  OutputFlags output_;
  DemCommand command_;
};

const std::string& HydroParser::value_of(const std::string& flag) {
  if (next_ >= args_.size()) throw UsageError(flag + " expects a value");
  return args_[next_++];
}

void HydroParser::take_path(const std::string& flag, std::optional<std::string>& path) {
  const std::string& value = value_of(flag);
  if (path)
    throw UsageError(flag + " given twice ('" + *path + "', '" + value +
                     "'): a raster each, given once");
  path = value;
}

void HydroParser::parse_flag(const Tool& tool, const std::string& flag) {
  if (flag == tool.input_flag) {
    take_path(flag, input_);
  } else if (flag == tool.output_flag) {
    take_path(flag, output_path_);
  } else if (*tool.extra_flag != '\0' && flag == tool.extra_flag) {
    take_path(flag, extra_);
  } else if (flag == "--encoding" && std::string(tool.op) != "fill") {
    options_["encoding"] = value_of(flag);
  } else if (flag == "--epsilon" && std::string(tool.op) == "fill") {
    options_["epsilon"] = true;
  } else if (flag == "--type" && std::string(tool.op) == "flowacc") {
    options_["type"] = value_of(flag);
  } else if (flag == "--tile") {
    tile_ = parse_integer(flag, value_of(flag));
  } else if (flag == "--scratch" || flag == "--no-scratch") {
    if (std::string(tool.op) != "fill")
      throw UsageError(flag + ": hydro " + args_[0] +
                       " keeps no tiles between passes (only hydro fill does); leave it out");
    if (scratch_) throw UsageError("give one of --scratch DIR and --no-scratch, once");
    scratch_ = flag == "--scratch" ? value_of(flag) : std::string();
    if (flag == "--scratch" && scratch_->empty()) throw UsageError("--scratch expects a folder");
  } else if (!output_.take(
                 flag, [&] { return value_of(flag); }, command_, "hydro")) {
    refuse_flag_value("hydro", flag);
    throw UsageError("unknown flag '" + flag + "' for hydro " + args_[0] +
                     " (see tessera hydro --help)");
  }
}

DemCommand HydroParser::parse() {
  if (args_.empty()) throw UsageError("missing the tool: fill, flowdir, flowacc or watershed");
  const auto found = tools().find(args_[0]);
  if (found == tools().end())
    throw UsageError("unknown hydro tool '" + args_[0] +
                     "' (expected fill, flowdir, flowacc or watershed)");
  while (next_ < args_.size()) {
    const std::string& arg = args_[next_++];
    if (arg.size() < 2 || arg[0] != '-') throw UsageError("unexpected argument '" + arg + "'");
    parse_flag(found->second, arg);
  }
  build_job(found->first, found->second);
  return std::move(command_);
}

void HydroParser::build_job(const std::string& name, const Tool& tool) {
  if (!input_) throw UsageError("hydro " + name + " expects " + tool.input_flag + " INPUT");
  if (!output_path_) throw UsageError("hydro " + name + " expects " + tool.output_flag + " OUTPUT");
  job::JobSpec& job = command_.job;
  job.file = "tessera hydro " + name;
  job::InputSpec input;
  input.name = "input";
  input.path = *input_;
  input.where = input.path_where = job::Position::of_flag(tool.input_flag);
  job.inputs.push_back(input);
  if (extra_) {
    job::InputSpec extra;
    extra.name = tool.extra_option;
    extra.path = *extra_;
    extra.where = extra.path_where = job::Position::of_flag(tool.extra_flag);
    job.inputs.push_back(extra);
    options_[tool.extra_option] = extra.name;
  }
  job::StepSpec step;
  step.id = name;
  step.op = tool.op;
  step.in = input.name;
  step.options = options_;
  step.where = job::Position::of_flag("");
  for (const auto& [key, value] : options_)
    step.option_where[key] =
        job::Position::of_flag(key == tool.extra_option ? tool.extra_flag : "--" + key);
  job.steps.push_back(step);
  output_.add_output(job, step.id, *output_path_);
  if (scratch_) {
    if (!scratch_->empty() && scratch_->front() == '-')
      throw UsageError("--scratch expects a folder, not '" + *scratch_ + "'");
    job.run.scratch = scratch_;
    job.run.scratch_where =
        job::Position::of_flag(scratch_->empty() ? "--no-scratch" : "--scratch");
  }
  if (!tile_) return;
  if (job.run.tile && *job.run.tile != *tile_)
    throw UsageError("--tile and -co BLOCKXSIZE / BLOCKYSIZE differ");
  job.run.tile = tile_;
  job.run.tile_where = job::Position::of_flag("--tile");
}

}  // namespace

DemCommand parse_hydro_args(const std::vector<std::string>& args) {
  return HydroParser(args).parse();
}

std::string hydro_usage() {
  return "Usage: tessera hydro TOOL FLAGS [options]   (TauDEM's tools and flags)\n"
         "\n"
         "  fill    -z DEM -fel OUT        depressions filled (TauDEM pitremove)\n"
         "          [--epsilon]            a strictly draining surface: flats raised by the\n"
         "                                 least Float32 steps (four passes)\n"
         "  flowdir -fel DEM -p OUT        D8 flow directions (TauDEM d8flowdir's -p)\n"
         "          [--encoding taudem|esri]\n"
         "  flowacc -p DIRS -ad8 OUT       D8 contributing area in cells (TauDEM aread8 -nc)\n"
         "          [-wg WEIGHTS] [--encoding taudem|esri]\n"
         "          [--type float32|float64|int32|uint32|uint16]\n"
         "  watershed -p DIRS -gw OUT      a label per basin; with -o, per outlet\n"
         "          [-o OUTLETS] [--encoding taudem|esri]   (TauDEM gagewatershed; OUTLETS is\n"
         "          a raster of outlet ids, 0 or nodata elsewhere)\n"
         "\n"
         "  --tile N  -of GTiff|HDF5  -co NAME=VALUE ...  -q  --report FILE.json  --memory SIZE\n"
         "  --scratch DIR   where fill keeps each tile's flood between its passes (default: the\n"
         "                  output's folder); --no-scratch floods each tile again instead\n"
         "Run under mpirun to use several ranks; OMP_NUM_THREADS sets the threads of each rank.\n";
}

}  // namespace tessera::cli
