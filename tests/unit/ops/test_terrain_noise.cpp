// The fractal terrain noise: determinism, range, continuity, and rows equal to single cells.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "tessera/core/error.hpp"
#include "tessera/ops/terrain_noise.hpp"

namespace tessera::ops {
namespace {

TerrainParams small_params(uint64_t seed) {
  TerrainParams p;
  p.seed = seed;
  p.coarse_shift = 6;
  p.octaves = 5;
  p.zmin = -100;
  p.zmax = 900;
  return p;
}

TEST(TerrainNoise, LatticeValuesAreDeterministicAndSpreadOverMinusOneToOne) {
  double lowest = 1;
  double highest = -1;
  double sum = 0;
  for (int64_t i = -500; i < 500; ++i) {
    const double v = lattice_value(7, 3, i, 2 * i + 1);
    EXPECT_EQ(v, lattice_value(7, 3, i, 2 * i + 1));
    lowest = std::min(lowest, v);
    highest = std::max(highest, v);
    sum += v;
  }
  EXPECT_GE(lowest, -1.0);
  EXPECT_LE(highest, 1.0);
  EXPECT_LT(lowest, -0.9);
  EXPECT_GT(highest, 0.9);
  EXPECT_NEAR(sum / 1000, 0.0, 0.1);
}

TEST(TerrainNoise, SeedOctaveAndCoordinatesEachChangeTheValue) {
  const double v = lattice_value(1, 0, 5, 9);
  EXPECT_NE(v, lattice_value(2, 0, 5, 9));
  EXPECT_NE(v, lattice_value(1, 1, 5, 9));
  EXPECT_NE(v, lattice_value(1, 0, 9, 5));
  EXPECT_NE(v, lattice_value(1, 0, 5, 10));
}

TEST(TerrainNoise, StaysWithinMinusOneToOneAndTheHeightRange) {
  const TerrainParams p = small_params(42);
  std::vector<double> row(300);
  for (int64_t y = -150; y < 150; y += 7) {
    terrain_row(p, -150, y, row);
    for (double h : row) {
      EXPECT_GE(h, p.zmin);
      EXPECT_LE(h, p.zmax);
    }
    for (int64_t x = -150; x < 150; x += 13) {
      const double n = terrain_noise(p, x, y);
      EXPECT_GE(n, -1.0);
      EXPECT_LE(n, 1.0);
    }
  }
}

TEST(TerrainNoise, RowsEqualSingleCellsWhereverTheRowStarts) {
  const TerrainParams p = small_params(3);
  std::vector<double> whole(257);
  std::vector<double> part(61);
  for (int64_t y : {-65, 0, 63, 64, 200}) {
    terrain_row(p, -64, y, whole);
    terrain_row(p, 37, y, part);
    for (size_t i = 0; i < part.size(); ++i) EXPECT_EQ(part[i], whole[i + 101]);
    const double half = (p.zmax - p.zmin) / 2;
    for (size_t i = 0; i < whole.size(); i += 5) {
      const double n = terrain_noise(p, -64 + static_cast<int64_t>(i), y);
      EXPECT_EQ(whole[i], p.zmin + half * (n + 1.0));
    }
  }
}

/// The steepest step one cell can make: each octave moves at most 2 (its range) times the
/// fade's steepest slope (15/8) over its lattice spacing, weighted as in the sum.
double steepest_step(const TerrainParams& p) {
  double weights = 0;
  for (int o = 0; o < p.octaves; ++o) weights += std::pow(p.persistence, o);
  double bound = 0;
  for (int o = 0; o < p.octaves; ++o)
    bound += std::pow(p.persistence, o) / weights * 2 * 1.875 / std::ldexp(1.0, p.coarse_shift - o);
  return bound;
}

TEST(TerrainNoise, NeighbouringCellsDifferByLessThanTheSlopeBound) {
  const TerrainParams p = small_params(11);
  const double bound = steepest_step(p);
  double largest = 0;
  for (int64_t y = -100; y < 100; ++y)
    for (int64_t x = -100; x < 100; ++x) {
      const double n = terrain_noise(p, x, y);
      largest = std::max(largest, std::abs(terrain_noise(p, x + 1, y) - n));
      largest = std::max(largest, std::abs(terrain_noise(p, x, y + 1) - n));
    }
  EXPECT_LE(largest, bound);
  EXPECT_GT(largest, bound / 20);  // not flat
}

TEST(TerrainNoise, DifferentSeedsGiveDifferentTerrain) {
  std::vector<double> a(64);
  std::vector<double> b(64);
  terrain_row(small_params(1), 0, 10, a);
  terrain_row(small_params(2), 0, 10, b);
  EXPECT_NE(a, b);
}

TEST(TerrainNoise, RejectsParametersOutOfRange) {
  TerrainParams p;
  EXPECT_NO_THROW(check(p));
  p.octaves = p.coarse_shift + 1;
  EXPECT_THROW(check(p), Error);
  p = TerrainParams{};
  p.persistence = 0;
  EXPECT_THROW(check(p), Error);
  p = TerrainParams{};
  p.zmax = p.zmin;
  EXPECT_THROW(check(p), Error);
}

}  // namespace
}  // namespace tessera::ops
