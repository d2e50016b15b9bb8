// Blocks of Float32 cells summarised with vector instructions: the count of valid cells, their
// minimum and maximum, and when they span a few exponents (neighbouring cells of a raster mostly
// do), the exact sums of each exponent's mantissas and of their squares in 64-bit integers,
// which an exact accumulator adds at once. Shared by the band statistics and the zone tables.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace tessera::stats::detail {

/// A block of Float32 cells: its valid cells' count, minimum and maximum (-0 as 0), the least
/// and greatest of their biased exponents, and the sums sum_exponent() adds.
struct FloatBlock {
  int64_t valid = 0;
  float lo = std::numeric_limits<float>::infinity();
  float hi = -std::numeric_limits<float>::infinity();
  uint32_t low_exponent = 0xff;
  uint32_t high_exponent = 0;
  int64_t mantissas = 0;
  uint64_t squares = 0;
};

/// Cells of at most 2^12 (squares of 24-bit mantissas) so that the block's sums fit 64 bits.
constexpr int64_t kFloatBlock = 4096;

inline bool valid_float(float x, bool has, float nodata) {
  return !std::isnan(x) && !(has && x == nodata);
}

inline void scan_floats(FloatBlock& b, const float* v, int64_t n, bool has, float nodata) {
  for (int64_t i = 0; i < n; ++i) {
    const float x = v[i] + 0.0f;
    if (!valid_float(x, has, nodata)) continue;
    const uint32_t e = (std::bit_cast<uint32_t>(x) >> 23) & 0xff;
    b.lo = std::min(b.lo, x);
    b.hi = std::max(b.hi, x);
    ++b.valid;
    b.low_exponent = std::min(b.low_exponent, e);
    b.high_exponent = std::max(b.high_exponent, e);
  }
}

/// Adds the mantissas and squares of the valid cells of biased exponent `exponent` to `b`.
inline void sum_floats(FloatBlock& b, const float* v, int64_t n, bool has, float nodata,
                       uint32_t exponent) {
  const uint32_t implicit = exponent == 0 ? 0 : uint32_t{1} << 23;
  for (int64_t i = 0; i < n; ++i) {
    if (!valid_float(v[i], has, nodata)) continue;
    const uint32_t bits = std::bit_cast<uint32_t>(v[i]);
    if (((bits >> 23) & 0xff) != exponent) continue;
    const uint64_t m = (bits & ((uint32_t{1} << 23) - 1)) | implicit;
    b.mantissas += (bits >> 31) != 0 ? -static_cast<int64_t>(m) : static_cast<int64_t>(m);
    b.squares += m * m;
  }
}

__attribute__((target("avx2"))) inline void scan_floats_avx2(FloatBlock& b, const float* v,
                                                             int64_t n, bool has, float nodata) {
  __m256 lo = _mm256_set1_ps(b.lo);
  __m256 hi = _mm256_set1_ps(b.hi);
  __m256i count = _mm256_setzero_si256();
  __m256i least = _mm256_set1_epi32(0xff);
  __m256i greatest = _mm256_setzero_si256();
  const __m256 inf = _mm256_set1_ps(std::numeric_limits<float>::infinity());
  const __m256 minus_inf = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  const __m256 nd = _mm256_set1_ps(nodata);
  const __m256i byte = _mm256_set1_epi32(0xff);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_add_ps(_mm256_loadu_ps(v + i), _mm256_setzero_ps());
    __m256 ok = _mm256_cmp_ps(x, x, _CMP_ORD_Q);
    if (has) ok = _mm256_and_ps(ok, _mm256_cmp_ps(x, nd, _CMP_NEQ_UQ));
    const __m256i okm = _mm256_castps_si256(ok);
    lo = _mm256_min_ps(lo, _mm256_blendv_ps(inf, x, ok));
    hi = _mm256_max_ps(hi, _mm256_blendv_ps(minus_inf, x, ok));
    count = _mm256_sub_epi32(count, okm);
    const __m256i e = _mm256_and_si256(_mm256_srli_epi32(_mm256_castps_si256(x), 23), byte);
    // Invalid cells as 0xff for the least, 0 for the greatest.
    least = _mm256_min_epu32(least, _mm256_or_si256(e, _mm256_andnot_si256(okm, byte)));
    greatest = _mm256_max_epu32(greatest, _mm256_and_si256(e, okm));
  }
  alignas(32) float l[8];
  alignas(32) float h[8];
  alignas(32) int32_t c[8];
  alignas(32) uint32_t le[8];
  alignas(32) uint32_t ge[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(le), least);
  _mm256_store_si256(reinterpret_cast<__m256i*>(ge), greatest);
  _mm256_store_ps(l, lo);
  _mm256_store_ps(h, hi);
  _mm256_store_si256(reinterpret_cast<__m256i*>(c), count);
  for (int j = 0; j < 8; ++j) {
    b.lo = std::min(b.lo, l[j]);
    b.hi = std::max(b.hi, h[j]);
    b.valid += c[j];
    b.low_exponent = std::min(b.low_exponent, le[j]);
    b.high_exponent = std::max(b.high_exponent, ge[j]);
  }
  scan_floats(b, v + i, n - i, has, nodata);
}

