// The functions expressions may call, under their C, muparser and numpy names.
#pragma once

#include <optional>
#include <string_view>

#include "ops.hpp"

namespace tessera::expr {

/// A callable name: the operation and how many arguments it takes (min and max take two or more,
/// folded left).
struct Function {
  OpCode op;
  int min_args;
  int max_args;  ///< -1: any number from min_args
};

/// The function called `name` (after any numpy./np. prefix is removed), if there is one.
std::optional<Function> find_function(std::string_view name);

}  // namespace tessera::expr
