// A GeoTIFF's georeferencing keys read and written through libtiff, without PROJ.
#pragma once

#include <gdal.h>
#include <tiffio.h>

#include <string>

#include "gdal_util.hpp"
#include "tessera/core/geokeys.hpp"

namespace tessera::io::detail {

/// The keys of `path`'s first directory when GDAL takes dataset `ds`'s CRS from them alone: a
/// GTiff dataset with no side file (.aux.xml, world or .prj file) whose keys mark cells as areas,
/// as GDAL writes them (a point raster's half-cell shift is left to GDAL). Otherwise empty.
GeoKeys read_geokeys(GDALDatasetH ds, const std::string& path);

/// Stores `keys` in `tif`'s current directory, written when the file is closed. Throws
/// "<label>: cannot set the GeoTIFF keys: <message>".
void write_geokeys(TIFF* tif, const GeoKeys& keys, const std::string& label,
                   const TiffErrors& errors);

}  // namespace tessera::io::detail
