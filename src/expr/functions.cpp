// The table of function names: C and muparser spellings, numpy's (arcsin, minimum, clip...).
#include "functions.hpp"

#include <array>
#include <utility>

namespace tessera::expr {
namespace {

using Entry = std::pair<std::string_view, Function>;

constexpr std::array<Entry, 35> kFunctions{{
    {"abs", {OpCode::Abs, 1, 1}},         {"absolute", {OpCode::Abs, 1, 1}},
    {"fabs", {OpCode::Abs, 1, 1}},        {"sqrt", {OpCode::Sqrt, 1, 1}},
    {"exp", {OpCode::Exp, 1, 1}},         {"log", {OpCode::Log, 1, 1}},
    {"ln", {OpCode::Log, 1, 1}},          {"log10", {OpCode::Log10, 1, 1}},
    {"pow", {OpCode::Pow, 2, 2}},         {"power", {OpCode::Pow, 2, 2}},
    {"min", {OpCode::Min, 2, -1}},        {"max", {OpCode::Max, 2, -1}},
    {"minimum", {OpCode::Min, 2, 2}},     {"maximum", {OpCode::Max, 2, 2}},
    {"clamp", {OpCode::Clamp, 3, 3}},     {"clip", {OpCode::Clamp, 3, 3}},
    {"floor", {OpCode::Floor, 1, 1}},     {"ceil", {OpCode::Ceil, 1, 1}},
    {"round", {OpCode::Round, 1, 1}},     {"rint", {OpCode::Round, 1, 1}},
    {"sin", {OpCode::Sin, 1, 1}},         {"cos", {OpCode::Cos, 1, 1}},
    {"tan", {OpCode::Tan, 1, 1}},         {"asin", {OpCode::Asin, 1, 1}},
    {"arcsin", {OpCode::Asin, 1, 1}},     {"acos", {OpCode::Acos, 1, 1}},
    {"arccos", {OpCode::Acos, 1, 1}},     {"atan", {OpCode::Atan, 1, 1}},
    {"arctan", {OpCode::Atan, 1, 1}},     {"atan2", {OpCode::Atan2, 2, 2}},
    {"arctan2", {OpCode::Atan2, 2, 2}},   {"where", {OpCode::Select, 3, 3}},
    {"logical_and", {OpCode::And, 2, 2}}, {"logical_or", {OpCode::Or, 2, 2}},
    {"logical_not", {OpCode::Not, 1, 1}},
}};

}  // namespace

std::optional<Function> find_function(std::string_view name) {
  for (const auto& [n, f] : kFunctions)
    if (n == name) return f;
  return std::nullopt;
}

}  // namespace tessera::expr
