// The calc expression language: parsed once into vector instructions, evaluated over whole rows.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tessera/core/error.hpp"
#include "tessera/expr/name_scope.hpp"

namespace tessera::expr {

/// A syntax error: "column N: what was wrong"; column() is N, counted from 1, so that a job
/// file can point at the character inside its own line.
class ParseError : public Error {
 public:
  ParseError(int column, const std::string& message) : Error(message), column_(column) {}
  int column() const { return column_; }

 private:
  int column_;
};

/// One band of one input that an expression reads: `nir` or `A` (band empty: the band the input
/// itself names, `band =` in a job file or --A_band on the command line), `A[2]` (band 2 of A's
/// file; bands count from 1, as in GDAL).
struct InputRef {
  std::string name;
  std::optional<int> band;
  bool operator==(const InputRef&) const = default;
};

/// A statistic of a whole band that an expression names: mean(dem), std(dem), min(dem),
/// max(dem) (one argument; min(a, b) is the per-cell minimum), percentile(ndvi, 90). Its value
/// comes from a reduction pass before the expression runs (Expression::with_statistics).
struct StatisticCall {
  enum class Kind { Mean, Std, Min, Max, Percentile };
  InputRef band;
  Kind kind = Kind::Mean;
  double percentile = 0;  ///< Percentile: from 0 to 100
  int column = 0;         ///< where the call starts in the text, from 1
};

/// A read-only row of cells of any pixel type the engine holds.
using RowCells =
    std::variant<std::span<const uint8_t>, std::span<const uint16_t>, std::span<const int16_t>,
                 std::span<const uint32_t>, std::span<const int32_t>, std::span<const float>,
                 std::span<const double>>;

/// The cells of one InputRef over the row being evaluated, and its input's nodata value
/// (a NaN nodata value matches NaN cells).
struct RowInput {
  RowCells cells;
  std::optional<double> nodata;
};

struct Program;

/// A parsed expression. Immutable after parse(): one Expression may be shared by every thread.
///
/// Values are float64 throughout (no integer wrap-around). A cell is nodata in the result exactly
/// when its result is NaN. It is NaN when any input it reads is nodata there (gdal_calc.py's rule),
/// except inputs the expression tests itself with isnodata(): those are read with their raw values
/// and the expression decides; when the expression computes NaN (0/0, sqrt(-1), log(-1), `nodata`,
/// `nan`). Arithmetic follows IEEE 754: x/0 is +-inf for x != 0, 0/0 is NaN.
class Expression {
 public:
  /// Parses `text`, whose names must be among `names` (identifiers such as `nir` or `A`) or
  /// `steps` (a job's step ids, read like inputs; listed apart in messages). Throws ParseError
  /// "column N: what was wrong" (N counts characters from 1), e.g. "unknown name 'x'
  /// (inputs: a, b; steps: s)".
  static Expression parse(std::string_view text, const std::vector<std::string>& names,
                          const std::vector<std::string>& steps = {});
  /// As above, over the names of `scope`: a job parses its many steps against one scope.
  static Expression parse(std::string_view text, const NameScope& scope);

  /// The (name, band) pairs the expression reads, each once, in order of first appearance:
  /// eval_row takes its inputs in this order.
  const std::vector<InputRef>& inputs() const;

  /// The column (from 1) of the text where inputs()[input] is first named.
  int column(size_t input) const;

  /// The text parse() was given.
  const std::string& text() const;

  /// The statistics of whole bands the text names, in the order it names them (each call once).
  const std::vector<StatisticCall>& statistics() const;
  /// Whether the statistics have their values (or the text names none).
  bool bound() const;
  /// The same expression with `values` (one per statistics(), in order) in place of the calls;
  /// `scope` must hold the names the text reads.
  Expression with_statistics(const std::vector<double>& values, const NameScope& scope) const;

  /// Evaluates `out.size()` cells: inputs[i] holds the cells of inputs()[i], each as many as `out`.
  /// Thread-safe: threads may evaluate different rows of one Expression at once (scratch space is
  /// per thread). Throws tessera::Error when the inputs do not match inputs() in count or length.
  void eval_row(std::span<const RowInput> inputs, std::span<double> out) const;

 private:
  explicit Expression(std::shared_ptr<const Program> program);
  std::shared_ptr<const Program> program_;
};

}  // namespace tessera::expr
