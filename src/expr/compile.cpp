// From tree to instructions: fold constants, then number registers, reusing temporaries.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <limits>

#include "program.hpp"
#include "tessera/core/error.hpp"

namespace tessera::expr {
namespace {

Node fold(Node n) {
  for (Node& arg : n.args) arg = fold(std::move(arg));
  if (n.kind != Node::Kind::Op) return n;
  for (const Node& arg : n.args)
    if (arg.kind != Node::Kind::Number) return n;
  const auto& a = n.args;
  double v = 0;
  if (arity(n.op) == 1) v = apply1(n.op, a[0].value);
  if (arity(n.op) == 2) v = apply2(n.op, a[0].value, a[1].value);
  if (arity(n.op) == 3) v = apply3(n.op, a[0].value, a[1].value, a[2].value);
  return Node{Node::Kind::Number, v, 0, OpCode::Add, {}};
}

// Constants compare by bits, so that NaN finds NaN and -0 stays apart from 0.
bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void collect_constants(const Node& n, std::vector<double>& out) {
  for (const Node& arg : n.args) collect_constants(arg, out);
  if (n.kind != Node::Kind::Number) return;
  auto it = std::find_if(out.begin(), out.end(), [&](double c) { return same_bits(c, n.value); });
  if (it == out.end()) out.push_back(n.value);
}

class Emitter {
 public:
  explicit Emitter(Program& p) : p_(p), first_temp_(p.first_constant + int(p.constants.size())) {
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
      case Node::Kind::Op:
        break;
    }
    std::array<int, 3> operands{0, 0, 0};
    for (size_t i = 0; i < n.args.size(); ++i) operands[i] = emit(n.args[i]);
    for (size_t i = 0; i < n.args.size(); ++i) release(operands[i]);
    const int dst = allocate();
    p_.code.push_back({n.op, reg(dst), reg(operands[0]), reg(operands[1]), reg(operands[2])});
    return dst;
  }

 private:
  int constant(double v) const {
    const auto& c = p_.constants;
    auto it = std::find_if(c.begin(), c.end(), [&](double x) { return same_bits(x, v); });
    return p_.first_constant + static_cast<int>(it - c.begin());
  }
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
  number_inputs(p, parsed);
  const Node root = fold(std::move(parsed.root));
  collect_constants(root, p.constants);
  Emitter emitter(p);
  p.result = emitter.emit(root);
  return p;
}

}  // namespace tessera::expr
