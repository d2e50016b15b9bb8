// Deterministic fractal terrain: every cell's height is a pure function of (seed, x, y).
#pragma once

#include <cstdint>
#include <span>

namespace tessera::ops {

/// Parameters of the fractal: octaves of value noise on power-of-two lattices, the coarsest
/// with a spacing of 2^coarse_shift cells, each next one half as wide and `persistence` as tall.
struct TerrainParams {
  uint64_t seed = 42;
  int coarse_shift = 11;     ///< the coarsest lattice spacing is 2^coarse_shift cells (2048)
  int octaves = 9;           ///< at most coarse_shift: the finest lattice spacing is >= 2 cells
  double persistence = 0.5;  ///< amplitude ratio of one octave to the one before
  double zmin = 0;           ///< the height noise -1 maps to
  double zmax = 2000;        ///< the height noise +1 maps to
};

/// A uniform value in [-1, 1] for lattice point (ix, iy) of octave `octave`: a counter-based hash,
/// no state, the same on every machine.
double lattice_value(uint64_t seed, int octave, int64_t ix, int64_t iy);

/// The fractal noise at cell (x, y), in [-1, 1]: continuous across cells (C2 smooth at every
/// octave's lattice), independent of how the raster is cut into tiles.
double terrain_noise(const TerrainParams& p, int64_t x, int64_t y);

/// Heights of cells (x0 .. x0 + out.size() - 1, y): zmin + (zmax - zmin) * (noise + 1) / 2,
/// identical to terrain_noise() cell by cell, at a fraction of its cost (lattice values are
/// hashed once per lattice cell, not once per cell).
void terrain_row(const TerrainParams& p, int64_t x0, int64_t y, std::span<double> out);

/// Throws tessera::Error when the parameters are out of range (octaves 1..coarse_shift,
/// coarse_shift 1..30, persistence in (0, 1], zmin < zmax).
void check(const TerrainParams& p);

}  // namespace tessera::ops
