// How an [[output]] table's path and compression keys become GeoTIFF creation options.
#pragma once

#include <string>
#include <vector>

#include "tessera/core/output_spec.hpp"
#include "toml_read.hpp"

namespace tessera::job::detail {

/// The output's path as written; fails unless it ends in .tif, .tiff, .h5 or .hdf5 (any case).
std::string output_path(const TomlReader& toml, const toml::node& node, const std::string& what);

/// NAME=VALUE creation options from compress, predictor, level and co, in that order; fails at
/// the key that is wrong (an unknown compression, a level without zstd or deflate, a co item
/// that repeats what a key sets or that parse_creation_options rejects). For HDF5 outputs only
/// compress (none or deflate) and level (1 to 9) are allowed.
std::vector<std::string> creation_options(const TomlReader& toml, const toml::table& table,
                                          OutputFormat format, const std::string& what);

}  // namespace tessera::job::detail
