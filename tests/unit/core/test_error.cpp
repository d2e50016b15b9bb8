// Messages fit for one line of a terminal, and the message of running out of memory.
#include <gtest/gtest.h>

#include <new>
#include <stdexcept>

#include "tessera/core/error.hpp"

namespace tessera {
namespace {

TEST(Printable, ControlCharactersAreWrittenAsHex) {
  EXPECT_EQ(printable("a\nb"), "a\\x0ab");
  EXPECT_EQ(printable("\x1b[31mred"), "\\x1b[31mred");
  EXPECT_EQ(printable(std::string("nul\0here", 8)), "nul\\x00here");
  EXPECT_EQ(printable("del\x7f"), "del\\x7f");
  EXPECT_EQ(printable("tab\t"), "tab\\x09");
}

TEST(Printable, OtherBytesAreKept) {
  EXPECT_EQ(printable("plain text, 'quoted' (1-2)"), "plain text, 'quoted' (1-2)");
  EXPECT_EQ(printable("Zürich_高程.tif"), "Zürich_高程.tif");
}

std::string message_of(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (...) {
    return failure_message();
  }
}

TEST(FailureMessage, OutOfMemoryNamesThePhase) {
  EXPECT_EQ(std::string(Phase::current()), "starting");
  const auto failure = std::make_exception_ptr(std::bad_alloc());
  {
    const Phase outer("planning");
    {
      const Phase inner("computing tiles");
      EXPECT_EQ(message_of(failure).rfind("out of memory in computing tiles: ", 0), 0u);
    }
    EXPECT_EQ(message_of(failure).rfind("out of memory in planning: ", 0), 0u);
  }
  EXPECT_EQ(std::string(Phase::current()), "starting");
}

TEST(FailureMessage, OtherFailuresKeepTheirMessage) {
  EXPECT_EQ(message_of(std::make_exception_ptr(Error("x.tif: no such file"))),
            "x.tif: no such file");
  EXPECT_EQ(message_of(std::make_exception_ptr(42)), "unknown failure");
}

}  // namespace
}  // namespace tessera
