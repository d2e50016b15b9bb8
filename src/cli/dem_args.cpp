// gdaldem's command line (single-dash long flags, flags anywhere) turned into a one-step job.
#include "tessera/cli/dem_args.hpp"
#include "arg_util.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <string_view>

#include "tessera/core/error.hpp"

namespace tessera::cli {

namespace {

enum class Kind { Number, Text, Switch };

/// One gdaldem flag and the op option it sets.
struct Flag {
  std::string_view name;
  std::string_view key;
  Kind kind;
};

constexpr std::array<Flag, 14> op_flags{{
    {"-s", "scale", Kind::Number},
    {"-z", "z", Kind::Number},
    {"-az", "azimuth", Kind::Number},
    {"-alt", "altitude", Kind::Number},
    {"-alg", "alg", Kind::Text},
    {"-combined", "combined", Kind::Switch},
    {"-multidirectional", "multidirectional", Kind::Switch},
    {"-igor", "igor", Kind::Switch},
    {"-trigonometric", "trigonometric", Kind::Switch},
    {"-zero_for_flat", "zero_for_flat", Kind::Switch},
    {"-compute_edges", "compute_edges", Kind::Switch},
    {"-alpha", "alpha", Kind::Switch},
    {"-exact_color_entry", "exact_color_entry", Kind::Switch},
    {"-nearest_color_entry", "nearest_color_entry", Kind::Switch},
}};

const Flag* find_flag(std::string_view name) {
  for (const auto& flag : op_flags)
    if (flag.name == name) return &flag;
  return nullptr;
}

/// The flag that sets op option `key`; "" for the colour file, a positional argument.
std::string flag_of(std::string_view key) {
  if (key == "units") return "-p";
  for (const auto& flag : op_flags)
    if (flag.key == key) return std::string(flag.name);
  return "";
}

/// Walks the arguments once, filling the command; positionals are collected in order.
class DemParser {
 public:
  explicit DemParser(const std::vector<std::string>& args) : args_(args) {}
  DemCommand parse();

 private:
  const std::string& value_of(const std::string& flag);
  void parse_flag(const std::string& arg);
  void build_job();
  void drop_inapplicable();

