// The vector instructions of compiled expressions and the scalar arithmetic each one applies.
#pragma once

#include <cmath>
#include <cstdint>

namespace tessera::expr {

/// One elementwise operation. Logic treats any value other than 0 as true (NaN included), and
/// comparisons and logic give 1 or 0.
enum class OpCode : uint8_t {
  // one operand
  Neg,
  Not,
  Abs,
  Sqrt,
  Exp,
  Log,
  Log10,
  Floor,
  Ceil,
  Round,
  Sin,
  Cos,
  Tan,
  Asin,
  Acos,
  Atan,
  // two operands
  Add,
  Sub,
  Mul,
  Div,
  Mod,
  Pow,
  Lt,
  Le,
  Gt,
  Ge,
  Eq,
  Ne,
  And,
  Or,
  Min,
  Max,
  Atan2,
  // three operands
  Select,
  Clamp,
};

/// How many operands `op` takes: 1, 2 or 3.
constexpr int arity(OpCode op) {
  if (op < OpCode::Add) return 1;
  if (op < OpCode::Select) return 2;
  return 3;
}

inline double truth(bool b) { return b ? 1.0 : 0.0; }

/// numpy's remainder: the result has the divisor's sign (-1 % 3 == 2); x % 0 is NaN.
inline double floored_mod(double a, double b) {
  const double r = std::fmod(a, b);
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}

/// numpy's minimum and maximum: NaN if either operand is NaN.
inline double nan_min(double a, double b) { return (a < b || a != a) ? a : b; }
inline double nan_max(double a, double b) { return (a > b || a != a) ? a : b; }

/// One operand. Round is numpy.round's: half to even (2.5 -> 2).
inline double apply1(OpCode op, double a) {
  switch (op) {
    case OpCode::Neg:
      return -a;
    case OpCode::Not:
      return truth(a == 0);
    case OpCode::Abs:
      return std::fabs(a);
    case OpCode::Sqrt:
      return std::sqrt(a);
    case OpCode::Exp:
      return std::exp(a);
    case OpCode::Log:
      return std::log(a);
    case OpCode::Log10:
      return std::log10(a);
    case OpCode::Floor:
      return std::floor(a);
    case OpCode::Ceil:
      return std::ceil(a);
    case OpCode::Round:
      return std::nearbyint(a);
    case OpCode::Sin:
      return std::sin(a);
    case OpCode::Cos:
      return std::cos(a);
    case OpCode::Tan:
      return std::tan(a);
    case OpCode::Asin:
      return std::asin(a);
    case OpCode::Acos:
      return std::acos(a);
    case OpCode::Atan:
      return std::atan(a);
    default:
      return std::nan("");
  }
}

/// Two operands.
inline double apply2(OpCode op, double a, double b) {
  switch (op) {
    case OpCode::Add:
      return a + b;
    case OpCode::Sub:
      return a - b;
    case OpCode::Mul:
      return a * b;
    case OpCode::Div:
      return a / b;
    case OpCode::Mod:
      return floored_mod(a, b);
    case OpCode::Pow:
      return std::pow(a, b);
    case OpCode::Lt:
      return truth(a < b);
    case OpCode::Le:
      return truth(a <= b);
    case OpCode::Gt:
      return truth(a > b);
    case OpCode::Ge:
      return truth(a >= b);
    case OpCode::Eq:
      return truth(a == b);
    case OpCode::Ne:
      return truth(a != b);
    case OpCode::And:
      return truth(a != 0 && b != 0);
    case OpCode::Or:
      return truth(a != 0 || b != 0);
    case OpCode::Min:
      return nan_min(a, b);
    case OpCode::Max:
      return nan_max(a, b);
    case OpCode::Atan2:
      return std::atan2(a, b);
    default:
      return std::nan("");
  }
}

/// Three operands: Select is where(a, b, c); Clamp is clamp(a, lo = b, hi = c).
inline double apply3(OpCode op, double a, double b, double c) {
  if (op == OpCode::Select) return a != 0 ? b : c;
  return nan_min(nan_max(a, b), c);
}

/// One instruction: dst = op(a, b, c) over a chunk of cells; operands name registers.
struct Instruction {
  OpCode op;
  uint16_t dst = 0;
  uint16_t a = 0;
  uint16_t b = 0;
  uint16_t c = 0;
};

/// Runs `ins` over `n` cells of the registers `regs`.
void run(const Instruction& ins, double* const* regs, int n);

}  // namespace tessera::expr
