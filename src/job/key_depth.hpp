// A check toml++ lacks: how many dotted parts one key has.
#pragma once

#include <string>
#include <string_view>

namespace tessera::job::detail {

/// The most parts a dotted key (a.b.c = 1, [a.b.c]) may have: toml++ limits nested arrays and
/// inline tables to 256 levels but not dotted keys, and recurses once per part of one.
inline constexpr int kMaxKeyParts = 256;

/// Throws tessera::Error "FILE:LINE:COLUMN: dotted key of more than 256 parts" at the dot that
/// passes kMaxKeyParts in the TOML `text` of `file`; strings and comments are skipped. Takes
/// time linear in the text.
void check_key_depth(std::string_view text, const std::string& file);

}  // namespace tessera::job::detail
