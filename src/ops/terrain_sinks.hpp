// Where gdaldem's per-cell results go: a Float32 band as they are, or a Byte band converted as
// GDAL writes a float into a Byte (eight at a time where the CPU has AVX2).
#pragma once

#include <algorithm>
#include <cstdint>

#include "simd_avx2.hpp"
#include "simd_avx512.hpp"
#include "tessera/core/raster_view.hpp"

namespace tessera::ops::terrain {

/// GDAL's conversion of a float to a Byte when writing (GDALCopyWords): round half up,
/// clamp to 0..255, NaN to 0.
inline uint8_t to_byte(float v) {
  float r = v + 0.5f;
  r = r > 0.5f ? r : 0.5f;  // also maps NaN to 0.5, as SSE max does
  r = r < 255.0f ? r : 255.0f;
  return static_cast<uint8_t>(r);
}

#if defined(TESSERA_HAVE_AVX2_PATHS)
/// to_byte over n floats, eight at a time; returns how many it converted. maxps returns its
/// second operand when either is NaN, so NaN becomes 0.5 and then 0, as in to_byte.
__attribute__((target("avx2"))) inline int64_t to_bytes_avx2(const float* values, uint8_t* out,
                                                             int64_t n) {
  const __m256 half = _mm256_set1_ps(0.5f);
  const __m256 top = _mm256_set1_ps(255.0f);
  int64_t k = 0;
  for (; k + 8 <= n; k += 8) {
    __m256 r = _mm256_add_ps(_mm256_loadu_ps(values + k), half);
    r = _mm256_min_ps(_mm256_max_ps(r, half), top);
    simd::store_bytes8(_mm256_cvttps_epi32(r), out + k);
  }
  return k;
}

/// to_bytes_avx2 sixteen at a time on AVX-512 (the same min, max and truncation; the int32s,
/// 0 to 255, narrowed to bytes by vpmovdb); returns how many it converted.
__attribute__((target(TESSERA_AVX512_TARGET))) inline int64_t to_bytes_avx512(const float* values,
                                                                              uint8_t* out,
                                                                              int64_t n) {
  const __m512 half = _mm512_set1_ps(0.5f);
  const __m512 top = _mm512_set1_ps(255.0f);
  int64_t k = 0;
  for (; k + 16 <= n; k += 16) {
    __m512 r = _mm512_add_ps(_mm512_loadu_ps(values + k), half);
    r = _mm512_min_ps(_mm512_max_ps(r, half), top);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + k),
                     _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(r)));
  }
  return k;
}
#endif

/// to_byte of values[0, n) into out.
inline void to_bytes(const float* values, uint8_t* out, int64_t n) {
  int64_t k = 0;
#if defined(TESSERA_HAVE_AVX2_PATHS)
  if (simd::have_avx512()) k = to_bytes_avx512(values, out, n);
  if (simd::have_avx2()) k += to_bytes_avx2(values + k, out + k, n - k);
#endif
  for (; k < n; ++k) out[k] = to_byte(values[k]);
}

/// Writes float results into a Float32 band as they are, or into a Byte band converted.
struct FloatSink {
  View<float> out;
  void operator()(int64_t x, int64_t y, float v) const { out(x, y) = v; }
  void row(int64_t x, int64_t y, const float* values, int64_t n) const {
    std::copy(values, values + n, &out(x, y));
  }
  float* row_pointer(int64_t x, int64_t y) const { return &out(x, y); }
};
struct ByteSink {
  View<uint8_t> out;
  void operator()(int64_t x, int64_t y, float v) const { out(x, y) = to_byte(v); }
  void row(int64_t x, int64_t y, const float* values, int64_t n) const {
    to_bytes(values, &out(x, y), n);
  }
};

}  // namespace tessera::ops::terrain
