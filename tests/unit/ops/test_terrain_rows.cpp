// The vector rows of slope, aspect and hillshade against gdaldem's scalar arithmetic: slope and
// aspect with the C library's atan and atan2 and hillshade's float pass, equal bit for bit (byte
// for byte) on millions of random windows; and the vector atan and its float checks on their own.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "hillshade_rows.hpp"
#include "raster_fixture.hpp"
#include "simd_avx2.hpp"
#include "simd_avx512.hpp"
#include "terrain_math.hpp"
#include "terrain_sinks.hpp"
#include "terrain_window.hpp"
#include "tessera/ops/op.hpp"

namespace tessera::ops {
namespace {

using testing::Raster;
using testing::run_tiled;

constexpr double kRadiansToDegrees = 180.0 / 3.14159265358979323846;

/// gdaldem's slope of one window, written out here as the reference.
template <class T>
float reference(const T* w, bool horn, bool degrees, double ewres, double nsres, double scale) {
  double dx, dy;
  if (horn) {
    dx = ((w[0] + w[3] + w[3] + w[6]) - (w[2] + w[5] + w[5] + w[8])) / ewres;
    dy = ((w[6] + w[7] + w[7] + w[8]) - (w[0] + w[1] + w[1] + w[2])) / nsres;
  } else {
    dx = (w[3] - w[5]) / ewres;
    dy = (w[7] - w[1]) / nsres;
  }
  const double key = dx * dx + dy * dy;
  const double span = horn ? 8 : 2;
  if (degrees)
    return static_cast<float>(std::atan(std::sqrt(key) / (span * scale)) * kRadiansToDegrees);
  return static_cast<float>(100 * (std::sqrt(key) / (span * scale)));
}

/// Rows of noise whose amplitude changes from row to row over many orders of magnitude, so the
/// slopes cover 0 to 90 degrees densely.
template <class T>
Raster<T> rough_terrain(int64_t width, int64_t height, uint32_t seed) {
  Raster<T> r;
  r.width = width;
  r.height = height;
  r.cells.resize(static_cast<size_t>(width * height));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int64_t y = 0; y < height; ++y) {
    const double amplitude = std::is_integral_v<T> ? 1 + 3000 * unit(rng) * unit(rng)
                                                   : std::pow(10.0, -3 + 7 * unit(rng));
    const double base = 1000 * unit(rng);
    for (int64_t x = 0; x < width; ++x) r.at(x, y) = static_cast<T>(base + amplitude * unit(rng));
  }
  return r;
}

/// Inner cells of `r` whose `got` differs in any bit from `reference` of their 3 x 3 window.
template <class T, class Reference>
int64_t differing_from(const Raster<T>& r, const std::vector<float>& got, Reference reference) {
  int64_t differing = 0;
  for (int64_t y = 1; y + 1 < r.height; ++y)
    for (int64_t x = 1; x + 1 < r.width; ++x) {
      const T* above = &r.cells[static_cast<size_t>((y - 1) * r.width + x)];
      const T* at = above + r.width;
      const T* below = at + r.width;
      const T w[9] = {above[-1], above[0],  above[1], at[-1],  at[0],
                      at[1],     below[-1], below[0], below[1]};
      const float want = reference(w);
      const float have = got[static_cast<size_t>(y * r.width + x)];
      differing += std::memcmp(&want, &have, sizeof want) != 0;
    }
  return differing;
}

template <class T>
void expect_equal_to_reference(const Raster<T>& r, bool horn, bool degrees, double scale) {
  Options options{{"alg", std::string(horn ? "Horn" : "ZevenbergenThorne")},
                  {"units", std::string(degrees ? "degrees" : "percent")},
                  {"scale", scale}};
  const auto op = make_op("slope", options);
  const auto got = run_tiled<T, float>(*op, r, 256, 256).at(0);
  const int64_t differing = differing_from(
      r, got, [&](const T* w) { return reference(w, horn, degrees, r.ewres, r.nsres, scale); });
  EXPECT_EQ(differing, 0) << (horn ? "Horn " : "ZT ") << (degrees ? "degrees" : "percent");
}

/// Runs `check` with the AVX-512 passes where this CPU has them, then with the AVX2 ones.
template <class Check>
void on_both_paths(const Check& check) {
  for (const bool wide : {true, false}) {
    if (wide && !simd::have_avx512()) continue;  // this CPU runs the AVX2 (or scalar) path only
    simd::allow_avx512(wide);
    SCOPED_TRACE(wide ? "AVX-512" : "AVX2");
    check();
  }
  simd::allow_avx512(true);
}

TEST(SlopeRows, FloatDemEqualsTheScalarFormulaBitForBit) {
  on_both_paths([] {
    auto r = rough_terrain<float>(1031, 1000, 7);
    r.ewres = 30.0;
    r.nsres = -30.0;
    for (const bool horn : {true, false})
      for (const bool degrees : {true, false}) expect_equal_to_reference(r, horn, degrees, 1.0);
    r.ewres = 0.00027777777777778;  // degrees in x/y with -s 111120
    r.nsres = -0.00027777777777778;
    expect_equal_to_reference(r, true, true, 111120.0);
    expect_equal_to_reference(r, true, true, -111120.0);  // negative slopes: the scalar path
  });
}

TEST(SlopeRows, IntegerDemEqualsTheScalarFormulaBitForBit) {
  on_both_paths([] {
    const auto r = rough_terrain<int32_t>(777, 700, 11);
    for (const bool horn : {true, false})
      for (const bool degrees : {true, false}) expect_equal_to_reference(r, horn, degrees, 1.0);
  });
}

/// gdaldem's TRI (Riley, Wilson), TPI and roughness of one window, written out here.
template <class T>
float focal_reference(const std::string& mode, const T* w) {
  if (mode == "TRI") {
    double sum = 0;
    for (int k = 0; k < 9; ++k)
      if (k != 4)
        sum = k == 0 ? double(w[0] - w[4]) * double(w[0] - w[4])
                     : sum + double(w[k] - w[4]) * double(w[k] - w[4]);
    return static_cast<float>(std::sqrt(sum));
  }
  if (mode == "TRI-Wilson") {
    T sum = 0;
    for (int k = 0; k < 9; ++k)
      if (k != 4) sum += w[k] - w[4] < 0 ? T(w[4] - w[k]) : T(w[k] - w[4]);
    return sum * 0.125f;
  }
  if (mode == "TPI")
    return w[4] - ((w[0] + w[1] + w[2] + w[3] + w[5] + w[6] + w[7] + w[8]) * 0.125f);
  T lo = w[0], hi = w[0];
  for (int k = 1; k < 9; ++k) {
    if (w[k] > hi) hi = w[k];
    if (w[k] < lo) lo = w[k];
  }
  return static_cast<float>(hi - lo);
}

/// TRI, TPI and roughness tile by tile (rows of 254 to 256 inner cells: whole groups of
/// sixteen and overlapping last ones) against focal_reference, bit for bit.
template <class T>
void expect_focal_of_reference(const Raster<T>& r) {
  for (const std::string mode : {"TRI", "TRI-Wilson", "TPI", "roughness"}) {
    const bool wilson = mode == "TRI-Wilson";
    const auto op = make_op(wilson ? "TRI" : mode,
                            wilson ? Options{{"alg", std::string("Wilson")}} : Options{});
    const auto got = run_tiled<T, float>(*op, r, 256, 64).at(0);
    EXPECT_EQ(differing_from(r, got, [&](const T* w) { return focal_reference(mode, w); }), 0)
        << mode;
  }
}

TEST(FocalRows, TriTpiAndRoughnessEqualTheScalarFormulaBitForBit) {
  on_both_paths([] {
    expect_focal_of_reference(rough_terrain<float>(1031, 130, 31));
    expect_focal_of_reference(rough_terrain<int32_t>(777, 130, 37));
  });
}

/// gdaldem's aspect of one window (GDALAspectAlg, Horn, or ZevenbergenThorne), the reference.
template <class T>
float aspect_reference(const T* w, bool horn, bool azimuth, float flat) {
  double dx, dy;
  if (horn) {
    dx = ((w[2] + w[5] + w[5] + w[8]) - (w[0] + w[3] + w[3] + w[6]));
    dy = ((w[6] + w[7] + w[7] + w[8]) - (w[0] + w[1] + w[1] + w[2]));
  } else {
    dx = w[5] - w[3];
    dy = w[7] - w[1];
  }
  float a = static_cast<float>(std::atan2(dy, -dx) / (3.14159265358979323846 / 180.0));
  if (dx == 0 && dy == 0)
    a = flat;
  else if (azimuth)
    a = a > 90.0f ? 450.0f - a : 90.0f - a;
  else if (a < 0)
    a += 360.0f;
  return a == 360.0f ? 0.0f : a;
}

template <class T>
void expect_aspect_of_reference(const Raster<T>& r, bool horn, bool azimuth, bool zero_for_flat) {
  Options options{{"alg", std::string(horn ? "Horn" : "ZevenbergenThorne")},
                  {"trigonometric", !azimuth},
                  {"zero_for_flat", zero_for_flat}};
  const auto op = make_op("aspect", options);
  const auto got = run_tiled<T, float>(*op, r, 256, 256).at(0);
  const int64_t differing = differing_from(r, got, [&](const T* w) {
    return aspect_reference(w, horn, azimuth, zero_for_flat ? 0.0f : -9999.0f);
  });
  EXPECT_EQ(differing, 0) << (horn ? "Horn" : "ZT") << (azimuth ? "" : " -trigonometric")
                          << (zero_for_flat ? " -zero_for_flat" : "");
}

/// Rough terrain with flat patches and cells of equal height on a row or a column, so that the
/// aspect's every octant, axis and flat case occurs.
template <class T>
Raster<T> aspect_terrain(int64_t width, int64_t height, uint32_t seed) {
  Raster<T> r = rough_terrain<T>(width, height, seed);
  std::mt19937 rng(seed + 1);
  std::uniform_int_distribution<int> pick(0, 9);
  for (int64_t y = 1; y < height; ++y)
    for (int64_t x = 1; x < width; ++x) {
      const int k = pick(rng);
      if (k == 0) r.at(x, y) = r.at(x - 1, y);
      if (k == 1) r.at(x, y) = r.at(x, y - 1);
    }
  for (int64_t y = 100; y < 140; ++y)
    for (int64_t x = 200; x < 260; ++x) r.at(x, y) = static_cast<T>(500);
  return r;
}

TEST(AspectRows, EqualToTheScalarFormulaBitForBitInEveryFlagMix) {
  const auto floats = aspect_terrain<float>(1031, 600, 13);
  const auto ints = aspect_terrain<int32_t>(777, 400, 17);
  on_both_paths([&] {
    for (const bool horn : {true, false})
      for (const bool azimuth : {true, false})
        for (const bool zero_for_flat : {false, true}) {
          expect_aspect_of_reference(floats, horn, azimuth, zero_for_flat);
          expect_aspect_of_reference(ints, horn, azimuth, zero_for_flat);
        }
  });
}

/// gdaldem's -combined (GDALHillshadeCombinedAlg) or -igor (GDALHillshadeIgorAlg) shade of one
/// window at the default azimuth, altitude, z and scale, as the float gdaldem converts to Byte.
template <class T>
float shade_reference(const T* w, bool horn, bool igor, double ewres, double nsres) {
  constexpr double pi = 3.14159265358979323846, to_radians = pi / 180;
  const double az = 315 * to_radians, alt = 45 * to_radians;
  const double z_scaled = 1.0 / (horn ? 8 : 2);
  double x, y, dx, dy;
  if (horn) {
    x = ((w[0] + w[3] + w[3] + w[6]) - (w[2] + w[5] + w[5] + w[8])) * (1 / ewres);
    y = ((w[6] + w[7] + w[7] + w[8]) - (w[0] + w[1] + w[1] + w[2])) * (1 / nsres);
    dx = ((w[2] + w[5] + w[5] + w[8]) - (w[0] + w[3] + w[3] + w[6]));
    dy = ((w[6] + w[7] + w[7] + w[8]) - (w[0] + w[1] + w[1] + w[2]));
  } else {
    x = (w[3] - w[5]) * (1 / ewres);
    y = (w[7] - w[1]) * (1 / nsres);
    dx = w[5] - w[3];
    dy = w[7] - w[1];
  }
  if (igor) {
    const double slope_degrees = std::atan(std::sqrt(x * x + y * y) * z_scaled) / to_radians;
    const auto normalize = [](double a, double n) {
      a = std::fmod(a, n);
      return a < 0 ? n + a : a;
    };
    const double aspect = normalize(std::atan2(dy, -dx), 2 * pi);
    double diff = std::abs(aspect - normalize(3 * pi / 2 - az, 2 * pi));
    if (diff > pi) diff = 2 * pi - diff;
    return static_cast<float>(255.0 * (1.0 - slope_degrees / 90 * (1 - diff / pi)));
  }
  const double cos_alt_z = std::cos(alt) * z_scaled;
  const double slope = (x * x + y * y) * (z_scaled * z_scaled);
  double cang = std::acos(terrain::approx_a_div_sqrt_b(
      std::sin(alt) - (y * (std::cos(az) * cos_alt_z) - x * (std::sin(az) * cos_alt_z)),
      1 + slope));
  cang = 1 - cang * std::atan(std::sqrt(slope)) * (1.0 / ((pi * pi) / 4));
  return cang <= 0.0 ? 1.0f : static_cast<float>(1.0 + (254.0 * cang));
}

/// The bytes of hillshade -combined or -igor over `r`'s inner cells that differ from
/// shade_reference's, tiles 256 cells wide (rows of 254 to 256 inner cells: whole groups and
/// overlapping last ones) and one tile as wide as `r`.
template <class T>
int64_t shade_style_differences(const Raster<T>& r, bool horn, bool igor) {
  const Options options{{"alg", std::string(horn ? "Horn" : "ZevenbergenThorne")},
                        {igor ? "igor" : "combined", true}};
  const auto op = make_op("hillshade", options);
  int64_t differing = 0;
  for (const int64_t tile : {int64_t{256}, r.width}) {
    const auto got = run_tiled<T, uint8_t>(*op, r, tile, 64).at(0);
    for (int64_t y = 1; y + 1 < r.height; ++y)
      for (int64_t x = 1; x + 1 < r.width; ++x) {
        const T* above = &r.cells[static_cast<size_t>((y - 1) * r.width + x)];
        const T* at = above + r.width;
        const T* below = at + r.width;
        const T w[9] = {above[-1], above[0],  above[1], at[-1],  at[0],
                        at[1],     below[-1], below[0], below[1]};
        const uint8_t want = terrain::to_byte(shade_reference(w, horn, igor, r.ewres, r.nsres));
        differing += got[static_cast<size_t>(y * r.width + x)] != want;
      }
  }
  return differing;
}

TEST(HillshadeRows, CombinedAndIgorEqualTheScalarFormulaWithAndWithoutAvx512) {
  const auto floats = rough_terrain<float>(1031, 130, 21);
  const auto ints = rough_terrain<int32_t>(777, 130, 23);
  const bool avx512 = simd::have_avx512();
  for (const bool wide : {true, false}) {
    if (wide && !avx512) continue;  // this CPU runs the AVX2 (or scalar) path only
    simd::allow_avx512(wide);
    for (const bool horn : {true, false})
      for (const bool igor : {false, true}) {
        EXPECT_EQ(shade_style_differences(floats, horn, igor), 0)
            << (igor ? "-igor" : "-combined") << (horn ? "" : " ZT") << (wide ? " AVX-512" : "");
        EXPECT_EQ(shade_style_differences(ints, horn, igor), 0)
            << "int " << (igor ? "-igor" : "-combined") << (horn ? "" : " ZT")
            << (wide ? " AVX-512" : "");
      }
  }
  simd::allow_avx512(true);
}

/// The hillshade bytes of `options` over `r`, tiles 256 cells wide and one as wide as `r`.
template <class T>
std::vector<uint8_t> shade_bytes(const Raster<T>& r, const Options& options) {
  const auto op = make_op("hillshade", options);
  auto bytes = run_tiled<T, uint8_t>(*op, r, 256, 64).at(0);
  const auto whole = run_tiled<T, uint8_t>(*op, r, r.width, 64).at(0);
  bytes.insert(bytes.end(), whole.begin(), whole.end());
  return bytes;
}

TEST(HillshadeRows, EveryExactStyleGivesTheSameBytesOnAvx512AsOnAvx2) {
  if (!simd::have_avx512()) GTEST_SKIP() << "no AVX-512 on this CPU";
  auto floats = rough_terrain<float>(1031, 130, 41);
  const auto ints = rough_terrain<int32_t>(777, 130, 43);
  const std::vector<Options> styles = {
      {},
      {{"alg", std::string("ZevenbergenThorne")}},
      {{"multidirectional", true}},
      {{"multidirectional", true}, {"alg", std::string("ZevenbergenThorne")}},
      {{"z", 3.0}, {"azimuth", 100.0}, {"altitude", 20.0}},
  };
  for (const bool square : {true, false}) {
    floats.nsres = square ? -floats.ewres : -0.7 * floats.ewres;  // not square: Single's path
    for (const auto& options : styles) {
      simd::allow_avx512(false);
      const auto narrow_f = shade_bytes(floats, options);
      const auto narrow_i = shade_bytes(ints, options);
      simd::allow_avx512(true);
      EXPECT_EQ(shade_bytes(floats, options), narrow_f) << options.size() << " square " << square;
      EXPECT_EQ(shade_bytes(ints, options), narrow_i) << options.size();
    }
  }
}

/// flag_row (eight cells at a time where the CPU has AVX2) against Grid::is_nodata, gdaldem's
/// test, cell by cell.
template <class T>
void expect_flags_of_is_nodata(const terrain::Grid<T>& g, const std::vector<T>& row) {
  std::vector<uint8_t> flags(row.size(), 7);
  terrain::flag_row(g, row.data(), 0, static_cast<int64_t>(row.size()), flags.data());
  for (size_t k = 0; k < row.size(); ++k)
    ASSERT_EQ(flags[k], g.is_nodata(row[k]) ? 1 : 0)
        << "cell " << k << " = " << row[k] << " with nodata " << g.nodata;
}

TEST(FlagRows, EveryNodataTestEqualsGdaldemsCellByCell) {
  const float inf = std::numeric_limits<float>::infinity();
  for (const float nd : {-9999.0f, 0.0f, 3.4028234663852886e38f, -32768.0f, 1e-30f}) {
    terrain::Grid<float> g;
    g.has_nodata = true;
    g.nodata = nd;
    std::vector<float> row;
    for (const float scale : {1.0f, 1.0f + 1e-7f, 1.0f - 1e-7f, 1.0f + 2.4e-7f, 1.0f + 5e-7f,
                              1.0f + 1e-6f, 1.0f - 1e-6f, -1.0f, 0.5f})
      row.push_back(nd * scale);
    for (const float v : {std::nextafter(nd, inf), std::nextafter(nd, -inf), 0.0f, -0.0f, inf, -inf,
                          std::nanf(""), 1.0f, -1.0f, 1e-45f})
      row.push_back(v);
    std::mt19937 rng(nd == 0 ? 1 : 2);
    std::uniform_real_distribution<float> near(0.9999995f, 1.0000005f);
    for (int k = 0; k < 1000; ++k) row.push_back(nd * near(rng));
    expect_flags_of_is_nodata(g, row);
  }
  terrain::Grid<float> nan;
  nan.has_nodata = nan.nodata_nan = true;
  nan.nodata = std::nanf("");
  expect_flags_of_is_nodata(nan, std::vector<float>{1.0f, std::nanf(""), -std::nanf(""), 0.0f, inf,
                                                    -inf, 3.0f, std::nanf(""), 5.0f, 6.0f, 7.0f});
  terrain::Grid<int32_t> ints;
  ints.has_nodata = true;
  ints.nodata = -32768;
  std::vector<int32_t> values;
  for (int k = 0; k < 1003; ++k) values.push_back(k % 3 == 0 ? -32768 : k - 40000);
  expect_flags_of_is_nodata(ints, values);
}

#if defined(TESSERA_HAVE_AVX2_PATHS)
/// Hillshade's AVX2 row, or with `wide` its AVX-512 one (float pass, double where unsure),
/// against SquareShade::cell, gdaldem's double arithmetic, for every interior cell of `r`;
/// returns how many bytes differ.
template <class T>
int64_t shade_differences(const Raster<T>& r, const terrain::SquareShade& s, bool wide) {
  std::vector<float> values(static_cast<size_t>(r.width));
  std::vector<uint8_t> bytes(values.size());
  int64_t differing = 0;
  for (int64_t y = 1; y + 1 < r.height; ++y) {
    const T* rows[3] = {&r.cells[static_cast<size_t>((y - 1) * r.width)],
                        &r.cells[static_cast<size_t>(y * r.width)],
                        &r.cells[static_cast<size_t>((y + 1) * r.width)]};
    const int64_t end = wide ? terrain::square_row_avx512(s, rows, 1, r.width - 1, values.data())
                             : terrain::square_row_avx2(s, rows, 1, 1, r.width - 1, values.data());
    terrain::to_bytes(values.data(), bytes.data(), end - 1);
    for (int64_t x = 1; x < end; ++x) {
      const T* a = rows[0] + x;
      const T* b = rows[1] + x;
      const T* c = rows[2] + x;
      const uint8_t want =
          terrain::to_byte(s.cell(a[-1], a[0], a[1], b[-1], b[1], c[-1], c[0], c[1]));
      differing += bytes[static_cast<size_t>(x - 1)] != want;
    }
  }
  return differing;
}

/// gdaldem's coefficients for z, azimuth and altitude in degrees and square cells of `res`.
terrain::SquareShade square_shade(double z, double azimuth, double altitude, double res) {
  const double az = azimuth * 3.14159265358979323846 / 180,
               alt = altitude * 3.14159265358979323846 / 180;
  const double zf = z / (8 * res);
  return {254 * std::sin(alt), 254 * std::sin(az) * std::cos(alt) * zf,
          254 * std::cos(az) * std::cos(alt) * zf, zf * zf};
}

TEST(HillshadeRows, FloatPassGivesTheBytesOfTheDoubleArithmetic) {
  if (!simd::have_avx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  const auto floats = rough_terrain<float>(1031, 700, 5);
  const auto ints = rough_terrain<int32_t>(777, 500, 9);
  for (const bool wide : {false, true}) {
    if (wide && !simd::have_avx512()) continue;  // the AVX2 path only on this CPU
    for (const double z : {1.0, 0.25, 7.0})
      for (const double azimuth : {315.0, 0.0, 123.0})
        for (const double altitude : {45.0, 5.0, 89.0})
          for (const double res : {30.0, 0.5}) {
            const auto s = square_shade(z, azimuth, altitude, res);
            EXPECT_EQ(shade_differences(floats, s, wide), 0)
                << "float z " << z << " az " << azimuth << " alt " << altitude << " res " << res
                << (wide ? " AVX-512" : "");
            EXPECT_EQ(shade_differences(ints, s, wide), 0)
                << "int z " << z << " az " << azimuth << " alt " << altitude << " res " << res
                << (wide ? " AVX-512" : "");
          }
  }
}

TEST(SimdAtan, FloatCheckFlagsValuesNearARoundingBoundaryAndNan) {
  if (!simd::have_avx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  // Halfway between two floats, a hair above it, well clear of it, and NaN.
  const double halfway =
      (static_cast<double>(1.0f) + static_cast<double>(std::nextafter(1.0f, 2.0f))) / 2;
  double v[4] = {halfway, halfway * (1 + 1e-15), 45.25, NAN};
  float f[4];
  const int unsure = simd::to_float_checked(v, f);
  EXPECT_EQ(unsure, 0b1011);
  EXPECT_EQ(f[2], 45.25f);
}

TEST(SimdNear, AtanInDegreesWithinTheBoundTheFloatCheckAssumes) {
  if (!simd::have_avx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> exponent(-60.0, 60.0);
  double worst = 0;
  for (int i = 0; i < 400000; ++i) {
    double gs[4], got[4];
    for (double& g : gs) g = std::pow(2.0, i % 2 ? exponent(rng) : exponent(rng) / 20);
    if (i == 0) gs[0] = 0.0, gs[1] = 0.41421356237309504880, gs[2] = 2.41421356237309504880;
    if (i == 1) gs[0] = 1.0, gs[1] = 0.4142135623730951, gs[2] = 2.4142135623730954;
    simd::atan_degrees_near(gs, got);
    for (int k = 0; k < 4; ++k) {
      const double want = std::atan(gs[k]) * kRadiansToDegrees;
      if (want != 0)
        worst = std::max(worst, std::abs(got[k] - want) / want);
      else
        EXPECT_EQ(got[k], 0.0);
    }
  }
  // The square root and the division add a unit in the last place or two: far inside 2^-40.
  EXPECT_LT(worst, 0x1p-44);
}

TEST(SimdNear, FloatCheckFlagsValuesWithinItsBandOfARoundingBoundary) {
  if (!simd::have_avx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  const double halfway =
      (static_cast<double>(1.0f) + static_cast<double>(std::nextafter(1.0f, 2.0f))) / 2;
  double v[4] = {halfway, halfway * (1 + 0x1p-42), halfway * (1 + 0x1p-38), 45.25};
  float f[4];
  EXPECT_EQ(simd::to_float_near(v, f), 0b1100);
  EXPECT_EQ(f[3], 45.25f);
  double w[4] = {-halfway * (1 - 0x1p-42), -halfway * (1 - 0x1p-38), 0.0, 180.0 - 1e-13};
  EXPECT_EQ(simd::to_float_near(w, f), 0b1110);
  EXPECT_EQ(f[3], 180.0f);
}

TEST(SimdFloat, Atan2AndAcosWithinTheirStatedBounds) {
  if (!simd::have_avx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  double worst_atan2 = 0, worst_acos = 0;
  for (int i = 0; i < 100000; ++i) {
    float ys[8], xs[8], as[8], got[8], got_acos[8];
    for (int k = 0; k < 8; ++k) {
      ys[k] = unit(rng) * std::pow(10.0f, 3 * unit(rng));
      xs[k] = unit(rng) * std::pow(10.0f, 3 * unit(rng));
      as[k] = unit(rng);
    }
    simd::atan2_8(ys, xs, got);
    simd::acos8(as, got_acos);
    for (int k = 0; k < 8; ++k) {
      worst_atan2 =
          std::max(worst_atan2, std::abs(got[k] - std::atan2(double(ys[k]), double(xs[k]))));
      worst_acos = std::max(worst_acos, std::abs(got_acos[k] - std::acos(double(as[k]))));
    }
  }
  EXPECT_LT(worst_atan2, 4e-7);  // hillshade.cpp's error budget for -igor
  EXPECT_LT(worst_acos, 4e-7);   // and for -combined
  float beyond[8] = {1.0001f, -1.0001f, 1.0f, -1.0f, 0.0f, 0.5f, -0.5f, NAN}, out[8];
  simd::acos8(beyond, out);
  EXPECT_TRUE(std::isnan(out[0]) && std::isnan(out[1]) && std::isnan(out[7]));
  EXPECT_EQ(out[2], 0.0f);
  EXPECT_NEAR(out[3], 3.14159265f, 1e-6);
}

TEST(SimdFloat, SixteenLanesGiveTheEightLanesResults) {
  if (!simd::have_avx512()) GTEST_SKIP() << "no AVX-512 on this CPU";
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  int differing = 0;
  for (int i = 0; i < 20000; ++i) {
    float ys[16], xs[16], as[16], eight[16], sixteen[16];
    for (int k = 0; k < 16; ++k) {
      ys[k] = unit(rng) * std::pow(10.0f, 3 * unit(rng));
      xs[k] =
          i % 7 == 0 && k < 4 ? (k % 2 ? -0.0f : 0.0f) : unit(rng) * std::pow(10.0f, 3 * unit(rng));
      as[k] = i % 5 == 0 ? 1.001f * unit(rng) : unit(rng);
    }
    simd::atan2_8(ys, xs, eight);
    simd::atan2_8(ys + 8, xs + 8, eight + 8);
    simd::atan2_16(ys, xs, sixteen);
    differing += std::memcmp(eight, sixteen, sizeof eight) != 0;
    simd::acos8(as, eight);
    simd::acos8(as + 8, eight + 8);
    simd::acos16(as, sixteen);
    differing += std::memcmp(eight, sixteen, sizeof eight) != 0;
    const int sure8 = simd::bytes_sure8(eight, 0x1p-10f) | simd::bytes_sure8(eight + 8, 0x1p-10f)
                                                               << 8;
    EXPECT_EQ(simd::bytes_sure16(eight, 0x1p-10f), sure8);
  }
  EXPECT_EQ(differing, 0);
  float x[16] = {0.0f,  0.3f, 0.41421356f, 0.5f,  1.0f, 2.4142135f, 3.0f, 1e6f,
                 1e30f, NAN,  1e-30f,      0.75f, 2.0f, 10.0f,      0.1f, 100.0f};
  float got[16];
  simd::atan_nonnegative16(x, got);
  for (int k = 0; k < 16; ++k)
    if (std::isnan(x[k]))
      EXPECT_TRUE(std::isnan(got[k]));
    else
      EXPECT_NEAR(got[k], std::atan(double(x[k])), 2e-7 * std::atan(double(x[k])) + 1e-38) << x[k];
}

// The per-lane slack of -combined's AVX-512 pass: each lane checked against its own slack, a
// NaN slack never sure.
__attribute__((target(TESSERA_AVX512_TARGET))) int bytes_sure_per_lane(const float* v,
                                                                       const float* slack) {
  return simd::bytes_sure16(_mm512_loadu_ps(v), _mm512_loadu_ps(slack));
}

TEST(SimdFloat, BytesSureTakesASlackPerLane) {
  if (!simd::have_avx512()) GTEST_SKIP() << "no AVX-512 on this CPU";
  // 7.495 lies 0.005 from the boundary at 7.5: sure with slack 2^-8, not with 2^-7; 0.4 (below
  // 1) and 300 (above 255) are sure with a slack under their distance, not over it.
  const float v[16] = {7.495f, 7.495f, 0.4f, 0.4f, 300.0f, 300.0f, 7.2f, 7.2f,
                       7.495f, 7.495f, 0.4f, 0.4f, 300.0f, 300.0f, 7.2f, 7.2f};
  const float slack[16] = {0x1p-8f, 0x1p-7f, 0.05f, 0.2f, 40.0f, 50.0f, 0.2f, NAN,
                           0x1p-8f, 0x1p-7f, 0.05f, 0.2f, 40.0f, 50.0f, 0.2f, NAN};
  EXPECT_EQ(bytes_sure_per_lane(v, slack), 0b0101010101010101);
  float same[16];
  std::fill(same, same + 16, 0x1p-7f);
  EXPECT_EQ(bytes_sure_per_lane(v, same), simd::bytes_sure16(v, 0x1p-7f));
}

TEST(SimdFloat, BytesSureFlagsValuesNearARoundingBoundaryAndNan) {
  if (!simd::have_avx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  // 7.5 and 7.495 lie within 2^-7 of the boundary at 8, 254.5 and 0.499 of 255 and 1; 7.2, 300
  // and -5 (clamped) are far from any; NaN is never sure.
  const float v[8] = {7.5f, 7.495f, 7.2f, 300.0f, -5.0f, NAN, 254.5f, 0.499f};
  const int sure = simd::bytes_sure8(v, 0x1p-7f);
  EXPECT_EQ(sure, 0b00011100);
}
#endif

}  // namespace
}  // namespace tessera::ops
