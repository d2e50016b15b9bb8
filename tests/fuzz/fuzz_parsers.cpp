// Seeded fuzzing of what users type: mutated job files through the job reader and the plan's
// checks, mutated expressions through the parser and the evaluator. Every case must either pass
// or throw tessera::Error with one non-empty line (a job file's with its place); anything else
// (another exception, a crash, a hang the ctest timeout catches) fails and prints the seed and
// the case, so that `TESSERA_FUZZ_SEED=S` replays it. TESSERA_FUZZ_CASES sets how many cases.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "tessera/core/error.hpp"
#include "tessera/expr/expression.hpp"
#include "tessera/job/job_spec.hpp"
#include "tessera/plan/step_graph.hpp"

namespace tessera {
namespace {

uint64_t env_number(const char* name, uint64_t fallback) {
  const char* text = std::getenv(name);
  return text != nullptr && *text != '\0' ? std::strtoull(text, nullptr, 10) : fallback;
}

const uint64_t kSeed = env_number("TESSERA_FUZZ_SEED", 20261206);
const uint64_t kCases = env_number("TESSERA_FUZZ_CASES", 30000);

/// Byte-level and token-level mutations of seed texts, as a coverage-blind fuzzer makes them:
/// flip, insert, delete, duplicate and repeat spans, insert a word of the format, splice seeds.
class Mutator {
 public:
  Mutator(uint64_t seed, std::vector<std::string> seeds, std::vector<std::string> words)
      : rng_(seed), seeds_(std::move(seeds)), words_(std::move(words)) {}

  std::string next() {
    std::string text = seeds_[below(seeds_.size())];
    const size_t rounds = below(2) != 0 ? 1 : 1 + below(6);  // half the cases nearly whole
    for (size_t r = 0; r < rounds; ++r) mutate(text);
    return text;
  }

 private:
  size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng_() % n); }

  void mutate(std::string& text) {
    const size_t at = below(text.size() + 1);
    switch (below(10)) {
      case 0:  // flip a byte to any value
        if (!text.empty()) text[below(text.size())] = static_cast<char>(below(256));
        break;
      case 1:  // insert a printable or control byte
        text.insert(at, 1, static_cast<char>(below(2) != 0 ? 32 + below(95) : below(32)));
        break;
      case 2:  // delete a span
        text.erase(at, below(16) + 1);
        break;
      case 3:  // duplicate a span in place
        text.insert(at, text.substr(at, below(24) + 1));
        break;
      case 4:  // a word of the format
      case 5:
        text.insert(at, words_[below(words_.size())]);
        break;
      case 6: {  // repeat a short span many times: deep nesting, long lists, huge numbers
        const std::string span = text.substr(at, below(4) + 1);
        std::string repeated;
        for (size_t n = 1 + below(600); n > 0; --n) repeated += span;
        text.insert(at, repeated);
        break;
      }
      case 7:
      case 8: {  // a value replaced by a word: "radius = 1" becomes "radius = nan"
        const size_t eq = text.find("= ", at);
        if (eq == std::string::npos) break;
        const size_t end = std::min(text.find('\n', eq), text.size());
        text.replace(eq + 2, end - eq - 2, words_[below(words_.size())]);
        break;
      }
      default: {  // splice: this text's start and another seed's end
        const std::string& other = seeds_[below(seeds_.size())];
        text = text.substr(0, at) + other.substr(below(other.size() + 1));
        break;
      }
    }
  }

  std::mt19937_64 rng_;
  std::vector<std::string> seeds_;
  std::vector<std::string> words_;
};

/// A failing case, printable on one line for the report.
std::string shown(const std::string& text) {
  const std::string escaped = printable(text);
  return escaped.size() > 600
             ? escaped.substr(0, 600) + "... (" + std::to_string(text.size()) + " bytes)"
             : escaped;
}

/// Checks one thrown message; returns what is wrong with it, or "".
std::string message_problem(const std::string& message, const std::string& place) {
  if (message.empty()) return "an empty message";
  if (message.find('\n') != std::string::npos) return "a message of several lines";
  if (!place.empty() && message.rfind(place, 0) != 0) return "a message without its place";
  return "";
}

