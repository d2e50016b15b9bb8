// The hidden files a run makes beside a file (temporaries, journals, stage rasters, kept tiles):
// named after it, and short enough for every legal file name.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tessera {

/// The most bytes a suffix after hidden_stem() may take (".resume-" or ".scratch-rR.tmp-" and
/// an id of up to 19 digits, with room): the stem and such a suffix fit a file name.
inline constexpr size_t hidden_suffix_bytes = 44;

/// The most bytes of a file name on the file systems tessera writes to (ext4, XFS, tmpfs, NFS,
/// Lustre, GPFS): NAME_MAX.
inline constexpr size_t file_name_bytes = 255;

/// "." + `file_name` when that and a suffix of hidden_suffix_bytes fit a file name; otherwise
/// "." + the name's first bytes (whole UTF-8 characters) + "~" + 16 hex digits of a hash of the
/// whole name, the same length for every long name: a 250-byte output name gets a journal and
/// temporaries of its own, and two long names that start alike get different ones.
std::string hidden_stem(std::string_view file_name);

/// 16 hex digits of a hash (64-bit FNV-1a) of `text`: the same on every rank, node and run.
std::string name_hash(std::string_view text);

/// hidden_stem() of `path`'s file name + `suffix`, in `path`'s folder.
std::string hidden_beside(const std::string& path, std::string_view suffix);

}  // namespace tessera
