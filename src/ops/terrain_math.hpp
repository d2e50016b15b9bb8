// Arithmetic pieces gdaldem shares between its terrain algorithms, reproduced operation by
// operation.
#pragma once

#include <cmath>

#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

#include "tessera/ops/gradient.hpp"

namespace tessera::ops::terrain {

inline constexpr double kPi = 3.14159265358979323846;
inline constexpr double kDegreesToRadians = kPi / 180.0;
inline constexpr double kRadiansToDegrees = 180.0 / kPi;

/// a / sqrt(b) the way gdaldem computes it on x86-64: the SSE reciprocal square root estimate
/// of float(b), refined by one Newton-Raphson step in double.
inline double approx_a_div_sqrt_b(double a, double b) {
#if defined(__SSE2__)
  const float estimate = _mm_cvtss_f32(_mm_rsqrt_ss(_mm_set_ss(static_cast<float>(b))));
  double r = estimate;
  r = r * (1.5 - (b * 0.5) * (r * r));
  return a * r;
#else
  return a / std::sqrt(b);
#endif
}

/// gdaldem's gradient: sums in the window's type T, then scaled by the inverse resolutions.
template <class T, Gradient G>
inline void gradient(const T* w, double inv_ewres, double inv_nsres, double& x, double& y) {
  if constexpr (G == Gradient::Horn) {
    x = ((w[0] + w[3] + w[3] + w[6]) - (w[2] + w[5] + w[5] + w[8])) * inv_ewres;
    y = ((w[6] + w[7] + w[7] + w[8]) - (w[0] + w[1] + w[1] + w[2])) * inv_nsres;
  } else {
    x = (w[3] - w[5]) * inv_ewres;
    y = (w[7] - w[1]) * inv_nsres;
  }
}

/// The unscaled east and south differences gdaldem's aspect uses.
template <class T, Gradient G>
inline void aspect_differences(const T* w, double& dx, double& dy) {
  if constexpr (G == Gradient::Horn) {
    dx = ((w[2] + w[5] + w[5] + w[8]) - (w[0] + w[3] + w[3] + w[6]));
    dy = ((w[6] + w[7] + w[7] + w[8]) - (w[0] + w[1] + w[1] + w[2]));
  } else {
    dx = w[5] - w[3];
    dy = w[7] - w[1];
  }
}

}  // namespace tessera::ops::terrain
