// The vector float-to-Byte conversion against the scalar one (GDALCopyWords' rounding and
// clamping) on the values where they could part: halves, the clamps, NaN and infinities.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "terrain_sinks.hpp"

namespace tessera::ops::terrain {
namespace {

TEST(ToBytes, EqualsToByteOnEdgeValuesAndRandomFloats) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> values = {
      -inf,   -1.0f,  -0.5f,  -0.0f,      0.0f,   0.49999997f,   0.5f,
      1.5f,   2.5f,   127.5f, 128.49998f, 128.5f, 254.49998f,    254.5f,
      255.0f, 255.5f, 256.0f, 1e30f,      inf,    std::nanf(""), -std::nanf("")};
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> any(-10.0f, 270.0f);
  for (int k = 0; k < 100003; ++k) values.push_back(any(rng));
  for (int k = 0; k <= 255 * 4; ++k) values.push_back(0.25f * static_cast<float>(k));
  std::vector<uint8_t> out(values.size());
  to_bytes(values.data(), out.data(), static_cast<int64_t>(values.size()));
  for (size_t k = 0; k < values.size(); ++k)
    ASSERT_EQ(out[k], to_byte(values[k])) << "value " << values[k] << " at " << k;
  EXPECT_EQ(to_byte(std::nanf("")), 0);
  EXPECT_EQ(to_byte(254.5f), 255);
  EXPECT_EQ(to_byte(128.49998f), 128);
}

}  // namespace
}  // namespace tessera::ops::terrain
