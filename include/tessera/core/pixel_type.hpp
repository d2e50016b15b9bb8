// The pixel types tessera reads and writes, with their names as GDAL spells them, and the one
// dispatch from a pixel type known at run time to its C++ type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace tessera {

enum class PixelType { Byte, UInt16, Int16, UInt32, Int32, Float32, Float64 };

/// Throws tessera::Error: `t` is none of the enumerators (an internal error).
[[noreturn]] void throw_unknown_pixel_type(PixelType t);

/// Calls f(std::type_identity<T>{}), T being the C++ type of a cell of `t` (uint8_t, uint16_t,
/// int16_t, uint32_t, int32_t, float or double), and returns what f returns, which must be the
/// same type for all seven. Code that needs the cells' type calls this, and switches on no
/// PixelType itself: `visit(t, [&]<class T>(std::type_identity<T>) { ... })`.
template <class F>
constexpr decltype(auto) visit(PixelType t, F&& f) {
  switch (t) {
    case PixelType::Byte:
      return f(std::type_identity<uint8_t>{});
    case PixelType::UInt16:
      return f(std::type_identity<uint16_t>{});
    case PixelType::Int16:
      return f(std::type_identity<int16_t>{});
    case PixelType::UInt32:
      return f(std::type_identity<uint32_t>{});
    case PixelType::Int32:
      return f(std::type_identity<int32_t>{});
    case PixelType::Float32:
      return f(std::type_identity<float>{});
    case PixelType::Float64:
      return f(std::type_identity<double>{});
  }
  throw_unknown_pixel_type(t);
}

/// The pixel type whose cells are T (pixel_type_of<float> is Float32), found through visit() so
/// that the pairs are written once; any other T, const ones included, does not compile.
template <class T>
inline constexpr PixelType pixel_type_of = [] {
  for (int i = 0;; ++i) {
    const auto t = static_cast<PixelType>(i);
    if (visit(t, []<class U>(std::type_identity<U>) { return std::is_same_v<U, T>; })) return t;
  }
}();

/// Bytes per cell.
constexpr size_t size_of(PixelType t) {
  return visit(t, []<class T>(std::type_identity<T>) { return sizeof(T); });
}

/// GDAL's name: "Byte", "UInt16", ..., "Float64".
std::string_view name_of(PixelType t);
/// Parses GDAL's names, case-insensitively, and the lowercase job-file names (uint8, float32...).
/// Throws tessera::Error naming the text when it is none of them.
PixelType parse_pixel_type(std::string_view text);
bool is_integer(PixelType t);

/// Whether a cell of type `t` holds `v` as it is, so that a nodata value written to a header
/// marks the cells written with it: integer types hold whole numbers within their range; Float32
/// holds NaN, the infinities and every value within its range (rounded to the nearest float, as
/// GDAL compares a Float32 band with its nodata); Float64 holds every value.
bool holds(PixelType t, double v);
/// Why a `t` output cannot take `v` as its nodata: "2.5 does not fit a Byte output (expected
/// whole numbers from 0 to 255)"; "" when holds(t, v).
std::string nodata_misfit(PixelType t, double v);

/// The smallest type that holds every value of `a` and of `b`, as GDALDataTypeUnion (GDAL 3.5+)
/// chooses it: Byte + Int16 is Int16, UInt16 + Int16 is Int32, Int16 + Float32 is Float32,
/// Int32 + Float32 is Float64. Empty where GDAL answers Int64 (UInt32 with Int16 or Int32),
/// which tessera does not write.
std::optional<PixelType> type_union(PixelType a, PixelType b);

}  // namespace tessera
