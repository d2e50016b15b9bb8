// Reads a TOML job file into a JobSpec; every mistake of syntax or value names its place.
#include <toml++/toml.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "key_depth.hpp"
#include "output_options.hpp"
#include "tessera/core/dataset_name.hpp"
#include "tessera/core/error.hpp"
#include "tessera/job/job_spec.hpp"
#include "toml_read.hpp"

namespace tessera::job {

std::string Position::str() const {
  if (file.empty()) return "";
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

Position Position::of_flag(std::string flag) {
  Position where;
  where.flag = std::move(flag);
  return where;
}

void fail_at(const Position& where, const std::string& message) {
  // A message quotes what the user wrote, which may hold a newline (a TOML multi-line string).
  const std::string line = printable(message);
  if (where.flag) throw Error(where.flag->empty() ? line : *where.flag + ": " + line);
  const std::string place = where.str();
  throw Error(place.empty() ? line : place + ": " + line);
}

void fail_at(const Position& where, const std::string& subject, const std::string& detail) {
  fail_at(where, where.flag ? detail : subject + ": " + detail);
}

namespace {

using detail::Located;

class JobReader {
 public:
  JobReader(const std::string& name, std::string base_dir)
      : toml_(name), base_dir_(std::move(base_dir)) {
    job_.file = name;
  }
  JobSpec read(const toml::table& root);

 private:
  void read_inputs(const toml::node& node);
  StepSpec read_step(const toml::table& table, size_t number) const;
  void read_options(const toml::table& table, StepSpec& step) const;
  std::string option_text(const std::string& key, const std::string& text) const;
  OutputFileSpec read_output(const toml::table& table, size_t number) const;
  void read_table(const toml::table& table, const toml::node& path, const std::string& what,
                  OutputFileSpec& output) const;
  void read_run(const toml::node& node);
  const toml::array* array_of_tables(const toml::table& root, std::string_view key) const;

  detail::TomlReader toml_;
  std::string base_dir_;
  JobSpec job_;
};

JobSpec JobReader::read(const toml::table& root) {
  toml_.check_keys(root, {"input", "step", "output", "run"}, "job");
  if (const toml::node* inputs = root.get("input")) read_inputs(*inputs);
  if (const toml::array* steps = array_of_tables(root, "step"))
    for (const toml::node& item : *steps)
      job_.steps.push_back(read_step(*item.as_table(), job_.steps.size() + 1));
  if (const toml::array* outputs = array_of_tables(root, "output"))
    for (const toml::node& item : *outputs)
      job_.outputs.push_back(read_output(*item.as_table(), job_.outputs.size() + 1));
  if (const toml::node* run = root.get("run")) read_run(*run);
  return std::move(job_);
}

/// The [[key]] tables, or nullptr when there are none (the plan says a job needs some).
const toml::array* JobReader::array_of_tables(const toml::table& root, std::string_view key) const {
  const toml::node* node = root.get(key);
  if (node == nullptr) return nullptr;
  if (!node->is_array_of_tables())
    toml_.fail(node->source(), std::string(key) + ": expected [[" + std::string(key) +
                                   "]] tables, found " + std::string(detail::describe_type(*node)));
  return node->as_array();
}

void JobReader::read_inputs(const toml::node& node) {
  const toml::table& inputs = toml_.table(node, "input");
  for (auto&& [key, value] : inputs) {
    const std::string what = "input '" + std::string(key.str()) + "'";
    const toml::table& table = toml_.table(value, what);
    toml_.check_keys(table, {"path", "band"}, what);
    InputSpec input{std::string(key.str()), {}, 1, toml_.at(table.source()), {}};
    const toml::node& path = toml_.required(table, "path", what);
    input.path = resolve_dataset_name(base_dir_, toml_.string(path, what + ": path"));
    input.path_where = toml_.at(path.source());
    if (const toml::node* band = table.get("band")) {
      const int64_t number = toml_.integer(*band, what + ": band");
      if (number < 1)
        toml_.fail(band->source(),
                   what + ": band: expected 1 or more, found " + std::to_string(number));
      input.band = static_cast<int>(number);
    }
    job_.inputs.push_back(std::move(input));
  }
}

StepSpec JobReader::read_step(const toml::table& table, size_t number) const {
  const std::string anonymous = "step " + std::to_string(number);
  StepSpec step;
  step.where = toml_.at(table.source());
  const toml::node& id = toml_.required(table, "id", anonymous);
  step.id = toml_.string(id, anonymous + ": id");
  step.id_where = toml_.at(id.source());
  if (step.id.empty()) toml_.fail(id.source(), anonymous + ": id: expected a name, found \"\"");
  const std::string what = "step '" + step.id + "'";
  const toml::node& op = toml_.required(table, "op", what);
  step.op = toml_.string(op, what + ": op");
  step.op_where = toml_.at(op.source());
  if (const toml::node* in = table.get("in")) {
    step.in = toml_.string(*in, what + ": in");
    step.in_where = toml_.at(in->source());
  }
  read_options(table, step);
  return step;
}

void JobReader::read_options(const toml::table& table, StepSpec& step) const {
  for (auto&& [key, value] : table) {
    const std::string name(key.str());
    if (name == "id" || name == "op" || name == "in") continue;
    const std::string what = "step '" + step.id + "': " + name;
    if (value.is_boolean())
      step.options[name] = value.as_boolean()->get();
    else if (value.is_integer())
      step.options[name] = static_cast<double>(value.as_integer()->get());
    else if (value.is_floating_point())
      step.options[name] = value.as_floating_point()->get();
    else if (value.is_string())
      step.options[name] = option_text(name, value.as_string()->get());
    else
      toml_.fail(value.source(), what + ": expected a boolean, a number or a string, found " +
                                     std::string(detail::describe_type(value)));
    step.option_where[name] = toml_.at(key.source());
    step.option_value_where[name] = toml_.at(value.source());
  }
}

/// Options naming a file (keys ending in "_file", like color-relief's color_file) are paths,
/// resolved against the job file's folder like every other path.
std::string JobReader::option_text(const std::string& key, const std::string& text) const {
  const bool is_path = key.size() > 5 && key.compare(key.size() - 5, 5, "_file") == 0;
  return is_path ? resolve_dataset_name(base_dir_, text) : text;
}

OutputFileSpec JobReader::read_output(const toml::table& table, size_t number) const {
  const std::string what = "output " + std::to_string(number);
  toml_.check_keys(
      table,
      {"from", "path", "format", "compress", "predictor", "level", "co", "overviews", "resampling",
       "zones", "zones_band", "layer", "id", "all_touched", "categorical", "stats"},
      what);
  OutputFileSpec output;
  output.where = toml_.at(table.source());
  const toml::node& from = toml_.required(table, "from", what);
  output.from_where = toml_.at(from.source());
  for (const Located& step : toml_.strings(from, what + ": from")) {
    output.from.push_back(step.text);
    output.from_item_where.push_back(step.where);
  }
  const toml::node& path = toml_.required(table, "path", what);
  output.path_where = toml_.at(path.source());
  if (table.get("zones") != nullptr) {
    read_table(table, path, what, output);
    return output;
  }
  for (std::string_view key : {"zones_band", "layer", "id", "all_touched", "categorical", "stats"})
    if (table.get(key) != nullptr)
      toml_.fail(table.get(key)->source(),
                 what + ": " + std::string(key) + " belongs to a zonal table, which needs zones");
  output.path = resolve_dataset_name(base_dir_, detail::output_path(toml_, path, what + ": path"));
  output.format = *format_of_path(output.path);
  if (const toml::node* format = table.get("format"))
    output.format = detail::output_format(toml_, *format, output.format, what + ": format");
  if (const toml::node* overviews = table.get("overviews")) {
    output.overviews_where = toml_.at(overviews->source());
    output.overviews = detail::overview_factors(toml_, *overviews, what + ": overviews");
  }
  output.creation_options = detail::creation_options(toml_, table, output.format, what);
  return output;
}

/// A zonal statistics table: its zones, the statistics, and a .csv (or vector file) path.
void JobReader::read_table(const toml::table& table, const toml::node& path,
                           const std::string& what, OutputFileSpec& output) const {
  const std::string text = toml_.string(path, what + ": path");
  if (!is_table_path(text))
    toml_.fail(path.source(), what +
                                  ": path: a zonal table is a .csv, .gpkg, .shp, .geojson or "
                                  ".json file, found '" +
                                  text + "'");
  for (std::string_view key :
       {"format", "compress", "predictor", "level", "co", "overviews", "resampling"})
    if (table.get(key) != nullptr)
      toml_.fail(table.get(key)->source(),
                 what + ": " + std::string(key) + " applies to rasters, not to a zonal table");
  output.path = resolve_dataset_name(base_dir_, text);
  output.format = OutputFormat::Table;
  ZoneTableSpec spec;
  output.zones_where = toml_.at(table.get("zones")->source());
  spec.zones = resolve_dataset_name(base_dir_, toml_.string(*table.get("zones"), what + ": zones"));
  if (const toml::node* band = table.get("zones_band")) {
    const int64_t value = toml_.integer(*band, what + ": zones_band");
    if (value < 1 || value > 65535)
      toml_.fail(band->source(), what + ": zones_band: expected a band number from 1");
    spec.zones_band = static_cast<int>(value);
  }
  if (const toml::node* layer = table.get("layer"))
    spec.layer = toml_.string(*layer, what + ": layer");
  if (const toml::node* id = table.get("id")) spec.id_field = toml_.string(*id, what + ": id");
  if (const toml::node* touched = table.get("all_touched"))
    spec.all_touched = toml_.boolean(*touched, what + ": all_touched");
  if (const toml::node* categorical = table.get("categorical"))
    spec.categorical = toml_.boolean(*categorical, what + ": categorical");
  if (const toml::node* stats = table.get("stats")) {
    output.stats_where = toml_.at(stats->source());
    for (const Located& name : toml_.strings(*stats, what + ": stats"))
      spec.stats.push_back(name.text);
  }
  output.table = std::move(spec);
}

void JobReader::read_run(const toml::node& node) {
  const toml::table& table = toml_.table(node, "run");
  toml_.check_keys(table, {"tile", "scratch"}, "run");
  job_.run.where = toml_.at(table.source());
  if (const toml::node* scratch = table.get("scratch")) {
    job_.run.scratch_where = toml_.at(scratch->source());
    if (!scratch->is_string() && !(scratch->is_boolean() && !scratch->as_boolean()->get()))
      toml_.fail(scratch->source(), "run: scratch: expected a folder (a string) or false");
    if (scratch->is_string() && scratch->as_string()->get().empty())
      toml_.fail(scratch->source(),
                 "run: scratch: expected a folder, found \"\" (false keeps no tiles)");
    job_.run.scratch =
        scratch->is_string() ? resolve_dataset_name(base_dir_, scratch->as_string()->get()) : "";
  }
  const toml::node* tile = table.get("tile");
  if (tile == nullptr) return;
  job_.run.tile = toml_.integer(*tile, "run: tile");
  job_.run.tile_where = toml_.at(tile->source());
}

/// toml++ says "Error while parsing value: ..."; tessera's messages start in lowercase.
std::string syntax_message(const toml::parse_error& e) {
  std::string message(e.description());
  if (!message.empty())
    message[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(message[0])));
  return message;
}

/// Refuses a string holding a NUL character ("\u0000"): every path, name and expression reaches
/// the system as C text, cut there ("out.tif\u0000.h5" wrote HDF5 into out.tif).
void refuse_nul(const toml::node& node, const detail::TomlReader& toml) {
  if (const auto* text = node.as_string()) {
    if (text->get().find('\0') != std::string::npos)
      toml.fail(node.source(),
                "a string holds a NUL character (\\u0000), which no path, name or "
                "expression may");
  } else if (const auto* table = node.as_table()) {
    for (const auto& [key, value] : *table) refuse_nul(value, toml);
  } else if (const auto* array = node.as_array()) {
    for (const toml::node& item : *array) refuse_nul(item, toml);
  }
}

}  // namespace

JobSpec parse_job_text(std::string_view text, const std::string& name,
                       const std::string& base_dir) {
  detail::check_key_depth(text, name);
  toml::table root;
  try {
    root = toml::parse(text, std::string_view(name));
  } catch (const toml::parse_error& e) {
    detail::TomlReader(name).fail(e.source(), syntax_message(e));
  }
  refuse_nul(root, detail::TomlReader(name));
  return JobReader(name, base_dir).read(root);
}

JobSpec parse_job_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(path + ": cannot open job file");
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) throw Error(path + ": cannot read job file");
  return parse_job_text(text.str(), path, std::filesystem::path(path).parent_path().string());
}

}  // namespace tessera::job
