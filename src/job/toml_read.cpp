// Typed TOML reads that name the job file, line and column of whatever is wrong.
#include "toml_read.hpp"

#include <algorithm>

#include "tessera/core/error.hpp"

namespace tessera::job::detail {

namespace {
std::string join(std::initializer_list<std::string_view> items) {
  std::string out;
  for (std::string_view item : items) out += (out.empty() ? "" : ", ") + std::string(item);
  return out;
}
}  // namespace

std::string_view describe_type(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

Position TomlReader::at(const toml::source_region& region) const {
  return {file_, static_cast<int>(region.begin.line), static_cast<int>(region.begin.column)};
}

void TomlReader::fail(const toml::source_region& region, const std::string& message) const {
  fail_at(at(region), message);
}

void TomlReader::fail_type(const toml::node& node, const std::string& what,
                           std::string_view expected) const {
  fail(node.source(), what + ": expected " + std::string(expected) + ", found " +
                          std::string(describe_type(node)));
}

void TomlReader::check_keys(const toml::table& table,
                            std::initializer_list<std::string_view> allowed,
                            const std::string& what) const {
  for (auto&& [key, value] : table) {
    if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
    fail(key.source(), what + ": unknown key '" + std::string(key.str()) +
                           "' (expected one of: " + join(allowed) + ")");
  }
}

const toml::node& TomlReader::required(const toml::table& table, std::string_view key,
                                       const std::string& what) const {
  const toml::node* node = table.get(key);
  if (node == nullptr) fail(table.source(), what + ": missing key '" + std::string(key) + "'");
  return *node;
}

Position TomlReader::key_at(const toml::table& table, std::string_view key) const {
  return at(table.find(key)->first.source());
}

std::string TomlReader::string(const toml::node& node, const std::string& what) const {
  if (!node.is_string()) fail_type(node, what, "a string");
  return node.as_string()->get();
}

bool TomlReader::boolean(const toml::node& node, const std::string& what) const {
  if (!node.is_boolean()) fail_type(node, what, "true or false");
  return node.as_boolean()->get();
}

int64_t TomlReader::integer(const toml::node& node, const std::string& what) const {
  if (!node.is_integer()) fail_type(node, what, "an integer");
  return node.as_integer()->get();
}

const toml::table& TomlReader::table(const toml::node& node, const std::string& what) const {
  if (!node.is_table()) fail_type(node, what, "a table");
  return *node.as_table();
}

std::vector<Located> TomlReader::strings(const toml::node& node, const std::string& what) const {
  if (node.is_string()) return {{node.as_string()->get(), at(node.source())}};
  if (!node.is_array()) fail_type(node, what, "a string or an array of strings");
  const toml::array& array = *node.as_array();
  if (array.empty()) fail(node.source(), what + ": expected at least one string, found none");
  std::vector<Located> out;
  for (const toml::node& item : array) out.push_back({string(item, what), at(item.source())});
  return out;
}

}  // namespace tessera::job::detail
