// Typed reads from a parsed TOML document that fail with the job file's line and column.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/job/job_spec.hpp"

namespace tessera::job::detail {

/// A string with the place it was written.
struct Located {
  std::string text;
  Position where;
};

/// Reads values of one job file; every `what` names the value in messages ("step 'slope': op").
class TomlReader {
 public:
  explicit TomlReader(std::string file) : file_(std::move(file)) {}

  /// The position of a TOML source region in this file.
  Position at(const toml::source_region& region) const;
  [[noreturn]] void fail(const toml::source_region& region, const std::string& message) const;

  /// Fails at the first key of `table` that is not in `allowed`, listing the allowed keys.
  void check_keys(const toml::table& table, std::initializer_list<std::string_view> allowed,
                  const std::string& what) const;
  /// The value of `key`; fails at the table when the key is missing.
  const toml::node& required(const toml::table& table, std::string_view key,
                             const std::string& what) const;
  /// Where `key` is written in `table`. Precondition: the key exists.
  Position key_at(const toml::table& table, std::string_view key) const;

  std::string string(const toml::node& node, const std::string& what) const;
  int64_t integer(const toml::node& node, const std::string& what) const;
  bool boolean(const toml::node& node, const std::string& what) const;
  const toml::table& table(const toml::node& node, const std::string& what) const;
  /// A string, or an array of strings; at least one.
  std::vector<Located> strings(const toml::node& node, const std::string& what) const;

 private:
  [[noreturn]] void fail_type(const toml::node& node, const std::string& what,
                              std::string_view expected) const;
  std::string file_;
};

/// "a string", "an integer", ... for the type of a TOML value.
std::string_view describe_type(const toml::node& node);

}  // namespace tessera::job::detail
