// Recursive descent from tokens to a tree; C, Python and numpy spellings meet here.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <utility>

#include "ast.hpp"
#include "functions.hpp"
#include "lexer.hpp"

namespace tessera::expr {
namespace {

using SymbolOp = std::pair<std::string_view, OpCode>;

constexpr std::array<SymbolOp, 6> kComparisons{{
    {"<", OpCode::Lt},
    {"<=", OpCode::Le},
    {">", OpCode::Gt},
    {">=", OpCode::Ge},
    {"==", OpCode::Eq},
    {"!=", OpCode::Ne},
}};
constexpr std::array<SymbolOp, 3> kOr{{{"||", OpCode::Or}, {"|", OpCode::Or}, {"or", OpCode::Or}}};
constexpr std::array<SymbolOp, 3> kAnd{
    {{"&&", OpCode::And}, {"&", OpCode::And}, {"and", OpCode::And}}};
constexpr std::array<SymbolOp, 2> kAdditive{{{"+", OpCode::Add}, {"-", OpCode::Sub}}};
constexpr std::array<SymbolOp, 3> kTerm{
    {{"*", OpCode::Mul}, {"/", OpCode::Div}, {"%", OpCode::Mod}}};

constexpr std::array<std::string_view, 6> kFloatTypes{"float",  "float32", "float64",
                                                      "double", "float_",  "single"};
constexpr std::array<std::string_view, 12> kIntegerTypes{"int",    "int8",   "int16", "int32",
                                                         "int64",  "uint",   "uint8", "uint16",
                                                         "uint32", "uint64", "bool",  "byte"};

Node number(double v) { return Node{Node::Kind::Number, v, 0, OpCode::Add, {}, {}}; }

/// An operation on `operands`, moved in (a braced list would copy whole subtrees).
template <class... Operands>
Node operation(OpCode op, Operands&&... operands) {
  Node n{Node::Kind::Op, 0, 0, op, {}, {}};
  n.args.reserve(sizeof...(operands));
  (n.args.push_back(std::move(operands)), ...);
  return n;
}

/// A chain `first`, then `links[i]` with each further operand.
Node chain(Node first) {
  Node n{Node::Kind::Chain, 0, 0, OpCode::Add, {}, {}};
  n.args.push_back(std::move(first));
  return n;
}

std::optional<double> constant(std::string_view name) {
  if (name == "pi") return std::acos(-1.0);
  if (name == "e") return std::exp(1.0);
  if (name == "inf") return std::numeric_limits<double>::infinity();
  if (name == "nan" || name == "nodata") return std::numeric_limits<double>::quiet_NaN();
  return std::nullopt;
}

template <size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

class Parser {
 public:
  Parser(std::string_view text, const NameScope& scope, const std::vector<double>* values)
      : tokens_(tokenize(text)), scope_(scope), values_(values) {}

  Parsed run() {
    out_.root = ternary();
    if (peek().kind != Token::Kind::End) fail(peek().column, "unexpected " + describe(peek()));
    return std::move(out_);
  }

