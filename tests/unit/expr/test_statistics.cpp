// Statistic calls in expressions: what parse() records, min/max of one name against min/max of
// cells, the values bound by with_statistics(), and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "tessera/core/error.hpp"
#include "tessera/expr/expression.hpp"

namespace tessera::expr {
namespace {

using K = StatisticCall::Kind;

double eval_one(const Expression& e, std::vector<double> cells) {
  std::vector<RowInput> rows;
  for (double& c : cells) rows.push_back({std::span<const double>(&c, 1), std::nullopt});
  double out = 0;
  e.eval_row(rows, std::span<double>(&out, 1));
  return out;
}

TEST(Statistics, ParseRecordsEachCallInOrder) {
  const Expression e = Expression::parse("(a - mean(a)) / std(b[2]) + percentile(s, 90)",
                                         NameScope({"a", "b"}, {"s"}));
  const auto& calls = e.statistics();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].kind, K::Mean);
  EXPECT_EQ(calls[0].band, (InputRef{"a", std::nullopt}));
  EXPECT_EQ(calls[1].kind, K::Std);
  EXPECT_EQ(calls[1].band, (InputRef{"b", 2}));
  EXPECT_EQ(calls[2].kind, K::Percentile);
  EXPECT_EQ(calls[2].percentile, 90);
  EXPECT_EQ(calls[2].column, 29);
  EXPECT_FALSE(e.bound());
  EXPECT_EQ(e.inputs().size(), 1u);  // only `a` is read cell by cell
}

TEST(Statistics, MinOfOneNameIsAStatisticMinOfTwoIsPerCell) {
  const NameScope names({"a", "b"});
  EXPECT_EQ(Expression::parse("min(a)", names).statistics().size(), 1u);
  EXPECT_EQ(Expression::parse("max(a[1])", names).statistics().size(), 1u);
  EXPECT_TRUE(Expression::parse("min(a, b)", names).statistics().empty());
  EXPECT_TRUE(Expression::parse("max(a + 1, 0)", names).statistics().empty());
}

TEST(Statistics, BoundValuesReplaceTheCalls) {
  const NameScope names({"a"});
  const Expression e = Expression::parse("(a - mean(a)) / std(a)", names);
  const Expression bound = e.with_statistics({10.0, 4.0}, names);
  EXPECT_TRUE(bound.bound());
  EXPECT_EQ(eval_one(bound, {18.0}), 2.0);
  EXPECT_EQ(bound.statistics().size(), 2u);
}

std::string error_of(std::string_view text) {
  try {
    Expression::parse(text, NameScope({"a"}, {"s"}));
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(Statistics, Errors) {
  EXPECT_NE(error_of("percentile(a, 101)").find("percentile takes a number from 0 to 100"),
            std::string::npos);
  EXPECT_NE(error_of("mean(x)").find("mean takes an input or a step"), std::string::npos);
  EXPECT_EQ(error_of("mean(a + 1)"), "column 8: expected ')' but found '+'");
}

}  // namespace
}  // namespace tessera::expr
