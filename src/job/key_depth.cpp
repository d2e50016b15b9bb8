// Counts the dots of each dotted key before toml++ sees the text: toml++ recurses once per part.
#include "key_depth.hpp"

#include <algorithm>

#include "tessera/job/job_spec.hpp"

namespace tessera::job::detail {
namespace {

bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == ' ' || c == '\t';
}

/// The index just past the string that starts at `i` (basic or literal, one line or three
/// quotes), or the text's end when it is not closed (toml++ reports that).
size_t skip_string(std::string_view text, size_t i) {
  const char quote = text[i];
  const std::string_view triple = quote == '"' ? R"(""")" : "'''";
  const bool multi = text.substr(i, 3) == triple;
  for (size_t k = i + (multi ? 3 : 1); k < text.size(); ++k) {
    if (quote == '"' && text[k] == '\\') {
      ++k;
      continue;
    }
    if (multi && text.substr(k, 3) == triple) return k + 3;
    if (!multi && (text[k] == quote || text[k] == '\n')) return k + 1;
  }
  return text.size();
}

/// The index of the newline that ends the comment starting at `i`, or the text's end.
size_t skip_comment(std::string_view text, size_t i) {
  const size_t end = text.find('\n', i);
  return end == std::string_view::npos ? text.size() : end;
}

/// Line and column (from 1) of index `i`.
Position place(std::string_view text, size_t i, const std::string& file) {
  const std::string_view before = text.substr(0, i);
  const size_t line_start = before.rfind('\n');
  const int line = 1 + static_cast<int>(std::count(before.begin(), before.end(), '\n'));
  const size_t column = line_start == std::string_view::npos ? i + 1 : i - line_start;
  return {file, line, static_cast<int>(column)};
}

}  // namespace

// Dots between key characters and quoted parts count as one key's; anything else ends it. A
// value such as 1.5 has one dot, far below the limit.
void check_key_depth(std::string_view text, const std::string& file) {
  int dots = 0;
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '"' || c == '\'') {
      i = skip_string(text, i);
      continue;
    }
    if (c == '#') {
      i = skip_comment(text, i);
      continue;
    }
    if (c == '.' && ++dots >= kMaxKeyParts)
      fail_at(place(text, i, file),
              "dotted key of more than " + std::to_string(kMaxKeyParts) + " parts");
    if (c != '.' && !is_key_char(c)) dots = 0;
    ++i;
  }
}

}  // namespace tessera::job::detail
