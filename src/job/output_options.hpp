// How an [[output]] table's path and compression keys become GeoTIFF creation options.
#pragma once

#include <string>
#include <vector>

#include "tessera/core/output_spec.hpp"
#include "toml_read.hpp"

namespace tessera::job::detail {

/// The output's path as written; fails unless it ends in .tif, .tiff, .h5 or .hdf5 (any case).
std::string output_path(const TomlReader& toml, const toml::node& node, const std::string& what);

/// `format`: "gtiff" or "cog" for a .tif path, "hdf5" for a .h5 one; `by_path` is the one the
/// path's extension says.
OutputFormat output_format(const TomlReader& toml, const toml::node& node, OutputFormat by_path,
                           const std::string& what);

/// `overviews`: an array of the factors 2, 4, 8, ... in order (overview_count_of()).
std::vector<int64_t> overview_factors(const TomlReader& toml, const toml::node& node,
                                      const std::string& what);

/// NAME=VALUE creation options from compress, predictor, level, resampling and co, in that
/// order (a COG's as the COG driver names them: LEVEL, OVERVIEW_RESAMPLING); fails at
/// the key that is wrong (an unknown compression, a level without zstd or deflate, a co item
/// that repeats what a key sets or that parse_creation_options rejects). For HDF5 outputs only
/// compress (none or deflate) and level (1 to 9) are allowed.
std::vector<std::string> creation_options(const TomlReader& toml, const toml::table& table,
                                          OutputFormat format, const std::string& what);

}  // namespace tessera::job::detail
