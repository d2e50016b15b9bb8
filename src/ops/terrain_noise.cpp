// Fractal value noise from a counter-based hash: octaves on power-of-two lattices, quintic fade.
#include "tessera/ops/terrain_noise.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "tessera/core/error.hpp"

namespace tessera::ops {

namespace {

/// SplitMix64's finaliser: a bijective mix of 64 bits.
uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// Quintic fade 6t^5 - 15t^4 + 10t^3: zero first and second derivatives at lattice points.
double fade(double t) { return t * t * t * (t * (t * 6 - 15) + 10); }

double lerp(double a, double b, double t) { return a + (b - a) * t; }

/// The amplitudes of every octave, divided by their sum so the noise stays in [-1, 1].
std::vector<double> octave_weights(const TerrainParams& p) {
  std::vector<double> weights;
  double sum = 0;
  for (int o = 0; o < p.octaves; ++o) {
    weights.push_back(std::pow(p.persistence, o));
    sum += weights.back();
  }
  for (double& w : weights) w /= sum;
  return weights;
}

/// The lattice cell holding coordinate `c` at spacing 2^shift, and the fade of its offset in it.
struct Axis {
  int64_t cell;
  double t;
};

Axis axis(int64_t c, int shift) {
  const int64_t cell = c >> shift;  // arithmetic shift: floor division, negatives included
  const auto offset = static_cast<double>(c - (cell << shift));
  return {cell, fade(offset / static_cast<double>(int64_t{1} << shift))};
}

/// One octave's value at (x, y), in [-1, 1]: along y first, then x, as add_octave_row().
double octave_value(uint64_t seed, int octave, int shift, int64_t x, int64_t y) {
  const Axis ax = axis(x, shift);
  const Axis ay = axis(y, shift);
  const double left = lerp(lattice_value(seed, octave, ax.cell, ay.cell),
                           lattice_value(seed, octave, ax.cell, ay.cell + 1), ay.t);
  const double right = lerp(lattice_value(seed, octave, ax.cell + 1, ay.cell),
                            lattice_value(seed, octave, ax.cell + 1, ay.cell + 1), ay.t);
  return lerp(left, right, ax.t);
}

/// Adds `weight` x one octave's values along a row to `noise`, one lattice cell at a time: the
/// lattice values are hashed once per lattice cell and the loop over its cells vectorises.
void add_octave_row(const TerrainParams& p, int octave, double weight, int64_t x0, int64_t y,
                    std::span<double> noise) {
  const int shift = p.coarse_shift - octave;
  const int64_t spacing = int64_t{1} << shift;
  const double inverse = 1.0 / static_cast<double>(spacing);  // exact: a power of two
  const Axis ay = axis(y, shift);
  const auto n = static_cast<int64_t>(noise.size());
  if (n == 0) return;
  // The row's lattice columns, interpolated along y, hashed in one independent loop: each
  // lattice point is hashed once, and the hashes overlap in the pipeline.
  const int64_t first_cell = x0 >> shift;
  const int64_t columns = ((x0 + n - 1) >> shift) - first_cell + 2;
  thread_local std::vector<double> column;
  column.resize(static_cast<size_t>(columns));
  for (int64_t c = 0; c < columns; ++c)
    column[static_cast<size_t>(c)] =
        lerp(lattice_value(p.seed, octave, first_cell + c, ay.cell),
             lattice_value(p.seed, octave, first_cell + c, ay.cell + 1), ay.t);
  for (int64_t i = 0; i < n;) {
    const int64_t cell = (x0 + i) >> shift;
    const int64_t first = (x0 + i) - (cell << shift);
    const int64_t run = std::min(spacing - first, n - i);
    const double left = column[static_cast<size_t>(cell - first_cell)];
    const double right = column[static_cast<size_t>(cell - first_cell + 1)];
    double* out = noise.data() + i;
    // Offsets within a lattice cell fit 32 bits (spacing <= 2^30): int32 to double vectorises.
    const auto offset = static_cast<int32_t>(first);
    const auto count = static_cast<int32_t>(run);
    for (int32_t k = 0; k < count; ++k)
      out[k] += weight * lerp(left, right, fade(static_cast<double>(offset + k) * inverse));
    i += run;
  }
}

}  // namespace

double lattice_value(uint64_t seed, int octave, int64_t ix, int64_t iy) {
  // The key depends on (seed, octave) only; odd multipliers spread ix and iy over all 64 bits
  // before the final mix, so neighbouring lattice points get unrelated values.
  const uint64_t key = mix(seed ^ (0x9e3779b97f4a7c15ULL * (static_cast<uint64_t>(octave) + 1)));
  const uint64_t h = mix(key ^ (static_cast<uint64_t>(ix) * 0xd1b54a32d192ed03ULL) ^
                         (static_cast<uint64_t>(iy) * 0xaef17502108ef2d9ULL));
  constexpr double two_to_minus_52 = 1.0 / 4503599627370496.0;
  return static_cast<double>(h >> 11) * two_to_minus_52 - 1.0;
}

double terrain_noise(const TerrainParams& p, int64_t x, int64_t y) {
  const std::vector<double> weights = octave_weights(p);
  double sum = 0;
  for (int o = 0; o < p.octaves; ++o)
    sum += weights[static_cast<size_t>(o)] * octave_value(p.seed, o, p.coarse_shift - o, x, y);
  return sum;
}

void terrain_row(const TerrainParams& p, int64_t x0, int64_t y, std::span<double> out) {
  std::fill(out.begin(), out.end(), 0.0);
  const std::vector<double> weights = octave_weights(p);
  for (int o = 0; o < p.octaves; ++o)
    add_octave_row(p, o, weights[static_cast<size_t>(o)], x0, y, out);
  const double half_range = (p.zmax - p.zmin) / 2;
  for (double& v : out) v = p.zmin + half_range * (v + 1.0);
}

void check(const TerrainParams& p) {
  if (p.coarse_shift < 1 || p.coarse_shift > 30)
    throw Error("generate: the coarsest lattice must be 2 to 2^30 cells wide");
  if (p.octaves < 1 || p.octaves > p.coarse_shift)
    throw Error("generate: octaves must be 1 to " + std::to_string(p.coarse_shift));
  if (!(p.persistence > 0 && p.persistence <= 1))
    throw Error("generate: persistence must be in (0, 1]");
  if (!(p.zmin < p.zmax)) throw Error("generate: the lowest height must be below the highest");
}

}  // namespace tessera::ops
