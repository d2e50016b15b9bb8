// Hidden names beside a file: whole for a short name, a prefix and a hash for a long one, and
// short enough for the longest suffix a run puts after them.
#include <gtest/gtest.h>

#include <string>

#include "tessera/core/hidden_name.hpp"

namespace tessera {
namespace {

TEST(HiddenName, AShortNameStaysWhole) {
  EXPECT_EQ(hidden_stem("s.tif"), ".s.tif");
  EXPECT_EQ(hidden_beside("out/s.tif", ".journal-0"), "out/.s.tif.journal-0");
  EXPECT_EQ(hidden_beside("s.tif", ".tmp-7"), ".s.tif.tmp-7");
  const std::string longest(file_name_bytes - hidden_suffix_bytes - 1, 'a');
  EXPECT_EQ(hidden_stem(longest), "." + longest);
}

TEST(HiddenName, ALongNameIsCutAndHashed) {
  const std::string name = std::string(240, 'a') + ".tif";
  const std::string stem = hidden_stem(name);
  EXPECT_EQ(stem.size(), file_name_bytes - hidden_suffix_bytes);
  EXPECT_EQ(stem.substr(0, 10), ".aaaaaaaaa");
  EXPECT_EQ(stem[stem.size() - 17], '~');
  EXPECT_EQ(stem, hidden_stem(name));  // the same every run, for a resume
  EXPECT_NE(stem, hidden_stem(std::string(240, 'a') + ".tiff"));
  EXPECT_LE(stem.size() + std::string(".scratch-r9999999.tmp-4611686018427387903").size(),
            file_name_bytes);
}

// A cut never splits a UTF-8 character: what is left of the name is valid UTF-8.
TEST(HiddenName, ACutKeepsWholeCharacters) {
  std::string name;
  while (name.size() < 250) name += "\xc3\xbc";  // ü, two bytes
  const std::string stem = hidden_stem(name);
  const std::string kept = stem.substr(1, stem.size() - 18);
  EXPECT_EQ(kept.size() % 2, 0u);
  EXPECT_EQ(kept, name.substr(0, kept.size()));
}

}  // namespace
}  // namespace tessera
