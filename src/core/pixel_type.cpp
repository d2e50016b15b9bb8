// Pixel type names, parsing and unions.
#include "tessera/core/pixel_type.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>

#include "tessera/core/error.hpp"

namespace tessera {
namespace {

/// "values from -3.40282347e+38 to 3.40282347e+38, NaN or an infinity" for Float32.
std::string float_range(double max) {
  char text[96];
  std::snprintf(text, sizeof text, "values from %.9g to %.9g, NaN or an infinity", -max, max);
  return text;
}

/// The values `t` holds: "whole numbers from 0 to 255".
std::string value_range(PixelType t) {
  return visit(t, []<class T>(std::type_identity<T>) {
    using limits = std::numeric_limits<T>;
    if constexpr (limits::is_integer)
      return "whole numbers from " + std::to_string(limits::lowest()) + " to " +
             std::to_string(limits::max());
    else
      return float_range(limits::max());
  });
}

}  // namespace

void throw_unknown_pixel_type(PixelType t) {
  throw Error("internal error: pixel type " + std::to_string(static_cast<int>(t)) +
              " is none of tessera's");
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

bool holds(PixelType t, double v) {
  return visit(t, [v]<class T>(std::type_identity<T>) {
    using limits = std::numeric_limits<T>;
    if constexpr (limits::is_integer)
      return v == std::trunc(v) && v >= limits::lowest() && v <= limits::max();
    else
      return std::isnan(v) || std::isinf(v) || (v >= limits::lowest() && v <= limits::max());
  });
}

std::string nodata_misfit(PixelType t, double v) {
  if (holds(t, v)) return "";
  char value[32];
  std::snprintf(value, sizeof value, "%.17g", v);
  return std::string(value) + " does not fit a " + std::string(name_of(t)) + " output (expected " +
         value_range(t) + ")";
}

namespace {

bool is_signed(PixelType t) {
  return t != PixelType::Byte && t != PixelType::UInt16 && t != PixelType::UInt32;
}

int bits_of(PixelType t) { return static_cast<int>(size_of(t)) * 8; }

/// The integer type of `bits` bits and signedness; empty for 64 bits.
std::optional<PixelType> integer_type(int bits, bool is_signed) {
  switch (bits) {
    case 8:
      return is_signed ? std::nullopt : std::optional(PixelType::Byte);  // no Int8 here
    case 16:
      return is_signed ? PixelType::Int16 : PixelType::UInt16;
    case 32:
      return is_signed ? PixelType::Int32 : PixelType::UInt32;
    default:
      return std::nullopt;
  }
}

}  // namespace

std::optional<PixelType> type_union(PixelType a, PixelType b) {
  if (a == PixelType::Float64 || b == PixelType::Float64) return PixelType::Float64;
  if (!is_integer(a) || !is_integer(b)) {
    // Float32 holds integers of up to 16 bits exactly; 32-bit integers need Float64.
    const PixelType other = is_integer(a) ? a : b;
    return is_integer(other) && bits_of(other) >= 32 ? PixelType::Float64 : PixelType::Float32;
  }
  if (is_signed(a) == is_signed(b))
    return integer_type(std::max(bits_of(a), bits_of(b)), is_signed(a));
  // One signed, one unsigned: the signed type must be wider than the unsigned one.
  const PixelType u = is_signed(a) ? b : a;
  const PixelType s = is_signed(a) ? a : b;
  const int bits = bits_of(u) >= bits_of(s) ? 2 * bits_of(u) : bits_of(s);
  return integer_type(bits, true);
}

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
