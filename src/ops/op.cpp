// Defaults shared by every op, and the registry look-ups.
#include "tessera/ops/op.hpp"

namespace tessera::ops {

std::string OptionError::detail() const {
  const std::string message = what();
  const std::string naming = "option '" + key_ + "'";
  if (message.rfind(naming, 0) != 0) return message;
  const size_t rest = message.find_first_not_of(": ", naming.size());
  return rest == std::string::npos ? message : message.substr(rest);
}

CellType Op::input_cells(PixelType source) const {
  const bool narrow_integer = is_integer(source) && size_of(source) <= 2;  // Byte, (U)Int16
  return narrow_integer ? CellType::Int32 : CellType::Float32;
}

std::shared_ptr<const Op> Op::with_statistics(const std::vector<double>& /*values*/) const {
  throw Error("internal error: statistics given to an op that needs none");
}

const OpEntry* find_op(std::string_view name) {
  for (const auto& entry : registry())
    if (entry.name == name) return &entry;
  return nullptr;
}

std::unique_ptr<Op> make_op(std::string_view name, const Options& options,
                            const std::vector<std::string>& inputs,
                            const std::vector<std::string>& steps) {
  return make_op(name, options, expr::NameScope(inputs, steps));
}

std::unique_ptr<Op> make_op(std::string_view name, const Options& options,
                            const expr::NameScope& names) {
  const OpEntry* entry = find_op(name);
  if (entry == nullptr) {
    std::string known;
    for (const auto& e : registry())
      if (!e.internal) known += (known.empty() ? "" : ", ") + std::string(e.name);
    throw Error("unknown op '" + std::string(name) + "' (expected one of: " + known + ")");
  }
  return entry->make_named ? entry->make_named(options, names) : entry->make(options);
}

}  // namespace tessera::ops
