// Parse errors: one line each, naming the column and what was expected.
#include <gtest/gtest.h>

#include <string>

#include "tessera/core/error.hpp"
#include "tessera/expr/expression.hpp"

namespace tessera::expr {
namespace {

std::string error_of(std::string_view text) {
  try {
    Expression::parse(text, {"A", "B"});
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(ParseErrors, NameTheColumn) {
  const struct {
    const char* text;
    const char* message;
  } cases[] = {
      {"(A-B", "column 5: expected ')' but found the end of the expression"},
      {"where(A > 1, 2 3)", "column 16: expected ')' but found number 3"},
      {"A + * B", "column 5: expected a number, a name or '(' but found '*'"},
      {"", "column 1: expected a number, a name or '(' but found the end of the expression"},
      {"A $ B", "column 3: unexpected character '$'"},
      {"A B", "column 3: unexpected name 'B'"},
      {"(A+B))", "column 6: unexpected ')'"},
      {"A + C", "column 5: unknown name 'C' (inputs: A, B)"},
      {"np.A", "column 4: unknown name 'A' (inputs: A, B)"},
      {"foo(A)", "column 1: unknown function 'foo'"},
      {"1 + where(A, B)", "column 5: where takes 3 arguments, not 2"},
      {"min(A + 1)", "column 1: min takes at least 2 arguments, not 1"},
      {"sqrt()", "column 1: sqrt takes 1 argument, not 0"},
      {"A[0]", "column 3: bands count from 1"},
      {"A[1.5]", "column 3: expected a band number but found number 1.5"},
      {"A[2", "column 4: expected ']' but found the end of the expression"},
      {"(A+B)[2]", "column 6: only an input takes a band, as in A[2]"},
      {"1 < A < 5", "column 7: comparisons do not chain: write (a < b) and (b < c)"},
      {"A = 1", "column 3: '=' is not an operator; compare with '=='"},
      {"A > 1 ? 2", "column 10: expected ':' but found the end of the expression"},
      {"isnodata(3)", "column 10: isnodata takes an input (inputs: A, B)"},
      {"isnodata(A + 1)", "column 12: expected ')' but found '+'"},
      {"A.astype(int16)",
       "column 10: astype(int16) is not supported: values are float64; "
       "choose the output type instead"},
      {"A.astype(str)", "column 10: expected a float type in astype()"},
      {"A.sum()", "column 3: expected astype after '.'"},
      {"1e", "column 2: unexpected name 'e'"},
  };
  for (const auto& c : cases) EXPECT_EQ(error_of(c.text), c.message) << c.text;
}

TEST(ParseErrors, WithNoInputsTheListSaysNone) {
  try {
    Expression::parse("x + 1", {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "column 1: unknown name 'x' (inputs: none)");
  }
}

}  // namespace
}  // namespace tessera::expr
