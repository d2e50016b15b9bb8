// float64 results into output pixel types: GDAL's rounding and saturation, NaN to nodata.
#include "tessera/expr/convert.hpp"

#include <cmath>
#include <limits>
#include <type_traits>

#include "vector_clones.hpp"

namespace tessera::expr {
namespace {

static_assert(std::numeric_limits<float>::is_iec559, "float32 outputs assume IEEE 754");

template <class T>
T to_float_type(double v) {
  return static_cast<T>(v);  // IEEE 754: to nearest; beyond float's range, +-inf
}

template <class T>
void convert(std::span<const double> in, double nodata, std::span<T> out) {
  T (*one)(double) = nullptr;
  if constexpr (std::is_integral_v<T>)
    one = round_saturate<T>;
  else
    one = to_float_type<T>;
  const T nodata_cell = one(nodata);
  for (size_t i = 0; i < in.size(); ++i) out[i] = std::isnan(in[i]) ? nodata_cell : one(in[i]);
}

}  // namespace

template <class T>
T round_saturate(double v) {
  constexpr double lo = static_cast<double>(std::numeric_limits<T>::lowest());
  constexpr double hi = static_cast<double>(std::numeric_limits<T>::max());
  if (std::isnan(v)) return T{0};
  if (v <= lo) return std::numeric_limits<T>::lowest();
  if (v >= hi) return std::numeric_limits<T>::max();
  return static_cast<T>(std::round(v));
}

template uint8_t round_saturate<uint8_t>(double);
template uint16_t round_saturate<uint16_t>(double);
template int16_t round_saturate<int16_t>(double);
template uint32_t round_saturate<uint32_t>(double);
template int32_t round_saturate<int32_t>(double);

TESSERA_VECTOR_CLONES void convert_row(std::span<const double> in, double nodata, OutCells out) {
  std::visit([&](auto cells) { convert(in, nodata, cells); }, out);
}

OutCells out_cells(const BandView& band, int64_t y) {
  return visit(band.type(), [&]<class T>(std::type_identity<T>) {
    return OutCells(std::span<T>(band.as<T>().row(y), static_cast<size_t>(band.width())));
  });
}

double default_nodata(PixelType type) {
  switch (type) {
    case PixelType::Byte:
      return 255;
    case PixelType::UInt16:
      return 65535;
    case PixelType::Int16:
      return -32768;
    case PixelType::UInt32:
      return 4294967293.0;
    case PixelType::Int32:
      return -2147483647.0;
    case PixelType::Float32:
      return 3.402823466e+38;
    case PixelType::Float64:
      break;
  }
  return std::numeric_limits<double>::max();
}

}  // namespace tessera::expr
