// Pieces the gdaldem- and gdal_calc.py-style command lines share.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/job/job_spec.hpp"

namespace tessera::cli {

/// Whether two texts are equal ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b);

/// `text` as a number; throws tessera::UsageError ("-z expects a number, got 'x'") otherwise.
double parse_number(std::string_view flag, const std::string& text);

/// Sets run.tile to the size BLOCKXSIZE / BLOCKYSIZE ask for among NAME=VALUE creation options
/// (given with `flag`, "-co" or "--co"), its place to that flag; throws UsageError when the two
/// differ.
void set_block_size(job::RunSpec& run, const std::vector<std::string>& creation_options,
                    std::string_view flag);

}  // namespace tessera::cli
