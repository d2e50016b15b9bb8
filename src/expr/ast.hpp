// The tree the parser builds and the compiler flattens.
#pragma once

#include <vector>

#include "ops.hpp"
#include "tessera/expr/expression.hpp"

namespace tessera::expr {

/// One node: a number, the cells of an input, an input's nodata flags (isnodata), or an operation.
struct Node {
  enum class Kind { Number, Input, IsNodata, Op };
  Kind kind = Kind::Number;
  double value = 0;  ///< Number
  int input = 0;     ///< Input, IsNodata: index into Parsed::inputs
  OpCode op = OpCode::Add;
  std::vector<Node> args;  ///< Op: arity(op) operands
};

/// What the parser hands the compiler.
struct Parsed {
  Node root;
  std::vector<InputRef> inputs;
  std::vector<bool> tested;  ///< per input: read by isnodata(), so its nodata does not propagate
  std::vector<int> columns;  ///< per input: the column (from 1) where it is first named
};

/// Parses an expression over the inputs `names` and the steps `steps`; throws ParseError
/// "calc: column N: ...".
Parsed parse_tree(std::string_view text, const std::vector<std::string>& names,
                  const std::vector<std::string>& steps);

}  // namespace tessera::expr
