// Type-checked option reading shared by every op.
#include "option_reader.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace tessera::ops {
namespace {

bool equal_nocase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

bool parse_number(const std::string& text, double& value) {
  if (text.empty()) return false;
  char* end = nullptr;
  value = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

std::string joined(std::initializer_list<const char*> words, const char* last_separator) {
  std::string out;
  size_t i = 0;
  for (const char* w : words) {
    if (i > 0) out += (i + 1 == words.size()) ? last_separator : ", ";
    out += w;
    ++i;
  }
  return out;
}

}  // namespace

OptionReader::OptionReader(std::string_view op, const Options& options,
                           std::initializer_list<const char*> known)
    : op_(op), options_(options), known_(known.begin(), known.end()) {}

double OptionReader::number(const std::string& key, double fallback) {
  const auto it = options_.find(key);
  if (it == options_.end()) return fallback;
  double value = 0;
  if (const auto* d = std::get_if<double>(&it->second))
    value = *d;
  else if (const auto* s = std::get_if<std::string>(&it->second); !s || !parse_number(*s, value))
    throw OptionError(key, "option '" + key + "' must be a number");
  if (!std::isfinite(value)) throw OptionError(key, "option '" + key + "' must be a finite number");
  return value;
}

double OptionReader::nonzero_number(const std::string& key, double fallback) {
  const double value = number(key, fallback);
  if (value == 0) throw OptionError(key, "option '" + key + "' must not be zero");
  return value;
}

bool OptionReader::flag(const std::string& key, bool fallback) {
  const auto it = options_.find(key);
  if (it == options_.end()) return fallback;
  if (const auto* b = std::get_if<bool>(&it->second)) return *b;
  if (const auto* s = std::get_if<std::string>(&it->second)) {
    for (const char* yes : {"true", "yes", "on"})
      if (equal_nocase(*s, yes)) return true;
    for (const char* no : {"false", "no", "off"})
      if (equal_nocase(*s, no)) return false;
  }
  throw OptionError(key, "option '" + key + "' must be true or false");
}

std::string OptionReader::text(const std::string& key, const std::string& fallback) {
  const auto it = options_.find(key);
  if (it == options_.end()) return fallback;
  if (const auto* s = std::get_if<std::string>(&it->second)) return *s;
  throw OptionError(key, "option '" + key + "' must be text");
}

int OptionReader::choice(const std::string& key, std::initializer_list<const char*> choices,
                         int fallback) {
  const auto it = options_.find(key);
  if (it == options_.end()) return fallback;
  if (const auto* s = std::get_if<std::string>(&it->second)) {
    int index = 0;
    for (const char* c : choices) {
      if (equal_nocase(*s, c)) return index;
      ++index;
    }
  }
  throw OptionError(key, "option '" + key + "' must be " + joined(choices, " or "));
}

void OptionReader::finish() const {
  for (const auto& [key, value] : options_) {
    if (known_.count(key) != 0) continue;
    std::string expected;
    for (const auto& k : known_) expected += (expected.empty() ? "" : ", ") + k;
    throw OptionError(key, "unknown option '" + key + "' for " + op_ +
                               (expected.empty() ? std::string(" (it takes none)")
                                                 : " (expected one of: " + expected + ")"));
  }
}

}  // namespace tessera::ops
