// Pieces of job files the job's and the plan's tests put together.
#pragma once

#include <string>
#include <string_view>

namespace tessera::test {

inline constexpr std::string_view kInput = R"([input.dem]
path = "dem.tif"
)";

inline constexpr std::string_view kSlopeStep = R"(
[[step]]
id = "slope"
op = "slope"
in = "dem"
)";

inline constexpr std::string_view kOutput = R"(
[[output]]
from = "slope"
path = "out/slope.tif"
)";

/// The three pieces, one after the other.
inline std::string job(std::string_view input, std::string_view step, std::string_view output) {
  return std::string(input) + std::string(step) + std::string(output);
}

}  // namespace tessera::test
