// Blocks of Float32 cells summarised with vector instructions: the count of valid cells, their
// minimum and maximum, and when they span a few exponents (neighbouring cells of a raster mostly
// do), the exact sums of each exponent's mantissas and of their squares in 64-bit integers,
// which an exact accumulator adds at once. Shared by the band statistics and the zone tables.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace tessera::stats::detail {

/// A block of Float32 cells: its valid cells' count, minimum and maximum (-0 as 0), the least
/// and greatest biased exponents of its valid cells other than zeros (which add nothing to a
/// sum: a block of zeros has least 0xff and greatest 0), and the sums sum_exponent() adds.
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

/// valid_float() of eight cells: all ones in the lanes of valid cells (not NaN, and not equal to
/// `nodata` when `has`).
__attribute__((target("avx2"), always_inline)) inline __m256 valid_lanes(__m256 x, bool has,
                                                                         __m256 nodata) {
  const __m256 ordered = _mm256_cmp_ps(x, x, _CMP_ORD_Q);
  return has ? _mm256_and_ps(ordered, _mm256_cmp_ps(x, nodata, _CMP_NEQ_UQ)) : ordered;
}

/// The 64-bit lanes of `v`.
template <class T>
__attribute__((target("avx2"))) inline std::array<T, 4> lanes_of(__m256i v) {
  alignas(32) std::array<T, 4> out;
  _mm256_store_si256(reinterpret_cast<__m256i*>(out.data()), v);
  return out;
}