const std::vector<std::string> kJobSeeds{
    R"job([input.dem]
path = "dem.tif"

[[step]]
id = "hillshade"
op = "hillshade"
in = "dem"
z = 1
azimuth = 315
compute_edges = true

[[step]]
id = "slope"
op = "slope"
in = "dem"
units = "percent"

[[output]]
from = ["hillshade", "slope"]
path = "out/terrain.tif"
compress = "zstd"
predictor = 3

[run]
tile = 256
)job",
    R"job([input.nir]
path = "b5.tif"
band = 2
[input.red]
path = "b4.tif"

[[step]]
id = "ndvi"
op = "calc"
expr = "where(nir + red == 0, nodata, (nir - red) / (nir + red))"
type = "float32"
nodata = -9999

[[step]]
id = "green"
op = "calc"
expr = "ndvi > 0.3"
type = "byte"

[[output]]
from = "ndvi"
path = "ndvi.h5"
format = "hdf5"
creation_options = ["ZLEVEL=6", "BLOCKXSIZE=512"]

[[output]]
from = ["green"]
path = "green.tif"
)job",
    R"job([input.dem]
path = "dem.tif"

[[step]]
id = "smooth"
op = "focal.mean"
in = "dem"
radius = 2

[[step]]
id = "relief"
op = "color-relief"
in = "smooth"
color_file = "colors.txt"
alpha = true

[[step]]
id = "classes"
op = "reclassify"
in = "dem"
table = "0..100=1; 100..500=2"
type = "uint8"

[[output]]
from = ["relief"]
path = "relief.tif"
[[output]]
from = ["classes"]
path = "classes.tif"
)job",
};

const std::vector<std::string> kJobWords{"[[step]]\n",
                                         "[[output]]\n",
                                         "[input.x]\n",
                                         "[run]\n",
                                         "id = ",
                                         "op = ",
                                         "in = ",
                                         "expr = ",
                                         "path = ",
                                         "from = ",
                                         "tile = ",
                                         "band = ",
                                         "radius = ",
                                         "type = ",
                                         "nodata = ",
                                         "\"",
                                         "'",
                                         "\"\"\"",
                                         "'''",
                                         "[",
                                         "]",
                                         "{",
                                         "}",
                                         ",",
                                         "=",
                                         ".",
                                         "#",
                                         "\n",
                                         "\\u0000",
                                         "\\",
                                         "true",
                                         "false",
                                         "nan",
                                         "inf",
                                         "-inf",
                                         "1e309",
                                         "-0",
                                         "0",
                                         "-1",
                                         "16",
                                         "99999999999999999999",
                                         "9223372036854775807",
                                         "0x7fffffff",
                                         "1979-05-27T07:32:00Z",
                                         "\"slope\"",
                                         "\"calc\"",
                                         "\"focal.max\"",
                                         "\"dem\"",
                                         "\"hillshade\"",
                                         "\xc3\xa9",
                                         "\xff\xfe",
                                         "\r\n",
                                         "\t",
                                         "= [\"hillshade\", \"slope\", \"slope\"]",
                                         "a.b.c.d = 1\n",
                                         "x = {a = {b = {c = 1}}}\n"};

/// How many cases of a fuzz run passed and how many were refused with a good message.
struct Tally {
  size_t passed = 0;
  size_t refused = 0;
};

