// The names an expression may read: a job's inputs, and its step ids, which read like inputs.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace tessera::expr {

/// Inputs (`nir`, `A`) and step ids (listed apart in messages) an expression may name. Names are
/// looked up by hash, and the lists are shared between copies: a job builds one scope and parses
/// each of its steps against it in the time of that step's text, however many steps there are.
class NameScope {
 public:
  explicit NameScope(std::vector<std::string> inputs, std::vector<std::string> steps = {});

  /// The same names but the step `id`, which a step may not read: it is its own.
  NameScope without(std::string id) const;

  /// Whether `name` is one of the inputs or steps (and not the one left out).
  bool contains(const std::string& name) const;

  /// "inputs: a, b" ("none" for no inputs), then "; steps: c, d" when there are steps.
  std::string listed() const;

 private:
  struct Names;
  std::shared_ptr<const Names> names_;
  std::string left_out_;
  bool leaves_out_ = false;
};

}  // namespace tessera::expr
