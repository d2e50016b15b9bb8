// Expression: parse once, then evaluate rows a chunk at a time in per-thread scratch registers.
#include "tessera/expr/expression.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "program.hpp"
#include "tessera/core/error.hpp"
#include "vector_clones.hpp"

namespace tessera::expr {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Registers of one thread, then one mask row: -0.0 where the cell is valid, NaN where an input
// that propagates is nodata. Adding it to the result leaves valid results unchanged (x + -0.0
// is x, even for x = -0.0) and makes the others NaN, without a branch.
struct Scratch {
  uint64_t program = 0;
  std::vector<double> cells;
  std::vector<double*> regs;
  double* mask = nullptr;
};

/// Cells a register's start is aligned to: a cache line, so that vector loads never straddle two
/// and speed does not depend on where malloc puts the scratch.
constexpr size_t kAlignCells = 64 / sizeof(double);

/// The first cell of `cells` at a multiple of 64 bytes (cells has kAlignCells to spare).
double* aligned_start(std::vector<double>& cells) {
  const auto address = reinterpret_cast<uintptr_t>(cells.data());
  const size_t skip = (64 - address % 64) % 64 / sizeof(double);
  return cells.data() + skip;
}

Scratch& scratch_for(const Program& p) {
  thread_local Scratch s;
  if (s.program == p.id) return s;
  s.cells.assign(static_cast<size_t>(p.registers + 1) * kChunk + kAlignCells, 0.0);
  double* const start = aligned_start(s.cells);
  s.regs.resize(static_cast<size_t>(p.registers));
  for (int r = 0; r < p.registers; ++r) s.regs[static_cast<size_t>(r)] = start + size_t(r) * kChunk;
  for (size_t c = 0; c < p.constants.size(); ++c)
    std::fill_n(s.regs[size_t(p.first_constant) + c], kChunk, p.constants[c]);
  s.mask = start + static_cast<size_t>(p.registers) * kChunk;
  s.program = p.id;
  return s;
}

// Where hit(cell): flags get 1 or 0, the mask NaN. One plain loop each, so that they vectorise.
template <class Hit>
void mark(const double* v, int n, Hit hit, double* flags, double* mask) {
  if (flags)
    for (int i = 0; i < n; ++i) flags[i] = hit(v[i]) ? 1.0 : 0.0;
  if (mask)
    for (int i = 0; i < n; ++i) mask[i] = hit(v[i]) ? kNaN : mask[i];
}

TESSERA_VECTOR_CLONES void mark_nodata(const double* v, int n, double nodata, double* flags,
                                       double* mask) {
  if (std::isnan(nodata))
    mark(
        v, n, [](double x) { return x != x; }, flags, mask);
  else
    mark(
        v, n, [nodata](double x) { return x == nodata; }, flags, mask);
}

// One input's cells [offset, offset + n) as float64 into its register, its nodata into flags
// and mask (either may be null).
TESSERA_VECTOR_CLONES void stage(const RowInput& in, size_t offset, int n, double* values,
                                 double* flags, double* mask) {
  std::visit(
      [&](auto cells) {
        const auto* src = cells.data() + offset;
        for (int i = 0; i < n; ++i) values[i] = static_cast<double>(src[i]);
      },
      in.cells);
  if (in.nodata && (flags || mask)) mark_nodata(values, n, *in.nodata, flags, mask);
  if (!in.nodata && flags) std::fill_n(flags, n, 0.0);
}

size_t length(const RowCells& cells) {
  return std::visit([](auto c) { return c.size(); }, cells);
}

void check_inputs(const Program& p, std::span<const RowInput> inputs, size_t cells) {
  if (inputs.size() != p.inputs.size())
    throw Error("calc: " + std::to_string(inputs.size()) + " input rows given for an expression " +
                "reading " + std::to_string(p.inputs.size()));
  for (const RowInput& in : inputs)
    if (length(in.cells) != cells)
      throw Error("calc: an input row has " + std::to_string(length(in.cells)) +
                  " cells where the output has " + std::to_string(cells));
}

bool any_propagating_nodata(const Program& p, std::span<const RowInput> inputs) {
  for (size_t i = 0; i < inputs.size(); ++i)
    if (p.propagates[i] && inputs[i].nodata) return true;
  return false;
}

TESSERA_VECTOR_CLONES void eval_chunk(const Program& p, Scratch& s,
                                      std::span<const RowInput> inputs, size_t offset,
                                      std::span<double> out, bool masked) {
  const int n = static_cast<int>(out.size());
  if (masked) std::fill_n(s.mask, n, -0.0);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const int flag = p.flag_register[i];
    stage(inputs[i], offset, n, s.regs[i], flag < 0 ? nullptr : s.regs[size_t(flag)],
          masked && p.propagates[i] ? s.mask : nullptr);
  }
  for (const Instruction& ins : p.code) run(ins, s.regs.data(), n);
  const double* r = s.regs[static_cast<size_t>(p.result)];
  if (!masked) {
    std::copy_n(r, n, out.data());
    return;
  }
  for (int i = 0; i < n; ++i) out[size_t(i)] = r[i] + s.mask[i];
}

}  // namespace

Expression::Expression(std::shared_ptr<const Program> program) : program_(std::move(program)) {}

Expression Expression::parse(std::string_view text, const std::vector<std::string>& names,
                             const std::vector<std::string>& steps) {
  return parse(text, NameScope(names, steps));
}

Expression Expression::parse(std::string_view text, const NameScope& scope) {
  return Expression(
      std::make_shared<const Program>(compile(parse_tree(text, scope), std::string(text))));
}

const std::vector<InputRef>& Expression::inputs() const { return program_->inputs; }

const std::vector<StatisticCall>& Expression::statistics() const { return program_->statistics; }

bool Expression::bound() const { return program_->bound; }

Expression Expression::with_statistics(const std::vector<double>& values,
                                       const NameScope& scope) const {
  if (values.size() != program_->statistics.size())
    throw Error("internal error: " + std::to_string(values.size()) + " values for " +
                std::to_string(program_->statistics.size()) + " statistics");
  return Expression(std::make_shared<const Program>(
      compile(parse_tree(program_->text, scope, &values), program_->text)));
}

int Expression::column(size_t input) const { return program_->columns.at(input); }

const std::string& Expression::text() const { return program_->text; }

void Expression::eval_row(std::span<const RowInput> inputs, std::span<double> out) const {
  const Program& p = *program_;
  check_inputs(p, inputs, out.size());
  Scratch& s = scratch_for(p);
  const bool masked = any_propagating_nodata(p, inputs);
  for (size_t offset = 0; offset < out.size(); offset += kChunk) {
    const size_t n = std::min<size_t>(kChunk, out.size() - offset);
    eval_chunk(p, s, inputs, offset, out.subspan(offset, n), masked);
  }
}

}  // namespace tessera::expr
