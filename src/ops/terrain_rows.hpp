// Pieces shared by the terrain ops' AVX2 rows: a window's differences eight cells at a time,
// formed in the cell type T exactly as gdaldem's scalar code forms them, and the loop that runs
// a row eight cells at a time and recomputes, through the scalar algorithm, the lanes a vector
// pass could not be sure of.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "simd_avx2.hpp"
#include "tessera/ops/gradient.hpp"

namespace tessera::ops::terrain {

/// The nine cells of the window centred on column c of rows r0, r1, r2.
template <class T>
struct Window9 {
  T w[9];
  Window9(const T* r0, const T* r1, const T* r2, int64_t c)
      : w{r0[c - 1], r0[c], r0[c + 1], r1[c - 1], r1[c], r1[c + 1], r2[c - 1], r2[c], r2[c + 1]} {}
};

/// Cells this thread's vector passes left to an exact fallback (the scalar algorithm, or for
/// the default hillshade the double pass), counted for tests/bench/count_fallbacks.cpp.
inline thread_local int64_t fallback_cells = 0;

/// Recomputes with the scalar `alg` the lanes set in `lanes` (bit k: cell x + k) into to[k].
template <class T, class Alg>
void recompute_lanes(const Alg& alg, int lanes, const T* r0, const T* r1, const T* r2, int64_t x,
                     float* to) {
  fallback_cells += __builtin_popcount(static_cast<unsigned>(lanes));
  for (int lane = 0; lanes; ++lane, lanes >>= 1)
    if (lanes & 1) to[lane] = alg(Window9<T>(r0, r1, r2, x + lane).w);
}

/// Cells [x0, x1) of a row: eight(x, to) for each whole eight where the CPU has AVX2 (it writes
/// to[0..8) for cells x..x+7), then alg for the rest; out[0] is cell x0.
template <class T, class Alg, class Eight>
void row_by_eights(const Alg& alg, const T* r0, const T* r1, const T* r2, int64_t x0, int64_t x1,
                   float* out, const Eight& eight) {
  int64_t x = x0;
#if defined(TESSERA_HAVE_AVX2_PATHS)
  if (simd::have_avx2())
    for (; x + 8 <= x1; x += 8) eight(x, out + (x - x0));
#else
  (void)eight;
#endif
  for (; x < x1; ++x) out[x - x0] = alg(Window9<T>(r0, r1, r2, x).w);
}

/// A group of eight cells a vector pass was unsure of: its first column and the lanes.
struct UnsureLanes {
  int64_t x;
  int lanes;
};

#if defined(TESSERA_HAVE_AVX2_PATHS)
/// The vector loop of row_by_checked_eights, compiled for AVX2 and FMA so that eight (compiled
/// for them too) is inlined into it: eight(x, to) for each whole eight of [x0, x1), to being
/// out + (x - x0); the groups with unsure lanes are listed in unsure[0..n) without a branch.
/// Returns n. Only passes whose results are checked may be inlined here: the compiler may fuse
/// their multiplies and adds.
template <class Eight>
__attribute__((target("avx2,fma"), flatten)) size_t checked_eights(int64_t x0, int64_t x1,
                                                                   float* out, UnsureLanes* unsure,
                                                                   const Eight& eight) {
  size_t n = 0;
  for (int64_t x = x0; x + 8 <= x1; x += 8) {
    const int lanes = eight(x, out + (x - x0));
    unsure[n] = {x, lanes};
    n += lanes != 0;
  }
  return n;
}
#endif

/// Cells [x0, x1) of a row as row_by_eights, where eight(x, to) (compiled for AVX2 and FMA)
/// also returns the lanes it could not be sure of (bit k: cell x + k). Those are recomputed by
/// the scalar alg, compiled without FMA, after the row's whole vector pass: a branch per eight
/// on the pass's own results would be mispredicted whenever a group falls back and throw away
/// the vector work in flight behind it.
template <class T, class Alg, class Eight>
void row_by_checked_eights(const Alg& alg, const T* r0, const T* r1, const T* r2, int64_t x0,
                           int64_t x1, float* out, const Eight& eight) {
  int64_t x = x0;
#if defined(TESSERA_HAVE_AVX2_PATHS)
  if (simd::have_avx2()) {
    thread_local std::vector<UnsureLanes> unsure;
    unsure.resize(static_cast<size_t>((x1 - x0) / 8 + 1));
    const size_t n = checked_eights(x0, x1, out, unsure.data(), eight);
    x = x0 + (x1 - x0) / 8 * 8;
    for (size_t k = 0; k < n; ++k)
      recompute_lanes(alg, unsure[k].lanes, r0, r1, r2, unsure[k].x, out + (unsure[k].x - x0));
  }
#else
  (void)eight;
#endif
  for (; x < x1; ++x) out[x - x0] = alg(Window9<T>(r0, r1, r2, x).w);
}

#if defined(TESSERA_HAVE_AVX2_PATHS)
/// The vector loops of row_by_checked_eights_in_two: first(x, mid) for each whole eight of
/// [x0, x1) into mids[(x - x0) / 8], each of middle(x, mid), then second(x, mid, to), listing
/// the groups with unsure lanes as checked_eights does. Returns their number.
template <class Mid, class First, class Second, class... Middle>
__attribute__((target("avx2,fma"), flatten)) size_t checked_eights_in_two(
    int64_t x0, int64_t x1, float* out, UnsureLanes* unsure, Mid* mids, const First& first,
    const Second& second, const Middle&... middle) {
  // Local copies: stores into mids cannot reach them, so what the passes captured stays in
  // registers rather than being loaded again, or recomputed, for every eight.
  const First first_pass = first;
  const Second last_pass = second;
  for (int64_t x = x0; x + 8 <= x1; x += 8) first_pass(x, mids[(x - x0) / 8]);
  (
      [&] {
        for (int64_t x = x0; x + 8 <= x1; x += 8) middle(x, mids[(x - x0) / 8]);
      }(),
      ...);
  size_t n = 0;
  for (int64_t x = x0; x + 8 <= x1; x += 8) {
    const int lanes = last_pass(x, mids[(x - x0) / 8], out + (x - x0));
    unsure[n] = {x, lanes};
    n += lanes != 0;
  }
  return n;
}
#endif

/// row_by_checked_eights with the vector pass split in two loops over the row, first(x, mid)
/// then second(x, mid, to) (both compiled for AVX2 and FMA; second returns the unsure lanes),
/// or more: each of `middle` (x, mid) in a loop of its own between them,
/// through a row of Mid, plain arrays of eight cells' intermediate values. A pass whose chain
/// of dependent operations is long (square roots, divisions, polynomials one after the other)
/// waits on latency: the core holds only so many operations waiting for their inputs, a few
/// groups' worth. Two loops with half the chain each keep twice as many groups in flight.
template <class Mid, class T, class Alg, class First, class Second, class... Middle>
void row_by_checked_eights_in_two(const Alg& alg, const T* r0, const T* r1, const T* r2, int64_t x0,
                                  int64_t x1, float* out, const First& first, const Second& second,
                                  const Middle&... middle) {
  int64_t x = x0;
#if defined(TESSERA_HAVE_AVX2_PATHS)
  if (simd::have_avx2()) {
    thread_local std::vector<UnsureLanes> unsure;
    thread_local std::vector<Mid> mids;
    const auto groups = static_cast<size_t>((x1 - x0) / 8 + 1);
    unsure.resize(groups);
    mids.resize(groups);
    const size_t n =
        checked_eights_in_two(x0, x1, out, unsure.data(), mids.data(), first, second, middle...);
    x = x0 + (x1 - x0) / 8 * 8;
    for (size_t k = 0; k < n; ++k)
      recompute_lanes(alg, unsure[k].lanes, r0, r1, r2, unsure[k].x, out + (unsure[k].x - x0));
  }
#else
  (void)first;
  (void)second;
  ((void)middle, ...);
#endif
  for (; x < x1; ++x) out[x - x0] = alg(Window9<T>(r0, r1, r2, x).w);
}

#if defined(TESSERA_HAVE_AVX2_PATHS)
/// The nine cells of eight adjacent windows, loaded once.
template <class T>
struct Eight9 {
  decltype(simd::load8(static_cast<const T*>(nullptr), 0)) w[9];
  __attribute__((target("avx2"))) Eight9(const T* r0, const T* r1, const T* r2, int64_t x)
      : w{simd::load8(r0, x - 1), simd::load8(r0, x), simd::load8(r0, x + 1),
          simd::load8(r1, x - 1), simd::load8(r1, x), simd::load8(r1, x + 1),
          simd::load8(r2, x - 1), simd::load8(r2, x), simd::load8(r2, x + 1)} {}
};

/// Eight windows' x and y differences in T, as gdaldem's gradient (slope, hillshade) forms them
/// before scaling: Horn (z0 + 2 z3 + z6) - (z2 + 2 z5 + z8) and (z6 + 2 z7 + z8) - (z0 + 2 z1 +
/// z2), each sum left to right; Zevenbergen-Thorne z3 - z5 and z7 - z1. As doubles: d[0], d[1]
/// the x ones of cells x..x+3 and x+4..x+7, d[2], d[3] the y ones.
template <class T, Gradient G>
__attribute__((target("avx2"))) inline void gradient_differences(const T* r0, const T* r1,
                                                                 const T* r2, int64_t x,
                                                                 __m256d* d) {
  using simd::add, simd::load8, simd::sub;
  decltype(load8(r0, x)) dx, dy;
  if constexpr (G == Gradient::Horn) {
    const auto w0 = load8(r0, x - 1), w1 = load8(r0, x), w2 = load8(r0, x + 1);
    const auto w3 = load8(r1, x - 1), w5 = load8(r1, x + 1);
    const auto w6 = load8(r2, x - 1), w7 = load8(r2, x), w8 = load8(r2, x + 1);
    dx = sub(add(add(add(w0, w3), w3), w6), add(add(add(w2, w5), w5), w8));
    dy = sub(add(add(add(w6, w7), w7), w8), add(add(add(w0, w1), w1), w2));
  } else {
    dx = sub(load8(r1, x - 1), load8(r1, x + 1));
    dy = sub(load8(r2, x), load8(r0, x));
  }
  d[0] = simd::low_doubles(dx);
  d[1] = simd::high_doubles(dx);
  d[2] = simd::low_doubles(dy);
  d[3] = simd::high_doubles(dy);
}

/// The differences gdaldem's aspect (and -igor) forms, laid out as gradient_differences: Horn
/// (z2 + 2 z5 + z8) - (z0 + 2 z3 + z6) and (z6 + 2 z7 + z8) - (z0 + 2 z1 + z2); Zevenbergen-
/// Thorne z5 - z3 and z7 - z1.
template <class T, Gradient G>
__attribute__((target("avx2"))) inline void aspect_differences(const T* r0, const T* r1,
                                                               const T* r2, int64_t x, __m256d* d) {
  using simd::add, simd::load8, simd::sub;
  decltype(load8(r0, x)) dx, dy;
  if constexpr (G == Gradient::Horn) {
    const auto w0 = load8(r0, x - 1), w1 = load8(r0, x), w2 = load8(r0, x + 1);
    const auto w3 = load8(r1, x - 1), w5 = load8(r1, x + 1);
    const auto w6 = load8(r2, x - 1), w7 = load8(r2, x), w8 = load8(r2, x + 1);
    dx = sub(add(add(add(w2, w5), w5), w8), add(add(add(w0, w3), w3), w6));
    dy = sub(add(add(add(w6, w7), w7), w8), add(add(add(w0, w1), w1), w2));
  } else {
    dx = sub(load8(r1, x + 1), load8(r1, x - 1));
    dy = sub(load8(r2, x), load8(r0, x));
  }
  d[0] = simd::low_doubles(dx);
  d[1] = simd::high_doubles(dx);
  d[2] = simd::low_doubles(dy);
  d[3] = simd::high_doubles(dy);
}

/// gradient_differences' sums as eight floats (exact: float sums as they are, int32 ones under
/// 2^24).
template <class T, Gradient G>
__attribute__((target("avx2"))) inline void gradient_sums8(const T* r0, const T* r1, const T* r2,
                                                           int64_t x, __m256& gx, __m256& gy) {
  using simd::add, simd::load8, simd::sub;
  if constexpr (G == Gradient::Horn) {
    const auto w0 = load8(r0, x - 1), w1 = load8(r0, x), w2 = load8(r0, x + 1);
    const auto w3 = load8(r1, x - 1), w5 = load8(r1, x + 1);
    const auto w6 = load8(r2, x - 1), w7 = load8(r2, x), w8 = load8(r2, x + 1);
    gx = simd::to_floats(sub(add(add(add(w0, w3), w3), w6), add(add(add(w2, w5), w5), w8)));
    gy = simd::to_floats(sub(add(add(add(w6, w7), w7), w8), add(add(add(w0, w1), w1), w2)));
  } else {
    gx = simd::to_floats(sub(load8(r1, x - 1), load8(r1, x + 1)));
    gy = simd::to_floats(sub(load8(r2, x), load8(r0, x)));
  }
}

/// aspect_differences' sums as eight floats.
template <class T, Gradient G>
__attribute__((target("avx2"))) inline void aspect_sums8(const T* r0, const T* r1, const T* r2,
                                                         int64_t x, __m256& dx, __m256& dy) {
  using simd::add, simd::load8, simd::sub;
  if constexpr (G == Gradient::Horn) {
    const auto w0 = load8(r0, x - 1), w1 = load8(r0, x), w2 = load8(r0, x + 1);
    const auto w3 = load8(r1, x - 1), w5 = load8(r1, x + 1);
    const auto w6 = load8(r2, x - 1), w7 = load8(r2, x), w8 = load8(r2, x + 1);
    dx = simd::to_floats(sub(add(add(add(w2, w5), w5), w8), add(add(add(w0, w3), w3), w6)));
    dy = simd::to_floats(sub(add(add(add(w6, w7), w7), w8), add(add(add(w0, w1), w1), w2)));
  } else {
    dx = simd::to_floats(sub(load8(r1, x + 1), load8(r1, x - 1)));
    dy = simd::to_floats(sub(load8(r2, x), load8(r0, x)));
  }
}
#endif

}  // namespace tessera::ops::terrain
