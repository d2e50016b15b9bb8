// GDAL's dataset names that are not plain file paths: virtual file systems ("/vsizip/a.zip/x.tif")
// and driver prefixes ("NETCDF:\"out.h5\":slope", "GTIFF_DIR:2:x.tif"), told apart from plain
// paths, and their files resolved against a folder.
#pragma once

#include <string>
#include <string_view>

namespace tessera {

/// Whether `name` is one of GDAL's special dataset names rather than a plain file path: it starts
/// with "/vsi" or with a driver prefix, two or more letters, digits or underscores and a ':'
/// ("NETCDF:", "HDF5:", "GTIFF_DIR:"). Such a name is GDAL's to open; a plain file whose name
/// looks like one is written "./ab:c.tif".
bool is_gdal_dataset_name(std::string_view name);

/// `name` with the file it names resolved against `base_dir` when that file is relative; `name`
/// itself when it is absolute. Inside GDAL's names only the file is resolved, where the name's
/// form says which part it is: the quoted file of DRIVER:"FILE"... (NETCDF, HDF5 and the rest),
/// the FILE of GTIFF_DIR:N:FILE, and the archive of /vsizip/, /vsigzip/, /vsitar/, /vsi7z/ and
/// /vsirar/ followed by a relative path. Other GDAL names (/vsicurl/, /vsis3/, unquoted driver
/// names) are returned as written, for GDAL to resolve against the working directory.
std::string resolve_dataset_name(const std::string& base_dir, const std::string& name);

}  // namespace tessera
