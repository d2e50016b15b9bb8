// Hidden names beside a file: its own name when short enough, else a prefix and a hash.
#include "tessera/core/hidden_name.hpp"

#include <cstdint>
#include <cstdio>
#include <filesystem>

#include "tessera/core/fnv1a.hpp"

namespace tessera {

namespace {

/// The longest start of `text` of at most `bytes` bytes that does not cut a UTF-8 character.
std::string_view whole_characters(std::string_view text, size_t bytes) {
  if (text.size() <= bytes) return text;
  while (bytes > 0 && (static_cast<unsigned char>(text[bytes]) & 0xC0) == 0x80) --bytes;
  return text.substr(0, bytes);
}

}  // namespace

std::string hidden_stem(std::string_view file_name) {
  const size_t most = file_name_bytes - hidden_suffix_bytes;  // the stem's bytes, dot included
  // Appended piece by piece: GCC 12 warns (-Wrestrict, a false positive) on "." + string.
  std::string stem(".");
  if (1 + file_name.size() <= most) return stem += file_name;
  const size_t hash_bytes = 17;  // "~" and 16 hex digits
  stem += whole_characters(file_name, most - 1 - hash_bytes);
  return stem + "~" + name_hash(file_name);
}

std::string name_hash(std::string_view text) {
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx",
                static_cast<unsigned long long>(fnv1a(text.data(), text.size())));
  return hash;
}

std::string hidden_beside(const std::string& path, std::string_view suffix) {
  const std::filesystem::path file(path);
  std::string name = hidden_stem(file.filename().string());
  name += suffix;
  return (file.parent_path() / name).string();
}

}  // namespace tessera