/// Runs `cases` cases of `mutator` through `accept`, which throws for a case it refuses; fails
/// the test at the first case that ends otherwise than by passing or by a tessera::Error of one
/// line starting with `place`, or that takes more than 5 s.
template <class Accept>
Tally fuzz(Mutator& mutator, uint64_t seed, uint64_t cases, const std::string& place,
           const Accept& accept) {
  Tally tally;
  for (uint64_t i = 0; i < cases; ++i) {
    const std::string text = mutator.next();
    const auto start = std::chrono::steady_clock::now();
    std::string problem;
    try {
      accept(text);
      ++tally.passed;
    } catch (const Error& e) {
      ++tally.refused;
      problem = message_problem(e.what(), place);
    } catch (const std::exception& e) {
      problem = std::string("not a tessera::Error: ") + e.what();
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (seconds > 5) problem = "took " + std::to_string(seconds) + " s";
    if (!problem.empty()) {
      ADD_FAILURE() << problem << "; seed " << seed << ", case " << i << ": " << shown(text);
      break;
    }
  }
  return tally;
}

TEST(FuzzJobs, MutatedJobFilesPassOrFailWithOneLineAtTheirPlace) {
  Mutator mutator(kSeed, kJobSeeds, kJobWords);
  const Tally tally = fuzz(mutator, kSeed, kCases, "fuzz.toml:", [](const std::string& text) {
    plan::check_job(job::parse_job_text(text, "fuzz.toml", "/nonexistent"));
  });
  std::printf("%zu job files: %zu planned, %zu refused with one line\n",
              tally.passed + tally.refused, tally.passed, tally.refused);
  EXPECT_GT(tally.passed,
            0u);  // the mutations leave some jobs whole: the checks past the reader run
}

const std::vector<std::string> kExprSeeds{
    "(A - B) / (A + B)",
    "where(A > 1500, nodata, A)",
    "A[2] * 0.5 + B",
    "numpy.where(A > 0, log(A), -1)",
    "isnodata(A) ? 0 : A",
    "min(A, B, 3) ** 2",
    "logical_and(A > 1, B < 2) * 1.0",
    "-A ** -B % 3",
    "sqrt(abs(A)) + exp(-B) - atan2(A, B)",
    "clip(A, 0, 255) // 2 + (B != B) + (A >= 3) * (B <= 4)",
    "not A or B and A > 2",
    "round(A / 10) * 10 + floor(B) - ceil(A) + pow(A, 0.5)",
};

const std::vector<std::string> kExprWords{"(",        ")",      "[",
                                          "]",        ",",      "?",
                                          ":",        "+",      "-",
                                          "*",        "/",      "//",
                                          "%",        "**",     "==",
                                          "!=",       "<",      ">=",
                                          "&",        "|",      "~",
                                          "and",      "or",     "not",
                                          "A",        "B",      "C",
                                          "nodata",   "nan",    "inf",
                                          "1e308",    "1e-320", "0.5",
                                          "7",        "00",     "1_000",
                                          "0x10",     ".",      "np.",
                                          "numpy.",   "where(", "isnodata(",
                                          "min(",     "max(",   "log(",
                                          "sqrt(",    "clip(",  "atan2(",
                                          "A[2]",     "A[0]",   "A[99999999999]",
                                          "\xc3\xa9", "\x1b",   " ",
                                          "\t",       "e",      "E+"};

/// Evaluates `e` over rows of extreme values: a crash or an exception here is a defect.
void evaluate(const expr::Expression& e) {
  static const std::vector<double> a{
      0,    -1, 1, 1e308, -1e308, 5e-324, std::nan(""), std::numeric_limits<double>::infinity(),
      1500, 255};
  static const std::vector<float> b{0, 2, -2, 3.4e38f, -0.0f, 1e-45f, std::nanf(""), 7, 1, -7};
  std::vector<expr::RowInput> rows;
  for (const auto& ref : e.inputs()) {
    if (ref.name == "B")
      rows.push_back({std::span<const float>(b), 7.0});
    else
      rows.push_back({std::span<const double>(a), std::nan("")});
  }
  std::vector<double> out(a.size());
  e.eval_row(rows, out);
}

TEST(FuzzExpressions, MutatedExpressionsParseOrFailWithOneLine) {
  Mutator mutator(kSeed + 1, kExprSeeds, kExprWords);
  const Tally tally = fuzz(mutator, kSeed + 1, 4 * kCases, "column ", [](const std::string& text) {
    evaluate(expr::Expression::parse(text, {"A", "B", "C"}));
  });
  std::printf("%zu expressions: %zu parsed and evaluated, %zu refused with one line\n",
              tally.passed + tally.refused, tally.passed, tally.refused);
  EXPECT_GT(tally.passed, 0u);
}

}  // namespace
}  // namespace tessera
