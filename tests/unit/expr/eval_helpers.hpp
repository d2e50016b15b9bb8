// Evaluating expressions over small hand-made columns in the unit tests.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/expr/expression.hpp"

namespace tessera::expr::testing {

/// The cells of one input reference ("A", "A[2]") and its nodata value.
struct Column {
  std::vector<double> cells;
  std::optional<double> nodata;
};

/// Evaluates `text` over inputs A, B, C (and their bands) given by reference name.
inline std::vector<double> eval(std::string_view text, const std::map<std::string, Column>& cols,
                                const std::vector<std::string>& names = {"A", "B", "C"}) {
  const Expression e = Expression::parse(text, names);
  std::vector<RowInput> rows;
  size_t n = cols.empty() ? 1 : cols.begin()->second.cells.size();
  for (const InputRef& ref : e.inputs()) {
    const std::string key = ref.band ? ref.name + "[" + std::to_string(*ref.band) + "]" : ref.name;
    const Column& c = cols.at(key);
    rows.push_back({std::span<const double>(c.cells), c.nodata});
    n = c.cells.size();
  }
  std::vector<double> out(n);
  e.eval_row(rows, out);
  return out;
}

/// One cell: A = a, B = b, no nodata.
inline double calc(std::string_view text, double a = 0, double b = 0) {
  return eval(text, {{"A", {{a}, {}}}, {"B", {{b}, {}}}})[0];
}

}  // namespace tessera::expr::testing