  const std::vector<std::string>& args_;
  size_t next_ = 0;
  std::vector<std::string> positionals_;
  ops::Options options_;
  std::vector<std::string> given_;  // flags in the order given, for warnings
  OutputFlags output_;
  int band_ = 1;
  bool azimuth_given_ = false;
  bool altitude_given_ = false;
  DemCommand command_;
};

const std::string& DemParser::value_of(const std::string& flag) {
  if (next_ >= args_.size()) throw UsageError(flag + " expects a value");
  return args_[next_++];
}

void DemParser::parse_flag(const std::string& arg) {
  if (const Flag* flag = find_flag(arg)) {
    given_.push_back(arg);
    if (flag->kind == Kind::Switch) {
      options_[std::string(flag->key)] = true;
    } else if (flag->kind == Kind::Number) {
      options_[std::string(flag->key)] = parse_number(arg, value_of(arg));
    } else {
      options_[std::string(flag->key)] = value_of(arg);
    }
    azimuth_given_ |= arg == "-az";
    altitude_given_ |= arg == "-alt";
  } else if (arg == "-p") {
    given_.push_back(arg);
    options_["units"] = std::string("percent");
  } else if (arg == "-b") {
    band_ = static_cast<int>(parse_integer(arg, value_of(arg), INT32_MAX));
    if (band_ < 1) throw UsageError("-b expects a band number from 1");
  } else if (!output_.take(
                 arg, [&] { return value_of(arg); }, command_, "dem")) {
    refuse_flag_value("dem", arg);
    throw UsageError("unknown flag '" + arg + "' (see tessera dem --help)");
  }
}

DemCommand DemParser::parse() {
  while (next_ < args_.size()) {
    const std::string& arg = args_[next_++];
    if (arg.size() > 1 && arg[0] == '-' && !std::isdigit(static_cast<unsigned char>(arg[1]))) {
      parse_flag(arg);
    } else {
      positionals_.push_back(arg);
    }
  }
  build_job();
  return std::move(command_);
}

void DemParser::drop_inapplicable() {
  const ops::OpEntry* entry = ops::find_op(command_.job.steps[0].op);
  for (auto it = options_.begin(); it != options_.end();) {
    const bool known = std::any_of(entry->options.begin(), entry->options.end(),
                                   [&](const ops::OptionSpec& o) { return o.key == it->first; });
    if (known) {
      ++it;
      continue;
    }
    command_.warnings.push_back("option '" + it->first + "' has no effect on " +
                                std::string(entry->name) + "; ignored as gdaldem does");
    it = options_.erase(it);
  }
}

void DemParser::build_job() {
  if (positionals_.empty()) throw UsageError("missing the mode (see tessera dem --help)");
  const std::string mode = positionals_[0];
  if (ops::find_op(mode) == nullptr)
    throw UsageError("unknown mode '" + mode +
                     "' (expected hillshade, slope, aspect, TRI, TPI, roughness or color-relief)");
  const size_t wanted = mode == "color-relief" ? 4 : 3;
  if (positionals_.size() < wanted)
    throw UsageError(mode == "color-relief" ? "color-relief expects INPUT COLOR_FILE OUTPUT"
                                            : mode + " expects INPUT OUTPUT");
  if (positionals_.size() > wanted)
    throw UsageError("unexpected argument '" + positionals_[wanted] + "'");
  if (options_.count("multidirectional") && azimuth_given_)
    throw UsageError("-multidirectional and -az cannot be used together");
  if (options_.count("igor") && altitude_given_)
    throw UsageError("-igor and -alt cannot be used together");
  if (mode == "color-relief") options_["color_file"] = positionals_[2];

  job::JobSpec& job = command_.job;
  job.file = "tessera dem";
  job::InputSpec input;
  input.name = "input";
  input.path = positionals_[1];
  input.band = band_;
  input.where = input.path_where = job::Position::of_flag("");  // the path says which
  job.inputs.push_back(input);
  job::StepSpec step;
  step.id = mode;
  step.op = mode;
  step.in = input.name;
  step.where = job::Position::of_flag("");
  job.steps.push_back(step);
  drop_inapplicable();
  job.steps[0].options = options_;
  for (const auto& [key, value] : options_)
    job.steps[0].option_where[key] = job::Position::of_flag(flag_of(key));
  output_.add_output(job, mode, positionals_.back());
}

}  // namespace

DemCommand parse_dem_args(const std::vector<std::string>& args) { return DemParser(args).parse(); }

std::string dem_usage() {
  return R"(Usage: tessera dem MODE INPUT [COLOR_FILE] OUTPUT [options]   (gdaldem's command line)

Modes: hillshade, slope, aspect, TRI, TPI, roughness, color-relief

  hillshade  [-z ZFactor] [-s scale] [-az Azimuth] [-alt Altitude]
             [-alg Horn|ZevenbergenThorne] [-combined | -multidirectional | -igor]
  slope      [-p] [-s scale] [-alg Horn|ZevenbergenThorne]
  aspect     [-trigonometric] [-zero_for_flat] [-alg Horn|ZevenbergenThorne]
  TRI        [-alg Riley|Wilson]
  TPI, roughness
  color-relief INPUT COLOR_FILE OUTPUT [-alpha] [-exact_color_entry | -nearest_color_entry]

Common: [-compute_edges] [-b Band] [-of GTiff|COG|HDF5] [-co "NAME=VALUE"]... [--overviews 2,4,..]
        [-q] [--report FILE.json]
        [--memory SIZE]  (what a rank may use, such as 4G; by default the node's memory, its
        cgroup's limit or Slurm's --mem / --mem-per-cpu, shared by the ranks on the node)
Creation options: COMPRESS=NONE|DEFLATE|ZSTD|LZW, PREDICTOR=1|2|3, ZSTD_LEVEL, ZLEVEL,
BIGTIFF=YES|NO|IF_NEEDED|IF_SAFER, BLOCKXSIZE, BLOCKYSIZE, OVERVIEW_RESAMPLING (with --overviews,
the factors 2,4,8,... of the overviews inside the file).
COG (-of COG): a cloud-optimised GeoTIFF with overviews; the COG driver's options COMPRESS (LZW),
LEVEL, PREDICTOR=YES|NO|STANDARD|FLOATING_POINT, BLOCKSIZE (512), OVERVIEWS=AUTO|NONE,
OVERVIEW_RESAMPLING (or RESAMPLING)=AVERAGE|NEAREST|MODE, OVERVIEW_COUNT, BIGTIFF.
HDF5 (-of HDF5, or an output ending in .h5): netCDF-4/CF layout, one dataset named after the
mode; COMPRESS=NONE|DEFLATE (with shuffle), ZLEVEL=1-9, BLOCKXSIZE/BLOCKYSIZE set the chunks.
Run under mpirun to use several ranks; OMP_NUM_THREADS sets the threads of each rank.
)";
}

}  // namespace tessera::cli
