// From tree to instructions: fold constants, then number registers, reusing temporaries.
#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <limits>
#include <unordered_map>

#include "program.hpp"
#include "tessera/core/error.hpp"

namespace tessera::expr {
namespace {

Node number(double v) { return Node{Node::Kind::Number, v, 0, OpCode::Add, {}, {}}; }

// A chain folds its leading constants, as the left-leaning tree it stands for would.
Node fold_chain(Node n) {
  if (n.args[0].kind != Node::Kind::Number) return n;
  double v = n.args[0].value;
  size_t k = 1;
  for (; k < n.args.size() && n.args[k].kind == Node::Kind::Number; ++k)
    v = apply2(n.links[k - 1], v, n.args[k].value);
  if (k == n.args.size()) return number(v);
  n.args[0] = number(v);
  n.args.erase(n.args.begin() + 1, n.args.begin() + static_cast<std::ptrdiff_t>(k));
  n.links.erase(n.links.begin(), n.links.begin() + static_cast<std::ptrdiff_t>(k - 1));
  return n;
}

Node fold(Node n) {
  for (Node& arg : n.args) arg = fold(std::move(arg));
  if (n.kind == Node::Kind::Chain) return fold_chain(std::move(n));
  if (n.kind != Node::Kind::Op) return n;
  for (const Node& arg : n.args)
    if (arg.kind != Node::Kind::Number) return n;
  const auto& a = n.args;
  double v = 0;
  if (arity(n.op) == 1) v = apply1(n.op, a[0].value);
  if (arity(n.op) == 2) v = apply2(n.op, a[0].value, a[1].value);
  if (arity(n.op) == 3) v = apply3(n.op, a[0].value, a[1].value, a[2].value);
  return number(v);
}

// Constants compare by bits, so that NaN finds NaN and -0 stays apart from 0.
uint64_t bits(double v) { return std::bit_cast<uint64_t>(v); }

/// Constant registers by the bits of their value, numbered in the order the tree first names them.
using ConstantIndex = std::unordered_map<uint64_t, int>;

void collect_constants(const Node& n, std::vector<double>& out, ConstantIndex& index) {
  for (const Node& arg : n.args) collect_constants(arg, out, index);
  if (n.kind != Node::Kind::Number) return;
  if (index.emplace(bits(n.value), static_cast<int>(out.size())).second) out.push_back(n.value);
}

class Emitter {
 public:
  Emitter(Program& p, ConstantIndex constants)
      : p_(p),
        first_temp_(p.first_constant + int(p.constants.size())),
        constants_(std::move(constants)) {
    p_.registers = first_temp_;
  }

  int emit(const Node& n) {
    switch (n.kind) {
      case Node::Kind::Number:
        return constant(n.value);
      case Node::Kind::Input:
        return n.input;
      case Node::Kind::IsNodata:
        return p_.flag_register[static_cast<size_t>(n.input)];
      case Node::Kind::Chain:
        return emit_chain(n);
      case Node::Kind::Op:
        break;
    }
    std::array<int, 3> operands{0, 0, 0};
    for (size_t i = 0; i < n.args.size(); ++i) operands[i] = emit(n.args[i]);
    return instruction(n.op, operands);
  }

 private:
  /// As the left-leaning tree of binary operations the chain stands for.
  int emit_chain(const Node& n) {
    int value = emit(n.args[0]);
    for (size_t i = 1; i < n.args.size(); ++i)
      value = instruction(n.links[i - 1], {value, emit(n.args[i]), 0});
    return value;
  }
  /// Releases the operands' registers, then writes `op` of them to a register it returns.
  int instruction(OpCode op, std::array<int, 3> operands) {
    for (int i = 0; i < arity(op); ++i) release(operands[static_cast<size_t>(i)]);
    const int dst = allocate();
    p_.code.push_back({op, reg(dst), reg(operands[0]), reg(operands[1]), reg(operands[2])});
    return dst;
  }
  int constant(double v) const { return p_.first_constant + constants_.at(bits(v)); }
  void release(int r) {
    if (r >= first_temp_) free_.push_back(r);
  }
  int allocate() {
    if (free_.empty()) return p_.registers++;
    const int r = free_.back();
    free_.pop_back();
    return r;
  }
  static uint16_t reg(int r) {
    if (r > std::numeric_limits<uint16_t>::max()) throw Error("calc: expression too large");
    return static_cast<uint16_t>(r);
  }

  Program& p_;
  int first_temp_;
  ConstantIndex constants_;
  std::vector<int> free_;
};

void number_inputs(Program& p, const Parsed& parsed) {
  int next = static_cast<int>(parsed.inputs.size());
  for (size_t i = 0; i < parsed.inputs.size(); ++i) {
    p.propagates.push_back(!parsed.tested[i]);
    p.flag_register.push_back(parsed.tested[i] ? next++ : -1);
  }
  p.first_constant = next;
}

}  // namespace

Program compile(Parsed parsed, std::string text) {
  static std::atomic<uint64_t> next_id{1};
  Program p;
  p.text = std::move(text);
  p.id = next_id++;
  p.inputs = parsed.inputs;
  p.columns = parsed.columns;
  p.statistics = parsed.statistics;
  p.bound = parsed.bound;
  number_inputs(p, parsed);
  const Node root = fold(std::move(parsed.root));
  ConstantIndex constants;
  collect_constants(root, p.constants, constants);
  Emitter emitter(p, std::move(constants));
  p.result = emitter.emit(root);
  return p;
}

}  // namespace tessera::expr
