// Nodata propagation, isnodata and nodata, input references, typed rows, chunks and threads.
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "eval_helpers.hpp"
#include "tessera/core/error.hpp"

namespace tessera::expr {
namespace {

using testing::Column;
using testing::eval;

bool is_nan(double v) { return std::isnan(v); }

TEST(Nodata, AnInputsNodataMakesTheCellNodata) {
  const Column a{{1, 0, 3, 4}, 0.0};
  const Column b{{2, 2, 9, 2}, 9.0};
  const auto out = eval("A + B", {{"A", a}, {"B", b}});
  EXPECT_EQ(out[0], 3);
  EXPECT_TRUE(is_nan(out[1]));
  EXPECT_TRUE(is_nan(out[2]));
  EXPECT_EQ(out[3], 6);
}

TEST(Nodata, PropagatesEvenWhereTheValueWouldNotDependOnIt) {
  const Column a{{0, 0}, 0.0};
  const Column b{{1, -1}, std::nullopt};
  for (const char* text : {"A * 0", "A > -1", "where(B > 0, 1, A)"}) {
    const auto out = eval(text, {{"A", a}, {"B", b}});
    EXPECT_TRUE(is_nan(out[0]) && is_nan(out[1])) << text;
  }
}

TEST(Nodata, InputWithoutNodataValueNeverIsNodata) {
  const auto out = eval("A * 2", {{"A", {{0, -9999}, std::nullopt}}});
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[1], -19998);
}

TEST(Nodata, NanNodataMatchesNanCells) {
  const auto out = eval("A + 1", {{"A", {{NAN, 2}, NAN}}});
  EXPECT_TRUE(is_nan(out[0]));
  EXPECT_EQ(out[1], 3);
}

TEST(Nodata, IsnodataLetsTheExpressionDecideForThatInputOnly) {
  const Column a{{5, -1, 7}, -1.0};
  const Column b{{1, 1, 0}, 0.0};
  const auto filled = eval("where(isnodata(A), 100, A)", {{"A", a}});
  EXPECT_EQ(filled, (std::vector<double>{5, 100, 7}));
  const auto with_b = eval("where(isnodata(A), B, A + B)", {{"A", a}, {"B", b}});
  EXPECT_EQ(with_b[0], 6);
  EXPECT_EQ(with_b[1], 1);
  EXPECT_TRUE(is_nan(with_b[2]));  // B still propagates
  const auto raw = eval("where(isnodata(A), A * 10, 0)", {{"A", a}});
  EXPECT_EQ(raw[1], -10);  // a tested input is read with its raw value
}

TEST(Nodata, IsnodataIsZeroForAnInputWithoutNodataValue) {
  const auto out = eval("isnodata(A)", {{"A", {{0, 1}, std::nullopt}}});
  EXPECT_EQ(out, (std::vector<double>{0, 0}));
}

TEST(Nodata, TheNodataConstantProducesNodata) {
  const auto out = eval("where(A > 5, A, nodata)", {{"A", {{9, 2}, std::nullopt}}});
  EXPECT_EQ(out[0], 9);
  EXPECT_TRUE(is_nan(out[1]));
}

TEST(Inputs, EachReferenceOnceInOrderOfFirstUse) {
  const auto e = Expression::parse("B[3] + A * B[3] - A + nir", {"A", "B", "nir"});
  const std::vector<InputRef> want{{"B", 3}, {"A", std::nullopt}, {"nir", std::nullopt}};
  EXPECT_EQ(e.inputs(), want);
  EXPECT_EQ(e.text(), "B[3] + A * B[3] - A + nir");
}

TEST(Inputs, BandsAreSeparateInputs) {
  const auto out = eval("(A[4] - A[3]) / (A[4] + A[3])",
                        {{"A[3]", {{100}, std::nullopt}}, {"A[4]", {{300}, std::nullopt}}});
  EXPECT_EQ(out[0], 0.5);
}

TEST(Inputs, JobFileNames) {
  const auto out =
      eval("(nir - red) / (nir + red)",
           {{"nir", {{5}, std::nullopt}}, {"red", {{3}, std::nullopt}}}, {"nir", "red"});
  EXPECT_EQ(out[0], 0.25);
}

TEST(Rows, EveryPixelTypeIsReadAsItsValue) {
  const std::vector<uint8_t> u8{255};
  const std::vector<uint16_t> u16{65535};
  const std::vector<int16_t> i16{-32768};
  const std::vector<uint32_t> u32{4294967295u};
  const std::vector<int32_t> i32{-2147483647};
  const std::vector<float> f32{0.25f};
  const std::vector<double> f64{1e300};
  const std::vector<RowInput> rows{
      {std::span<const uint8_t>(u8), {}},  {std::span<const uint16_t>(u16), {}},
      {std::span<const int16_t>(i16), {}}, {std::span<const uint32_t>(u32), {}},
      {std::span<const int32_t>(i32), {}}, {std::span<const float>(f32), {}},
      {std::span<const double>(f64), {}}};
  const auto e =
      Expression::parse("A + B + C + D + E + F + G * 0", {"A", "B", "C", "D", "E", "F", "G"});
  std::vector<double> out(1);
  e.eval_row(rows, out);
  EXPECT_EQ(out[0], 255.0 + 65535 - 32768 + 4294967295.0 - 2147483647 + 0.25);
}

// NDVI over UInt16 rows longer than one chunk of registers, with nodata 0 scattered through.
std::vector<double> ndvi_row(const Expression& e, size_t n, uint16_t seed) {
  std::vector<uint16_t> a(n), b(n);
  for (size_t i = 0; i < n; ++i) {
    a[i] = static_cast<uint16_t>(i % 13 == 0 ? 0 : 1000 + (i * seed) % 5000);
    b[i] = static_cast<uint16_t>(500 + (i * 31) % 3000);
  }
  const std::vector<RowInput> rows{{std::span<const uint16_t>(a), 0.0},
                                   {std::span<const uint16_t>(b), 0.0}};
  std::vector<double> out(n);
  e.eval_row(rows, out);
  for (size_t i = 0; i < n; ++i) {
    const double want = a[i] == 0 ? NAN : (double(a[i]) - b[i]) / (double(a[i]) + b[i]);
    if (is_nan(want) != is_nan(out[i]) || (!is_nan(want) && want != out[i]))
      ADD_FAILURE() << "cell " << i << ": " << out[i] << " != " << want;
  }
  return out;
}

TEST(Rows, LongRowsMatchCellByCellArithmetic) {
  const auto e = Expression::parse("(A-B)/(A+B)", {"A", "B"});
  for (size_t n : {1, 255, 256, 257, 1000, 4099}) ndvi_row(e, n, 7);
}

TEST(Rows, ThreadsEvaluateOneExpressionAtOnce) {
  const auto ndvi = Expression::parse("(A-B)/(A+B)", {"A", "B"});
  const auto other = Expression::parse("A * 2 + B", {"A", "B"});
  auto work = [&](uint16_t seed) {
    for (int k = 0; k < 200; ++k) {
      ndvi_row(ndvi, 700, seed);
      const std::vector<double> one{1}, two{2};
      std::vector<double> out(1);
      other.eval_row(std::vector<RowInput>{{std::span<const double>(one), {}},
                                           {std::span<const double>(two), {}}},
                     out);
      if (out[0] != 4) ADD_FAILURE() << "interleaved expression gave " << out[0];
    }
  };
  std::thread t1(work, 7), t2(work, 11), t3(work, 3);
  t1.join();
  t2.join();
  t3.join();
}

TEST(Rows, MismatchedInputsAreAnError) {
  const auto e = Expression::parse("A + B", {"A", "B"});
  const std::vector<double> two{1, 2}, three{1, 2, 3};
  std::vector<double> out(2);
  EXPECT_THROW(e.eval_row(std::vector<RowInput>{{std::span<const double>(two), {}}}, out), Error);
  EXPECT_THROW(e.eval_row(std::vector<RowInput>{{std::span<const double>(two), {}},
                                                {std::span<const double>(three), {}}},
                          out),
               Error);
}

}  // namespace
}  // namespace tessera::expr
