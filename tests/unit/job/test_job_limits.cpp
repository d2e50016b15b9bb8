// Deep nesting in a job file is an error at its place, never a crash: toml++ limits nested
// arrays and inline tables, tessera the parts of a dotted key.
#include <gtest/gtest.h>

#include <string>

#include "tessera/core/error.hpp"
#include "tessera/job/job_spec.hpp"

namespace tessera::job {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse_job_text(text, "t.toml", "/jobs");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string repeat(const std::string& part, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += part;
  return out;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// toml++ recursed once per part: 100,000 parts overflowed the stack.
TEST(JobLimits, ADottedKeyOfMoreThan256PartsIsAnError) {
  EXPECT_EQ(error_of(std::string("[[step]]\n") + repeat("a.", 100000) + "a = 1\n"),
            "t.toml:2:512: dotted key of more than 256 parts");
  EXPECT_EQ(error_of(std::string("[") + repeat("a . ", 300) + "a]\n"),
            "t.toml:1:1024: dotted key of more than 256 parts");
  EXPECT_EQ(error_of(std::string("x = {") + repeat("\"a\".", 300) + "a = 1}\n"),
            "t.toml:1:1029: dotted key of more than 256 parts");
}

TEST(JobLimits, DotsInStringsCommentsAndValuesAreNotKeyParts) {
  const std::string dots = repeat(".", 1000);
  for (const std::string& text :
       {std::string("x = \"") + dots + "\"\n", std::string("x = '") + dots + "'\n",
        std::string("x = \"\"\"\n") + dots + "\"\"\"\n", std::string("# ") + dots + "\n",
        repeat("x = 1.5\n", 1000)})
    EXPECT_FALSE(contains(error_of(text), "dotted key")) << text.substr(0, 12);
  EXPECT_FALSE(
      contains(error_of(std::string("[[step]]\n") + repeat("a.", 255) + "a = 1\n"), "dotted key"));
}

TEST(JobLimits, NestedArraysAndInlineTablesStopAt256) {
  EXPECT_TRUE(
      contains(error_of(std::string("x = ") + repeat("[", 5000) + "1" + repeat("]", 5000) + "\n"),
               "exceeded maximum nested value depth of 256"));
  EXPECT_TRUE(
      contains(error_of(std::string("x = ") + repeat("{a=", 5000) + "1" + repeat("}", 5000) + "\n"),
               "exceeded maximum nested value depth of 256"));
}

}  // namespace
}  // namespace tessera::job
