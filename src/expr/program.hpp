// A compiled expression: registers of a chunk of cells each, and the instructions over them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ast.hpp"
#include "ops.hpp"

namespace tessera::expr {

/// Cells per register: rows are evaluated a chunk at a time, so registers stay in L1 cache.
inline constexpr int kChunk = 256;

/// Registers are numbered: inputs (one per InputRef), then nodata flags (one per input that
/// isnodata() reads), then constants, then temporaries.
struct Program {
  std::string text;
  std::vector<InputRef> inputs;
  std::vector<int> columns;        ///< per input: the column where the text first names it
  std::vector<bool> propagates;    ///< per input: its nodata makes the result nodata
  std::vector<int> flag_register;  ///< per input: the register of isnodata(input), or -1
  int first_constant = 0;
  std::vector<double> constants;  ///< register first_constant + i holds constants[i]
  int registers = 0;
  std::vector<Instruction> code;
  int result = 0;   ///< the register holding the value when code has run
  uint64_t id = 0;  ///< unique per compiled program: per-thread scratch knows whose it holds
  std::vector<StatisticCall> statistics;
  bool bound = true;
};

/// Folds constant subtrees and flattens the tree into instructions over registers.
Program compile(Parsed parsed, std::string text);

}  // namespace tessera::expr
