// Every operator and function of the calc language against hand-computed values.
#include <gtest/gtest.h>

#include <cmath>

#include "eval_helpers.hpp"

namespace tessera::expr {
namespace {

using testing::calc;
const double kPi = std::acos(-1.0);

TEST(Arithmetic, BinaryOperators) {
  EXPECT_EQ(calc("A + B", 7, 2), 9);
  EXPECT_EQ(calc("A - B", 7, 2), 5);
  EXPECT_EQ(calc("A * B", 7, 2), 14);
  EXPECT_EQ(calc("A / B", 7, 2), 3.5);
  EXPECT_EQ(calc("A ** B", 2, 10), 1024);
  EXPECT_EQ(calc("A ^ B", 3, 2), 9);
  EXPECT_EQ(calc("pow(A, B)", 9, 0.5), 3);
  EXPECT_EQ(calc("power(A, B)", 2, 3), 8);
}

TEST(Arithmetic, ModuloFollowsNumpyTheDivisorsSign) {
  EXPECT_EQ(calc("A % B", 7, 3), 1);
  EXPECT_EQ(calc("A % B", -7, 3), 2);
  EXPECT_EQ(calc("A % B", 7, -3), -2);
  EXPECT_EQ(calc("A % B", 7.5, 2), 1.5);
  EXPECT_TRUE(std::isnan(calc("A % B", 7, 0)));
}

TEST(Arithmetic, PrecedenceAndAssociativity) {
  EXPECT_EQ(calc("2 + 3 * 4"), 14);
  EXPECT_EQ(calc("(2 + 3) * 4"), 20);
  EXPECT_EQ(calc("10 - 4 - 3"), 3);
  EXPECT_EQ(calc("64 / 4 / 2"), 8);
  EXPECT_EQ(calc("2 ** 3 ** 2"), 512);  // right-associative
  EXPECT_EQ(calc("-A ** 2", 3), -9);    // Python: -(A**2)
  EXPECT_EQ(calc("2 ** -1"), 0.5);
  EXPECT_EQ(calc("+A - -B", 1, 2), 3);
  EXPECT_EQ(calc("1 + 2 > 2"), 1);  // arithmetic before comparison
}

TEST(Arithmetic, Numbers) {
  EXPECT_EQ(calc("1.5e3 + .25 + 2. + 1E-1"), 1502.35);
  EXPECT_EQ(calc("pi"), kPi);
  EXPECT_EQ(calc("numpy.pi + np.e"), kPi + std::exp(1.0));
  EXPECT_EQ(calc("inf"), INFINITY);
  EXPECT_TRUE(std::isnan(calc("nan")));
}

TEST(Arithmetic, DivisionByZeroAndNanFollowIeee) {
  EXPECT_EQ(calc("A / B", 1, 0), INFINITY);
  EXPECT_EQ(calc("A / B", -1, 0), -INFINITY);
  EXPECT_TRUE(std::isnan(calc("A / B", 0, 0)));
  EXPECT_TRUE(std::isnan(calc("sqrt(A)", -1)));
  EXPECT_TRUE(std::isnan(calc("log(A)", -1)));
  EXPECT_EQ(calc("log(A)", 0), -INFINITY);
  EXPECT_TRUE(std::isnan(calc("A * 0 + nan")));
}

TEST(Comparison, EachOperatorGivesOneOrZero) {
  const struct {
    const char* op;
    double lt, eq, gt;  // results for 1 op 2, 2 op 2, 3 op 2
  } cases[] = {{"<", 1, 0, 0},  {"<=", 1, 1, 0}, {">", 0, 0, 1},
               {">=", 0, 1, 1}, {"==", 0, 1, 0}, {"!=", 1, 0, 1}};
  for (const auto& c : cases) {
    const std::string text = std::string("A ") + c.op + " B";
    EXPECT_EQ(calc(text, 1, 2), c.lt) << text;
    EXPECT_EQ(calc(text, 2, 2), c.eq) << text;
    EXPECT_EQ(calc(text, 3, 2), c.gt) << text;
  }
}

TEST(Comparison, NanComparesFalseExceptNotEqual) {
  EXPECT_EQ(calc("nan < 1"), 0);
  EXPECT_EQ(calc("nan == nan"), 0);
  EXPECT_EQ(calc("nan != 1"), 1);
}

TEST(Logic, EverySpellingOfAndOrNot) {
  for (const char* text : {"A and B", "A && B", "A & B", "logical_and(A, B)"}) {
    EXPECT_EQ(calc(text, 1, 1), 1) << text;
    EXPECT_EQ(calc(text, 1, 0), 0) << text;
    EXPECT_EQ(calc(text, 0, 0), 0) << text;
  }
  for (const char* text : {"A or B", "A || B", "A | B", "np.logical_or(A, B)"}) {
    EXPECT_EQ(calc(text, 1, 0), 1) << text;
    EXPECT_EQ(calc(text, 0, 0), 0) << text;
  }
  for (const char* text : {"not A", "!A", "~A", "numpy.logical_not(A)"}) {
    EXPECT_EQ(calc(text, 0), 1) << text;
    EXPECT_EQ(calc(text, 5), 0) << text;
  }
  EXPECT_EQ(calc("A and B", -2.5, 7), 1);  // any value but 0 is true
}

TEST(Logic, Precedence) {
  EXPECT_EQ(calc("A > 1 & B < 2", 5, 1), 1);      // logical, below comparisons
  EXPECT_EQ(calc("(A > 1) & (B < 2)", 5, 3), 0);  // as gdal_calc users write it
  EXPECT_EQ(calc("1 or 0 and 0"), 1);             // and binds tighter than or
  EXPECT_EQ(calc("not A > 1", 5), 0);             // Python: not (A > 1)
  EXPECT_EQ(calc("!A > -1", 5), 1);               // C: (!A) > -1
  EXPECT_EQ(calc("~(A > 1)", 5), 0);
}

TEST(Conditional, WhereAndTernary) {
  for (const char* text : {"where(A > 1, 10, 20)", "numpy.where(A > 1, 10, 20)",
                           "np.where(A > 1, 10, 20)", "A > 1 ? 10 : 20"}) {
    EXPECT_EQ(calc(text, 2), 10) << text;
    EXPECT_EQ(calc(text, 1), 20) << text;
  }
  const char* nested = "A > 2 ? 1 : A > 1 ? 2 : 3";
  EXPECT_EQ(calc(nested, 3), 1);
  EXPECT_EQ(calc(nested, 2), 2);
  EXPECT_EQ(calc(nested, 1), 3);
  EXPECT_EQ(calc("where(A, B, 7)", -0.5, 4), 4);  // any value but 0 is true
  EXPECT_EQ(calc("where(A, B, 7)", 0, 4), 7);
}

TEST(Functions, OneArgument) {
  EXPECT_EQ(calc("abs(A)", -2.5), 2.5);
  EXPECT_EQ(calc("absolute(A)", -3), 3);
  EXPECT_EQ(calc("sqrt(A)", 16), 4);
  EXPECT_EQ(calc("exp(A)", 0), 1);
  EXPECT_DOUBLE_EQ(calc("log(A)", std::exp(2.0)), 2);
  EXPECT_EQ(calc("log10(A)", 1000), 3);
  EXPECT_EQ(calc("floor(A)", -1.5), -2);
  EXPECT_EQ(calc("ceil(A)", -1.5), -1);
}

TEST(Functions, RoundIsNumpysHalfToEven) {
  EXPECT_EQ(calc("round(A)", 2.5), 2);
  EXPECT_EQ(calc("round(A)", 3.5), 4);
  EXPECT_EQ(calc("np.round(A)", -2.5), -2);
  EXPECT_EQ(calc("round(A)", 2.6), 3);
}

TEST(Functions, Trigonometry) {
  EXPECT_DOUBLE_EQ(calc("sin(A)", kPi / 2), 1);
  EXPECT_DOUBLE_EQ(calc("cos(A)", 0), 1);
  EXPECT_DOUBLE_EQ(calc("tan(A)", kPi / 4), 1);
  EXPECT_DOUBLE_EQ(calc("asin(A)", 1), kPi / 2);
  EXPECT_DOUBLE_EQ(calc("acos(A)", -1), kPi);
  EXPECT_DOUBLE_EQ(calc("atan(A)", 1), kPi / 4);
  EXPECT_DOUBLE_EQ(calc("atan2(A, B)", 1, -1), 3 * kPi / 4);
  EXPECT_DOUBLE_EQ(calc("arcsin(A) + arccos(A) + arctan(A) + arctan2(A, 1)", 0), kPi / 2);
  EXPECT_TRUE(std::isnan(calc("asin(A)", 2)));
}

TEST(Functions, MinMaxClamp) {
  EXPECT_EQ(calc("min(A, B)", 3, -1), -1);
  EXPECT_EQ(calc("max(A, B)", 3, -1), 3);
  EXPECT_EQ(calc("min(A, B, 7, -4)", 3, -1), -4);
  EXPECT_EQ(calc("max(5, A, B)", 3, -1), 5);
  EXPECT_EQ(calc("minimum(A, B)", 2, 8), 2);
  EXPECT_EQ(calc("numpy.maximum(A, B)", 2, 8), 8);
  EXPECT_EQ(calc("clamp(A, 0, 10)", -3), 0);
  EXPECT_EQ(calc("clamp(A, 0, 10)", 13), 10);
  EXPECT_EQ(calc("np.clip(A, 0, 10)", 4), 4);
}

TEST(Functions, MinMaxPropagateNanAsNumpyDoes) {
  EXPECT_TRUE(std::isnan(calc("minimum(A, nan)", 1)));
  EXPECT_TRUE(std::isnan(calc("maximum(nan, A)", 1)));
  EXPECT_TRUE(std::isnan(calc("clamp(nan, 0, 1)")));
}

TEST(Spellings, WhatGdalCalcUsersWrite) {
  EXPECT_DOUBLE_EQ(calc("(A-B)/(A+B)", 300, 100), 0.5);
  EXPECT_EQ(calc("(A-B)/(A+B)", 100, 300), -0.5);  // float64: no uint16 wrap-around
  EXPECT_EQ(calc("A*(A>0)", -4), -0.0);
  EXPECT_EQ(calc("A*(A>0)", 4), 4);
  EXPECT_EQ(calc("numpy.where(A>100, 1, 0)", 101), 1);
  EXPECT_EQ(calc("logical_and(A>1, B<2)", 2, 1), 1);
  EXPECT_EQ(calc("minimum(A,B)", 2, 1), 1);
  EXPECT_EQ(calc("maximum(A,B)", 2, 1), 2);
  EXPECT_EQ(calc("(A.astype(float) - B) / (A.astype(numpy.float32) + B)", 3, 1), 0.5);
}

TEST(Folding, ConstantSubexpressionsGiveTheSameValues) {
  EXPECT_EQ(calc("A * (2 ** 10 - 24) + sqrt(16)", 2), 2004);
  EXPECT_EQ(calc("where(1 > 2, 5, 6)"), 6);
  EXPECT_EQ(calc("3"), 3);
}

}  // namespace
}  // namespace tessera::expr
