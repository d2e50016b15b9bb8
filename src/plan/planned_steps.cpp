// The steps a job's step stands for: `fill` with `epsilon = true` is four passes, each a step
// the planner adds, with an id nothing else in the job may take or name.
#include <set>
#include <string>
#include <utility>

#include "plan_detail.hpp"
#include "tessera/ops/fill.hpp"
#include "tessera/ops/op.hpp"

namespace tessera::plan::detail {
namespace {

/// The id of the step the planner adds for pass `part` of step `id`. planned_steps() refuses a
/// job whose own names take one, so nothing the user wrote names one but the step itself.
std::string part_id(const std::string& id, const std::string& part) { return id + "." + part; }

/// The four steps of `fill` with `epsilon = true` (docs/hydrology.md): fill's surface F, flowdir
/// of F, the bound U along flowdir's paths, and the epsilon pass over F and U under the step's
/// own id. Each reports its mistakes at the user's step.
std::vector<job::StepSpec> epsilon_steps(const job::StepSpec& step) {
  job::StepSpec part = step;
  part.options.erase("epsilon");
  part.option_where.erase("epsilon");
  part.option_value_where.erase("epsilon");
  const auto make = [&](const std::string& id, const std::string& op, const std::string& in) {
    job::StepSpec s = part;
    s.id = id;
    s.op = op;
    s.in = in;
    if (op != "fill") {
      s.options.clear();
      s.option_where.clear();
      s.option_value_where.clear();
    }
    return s;
  };
  const std::string surface = part_id(step.id, "fill");
  const std::string directions = part_id(step.id, "flowdir");
  const std::string bound = part_id(step.id, "bound");
  std::vector<job::StepSpec> steps{
      make(surface, "fill", step.in), make(directions, "flowdir", surface),
      make(bound, "fill_epsilon_bound", surface), make(step.id, "fill_epsilon", surface)};
  steps[2].options["directions"] = directions;
  steps[3].options["bound"] = bound;
  return steps;
}

/// Whether `step` asks for fill's epsilon: its options read as fill reads them (`epsilon` true
/// or false, or their words; no other key); a bad value or key is refused at it.
bool wants_epsilon(const job::StepSpec& step) {
  if (step.op != "fill") return false;
  try {
    return ops::fill_epsilon(step.options);
  } catch (const ops::OptionError& e) {
    const job::Position& where = option_place(step, e.key());
    fail_at(where, "step '" + step.id + "'", where.flag ? e.detail() : e.what());
  }
}

}  // namespace

job::JobSpec planned_steps(const job::JobSpec& job) {
  std::set<std::string> added;  // the ids of the steps added, which nothing the user wrote reads
  job::JobSpec out = job;
  out.steps.clear();
  for (const job::StepSpec& step : job.steps) {
    if (!wants_epsilon(step)) {
      out.steps.push_back(step);
      if (step.op == "fill") {
        out.steps.back().options.erase("epsilon");
        out.steps.back().option_where.erase("epsilon");
        out.steps.back().option_value_where.erase("epsilon");
      }
      continue;
    }
    for (job::StepSpec& s : epsilon_steps(step)) {
      if (s.id != step.id && !added.insert(s.id).second)  // two steps of the same id
        fail_at(step.id_where, "duplicate step id '" + step.id + "'");
      out.steps.push_back(std::move(s));
    }
  }
  if (added.empty()) return out;
  const auto refuse = [&](const job::Position& where, const std::string& subject,
                          const std::string& name) {
    const std::string owner = name.substr(0, name.rfind('.'));
    fail_at(where, subject,
            "'" + name + "' is a pass that step '" + owner +
                "' (fill with epsilon) runs for itself; read '" + owner + "' instead");
  };
  for (const job::InputSpec& input : job.inputs)
    if (added.contains(input.name))
      fail_at(input.where, "input '" + input.name + "'",
              "the name of a pass of fill with epsilon; give the input another name");
  for (const job::StepSpec& step : job.steps) {
    const std::string what = "step '" + step.id + "'";
    if (added.contains(step.id))
      fail_at(step.id_where, what, "id: the name of a pass of fill with epsilon; rename it");
    if (added.contains(step.in)) refuse(step.in_where, what + ": in", step.in);
    for (const auto& [key, value] : step.options)
      if (const auto* text = std::get_if<std::string>(&value); text && added.contains(*text))
        refuse(option_place(step, key), what + ": " + key, *text);
  }
  for (const job::OutputFileSpec& output : job.outputs)
    for (const std::string& from : output.from)
      if (added.contains(from)) refuse(output.where, "output '" + output.path + "'", from);
  return out;
}

}  // namespace tessera::plan::detail
