// Reads a TOML job file into a checked JobSpec; every mistake names its line and column.
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "output_options.hpp"
#include "tessera/core/error.hpp"
#include "tessera/job/job_spec.hpp"
#include "tessera/ops/op.hpp"
#include "toml_read.hpp"

namespace tessera::job {

std::string Position::str() const {
  if (file.empty()) return "";
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

namespace {

using detail::Located;

std::string known_ops() {
  std::string out;
  for (const auto& entry : ops::registry())
    out += (out.empty() ? "" : ", ") + std::string(entry.name);
  return out;
}

/// Joins the names of `items` (anything with a `name` or `id`) for "expected one of" lists.
template <typename T, typename Get>
std::string names_of(const std::vector<T>& items, Get get) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + get(item);
  return out.empty() ? "none" : out;
}

/// Keeps GDAL connection strings ("NETCDF:f.nc:v") and absolute paths as they are.
std::string resolve(const std::string& base_dir, const std::string& path) {
  const std::filesystem::path p(path);
  if (p.is_absolute() || path.find(':') != std::string::npos) return path;
  if (base_dir.empty()) return p.lexically_normal().string();
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

/// The `get` of each item, in order.
template <typename T, typename Get>
std::vector<std::string> names_list(const std::vector<T>& items, Get get) {
  std::vector<std::string> out;
  for (const auto& item : items) out.push_back(get(item));
  return out;
}

/// Whether op `name` reads the inputs its options name (calc) instead of one `in`.
bool reads_named_inputs(const std::string& name) {
  const ops::OpEntry* entry = ops::find_op(name);
  return entry != nullptr && entry->make_named != nullptr;
}

/// An edge of the step graph: a step reads step `step`, as written at `where` (its `in`, or the
/// name in its expr).
struct StepRead {
  size_t step = 0;
  Position where;
  std::string field;  ///< "in" or "expr"
};

class JobReader {
 public:
  JobReader(const std::string& name, std::string base_dir)
      : toml_(name), base_dir_(std::move(base_dir)) {
    job_.file = name;
  }
  JobSpec read(const toml::table& root);

 private:
  void read_inputs(const toml::node& node);
  void read_steps(const toml::node& node);
  StepSpec read_step(const toml::table& table, size_t number);
  void read_options(const toml::table& table, StepSpec& step) const;
  std::string option_text(const std::string& key, const std::string& text) const;
  void check_in(const StepSpec& step) const;
  std::vector<StepRead> check_op(const StepSpec& step, const toml::table& table) const;
  std::vector<StepRead> steps_read(const StepSpec& step, const ops::Op& op,
                                   const toml::table& table) const;
  void order_steps(const std::vector<std::vector<StepRead>>& reads);
  [[noreturn]] void fail_cycle(const std::vector<std::vector<StepRead>>& reads,
                               const std::vector<bool>& placed) const;
  std::vector<std::string> step_ids_but(const std::string& id) const;
  std::optional<size_t> step_index(const std::string& id) const;
  void read_outputs(const toml::node& node);
  OutputFileSpec read_output(const toml::table& table, size_t number) const;
  void check_from(const std::vector<Located>& from, const std::string& what) const;
  void check_unique_path(const OutputFileSpec& output, const std::string& what) const;
  void read_run(const toml::node& node);
  const toml::node& array_of_tables(const toml::table& root, std::string_view key) const;
  bool is_input(const std::string& name) const;
  Position inside_string(const toml::node& value, int column) const;
  bool is_step(const std::string& id) const;

  detail::TomlReader toml_;
  std::string base_dir_;
  JobSpec job_;
};

JobSpec JobReader::read(const toml::table& root) {
  toml_.check_keys(root, {"input", "step", "output", "run"}, "job");
  if (const toml::node* inputs = root.get("input")) read_inputs(*inputs);
  read_steps(array_of_tables(root, "step"));
  read_outputs(array_of_tables(root, "output"));
  if (const toml::node* run = root.get("run")) read_run(*run);
  return std::move(job_);
}

const toml::node& JobReader::array_of_tables(const toml::table& root, std::string_view key) const {
  const std::string header = "[[" + std::string(key) + "]]";
  const toml::node* node = root.get(key);
  if (node == nullptr)
    toml_.fail(root.source(), "job has no " + header + " (expected at least one)");
  if (!node->is_array_of_tables())
    toml_.fail(node->source(), std::string(key) + ": expected " + header + " tables, found " +
                                   std::string(detail::describe_type(*node)));
  return *node;
}

void JobReader::read_inputs(const toml::node& node) {
  const toml::table& inputs = toml_.table(node, "input");
  for (auto&& [key, value] : inputs) {
    const std::string what = "input '" + std::string(key.str()) + "'";
    const toml::table& table = toml_.table(value, what);
    toml_.check_keys(table, {"path", "band"}, what);
    InputSpec input{std::string(key.str()), {}, 1, toml_.at(table.source())};
    input.path =
        resolve(base_dir_, toml_.string(toml_.required(table, "path", what), what + ": path"));
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

/// Reads every step, checks each against all the others (a step may read any step, wherever it
/// is written), then orders them so that each comes after the steps it reads.
void JobReader::read_steps(const toml::node& node) {
  std::vector<const toml::table*> tables;
  size_t number = 0;
  for (const toml::node& item : *node.as_array()) {
    tables.push_back(item.as_table());
    job_.steps.push_back(read_step(*tables.back(), ++number));
  }
  std::vector<std::vector<StepRead>> reads;
  for (size_t i = 0; i < job_.steps.size(); ++i) {
    check_in(job_.steps[i]);
    reads.push_back(check_op(job_.steps[i], *tables[i]));
  }
  order_steps(reads);
}

/// Kahn's order, taking the first step in file order whose steps are all placed, so that a
/// file already in order keeps it; no such step means a cycle.
void JobReader::order_steps(const std::vector<std::vector<StepRead>>& reads) {
  const size_t n = job_.steps.size();
  std::vector<bool> placed(n, false);
  std::vector<StepSpec> ordered;
  while (ordered.size() < n) {
    size_t next = 0;
    const auto ready = [&](size_t i) {
      return !placed[i] && std::all_of(reads[i].begin(), reads[i].end(),
                                       [&](const StepRead& r) { return placed[r.step]; });
    };
    while (next < n && !ready(next)) ++next;
    if (next == n) fail_cycle(reads, placed);
    placed[next] = true;
    ordered.push_back(job_.steps[next]);
  }
  job_.steps = std::move(ordered);
}

/// Reports a cycle among the steps not placed: "step 'a': expr: steps read each other in a
/// cycle: a -> b -> a", at the read that leaves the cycle's first step in file order.
void JobReader::fail_cycle(const std::vector<std::vector<StepRead>>& reads,
                           const std::vector<bool>& placed) const {
  // Every unplaced step reads an unplaced step: walking those reads must come back somewhere.
  std::vector<size_t> path{
      static_cast<size_t>(std::find(placed.begin(), placed.end(), false) - placed.begin())};
  const auto unplaced_read = [&](size_t i) -> const StepRead& {
    return *std::find_if(reads[i].begin(), reads[i].end(),
                         [&](const StepRead& r) { return !placed[r.step]; });
  };
  while (std::count(path.begin(), path.end(), path.back()) == 1)
    path.push_back(unplaced_read(path.back()).step);
  std::vector<size_t> cycle(std::find(path.begin(), path.end(), path.back()), path.end() - 1);
  std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
  std::string text;
  for (size_t i : cycle) text += job_.steps[i].id + " -> ";
  const StepRead& first = unplaced_read(cycle.front());
  detail::fail_at(first.where, "step '" + job_.steps[cycle.front()].id + "': " + first.field +
                                   ": steps read each other in a cycle: " + text +
                                   job_.steps[cycle.front()].id);
}

StepSpec JobReader::read_step(const toml::table& table, size_t number) {
  const std::string anonymous = "step " + std::to_string(number);
  StepSpec step;
  step.where = toml_.at(table.source());
  const toml::node& id = toml_.required(table, "id", anonymous);
  step.id = toml_.string(id, anonymous + ": id");
  if (step.id.empty()) toml_.fail(id.source(), anonymous + ": id: expected a name, found \"\"");
  for (const auto& other : job_.steps)
    if (other.id == step.id)
      toml_.fail(id.source(),
                 "duplicate step id '" + step.id + "' (first at " + other.where.str() + ")");
  const std::string what = "step '" + step.id + "'";
  if (is_input(step.id)) toml_.fail(id.source(), what + ": id is also an input's name");
  step.op = toml_.string(toml_.required(table, "op", what), what + ": op");
  if (reads_named_inputs(step.op)) {
    if (const toml::node* in = table.get("in"))
      toml_.fail(in->source(),
                 what + ": in: " + step.op + " reads the inputs its expr names; remove in");
    read_options(table, step);
    return step;
  }
  const toml::node& in = toml_.required(table, "in", what);
  step.in = toml_.string(in, what + ": in");
  step.in_where = toml_.at(in.source());
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
  }
}

/// Options naming a file (keys ending in "_file", like color-relief's color_file) are paths,
/// resolved against the job file's folder like every other path.
std::string JobReader::option_text(const std::string& key, const std::string& text) const {
  const bool is_path = key.size() > 5 && key.compare(key.size() - 5, 5, "_file") == 0;
  return is_path ? resolve(base_dir_, text) : text;
}

void JobReader::check_in(const StepSpec& step) const {
  const std::string what = "step '" + step.id + "': in";
  if (is_input(step.in) || reads_named_inputs(step.op) || is_step(step.in)) return;
  const std::string inputs = names_of(job_.inputs, [](const InputSpec& i) { return i.name; });
  const std::string steps = names_of(job_.steps, [](const StepSpec& s) { return s.id; });
  detail::fail_at(step.in_where, what + ": '" + step.in + "' names no input or step (inputs: " +
                                     inputs + "; steps: " + steps + ")");
}

/// Builds the step's op, which checks its options (a calc expr against the names it may read),
/// and returns the steps it reads.
std::vector<StepRead> JobReader::check_op(const StepSpec& step, const toml::table& table) const {
  const std::string what = "step '" + step.id + "'";
  const ops::OpEntry* entry = ops::find_op(step.op);
  if (entry == nullptr)
    toml_.fail(table.get("op")->source(),
               what + ": unknown op '" + step.op + "' (expected one of: " + known_ops() + ")");
  try {
    const auto op = ops::make_op(step.op, step.options,
                                 names_list(job_.inputs, [](const InputSpec& i) { return i.name; }),
                                 step_ids_but(step.id));
    return steps_read(step, *op, table);
  } catch (const ops::OptionError& e) {
    const toml::node* value = table.get(e.key());
    if (e.column() > 0 && value != nullptr && value->is_string())
      detail::fail_at(inside_string(*value, e.column()), what + ": " + e.what());
    const auto where = step.option_where.find(e.key());
    detail::fail_at(where != step.option_where.end() ? where->second : step.where,
                    what + ": " + e.what());
  } catch (const Error& e) {
    detail::fail_at(step.where, what + ": " + e.what());
  }
}

/// The steps `step` reads: its `in`, or the step ids its expr names (ops of named inputs name
/// them in option expr, which `column` counts in).
std::vector<StepRead> JobReader::steps_read(const StepSpec& step, const ops::Op& op,
                                            const toml::table& table) const {
  std::vector<StepRead> reads;
  if (const auto source = step_index(step.in)) reads.push_back({*source, step.in_where, "in"});
  const toml::node* expr = table.get("expr");
  for (const ops::BandRef& ref : op.band_inputs()) {
    const auto source = step_index(ref.name);
    if (!source) continue;
    const bool inside = expr != nullptr && expr->is_string() && ref.column > 0;
    const auto key = step.option_where.find("expr");
    const Position& key_where = key != step.option_where.end() ? key->second : step.where;
    reads.push_back({*source, inside ? inside_string(*expr, ref.column) : key_where, "expr"});
  }
  return reads;
}

/// Every step id but `id`: what a step's expr may name besides the inputs.
std::vector<std::string> JobReader::step_ids_but(const std::string& id) const {
  std::vector<std::string> ids;
  for (const auto& step : job_.steps)
    if (step.id != id) ids.push_back(step.id);
  return ids;
}

std::optional<size_t> JobReader::step_index(const std::string& id) const {
  for (size_t i = 0; i < job_.steps.size(); ++i)
    if (job_.steps[i].id == id) return i;
  return std::nullopt;
}

void JobReader::read_outputs(const toml::node& node) {
  size_t number = 0;
  for (const toml::node& item : *node.as_array()) {
    OutputFileSpec output = read_output(*item.as_table(), ++number);
    check_unique_path(output, "output " + std::to_string(number));
    job_.outputs.push_back(std::move(output));
  }
}

OutputFileSpec JobReader::read_output(const toml::table& table, size_t number) const {
  const std::string what = "output " + std::to_string(number);
  toml_.check_keys(table, {"from", "path", "compress", "predictor", "level", "co"}, what);
  OutputFileSpec output;
  output.where = toml_.at(table.source());
  const toml::node& from = toml_.required(table, "from", what);
  output.from_where = toml_.at(from.source());
  const std::vector<Located> steps = toml_.strings(from, what + ": from");
  check_from(steps, what + ": from");
  for (const Located& step : steps) output.from.push_back(step.text);
  const toml::node& path = toml_.required(table, "path", what);
  output.path = resolve(base_dir_, detail::output_path(toml_, path, what + ": path"));
  output.format = *format_of_path(output.path);
  output.creation_options = detail::creation_options(toml_, table, output.format, what);
  return output;
}

void JobReader::check_from(const std::vector<Located>& from, const std::string& what) const {
  for (size_t i = 0; i < from.size(); ++i) {
    const std::string& id = from[i].text;
    if (!is_step(id)) {
      const std::string steps = names_of(job_.steps, [](const StepSpec& s) { return s.id; });
      detail::fail_at(from[i].where, what + ": '" + id + "' names no step (steps: " + steps + ")");
    }
    for (size_t j = 0; j < i; ++j)
      if (from[j].text == id)
        detail::fail_at(from[i].where, what + ": step '" + id + "' listed twice");
  }
}

void JobReader::check_unique_path(const OutputFileSpec& output, const std::string& what) const {
  for (const auto& other : job_.outputs)
    if (other.path == output.path)
      detail::fail_at(output.where, what + ": path '" + output.path +
                                        "' is also the path of the output at " + other.where.str());
}

void JobReader::read_run(const toml::node& node) {
  const toml::table& table = toml_.table(node, "run");
  toml_.check_keys(table, {"tile"}, "run");
  job_.run.where = toml_.at(table.source());
  const toml::node* tile = table.get("tile");
  if (tile == nullptr) return;
  const int64_t size = toml_.integer(*tile, "run: tile");
  if (size < 16 || size % 16 != 0)
    toml_.fail(tile->source(),
               "run: tile: expected a positive multiple of 16, found " + std::to_string(size));
  job_.run.tile = size;
}

bool JobReader::is_input(const std::string& name) const {
  return std::any_of(job_.inputs.begin(), job_.inputs.end(),
                     [&](const InputSpec& i) { return i.name == name; });
}

/// The place of character `column` (from 1) of a one-line string value, after its opening quote.
Position JobReader::inside_string(const toml::node& value, int column) const {
  Position where = toml_.at(value.source());
  where.column += column;
  return where;
}

bool JobReader::is_step(const std::string& id) const {
  return std::any_of(job_.steps.begin(), job_.steps.end(),
                     [&](const StepSpec& s) { return s.id == id; });
}

/// toml++ says "Error while parsing value: ..."; tessera's messages start in lowercase.
std::string syntax_message(const toml::parse_error& e) {
  std::string message(e.description());
  if (!message.empty())
    message[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(message[0])));
  return message;
}

}  // namespace

JobSpec parse_job_text(std::string_view text, const std::string& name,
                       const std::string& base_dir) {
  toml::table root;
  try {
    root = toml::parse(text, std::string_view(name));
  } catch (const toml::parse_error& e) {
    detail::TomlReader(name).fail(e.source(), syntax_message(e));
  }
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
