// Reads an op's options by key, type-checked, and rejects keys the op does not know.
#pragma once

#include <initializer_list>
#include <set>
#include <string>
#include <string_view>

#include "tessera/ops/op.hpp"

namespace tessera::ops {

/// Reads options one key at a time; finish() then throws for any key nobody read.
class OptionReader {
 public:
  /// `op` names the op in the unknown-key message; `known` lists the keys it accepts.
  OptionReader(std::string_view op, const Options& options,
               std::initializer_list<const char*> known);

  /// A finite number (a number, or text that is one); `fallback` when absent.
  double number(const std::string& key, double fallback);
  /// A finite number other than zero; `fallback` when absent.
  double nonzero_number(const std::string& key, double fallback);
  /// True or false (a bool, or the text true/false/yes/no/on/off); `fallback` when absent.
  bool flag(const std::string& key, bool fallback);
  /// Text; `fallback` when absent.
  std::string text(const std::string& key, const std::string& fallback);
  /// One of `choices`, compared case-insensitively; returns the choice's index.
  int choice(const std::string& key, std::initializer_list<const char*> choices, int fallback);
  bool has(const std::string& key) const { return options_.count(key) != 0; }
  /// Throws OptionError for the first key that is not one of `known`.
  void finish() const;

 private:
  std::string op_;
  const Options& options_;
  std::set<std::string> known_;
};

}  // namespace tessera::ops
