// Deep nesting is an error at the column it passes the limit; long flat expressions parse in
// time linear in their length and evaluate as written.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "allocation_count.hpp"
#include "tessera/core/error.hpp"
#include "tessera/expr/expression.hpp"

namespace tessera::expr {
namespace {

std::string error_of(const std::string& text) {
  try {
    Expression::parse(text, {"A", "B"});
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

std::string repeat(const std::string& part, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += part;
  return out;
}

const std::string kTooDeep =
    ": nesting deeper than 256 levels (of parentheses, calls, unary operators, powers and ?:)";

TEST(Limits, NestingPastTheLimitNamesTheColumnWhereItIsPassed) {
  const struct {
    std::string text;
    int column;
  } cases[] = {
      {repeat("(", 5000) + "A" + repeat(")", 5000), 257},
      {repeat("-", 30000) + "A", 257},
      {repeat("- ", 300) + "A", 513},
      {repeat("A**", 20000) + "A", 2 + 3 * 256},
      {repeat("sqrt(", 300) + "A" + repeat(")", 300), 5 * 256 + 5},
      {repeat("not ", 300) + "A", 4 * 256 + 1},
      {repeat("A?B:", 300) + "A", 4 * 256 + 2},
  };
  for (const auto& c : cases)
    EXPECT_EQ(error_of(c.text), "column " + std::to_string(c.column) + kTooDeep)
        << c.text.substr(0, 20);
}

TEST(Limits, NestingUpToTheLimitParses) {
  EXPECT_EQ(error_of(repeat("(", 256) + "A" + repeat(")", 256)), "no error");
  EXPECT_EQ(error_of(repeat("-", 256) + "A"), "no error");
  EXPECT_EQ(error_of(repeat("A**", 256) + "A"), "no error");
}

/// "A+1+2+...": a flat sum of `terms` terms, none of them folding into another.
std::string sum_text(int terms) {
  std::string text = "A";
  for (int i = 1; i < terms; ++i) text.append("+").append(std::to_string(i));
  return text;
}

TEST(Limits, AFlatSumOf30000TermsIsNotTooDeep) {
  const Expression e = Expression::parse(sum_text(30000), {"A"});
  const std::vector<double> a{1, 2};
  std::vector<double> out(2);
  const std::vector<RowInput> rows{{std::span<const double>(a), std::nullopt}};
  e.eval_row(rows, out);
  const double rest = 29999.0 * 30000.0 / 2;
  EXPECT_EQ(out[0], 1 + rest);
  EXPECT_EQ(out[1], 2 + rest);
}

TEST(Limits, LongArgumentListsAreNotTooDeep) {
  EXPECT_EQ(error_of(repeat("max(A", 1) + repeat(", A", 30000) + ")"), "no error");
}

void parse_sum(int terms) { Expression::parse(sum_text(terms), {"A"}); }

// Parsing copied the whole tree for each term of a sum: doubling the terms must about double
// the allocations, not quadruple them.
TEST(Limits, ParsingAllocatesInProportionToTheText) {
  EXPECT_LT(test::allocation_doubling_ratio(parse_sum, 4000), 2.5);
}

}  // namespace
}  // namespace tessera::expr
