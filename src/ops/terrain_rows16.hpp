// The terrain rows sixteen cells at a time on CPUs with AVX-512: the windows' differences formed
// in the cell type T exactly as gdaldem's scalar code forms them (as terrain_rows.hpp's eight-cell
// ones), and the loops that run a row by groups of sixteen and recompute, through the scalar
// algorithm, the lanes a vector pass could not be sure of.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "simd_avx512.hpp"
#include "terrain_rows.hpp"
#include "tessera/ops/gradient.hpp"

namespace tessera::ops::terrain {

#if defined(TESSERA_HAVE_AVX2_PATHS)

/// gradient_sums8 of sixteen windows: the x and y sums of gdaldem's gradient (slope, hillshade)
/// in T, as floats (exact: float sums as they are, int32 ones under 2^24).
template <class T, Gradient G>
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline void gradient_sums16(
    const T* r0, const T* r1, const T* r2, int64_t x, __m512& gx, __m512& gy) {
  using simd::add, simd::load16, simd::sub;
  if constexpr (G == Gradient::Horn) {
    const auto w0 = load16(r0, x - 1), w1 = load16(r0, x), w2 = load16(r0, x + 1);
    const auto w3 = load16(r1, x - 1), w5 = load16(r1, x + 1);
    const auto w6 = load16(r2, x - 1), w7 = load16(r2, x), w8 = load16(r2, x + 1);
    gx = simd::to_floats(sub(add(add(add(w0, w3), w3), w6), add(add(add(w2, w5), w5), w8)));
    gy = simd::to_floats(sub(add(add(add(w6, w7), w7), w8), add(add(add(w0, w1), w1), w2)));
  } else {
    gx = simd::to_floats(sub(load16(r1, x - 1), load16(r1, x + 1)));
    gy = simd::to_floats(sub(load16(r2, x), load16(r0, x)));
  }
}

/// aspect_sums8 of sixteen windows: the differences gdaldem's aspect (and -igor) forms, in T,
/// as floats.
template <class T, Gradient G>
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline void aspect_sums16(
    const T* r0, const T* r1, const T* r2, int64_t x, __m512& dx, __m512& dy) {
  using simd::add, simd::load16, simd::sub;
  if constexpr (G == Gradient::Horn) {
    const auto w0 = load16(r0, x - 1), w1 = load16(r0, x), w2 = load16(r0, x + 1);
    const auto w3 = load16(r1, x - 1), w5 = load16(r1, x + 1);
    const auto w6 = load16(r2, x - 1), w7 = load16(r2, x), w8 = load16(r2, x + 1);
    dx = simd::to_floats(sub(add(add(add(w2, w5), w5), w8), add(add(add(w0, w3), w3), w6)));
    dy = simd::to_floats(sub(add(add(add(w6, w7), w7), w8), add(add(add(w0, w1), w1), w2)));
  } else {
    dx = simd::to_floats(sub(load16(r1, x + 1), load16(r1, x - 1)));
    dy = simd::to_floats(sub(load16(r2, x), load16(r0, x)));
  }
}

/// gradient_differences of sixteen windows: the sums in T, as doubles (exact), d[0], d[1] the x
/// ones of cells x..x+7 and x+8..x+15, d[2], d[3] the y ones.
template <class T, Gradient G>
__attribute__((target(TESSERA_AVX512_TARGET), always_inline)) inline void gradient_differences16(
    const T* r0, const T* r1, const T* r2, int64_t x, __m512d* d) {
  using simd::add, simd::load16, simd::sub;
  decltype(load16(r0, x)) dx, dy;
  if constexpr (G == Gradient::Horn) {
    const auto w0 = load16(r0, x - 1), w1 = load16(r0, x), w2 = load16(r0, x + 1);
    const auto w3 = load16(r1, x - 1), w5 = load16(r1, x + 1);
    const auto w6 = load16(r2, x - 1), w7 = load16(r2, x), w8 = load16(r2, x + 1);
    dx = sub(add(add(add(w0, w3), w3), w6), add(add(add(w2, w5), w5), w8));
    dy = sub(add(add(add(w6, w7), w7), w8), add(add(add(w0, w1), w1), w2));
  } else {
    dx = sub(load16(r1, x - 1), load16(r1, x + 1));
    dy = sub(load16(r2, x), load16(r0, x));
  }
  d[0] = simd::low_doubles(dx);
  d[1] = simd::high_doubles(dx);
  d[2] = simd::low_doubles(dy);
  d[3] = simd::high_doubles(dy);
}

/// The groups of sixteen that cover cells [x0, x1) (x1 - x0 >= 16): group k starts at x0 + 16 k,
/// but the last one ends at x1, overlapping the group before it instead of leaving a tail for
/// the scalar algorithm. Its lanes over cells the group before computed are dropped from the
/// unsure ones (they would be recomputed twice).
struct Sixteens {
  int64_t x0, x1;
  int64_t count() const { return (x1 - x0 + 15) / 16; }
  int64_t start(int64_t k) const { return std::min(x0 + 16 * k, x1 - 16); }
  /// The lanes of group k no group before it holds.
  int fresh(int64_t k) const { return (0xFFFF << (x0 + 16 * k - start(k))) & 0xFFFF; }
};

/// The vector loop of row_by_checked_sixteens: sixteen(x, to) for each group of Sixteens, to
/// being out + (x - x0), returning its unsure lanes; the groups with unsure lanes are listed in
/// unsure[0..n) without a branch. Returns n.
template <class Sixteen>
__attribute__((target(TESSERA_AVX512_TARGET), flatten)) size_t checked_sixteens(
    int64_t x0, int64_t x1, float* out, UnsureLanes* unsure, const Sixteen& sixteen) {
  const Sixteens groups{x0, x1};
  const Sixteen pass = sixteen;
  size_t n = 0;
  for (int64_t k = 0; k < groups.count(); ++k) {
    const int64_t x = groups.start(k);
    const int lanes = pass(x, out + (x - x0)) & groups.fresh(k);
    unsure[n] = {x, lanes};
    n += lanes != 0;
  }
  return n;
}

/// The vector loops of row_by_checked_sixteens_in_two: first(x, mid) for each group into
/// mids[k], then second(mid, to), listing the groups with unsure lanes as checked_sixteens.
template <class Mid, class First, class Second>
__attribute__((target(TESSERA_AVX512_TARGET), flatten)) size_t checked_sixteens_in_two(
    int64_t x0, int64_t x1, float* out, UnsureLanes* unsure, Mid* mids, const First& first,
    const Second& second) {
  // Local copies: stores into mids cannot reach them (see checked_eights_in_two).
  const Sixteens groups{x0, x1};
  const First first_pass = first;
  const Second last_pass = second;
  for (int64_t k = 0; k < groups.count(); ++k) first_pass(groups.start(k), mids[k]);
  size_t n = 0;
  for (int64_t k = 0; k < groups.count(); ++k) {
    const int64_t x = groups.start(k);
    const int lanes = last_pass(mids[k], out + (x - x0)) & groups.fresh(k);
    unsure[n] = {x, lanes};
    n += lanes != 0;
  }
  return n;
}

/// The vector loop of row_by_sixteens: sixteen(x, out + (x - x0)) for each group of Sixteens.
template <class Sixteen>
__attribute__((target(TESSERA_AVX512_TARGET), flatten)) void exact_sixteens(
    int64_t x0, int64_t x1, float* out, const Sixteen& sixteen) {
  const Sixteens groups{x0, x1};
  const Sixteen pass = sixteen;
  for (int64_t k = 0; k < groups.count(); ++k) {
    const int64_t x = groups.start(k);
    pass(x, out + (x - x0));
  }
}

/// Cells [x0, x1) of a row whose vector passes repeat the scalar arithmetic operation for
/// operation (nothing to check): sixteen(x, to) for each group of sixteen where the CPU has
/// AVX-512 and the row holds sixteen cells (the last group overlapping the one before it, its
/// cells given the same values again), otherwise row_by_eights with eight. A sixteen-lane pass
/// compiled for AVX-512 may have its multiplies and adds fused by the compiler: it must write
/// those that gdaldem rounds apart with the explicitly rounded intrinsics (_mm512_*_round_*).
template <class T, class Alg, class Sixteen, class Eight>
void row_by_sixteens(const Alg& alg, const T* r0, const T* r1, const T* r2, int64_t x0, int64_t x1,
                     float* out, const Sixteen& sixteen, const Eight& eight) {
  if (simd::have_avx512() && x1 - x0 >= 16) return exact_sixteens(x0, x1, out, sixteen);
  row_by_eights(alg, r0, r1, r2, x0, x1, out, eight);
}

/// The nine cells of sixteen adjacent windows, loaded once.
template <class T>
struct Sixteen9 {
  decltype(simd::load16(static_cast<const T*>(nullptr), 0)) w[9];
  __attribute__((target(TESSERA_AVX512_TARGET), always_inline))
  Sixteen9(const T* r0, const T* r1, const T* r2, int64_t x)
      : w{simd::load16(r0, x - 1), simd::load16(r0, x), simd::load16(r0, x + 1),
          simd::load16(r1, x - 1), simd::load16(r1, x), simd::load16(r1, x + 1),
          simd::load16(r2, x - 1), simd::load16(r2, x), simd::load16(r2, x + 1)} {}
};

/// Recomputes with the scalar `alg` the n groups' unsure lanes of a row whose out[0] is x0.
template <class T, class Alg>
void recompute_unsure(const Alg& alg, const T* r0, const T* r1, const T* r2, int64_t x0, float* out,
                      const UnsureLanes* unsure, size_t n) {
  for (size_t k = 0; k < n; ++k)
    recompute_lanes(alg, unsure[k].lanes, r0, r1, r2, unsure[k].x, out + (unsure[k].x - x0));
}

/// Cells [x0, x1) of a row, x1 - x0 >= 16, on a CPU with AVX-512 (simd::have_avx512()):
/// sixteen(x, to) writes to[0..16) for cells x..x+15 and returns the lanes it could not be sure
/// of (bit k: cell x + k), which the scalar alg recomputes after the row's vector pass.
template <class T, class Alg, class Sixteen>
void row_by_checked_sixteens(const Alg& alg, const T* r0, const T* r1, const T* r2, int64_t x0,
                             int64_t x1, float* out, const Sixteen& sixteen) {
  thread_local std::vector<UnsureLanes> unsure;
  unsure.resize(static_cast<size_t>(Sixteens{x0, x1}.count()));
  const size_t n = checked_sixteens(x0, x1, out, unsure.data(), sixteen);
  recompute_unsure(alg, r0, r1, r2, x0, out, unsure.data(), n);
}

/// row_by_checked_sixteens with the vector pass split in two loops over the row (as
/// row_by_checked_eights_in_two): first(x, mid) into a row of Mid, then second(mid, to), which
/// returns the unsure lanes.
template <class Mid, class T, class Alg, class First, class Second>
void row_by_checked_sixteens_in_two(const Alg& alg, const T* r0, const T* r1, const T* r2,
                                    int64_t x0, int64_t x1, float* out, const First& first,
                                    const Second& second) {
  thread_local std::vector<UnsureLanes> unsure;
  thread_local std::vector<Mid> mids;
  const auto groups = static_cast<size_t>(Sixteens{x0, x1}.count());
  unsure.resize(groups);
  mids.resize(groups);
  const size_t n = checked_sixteens_in_two(x0, x1, out, unsure.data(), mids.data(), first, second);
  recompute_unsure(alg, r0, r1, r2, x0, out, unsure.data(), n);
}

#endif

}  // namespace tessera::ops::terrain
