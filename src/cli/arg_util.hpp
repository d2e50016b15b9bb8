// Pieces the gdaldem- and gdal_calc.py-style command lines share.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::cli {

/// Whether two texts are equal ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b);

/// `text` as a number; throws tessera::UsageError ("-z expects a number, got 'x'") otherwise.
double parse_number(std::string_view flag, const std::string& text);

/// The tile size that BLOCKXSIZE / BLOCKYSIZE ask for among NAME=VALUE creation options
/// (given with `flag`, "-co" or "--co"), or nullopt; throws UsageError when the two differ.
std::optional<int64_t> block_size(const std::vector<std::string>& creation_options,
                                  std::string_view flag);

}  // namespace tessera::cli
