// The pixel types tessera reads and writes, with their names as GDAL spells them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tessera {

enum class PixelType { Byte, UInt16, Int16, UInt32, Int32, Float32, Float64 };

/// Bytes per cell.
size_t size_of(PixelType t);
/// GDAL's name: "Byte", "UInt16", ..., "Float64".
std::string_view name_of(PixelType t);
/// Parses GDAL's names, case-insensitively, and the lowercase job-file names (uint8, float32...).
/// Throws tessera::Error naming the text when it is none of them.
PixelType parse_pixel_type(std::string_view text);
bool is_integer(PixelType t);

/// The smallest type that holds every value of `a` and of `b`, as GDALDataTypeUnion (GDAL 3.5+)
/// chooses it: Byte + Int16 is Int16, UInt16 + Int16 is Int32, Int16 + Float32 is Float32,
/// Int32 + Float32 is Float64. Empty where GDAL answers Int64 (UInt32 with Int16 or Int32),
/// which tessera does not write.
std::optional<PixelType> type_union(PixelType a, PixelType b);

}  // namespace tessera