 private:
  const Token& peek(size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  const Token& take() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool is(std::string_view symbol, size_t ahead = 0) const {
    const Token& t = peek(ahead);
    return t.kind != Token::Kind::Number && t.kind != Token::Kind::End && t.text == symbol;
  }
  bool accept(std::string_view symbol) {
    if (!is(symbol)) return false;
    take();
    return true;
  }
  void expect(std::string_view symbol) {
    if (!accept(symbol))
      fail(peek().column, "expected '" + std::string(symbol) + "' but found " + describe(peek()));
  }
  template <size_t N>
  std::optional<OpCode> accept_any(const std::array<SymbolOp, N>& ops) {
    for (const auto& [symbol, op] : ops)
      if (accept(symbol)) return op;
    return std::nullopt;
  }

  /// One level of nesting, opened by the token at `column`, while alive; throws past kMaxDepth.
  class Level {
   public:
    Level(Parser& parser, int column) : parser_(parser) {
      if (++parser_.depth_ <= kMaxDepth) return;
      fail(column, "nesting deeper than " + std::to_string(kMaxDepth) +
                       " levels (of parentheses, calls, unary operators, powers and ?:)");
    }
    ~Level() { --parser_.depth_; }
    Level(const Level&) = delete;
    Level& operator=(const Level&) = delete;

   private:
    Parser& parser_;
  };

  // Left-associative levels share one loop, and build one flat chain.
  template <size_t N>
  Node left_chain(const std::array<SymbolOp, N>& ops, Node (Parser::*operand)()) {
    Node first = (this->*operand)();
    auto op = accept_any(ops);
    if (!op) return first;
    Node n = chain(std::move(first));
    for (; op; op = accept_any(ops)) {
      n.links.push_back(*op);
      n.args.push_back((this->*operand)());
    }
    return n;
  }

  Node ternary() {
    Node condition = logical_or();
    const int column = peek().column;
    if (!accept("?")) return condition;
    const Level level(*this, column);
    Node yes = ternary();
    expect(":");
    return operation(OpCode::Select, std::move(condition), std::move(yes), ternary());
  }
  Node logical_or() { return left_chain(kOr, &Parser::logical_and); }
  Node logical_and() { return left_chain(kAnd, &Parser::logical_not); }
  Node logical_not() {
    const int column = peek().column;
    if (!accept("not")) return comparison();
    const Level level(*this, column);
    return operation(OpCode::Not, logical_not());
  }

  Node comparison() {
    Node lhs = additive();
    if (is("=")) fail(peek().column, "'=' is not an operator; compare with '=='");
    auto op = accept_any(kComparisons);
    if (!op) return lhs;
    Node both = operation(*op, std::move(lhs), additive());
    for (const auto& [symbol, unused] : kComparisons)
      if (is(symbol)) fail(peek().column, "comparisons do not chain: write (a < b) and (b < c)");
    return both;
  }
  Node additive() { return left_chain(kAdditive, &Parser::term); }
  Node term() { return left_chain(kTerm, &Parser::unary); }

  // Unary signs bind looser than power, as in Python: -A**2 is -(A**2).
  Node unary() {
    const int column = peek().column;
    if (!is("-") && !is("+") && !is("!") && !is("~")) return power();
    const Level level(*this, column);
    const std::string sign = take().text;
    if (sign == "-") return operation(OpCode::Neg, unary());
    if (sign == "+") return unary();
    return operation(OpCode::Not, unary());
  }
  Node power() {
    Node base = postfix();
    const int column = peek().column;
    if (!accept("**") && !accept("^")) return base;
    const Level level(*this, column);
    return operation(OpCode::Pow, std::move(base), unary());
  }

  Node postfix() {
    Node value = primary();
    while (true) {
      if (is("[")) fail(peek().column, "only an input takes a band, as in A[2]");
      if (!is(".")) return value;
      take();
      if (!is("astype")) fail(peek().column, "expected astype after '.'");
      astype();
    }
  }

  // .astype(float...) changes nothing: every value is float64 already.
  void astype() {
    take();
    expect("(");
    const Token type = take();
    std::string name = type.text;
    if (type.kind == Token::Kind::Name && (name == "numpy" || name == "np") && accept("."))
      name = take().text;
    if (contains(kIntegerTypes, name))
      fail(type.column, "astype(" + name + ") is not supported: values are float64; " +
                            "choose the output type instead");
    if (!contains(kFloatTypes, name)) fail(type.column, "expected a float type in astype()");
    expect(")");
  }

  Node primary() {
    const Token t = take();
    if (t.kind == Token::Kind::Number) return number(t.number);
    if (t.kind == Token::Kind::Symbol && t.text == "(") {
      const Level level(*this, t.column);
      Node inner = ternary();
      expect(")");
      return inner;
    }
    if (t.kind != Token::Kind::Name)
      fail(t.column, "expected a number, a name or '(' but found " + describe(t));
    return named(t);
  }

  // numpy.where, np.pi: the prefix names functions and constants, never inputs.
  Node named(Token t) {
    const bool prefixed = (t.text == "numpy" || t.text == "np") && is(".") &&
                          peek(1).kind == Token::Kind::Name && peek(1).text != "astype";
    if (prefixed) {
      take();
      t = take();
    }
    if (is("(")) return call(t);
    if (!prefixed && is_input(t.text)) return input_cells(t);
    if (auto v = constant(t.text)) return number(*v);
    fail(t.column, "unknown name '" + t.text + "' (" + known_names() + ")");
  }

  bool is_input(const std::string& name) const { return scope_.contains(name); }
  std::string known_names() const { return scope_.listed(); }

  std::vector<Node> arguments() {
    std::vector<Node> args;
    const Level level(*this, peek().column);
    expect("(");
    if (accept(")")) return args;
    do args.push_back(ternary());
    while (accept(","));
    expect(")");
    return args;
  }

  Node call(const Token& name) {
    if (name.text == "isnodata") return isnodata();
    if (is_statistic(name.text)) return statistic(name);
    const auto f = find_function(name.text);
    if (!f) fail(name.column, "unknown function '" + name.text + "'");
    std::vector<Node> args = arguments();
    check_count(name, *f, static_cast<int>(args.size()));
    Node result = operation(f->op);
    if (f->max_args != -1) {
      result.args = std::move(args);
      return result;
    }
    Node folded = chain(std::move(args[0]));  // min(a, b, c) is min(min(a, b), c)
    for (size_t i = 1; i < args.size(); ++i) {
      folded.links.push_back(f->op);
      folded.args.push_back(std::move(args[i]));
    }
    return folded;
  }

  static void check_count(const Token& name, const Function& f, int count) {
    if (count >= f.min_args && (f.max_args == -1 || count <= f.max_args)) return;
    const std::string takes =
        f.max_args == -1 ? "at least " + std::to_string(f.min_args) : std::to_string(f.min_args);
    fail(name.column, name.text + " takes " + takes + " argument" + (f.min_args > 1 ? "s" : "") +
                          ", not " + std::to_string(count));
  }

  /// mean(x), std(x), percentile(x, p), and min(x) or max(x) of one bare name: statistics of a
  /// whole band (min(a, b) stays the per-cell minimum).
  bool is_statistic(const std::string& name) const {
    if (name == "mean" || name == "std" || name == "percentile") return true;
    if (name != "min" && name != "max") return false;
    size_t after = 2;  // tokens: ( NAME [ N ] )
    if (is("[", after)) after += 3;
    return peek(1).kind == Token::Kind::Name && is_input(peek(1).text) && is(")", after);
  }

  Node statistic(const Token& call) {
    using K = StatisticCall::Kind;
    StatisticCall s;
    s.column = call.column;
    s.kind = call.text == "mean"  ? K::Mean
             : call.text == "std" ? K::Std
             : call.text == "min" ? K::Min
             : call.text == "max" ? K::Max
                                  : K::Percentile;
    expect("(");
    const Token t = take();
    if (t.kind != Token::Kind::Name || !is_input(t.text))
      fail(t.column, call.text + " takes an input or a step (" + known_names() + ")");
    s.band.name = t.text;
    if (accept("[")) {
      s.band.band = band();
      expect("]");
    }
    if (s.kind == K::Percentile) {
      expect(",");
      const Token p = take();
      if (p.kind != Token::Kind::Number || !(p.number >= 0 && p.number <= 100))
        fail(p.column, "percentile takes a number from 0 to 100 but found " + describe(p));
      s.percentile = p.number;
    }
    expect(")");
    const size_t k = out_.statistics.size();
    out_.statistics.push_back(s);
    if (values_ == nullptr) {
      out_.bound = false;
      return number(std::numeric_limits<double>::quiet_NaN());
    }
    return number(values_->at(k));
  }

  Node isnodata() {
    expect("(");
    const Token t = take();
    if (t.kind != Token::Kind::Name || !is_input(t.text))
      fail(t.column, "isnodata takes an input (" + known_names() + ")");
    Node cells = input_cells(t);
    expect(")");
    out_.tested[static_cast<size_t>(cells.input)] = true;
    return Node{Node::Kind::IsNodata, 0, cells.input, OpCode::Add, {}, {}};
  }

  Node input_cells(const Token& name) {
    InputRef ref{name.text, std::nullopt};
    if (accept("[")) {
      ref.band = band();
      expect("]");
    }
    return Node{Node::Kind::Input, 0, input_index(ref, name.column), OpCode::Add, {}, {}};
  }

  int band() {
    const Token t = take();
    if (t.kind != Token::Kind::Number || t.number != std::floor(t.number) || t.number > 65535)
      fail(t.column, "expected a band number but found " + describe(t));
    if (t.number < 1) fail(t.column, "bands count from 1");
    return static_cast<int>(t.number);
  }

  int input_index(const InputRef& ref, int column) {
    auto it = std::find(out_.inputs.begin(), out_.inputs.end(), ref);
    if (it != out_.inputs.end()) return static_cast<int>(it - out_.inputs.begin());
    out_.inputs.push_back(ref);
    out_.tested.push_back(false);
    out_.columns.push_back(column);
    return static_cast<int>(out_.inputs.size() - 1);
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;  ///< levels of nesting open, counted by Level
  const NameScope& scope_;
  const std::vector<double>* values_;
  Parsed out_;
};

}  // namespace

Parsed parse_tree(std::string_view text, const NameScope& scope,
                  const std::vector<double>* values) {
  return Parser(text, scope, values).run();
}

}  // namespace tessera::expr
