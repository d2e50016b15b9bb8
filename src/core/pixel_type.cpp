// Pixel type sizes and names.
#include "tessera/core/pixel_type.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <utility>

#include "tessera/core/error.hpp"

namespace tessera {

size_t size_of(PixelType t) {
  switch (t) {
    case PixelType::Byte:
      return 1;
    case PixelType::UInt16:
    case PixelType::Int16:
      return 2;
    case PixelType::UInt32:
    case PixelType::Int32:
    case PixelType::Float32:
      return 4;
    case PixelType::Float64:
      return 8;
  }
  return 0;
}

std::string_view name_of(PixelType t) {
  switch (t) {
    case PixelType::Byte:
      return "Byte";
    case PixelType::UInt16:
      return "UInt16";
    case PixelType::Int16:
      return "Int16";
    case PixelType::UInt32:
      return "UInt32";
    case PixelType::Int32:
      return "Int32";
    case PixelType::Float32:
      return "Float32";
    case PixelType::Float64:
      return "Float64";
  }
  return "?";
}

bool is_integer(PixelType t) { return t != PixelType::Float32 && t != PixelType::Float64; }

PixelType parse_pixel_type(std::string_view text) {
  static const std::array<std::pair<std::string_view, PixelType>, 9> names{{
      {"byte", PixelType::Byte},
      {"uint8", PixelType::Byte},
      {"uint16", PixelType::UInt16},
      {"int16", PixelType::Int16},
      {"uint32", PixelType::UInt32},
      {"int32", PixelType::Int32},
      {"float32", PixelType::Float32},
      {"float64", PixelType::Float64},
      {"float", PixelType::Float32},
  }};
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& [name, type] : names)
    if (lower == name) return type;
  throw Error("unknown pixel type '" + std::string(text) +
              "' (expected Byte, UInt16, Int16, UInt32, Int32, Float32 or Float64)");
}

}  // namespace tessera
