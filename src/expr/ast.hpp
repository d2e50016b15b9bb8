// The tree the parser builds and the compiler flattens.
#pragma once

#include <vector>

#include "ops.hpp"
#include "tessera/expr/expression.hpp"
#include "tessera/expr/name_scope.hpp"

namespace tessera::expr {

/// Nesting deeper than this is a parse error: the parser and the compiler recurse once per level
/// (a parenthesis, a call, a unary operator, a power, a branch of ?:), so they stay within stack.
inline constexpr int kMaxDepth = 256;

/// One node: a number, the cells of an input, an input's nodata flags (isnodata), an operation,
/// or a chain of left-associative operations (a + b - c), kept flat so that a long sum is no
/// deeper than one of its terms.
struct Node {
  enum class Kind { Number, Input, IsNodata, Op, Chain };
  Kind kind = Kind::Number;
  double value = 0;  ///< Number
  int input = 0;     ///< Input, IsNodata: index into Parsed::inputs
  OpCode op = OpCode::Add;
  std::vector<Node> args;     ///< Op: arity(op) operands; Chain: two or more
  std::vector<OpCode> links;  ///< Chain: links[i] joins the value of args[0..i] with args[i + 1]
};

/// What the parser hands the compiler.
struct Parsed {
  Node root;
  std::vector<InputRef> inputs;
  std::vector<bool> tested;  ///< per input: read by isnodata(), so its nodata does not propagate
  std::vector<int> columns;  ///< per input: the column (from 1) where it is first named
  std::vector<StatisticCall> statistics;  ///< each call of mean(), std(), percentile()...
  bool bound = true;  ///< false when statistics were parsed without their values (NaN stands in)
};

/// Parses an expression over the names of `scope`; throws ParseError
/// "column N: ...", also where nesting passes kMaxDepth. The tree's depth is at most a few
/// times kMaxDepth, however long the text.
/// With `values`, statistic calls become those numbers (one per call, in order); without, NaN
/// stands in and Parsed::bound is false when there is any.
Parsed parse_tree(std::string_view text, const NameScope& scope,
                  const std::vector<double>* values = nullptr);

}  // namespace tessera::expr
