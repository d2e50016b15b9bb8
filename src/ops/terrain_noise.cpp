// Fractal value noise from a counter-based hash: octaves on power-of-two lattices, quintic fade.
#include "tessera/ops/terrain_noise.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

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
double octave_weight(const TerrainParams& p, int octave) {
  double sum = 0;
  for (int o = 0; o < p.octaves; ++o) sum += std::pow(p.persistence, o);
  return std::pow(p.persistence, octave) / sum;
}

/// The lattice cell holding coordinate `c` at spacing 2^shift, and the fade of its offset in it.
struct Axis {
  int64_t cell;
  double t;
};

Axis axis(int64_t c, int shift) {
  const int64_t cell = c >> shift;  // arithmetic shift: floor division, negatives included
  const auto offset = static_cast<double>(c - (cell << shift));
  return {cell, fade(std::ldexp(offset, -shift))};
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

/// Adds `weight` x one octave's values along a row to `noise`, hashing each lattice cell once.
void add_octave_row(const TerrainParams& p, int octave, double weight, int64_t x0, int64_t y,
                    std::span<double> noise) {
  const int shift = p.coarse_shift - octave;
  const Axis ay = axis(y, shift);
  int64_t cell = std::numeric_limits<int64_t>::min();
  double left = 0;
  double right = 0;
  for (size_t i = 0; i < noise.size(); ++i) {
    const Axis ax = axis(x0 + static_cast<int64_t>(i), shift);
    if (ax.cell != cell) {
      cell = ax.cell;
      left = lerp(lattice_value(p.seed, octave, cell, ay.cell),
                  lattice_value(p.seed, octave, cell, ay.cell + 1), ay.t);
      right = lerp(lattice_value(p.seed, octave, cell + 1, ay.cell),
                   lattice_value(p.seed, octave, cell + 1, ay.cell + 1), ay.t);
    }
    noise[i] += weight * lerp(left, right, ax.t);
  }
}

}  // namespace

double lattice_value(uint64_t seed, int octave, int64_t ix, int64_t iy) {
  uint64_t h = mix(seed ^ 0x9e3779b97f4a7c15ULL);
  h = mix(h ^ static_cast<uint64_t>(octave));
  h = mix(h ^ static_cast<uint64_t>(ix));
  h = mix(h ^ static_cast<uint64_t>(iy));
  return std::ldexp(static_cast<double>(h >> 11), -52) - 1.0;
}

double terrain_noise(const TerrainParams& p, int64_t x, int64_t y) {
  double sum = 0;
  for (int o = 0; o < p.octaves; ++o)
    sum += octave_weight(p, o) * octave_value(p.seed, o, p.coarse_shift - o, x, y);
  return sum;
}

void terrain_row(const TerrainParams& p, int64_t x0, int64_t y, std::span<double> out) {
  std::fill(out.begin(), out.end(), 0.0);
  for (int o = 0; o < p.octaves; ++o) add_octave_row(p, o, octave_weight(p, o), x0, y, out);
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