__attribute__((target("avx2"))) inline void sum_floats_avx2(FloatBlock& b, const float* v,
                                                            int64_t n, bool has, float nodata,
                                                            uint32_t exponent) {
  const __m256i fraction = _mm256_set1_epi32((1 << 23) - 1);
  const __m256i implicit = _mm256_set1_epi32(exponent == 0 ? 0 : 1 << 23);
  const __m256i wanted = _mm256_set1_epi32(static_cast<int32_t>(exponent));
  const __m256i byte = _mm256_set1_epi32(0xff);
  const __m256 nd = _mm256_set1_ps(nodata);
  __m256i sums = _mm256_setzero_si256();     // 4 x int64
  __m256i squares = _mm256_setzero_si256();  // 4 x uint64
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(v + i);
    __m256 ok = _mm256_cmp_ps(x, x, _CMP_ORD_Q);
    if (has) ok = _mm256_and_ps(ok, _mm256_cmp_ps(x, nd, _CMP_NEQ_UQ));
    const __m256i bits = _mm256_castps_si256(x);
    const __m256i of_exponent =
        _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_srli_epi32(bits, 23), byte), wanted);
    const __m256i m = _mm256_and_si256(_mm256_or_si256(_mm256_and_si256(bits, fraction), implicit),
                                       _mm256_and_si256(_mm256_castps_si256(ok), of_exponent));
    // -m where the sign bit is set: (m ^ s) - s with s = bits >> 31 (arithmetic).
    const __m256i sign = _mm256_srai_epi32(bits, 31);
    const __m256i signed_m = _mm256_sub_epi32(_mm256_xor_si256(m, sign), sign);
    sums = _mm256_add_epi64(sums, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(signed_m)));
    sums = _mm256_add_epi64(sums, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(signed_m, 1)));
    squares = _mm256_add_epi64(squares, _mm256_mul_epu32(m, m));
    const __m256i odd = _mm256_srli_epi64(m, 32);
    squares = _mm256_add_epi64(squares, _mm256_mul_epu32(odd, odd));
  }
  alignas(32) int64_t s[4];
  alignas(32) uint64_t q[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(s), sums);
  _mm256_store_si256(reinterpret_cast<__m256i*>(q), squares);
  for (int j = 0; j < 4; ++j) {
    b.mantissas += s[j];
    b.squares += q[j];
  }
  sum_floats(b, v + i, n - i, has, nodata, exponent);
}

inline bool have_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}

/// Scans `n` cells into `b` (count, minimum, maximum, exponents).
inline void scan(FloatBlock& b, const float* v, int64_t n, bool has, float nodata) {
  have_avx2() ? scan_floats_avx2(b, v, n, has, nodata) : scan_floats(b, v, n, has, nodata);
}

/// Sums the mantissas and squares of the valid cells of biased exponent `exponent` among the
/// `n` cells into `b`.
inline void sum_exponent(FloatBlock& b, const float* v, int64_t n, bool has, float nodata,
                         uint32_t exponent) {
  have_avx2() ? sum_floats_avx2(b, v, n, has, nodata, exponent)
              : sum_floats(b, v, n, has, nodata, exponent);
}

/// Blocks whose valid cells span at most this many exponents are summed an exponent at a time.
constexpr uint32_t kFewExponents = 4;

/// When the valid cells of the scanned block `b` (of the `n` cells at v) span at most
/// kFewExponents exponents: add(exponent, mantissas, squares) for each exponent that has cells
/// (exact sums agree in any grouping), and true. Otherwise nothing, and false.
template <class Add>
bool sum_by_exponent(const FloatBlock& b, const float* v, int64_t n, bool has, float nodata,
                     const Add& add) {
  if (b.valid == 0 || b.high_exponent - b.low_exponent >= kFewExponents) return false;
  for (uint32_t e = b.low_exponent; e <= b.high_exponent; ++e) {
    FloatBlock part;
    sum_exponent(part, v, n, has, nodata, e);
    if (part.squares != 0) add(e, part.mantissas, part.squares);  // 0: no cell, or only zeros
  }
  return true;
}

}  // namespace tessera::stats::detail
