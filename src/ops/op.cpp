// Defaults shared by every op, and the registry look-ups.
#include "tessera/ops/op.hpp"

namespace tessera::ops {

CellType Op::input_cells(PixelType source) const {
  switch (source) {
    case PixelType::Byte:
    case PixelType::Int16:
    case PixelType::UInt16:
      return CellType::Int32;
    default:
      return CellType::Float32;
  }
}

const OpEntry* find_op(std::string_view name) {
  for (const auto& entry : registry())
    if (entry.name == name) return &entry;
  return nullptr;
}

std::unique_ptr<Op> make_op(std::string_view name, const Options& options,
                            const std::vector<std::string>& inputs,
                            const std::vector<std::string>& steps) {
  const OpEntry* entry = find_op(name);
  if (entry == nullptr) {
    std::string known;
    for (const auto& e : registry()) known += (known.empty() ? "" : ", ") + std::string(e.name);
    throw Error("unknown op '" + std::string(name) + "' (expected one of: " + known + ")");
  }
  return entry->make_named ? entry->make_named(options, inputs, steps) : entry->make(options);
}

}  // namespace tessera::ops