inline void scan_floats(FloatBlock& b, const float* v, int64_t n, bool has, float nodata) {
  for (int64_t i = 0; i < n; ++i) {
    const float x = v[i] + 0.0f;
    if (!valid_float(x, has, nodata)) continue;
    const uint32_t e = (std::bit_cast<uint32_t>(x) >> 23) & 0xff;
    b.lo = std::min(b.lo, x);
    b.hi = std::max(b.hi, x);
    ++b.valid;
    if (x == 0.0f) continue;
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
  const __m256 zero = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_add_ps(_mm256_loadu_ps(v + i), zero);
    const __m256 ok = valid_lanes(x, has, nd);
    const __m256i okm = _mm256_castps_si256(ok);
    lo = _mm256_min_ps(lo, _mm256_blendv_ps(inf, x, ok));
    hi = _mm256_max_ps(hi, _mm256_blendv_ps(minus_inf, x, ok));
    count = _mm256_sub_epi32(count, okm);
    const __m256i e = _mm256_and_si256(_mm256_srli_epi32(_mm256_castps_si256(x), 23), byte);
    // Invalid cells and zeros as 0xff for the least (a zero's exponent is 0 for the greatest).
    const __m256i counted =
        _mm256_andnot_si256(_mm256_castps_si256(_mm256_cmp_ps(x, zero, _CMP_EQ_OQ)), okm);
    least = _mm256_min_epu32(least, _mm256_or_si256(e, _mm256_andnot_si256(counted, byte)));
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
    const __m256 ok = valid_lanes(x, has, nd);
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
  const auto s = lanes_of<int64_t>(sums);
  const auto q = lanes_of<uint64_t>(squares);
  for (size_t j = 0; j < 4; ++j) {
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
  if (b.valid == 0 || b.low_exponent > b.high_exponent) return true;  // nothing, or zeros
  if (b.high_exponent - b.low_exponent >= kFewExponents) return false;
  for (uint32_t e = b.low_exponent; e <= b.high_exponent; ++e) {
    FloatBlock part;
    sum_exponent(part, v, n, has, nodata, e);
    if (part.squares != 0) add(e, part.mantissas, part.squares);  // 0: no cell, or only zeros
  }
  return true;
}

/// The exact sums of the valid cells of a block whose exponents E = max(biased exponent, 1) lie
/// in a window [first, first + kWindowExponents): a cell is m * 2^(E - 150) with m below 2^24,
/// so m << (E - first) is it in units of the window's first exponent, below 2^37; its square,
/// with m = hi * 2^12 + lo, is hi^2 * 2^24 + hi * lo * 2^13 + lo^2, each term below 2^24 and
/// shifted by 2 (E - first) below 2^50. A block of kFloatBlock cells keeps every sum below 2^62.
struct WindowSums {
  int64_t mantissas = 0;  ///< sum of the signed m << (E - first)
  uint64_t high = 0;      ///< sum of hi^2 << 2 (E - first)
  uint64_t middle = 0;    ///< sum of hi * lo << 2 (E - first)
  uint64_t low = 0;       ///< sum of lo^2 << 2 (E - first)
};

constexpr uint32_t kWindowExponents = 14;

/// Adds the valid cells of the window from `first` among the `n` cells at v to `w`.
inline void sum_window(WindowSums& w, const float* v, int64_t n, bool has, float nodata,
                       uint32_t first) {
  for (int64_t i = 0; i < n; ++i) {
    if (!valid_float(v[i], has, nodata)) continue;
    const uint32_t bits = std::bit_cast<uint32_t>(v[i]);
    const uint32_t e = (bits >> 23) & 0xff;
    const uint32_t shift = std::max(e, uint32_t{1}) - first;
    if (shift >= kWindowExponents) continue;
    const uint64_t m = (bits & ((uint32_t{1} << 23) - 1)) | (e != 0 ? uint32_t{1} << 23 : 0);
    const auto scaled = static_cast<int64_t>(m << shift);
    w.mantissas += (bits >> 31) != 0 ? -scaled : scaled;
    const uint64_t hi = m >> 12;
    const uint64_t lo = m & 0xfff;
    w.high += (hi * hi) << (2 * shift);
    w.middle += (hi * lo) << (2 * shift);
    w.low += (lo * lo) << (2 * shift);
  }
}

/// Four cells' terms (64-bit lanes) added to the sums: `m`, `shift`, `sign` (all ones for a
/// negative cell) and the three square terms as 32-bit lanes.
__attribute__((target("avx2"), always_inline)) inline void add_window_terms(
    __m128i m, __m128i shift, __m128i sign, __m128i high, __m128i middle, __m128i low,
    __m256i& sums, __m256i& highs, __m256i& middles, __m256i& lows) {
  const __m256i s = _mm256_cvtepu32_epi64(shift);
  const __m256i s2 = _mm256_add_epi64(s, s);
  const __m256i negative = _mm256_cvtepi32_epi64(sign);
  const __m256i scaled = _mm256_sllv_epi64(_mm256_cvtepu32_epi64(m), s);
  sums = _mm256_add_epi64(sums, _mm256_sub_epi64(_mm256_xor_si256(scaled, negative), negative));
  highs = _mm256_add_epi64(highs, _mm256_sllv_epi64(_mm256_cvtepu32_epi64(high), s2));
  middles = _mm256_add_epi64(middles, _mm256_sllv_epi64(_mm256_cvtepu32_epi64(middle), s2));
  lows = _mm256_add_epi64(lows, _mm256_sllv_epi64(_mm256_cvtepu32_epi64(low), s2));
}

__attribute__((target("avx2"))) inline void sum_window_avx2(WindowSums& w, const float* v,
                                                            int64_t n, bool has, float nodata,
                                                            uint32_t first) {
  const __m256i fraction = _mm256_set1_epi32((1 << 23) - 1);
  const __m256i implicit = _mm256_set1_epi32(1 << 23);
  const __m256i byte = _mm256_set1_epi32(0xff);
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i twelve_bits = _mm256_set1_epi32(0xfff);
  const __m256i start = _mm256_set1_epi32(static_cast<int32_t>(first));
  const __m256i last_shift = _mm256_set1_epi32(kWindowExponents - 1);
  const __m256 nd = _mm256_set1_ps(nodata);
  __m256i sums = _mm256_setzero_si256();
  __m256i highs = _mm256_setzero_si256();
  __m256i middles = _mm256_setzero_si256();
  __m256i lows = _mm256_setzero_si256();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(v + i);
    const __m256 ok = valid_lanes(x, has, nd);
    const __m256i bits = _mm256_castps_si256(x);
    const __m256i e = _mm256_and_si256(_mm256_srli_epi32(bits, 23), byte);
    const __m256i shift = _mm256_sub_epi32(_mm256_max_epu32(e, one), start);
    // In the window: the shift, unsigned, at most the last one.
    const __m256i inside = _mm256_cmpeq_epi32(_mm256_min_epu32(shift, last_shift), shift);
    const __m256i whole =
        _mm256_andnot_si256(_mm256_cmpeq_epi32(e, _mm256_setzero_si256()), implicit);
    const __m256i m = _mm256_and_si256(_mm256_or_si256(_mm256_and_si256(bits, fraction), whole),
                                       _mm256_and_si256(_mm256_castps_si256(ok), inside));
    const __m256i kept_shift = _mm256_and_si256(shift, inside);
    const __m256i sign = _mm256_srai_epi32(bits, 31);
    const __m256i hi = _mm256_srli_epi32(m, 12);
    const __m256i lo = _mm256_and_si256(m, twelve_bits);
    const __m256i high = _mm256_mullo_epi32(hi, hi);
    const __m256i middle = _mm256_mullo_epi32(hi, lo);
    const __m256i low = _mm256_mullo_epi32(lo, lo);
    add_window_terms(_mm256_castsi256_si128(m), _mm256_castsi256_si128(kept_shift),
                     _mm256_castsi256_si128(sign), _mm256_castsi256_si128(high),
                     _mm256_castsi256_si128(middle), _mm256_castsi256_si128(low), sums, highs,
                     middles, lows);
    add_window_terms(_mm256_extracti128_si256(m, 1), _mm256_extracti128_si256(kept_shift, 1),
                     _mm256_extracti128_si256(sign, 1), _mm256_extracti128_si256(high, 1),
                     _mm256_extracti128_si256(middle, 1), _mm256_extracti128_si256(low, 1), sums,
                     highs, middles, lows);
  }
  const auto s = lanes_of<int64_t>(sums);
  const auto h = lanes_of<uint64_t>(highs);
  const auto mid = lanes_of<uint64_t>(middles);
  const auto l = lanes_of<uint64_t>(lows);
  for (size_t j = 0; j < 4; ++j) {
    w.mantissas += s[j];
    w.high += h[j];
    w.middle += mid[j];
    w.low += l[j];
  }
  sum_window(w, v + i, n - i, has, nodata, first);
}

/// Blocks whose valid cells span more exponents than this many windows are summed cell by cell.
constexpr uint32_t kMostWindows = 4;

/// When the valid cells of the scanned block `b` (of the `n` cells at v) span at most
/// kMostWindows windows of exponents: add(first, sums) for each window with cells, and true.
/// Otherwise nothing, and false.
template <class Add>
bool sum_by_windows(const FloatBlock& b, const float* v, int64_t n, bool has, float nodata,
                    const Add& add) {
  if (b.valid == 0 || b.low_exponent > b.high_exponent) return true;  // nothing, or zeros
  const uint32_t least = std::max(b.low_exponent, uint32_t{1});
  const uint32_t greatest = std::max(b.high_exponent, uint32_t{1});
  if (greatest - least >= kMostWindows * kWindowExponents) return false;
  for (uint32_t first = least; first <= greatest; first += kWindowExponents) {
    WindowSums w;
    have_avx2() ? sum_window_avx2(w, v, n, has, nodata, first)
                : sum_window(w, v, n, has, nodata, first);
    if (w.high != 0 || w.middle != 0 || w.low != 0) add(first, w);
  }
  return true;
}

}  // namespace tessera::stats::detail
