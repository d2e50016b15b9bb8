// Pieces the gdaldem- and gdal_calc.py-style command lines share.
#include "arg_util.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <exception>

#include "tessera/core/error.hpp"

namespace tessera::cli {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<OutputFormat> raster_format_named(std::string_view name) {
  if (iequals(name, "GTiff")) return OutputFormat::GeoTiff;
  if (iequals(name, "COG")) return OutputFormat::Cog;
  if (iequals(name, "HDF5")) return OutputFormat::Hdf5;
  return std::nullopt;
}

double parse_number(std::string_view flag, const std::string& text) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size())
    throw UsageError(std::string(flag) + " expects a number, got '" + text + "'");
  return value;
}

void refuse_flag_value(std::string_view command, std::string_view word) {
  const size_t eq = word.find('=');
  if (eq == std::string_view::npos) return;
  const std::string_view name = word.substr(0, eq);
  for (std::string_view flag : {"-q", "-quiet", "--quiet", "--resume", "--restart"})
    if (name == flag)
      throw UsageError(std::string(command) + ": " + std::string(name) + " takes no value, got '" +
                       std::string(word) + "': give the flag, or leave it out");
}

int64_t parse_integer(std::string_view flag, const std::string& text, int64_t most) {
  const double value = parse_number(flag, text);
  if (!(std::abs(value) <= static_cast<double>(most)) || value != std::floor(value))
    throw UsageError(std::string(flag) + " expects a whole number, got '" + text + "'");
  return static_cast<int64_t>(value);
}

void set_block_size(job::RunSpec& run, const std::vector<std::string>& creation_options,
                    std::string_view flag) {
  std::optional<int64_t> x;
  std::optional<int64_t> y;
  std::string given;
  for (const auto& item : creation_options) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) continue;
    const std::string name = item.substr(0, eq);
    const bool both = iequals(name, "BLOCKSIZE");  // the COG driver's
    const bool is_x = iequals(name, "BLOCKXSIZE");
    if (!both && !is_x && !iequals(name, "BLOCKYSIZE")) continue;
    std::string label(flag);
    label += ' ';
    label += name;
    const auto size = parse_integer(label, item.substr(eq + 1));
    if (both || is_x) x = size;
    if (both || !is_x) y = size;
    given = label;
  }
  if (x && y && *x != *y)
    throw UsageError(std::string(flag) + " BLOCKXSIZE and BLOCKYSIZE must be equal");
  run.tile = x ? x : y;
  run.tile_where = job::Position::of_flag(given);
}

std::vector<int64_t> parse_overviews(std::string_view flag, const std::string& text) {
  std::vector<int64_t> factors;
  for (size_t from = 0; from <= text.size();) {
    const size_t comma = std::min(text.find(',', from), text.size());
    factors.push_back(parse_integer(flag, text.substr(from, comma - from)));
    from = comma + 1;
  }
  try {
    overview_count_of(factors);
  } catch (const Error& e) {
    throw UsageError(std::string(flag) + " " + text + ": " + e.what());
  }
  return factors;
}

bool OutputFlags::take(const std::string& flag, const std::function<std::string()>& value,
                       DemCommand& command, std::string_view tool) {
  if (flag == "-co" || flag == "--co") {
    creation_options_.push_back(value());
  } else if (flag == "-of") {
    const std::string format = value();
    if (!format_name_.empty())  // gdaldem takes the last: one of the two was a mistake
      throw UsageError("-of given twice ('" + format_name_ + "', '" + format + "'): one format");
    format_ = raster_format_named(format);
    format_name_ = format;
    if (!format_)
      throw UsageError("-of " + format + ": tessera " + std::string(tool) +
                       " writes GTiff, COG or HDF5");
  } else if (flag == "--overviews") {
    overviews_ = parse_overviews(flag, value());
  } else if (flag == "-q" || flag == "-quiet" || flag == "--quiet") {
    command.quiet = true;
  } else if (flag == "--report") {
    command.report = value();
  } else if (flag == "--memory") {
    command.memory = value();
  } else {
    return false;
  }
  return true;
}

void OutputFlags::add_output(job::JobSpec& job, const std::string& step,
                             const std::string& path) const {
  job::OutputFileSpec output;
  output.from = {step};
  output.path = path;
  output.format = format_.value_or(format_of_path(path).value_or(OutputFormat::GeoTiff));
  output.creation_options = creation_options_;
  output.overviews = overviews_;
  output.overviews_where = job::Position::of_flag("--overviews");
  output.where = job::Position::of_flag("-co");
  output.path_where = job::Position::of_flag("");  // the path says which
  job.outputs.push_back(output);
  set_block_size(job.run, creation_options_, "-co");
}

}  // namespace tessera::cli
