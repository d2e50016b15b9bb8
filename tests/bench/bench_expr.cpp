// Calc evaluation speed, tessera's evaluator against muparser's bulk mode, one core, nodata on.
// Run: OMP_NUM_THREADS=1 build/src/bench_expr (muparser's Eval(results, n) is OpenMP-parallel).
#include <benchmark/benchmark.h>
#include <muParser.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "tessera/expr/convert.hpp"
#include "tessera/expr/expression.hpp"

namespace {

constexpr int kWidth = 512;  // one tile of 512 x 512 UInt16 cells per input, evaluated by rows
constexpr int kHeight = 512;
constexpr double kNodata = 0;

struct Case {
  const char* tessera;
  const char* muparser;
};
// NDVI, a conditional, and ten operations (* - * + / + > * + -).
constexpr Case kCases[] = {
    {"(A-B)/(A+B)", "(A-B)/(A+B)"},
    {"where(A > 3000, A - B, B * 2)", "A > 3000 ? A - B : B * 2"},
    {"(A*0.5 - B*2 + 3) / (A + 1) + (A > B) * 0.25 - B",
     "(A*0.5 - B*2 + 3) / (A + 1) + (A > B) * 0.25 - B"},
};

// Landsat-like reflectances with one cell in 97 nodata.
std::vector<uint16_t> band(int seed) {
  std::vector<uint16_t> cells(size_t(kWidth) * kHeight);
  for (size_t i = 0; i < cells.size(); ++i)
    cells[i] = i % 97 == 0 ? 0 : static_cast<uint16_t>(7000 + (i * (seed * 2 + 7919)) % 9000);
  return cells;
}

const std::vector<uint16_t>& band_a() {
  static const auto cells = band(1);
  return cells;
}
const std::vector<uint16_t>& band_b() {
  static const auto cells = band(2);
  return cells;
}

void tessera_eval(benchmark::State& state) {
  const auto expr = tessera::expr::Expression::parse(kCases[state.range(0)].tessera, {"A", "B"});
  std::vector<double> out(kWidth);
  for (auto _ : state) {
    for (int y = 0; y < kHeight; ++y) {
      const size_t row = size_t(y) * kWidth;
      const tessera::expr::RowInput in[2] = {
          {std::span<const uint16_t>(&band_a()[row], kWidth), kNodata},
          {std::span<const uint16_t>(&band_b()[row], kWidth), kNodata}};
      expr.eval_row(in, out);
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetLabel(kCases[state.range(0)].tessera);
  state.SetItemsProcessed(state.iterations() * kWidth * kHeight);
}

// NDVI with its inputs held as T, as the executor could read them: the band's own UInt16 (what
// calc steps read), or GDAL-converted Float32 / Float64 rows (2 or 4 times the bytes).
template <class T>
void tessera_ndvi_from(benchmark::State& state) {
  const auto expr = tessera::expr::Expression::parse("(A-B)/(A+B)", {"A", "B"});
  const std::vector<T> a(band_a().begin(), band_a().end());
  const std::vector<T> b(band_b().begin(), band_b().end());
  std::vector<double> out(kWidth);
  for (auto _ : state) {
    for (int y = 0; y < kHeight; ++y) {
      const size_t row = size_t(y) * kWidth;
      const tessera::expr::RowInput in[2] = {{std::span<const T>(&a[row], kWidth), kNodata},
                                             {std::span<const T>(&b[row], kWidth), kNodata}};
      expr.eval_row(in, out);
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetItemsProcessed(state.iterations() * kWidth * kHeight);
}

// muparser's best case: variables bound once to row buffers, Eval(results, n) per row; the
// same staging as tessera (UInt16 to float64) and the same nodata rule after it.
void muparser_eval(benchmark::State& state) {
  std::vector<double> a(kWidth), b(kWidth), r(kWidth);
  mu::Parser parser;
  parser.DefineVar("A", a.data());
  parser.DefineVar("B", b.data());
  parser.SetExpr(kCases[state.range(0)].muparser);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (auto _ : state) {
    for (int y = 0; y < kHeight; ++y) {
      const uint16_t* pa = &band_a()[size_t(y) * kWidth];
      const uint16_t* pb = &band_b()[size_t(y) * kWidth];
      for (int i = 0; i < kWidth; ++i) a[i] = pa[i], b[i] = pb[i];
      parser.Eval(r.data(), kWidth);
      for (int i = 0; i < kWidth; ++i) r[i] = (pa[i] == kNodata || pb[i] == kNodata) ? nan : r[i];
      benchmark::DoNotOptimize(r.data());
    }
  }
  state.SetLabel(kCases[state.range(0)].muparser);
  state.SetItemsProcessed(state.iterations() * kWidth * kHeight);
}

// muparser with one Eval(results, n) per whole tile, its most favourable use (no per-row
// call), to show that the gap is not the cost of calling it once per row.
void muparser_tile_eval(benchmark::State& state) {
  const size_t n = size_t(kWidth) * kHeight;
  std::vector<double> a(n), b(n), r(n);
  mu::Parser parser;
  parser.DefineVar("A", a.data());
  parser.DefineVar("B", b.data());
  parser.SetExpr(kCases[state.range(0)].muparser);
  for (auto _ : state) {
    for (size_t i = 0; i < n; ++i) a[i] = band_a()[i], b[i] = band_b()[i];
    parser.Eval(r.data(), static_cast<int>(n));
    benchmark::DoNotOptimize(r.data());
  }
  state.SetLabel(std::string(kCases[state.range(0)].muparser) + " (no nodata)");
  state.SetItemsProcessed(state.iterations() * int64_t(n));
}

// The step after evaluation: float64 results into a Float32 or Byte output row.
template <class T>
void convert(benchmark::State& state) {
  std::vector<double> in(kWidth * kHeight);
  for (size_t i = 0; i < in.size(); ++i) in[i] = i % 97 == 0 ? NAN : double(i % 300) - 20.5;
  std::vector<T> out(in.size());
  for (auto _ : state) {
    tessera::expr::convert_row(in, 255, std::span<T>(out));
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * int64_t(in.size()));
}

}  // namespace

BENCHMARK(tessera_eval)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);
BENCHMARK(muparser_eval)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);
BENCHMARK(muparser_tile_eval)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);
BENCHMARK(tessera_ndvi_from<uint16_t>)->Unit(benchmark::kMillisecond);
BENCHMARK(tessera_ndvi_from<float>)->Unit(benchmark::kMillisecond);
BENCHMARK(tessera_ndvi_from<double>)->Unit(benchmark::kMillisecond);
BENCHMARK(convert<float>)->Unit(benchmark::kMillisecond);
BENCHMARK(convert<uint8_t>)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
