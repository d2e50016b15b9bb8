// The vector instructions: one tight loop per operation over a chunk of cells.
#include "ops.hpp"
#include "vector_clones.hpp"

namespace tessera::expr {
namespace {

template <class F>
void unary(const double* a, double* d, int n, F f) {
  for (int i = 0; i < n; ++i) d[i] = f(a[i]);
}

template <class F>
void binary(const double* a, const double* b, double* d, int n, F f) {
  for (int i = 0; i < n; ++i) d[i] = f(a[i], b[i]);
}

template <class F>
void ternary(const double* a, const double* b, const double* c, double* d, int n, F f) {
  for (int i = 0; i < n; ++i) d[i] = f(a[i], b[i], c[i]);
}

// The arithmetic the compiler vectorises well gets its own loop; the rest go through apply*.
TESSERA_VECTOR_CLONES bool run_simple(const Instruction& ins, double* const* r, int n) {
  const double* a = r[ins.a];
  const double* b = r[ins.b];
  double* d = r[ins.dst];
  switch (ins.op) {
    case OpCode::Neg:
      unary(a, d, n, [](double x) { return -x; });
      return true;
    case OpCode::Abs:
      unary(a, d, n, [](double x) { return std::fabs(x); });
      return true;
    case OpCode::Sqrt:
      unary(a, d, n, [](double x) { return std::sqrt(x); });
      return true;
    case OpCode::Not:
      unary(a, d, n, [](double x) { return truth(x == 0); });
      return true;
    case OpCode::Add:
      binary(a, b, d, n, [](double x, double y) { return x + y; });
      return true;
    case OpCode::Sub:
      binary(a, b, d, n, [](double x, double y) { return x - y; });
      return true;
    case OpCode::Mul:
      binary(a, b, d, n, [](double x, double y) { return x * y; });
      return true;
    case OpCode::Div:
      binary(a, b, d, n, [](double x, double y) { return x / y; });
      return true;
    case OpCode::Lt:
      binary(a, b, d, n, [](double x, double y) { return truth(x < y); });
      return true;
    case OpCode::Le:
      binary(a, b, d, n, [](double x, double y) { return truth(x <= y); });
      return true;
    case OpCode::Gt:
      binary(a, b, d, n, [](double x, double y) { return truth(x > y); });
      return true;
    case OpCode::Ge:
      binary(a, b, d, n, [](double x, double y) { return truth(x >= y); });
      return true;
    case OpCode::Eq:
      binary(a, b, d, n, [](double x, double y) { return truth(x == y); });
      return true;
    case OpCode::Ne:
      binary(a, b, d, n, [](double x, double y) { return truth(x != y); });
      return true;
    case OpCode::Min:
      binary(a, b, d, n, nan_min);
      return true;
    case OpCode::Max:
      binary(a, b, d, n, nan_max);
      return true;
    default:
      return false;
  }
}

TESSERA_VECTOR_CLONES void run_general(const Instruction& ins, double* const* r, int n) {
  const OpCode op = ins.op;
  if (arity(op) == 1)
    unary(r[ins.a], r[ins.dst], n, [op](double x) { return apply1(op, x); });
  else if (arity(op) == 2)
    binary(r[ins.a], r[ins.b], r[ins.dst], n,
           [op](double x, double y) { return apply2(op, x, y); });
  else if (op == OpCode::Select)
    ternary(r[ins.a], r[ins.b], r[ins.c], r[ins.dst], n,
            [](double c, double x, double y) { return c != 0 ? x : y; });
  else
    ternary(r[ins.a], r[ins.b], r[ins.c], r[ins.dst], n,
            [op](double x, double lo, double hi) { return apply3(op, x, lo, hi); });
}

}  // namespace

void run(const Instruction& ins, double* const* regs, int n) {
  if (!run_simple(ins, regs, n)) run_general(ins, regs, n);
}

}  // namespace tessera::expr
