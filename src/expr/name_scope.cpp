// One hashed set of the names a job's expressions may read, shared by every step's parse.
#include "tessera/expr/name_scope.hpp"

#include <unordered_set>

namespace tessera::expr {

struct NameScope::Names {
  std::vector<std::string> inputs;
  std::vector<std::string> steps;
  std::unordered_set<std::string> input_set;
  std::unordered_set<std::string> step_set;
};

namespace {

/// "a, b", or "none".
std::string comma_list(const std::vector<std::string>& names) {
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  return list.empty() ? "none" : list;
}

}  // namespace

NameScope::NameScope(std::vector<std::string> inputs, std::vector<std::string> steps) {
  auto names = std::make_shared<Names>();
  names->input_set.insert(inputs.begin(), inputs.end());
  names->step_set.insert(steps.begin(), steps.end());
  names->inputs = std::move(inputs);
  names->steps = std::move(steps);
  names_ = std::move(names);
}

NameScope NameScope::without(std::string id) const {
  NameScope scope = *this;
  scope.left_out_ = std::move(id);
  scope.leaves_out_ = true;
  return scope;
}

bool NameScope::contains(const std::string& name) const {
  if (names_->input_set.contains(name)) return true;
  return (!leaves_out_ || name != left_out_) && names_->step_set.contains(name);
}

// Only messages list the names, so this may take the time of the whole list.
std::string NameScope::listed() const {
  std::vector<std::string> steps;
  for (const auto& s : names_->steps)
    if (!leaves_out_ || s != left_out_) steps.push_back(s);
  const std::string inputs = "inputs: " + comma_list(names_->inputs);
  return steps.empty() ? inputs : inputs + "; steps: " + comma_list(steps);
}

}  // namespace tessera::expr
