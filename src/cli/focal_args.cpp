// `tessera focal METHOD INPUT OUTPUT --size N ...` turned into a one-step job of focal.<method>.
#include "tessera/cli/focal_args.hpp"

#include <cctype>
#include <optional>
#include <string_view>
#include <utility>

#include "arg_util.hpp"
#include "tessera/core/error.hpp"
#include "tessera/ops/focal.hpp"

namespace tessera::cli {
namespace {

/// Walks the arguments once; positionals are collected in order.
class FocalParser {
 public:
  explicit FocalParser(const std::vector<std::string>& args) : args_(args) {}
  DemCommand parse();

 private:
  const std::string& value_of(const std::string& flag);
  void parse_flag(const std::string& arg);
  void build_job();

  const std::vector<std::string>& args_;
  size_t next_ = 0;
  std::vector<std::string> positionals_;
  ops::Options options_;
  OutputFlags output_;
  int band_ = 1;
  DemCommand command_;
};

const std::string& FocalParser::value_of(const std::string& flag) {
  if (next_ >= args_.size()) throw UsageError(flag + " expects a value");
  return args_[next_++];
}

void FocalParser::parse_flag(const std::string& arg) {
  // Flags taking a number, and the step option each sets.
  for (const auto& [flag, key] : {std::pair<std::string_view, const char*>{"--size", "size"},
                                  {"--radius", "radius"},
                                  {"--gauss", "gauss"},
                                  {"--percentile", "percentile"},
                                  {"--nodata", "nodata"}})
    if (arg == flag) {
      options_[key] = parse_number(arg, value_of(arg));
      return;
    }
  if (arg == "--circle" || arg == "-c") {
    options_["circle"] = true;
  } else if (arg == "--weights") {
    options_["weights_file"] = value_of(arg);
  } else if (arg == "-b") {
    band_ = static_cast<int>(parse_integer(arg, value_of(arg), INT32_MAX));
    if (band_ < 1) throw UsageError("-b expects a band number from 1");
  } else if (!output_.take(
                 arg, [&] { return value_of(arg); }, command_, "focal")) {
    refuse_flag_value("focal", arg);
    throw UsageError("unknown flag '" + arg + "' (see tessera focal --help)");
  }
}

DemCommand FocalParser::parse() {
  while (next_ < args_.size()) {
    const std::string& arg = args_[next_++];
    const bool flag =
        arg.size() > 1 && arg[0] == '-' && !std::isdigit(static_cast<unsigned char>(arg[1]));
    if (flag)
      parse_flag(arg);
    else
      positionals_.push_back(arg);
  }
  build_job();
  return std::move(command_);
}

void FocalParser::build_job() {
  if (positionals_.empty()) throw UsageError("missing the method (see tessera focal --help)");
  const std::string& method = positionals_[0];
  double percentile = 50;
  std::string op;
  try {
    const ops::FocalMethod m = ops::parse_focal_method(method, percentile);
    op = m != ops::FocalMethod::Percentile ? std::string(ops::focal_method_name(m))
         : percentile == 25                ? "quart1"
         : percentile == 75                ? "quart3"
                                           : "percentile";
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
  if (positionals_.size() < 3) throw UsageError(method + " expects INPUT OUTPUT");
  if (positionals_.size() > 3) throw UsageError("unexpected argument '" + positionals_[3] + "'");
  if (!options_.count("size") && !options_.count("radius"))
    throw UsageError("give the window: --size N (odd) or --radius R");
  job::JobSpec& job = command_.job;
  job.file = "tessera focal";
  job::InputSpec input;
  input.name = "input";
  input.path = positionals_[1];
  input.band = band_;
  input.where = input.path_where = job::Position::of_flag("");  // the path says which
  job.inputs.push_back(input);
  job::StepSpec step;
  step.id = op;
  step.op = "focal." + op;
  step.in = input.name;
  step.options = options_;
  step.where = job::Position::of_flag("");
  for (const auto& [key, value] : options_)
    step.option_where[key] =
        job::Position::of_flag(key == "weights_file" ? "--weights" : "--" + key);
  job.steps.push_back(step);
  output_.add_output(job, step.id, positionals_[2]);
}

}  // namespace

DemCommand parse_focal_args(const std::vector<std::string>& args) {
  return FocalParser(args).parse();
}

std::string focal_usage() {
  return "Usage: tessera focal METHOD INPUT OUTPUT (--size N | --radius R) [options]\n"
         "\n"
         "Methods (r.neighbors' names too): " +
         ops::focal_method_names() +
         "\n"
         "\n"
         "  --size N          the window is N x N cells, N odd (3, 5, ...)\n"
         "  --radius R        the window is 2R + 1 cells wide\n"
         "  --circle, -c      only cells at a distance <= (N - 1) / 2 from the centre\n"
         "  --weights FILE    weights in r.neighbors' format: N lines of N numbers\n"
         "  --gauss SIGMA     Gaussian weights of this sigma, in cells\n"
         "  --percentile P    for percentile (perc): 0 to 100 (default 50)\n"
         "  --nodata V        the output's nodata (floating outputs; default -9999)\n"
         "  -b BAND  -of GTiff|COG|HDF5  -co NAME=VALUE ...  --overviews 2,4,..  -q  --report "
         "FILE.json  --memory SIZE\n"
         "Run under mpirun to use several ranks; OMP_NUM_THREADS sets the threads of each rank.\n";
}

}  // namespace tessera::cli
