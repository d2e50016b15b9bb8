#!/usr/bin/env python3
"""HDF5 outputs written by N ranks hold the values of the GeoTIFF outputs of the same job, and are
the bytes 1 rank x 1 thread writes.

Each shape runs one job that writes every step to a GeoTIFF and the same steps to HDF5 files
(several steps in one file, with and without deflate, Float32 and Byte), at N ranks x 1 and 2
threads; GDAL must read each HDF5 dataset back with the GeoTIFF's cells (HDF5 driver), pixel type,
nodata, geotransform and CRS (netCDF driver). A job whose input is cut in half must fail and leave no
HDF5 file, finished or temporary, in the output folder.
"""
import os
import shutil
import sys

import numpy as np
import mpitest
from osgeo import gdal, osr

gdal.UseExceptions()

# (name, source file, srcwin x y w h, tile size): a raster not a multiple of the tile, and one
# with fewer tiles than ranks (ranks with no tile still join every collective write).
SHAPES = [
    ("ragged", "srtm.tif", (3, 5, 203, 157), 32),
    ("few_tiles", "chiprofiler_dem.tif", (0, 0, 40, 30), 32),
]

JOB = """[input.dem]
path = "{dem}"

[[step]]
id = "slope"
op = "slope"
in = "dem"
compute_edges = true

[[step]]
id = "aspect"
op = "aspect"
in = "dem"

[[step]]
id = "hillshade"
op = "hillshade"
in = "dem"

[[output]]
from = "slope"
path = "out/slope.tif"

[[output]]
from = "aspect"
path = "out/aspect.tif"
compress = "deflate"

[[output]]
from = "hillshade"
path = "out/hillshade.tif"

[[output]]
from = ["slope", "aspect"]
path = "out/terrain.h5"

[[output]]
from = ["slope", "aspect"]
path = "out/terrain_deflate.h5"
compress = "deflate"
level = 6

[[output]]
from = "hillshade"
path = "out/hillshade.h5"
compress = "deflate"

[run]
tile = {tile}
"""

# (HDF5 file, dataset, GeoTIFF with the same cells)
PAIRS = [
    ("terrain.h5", "slope", "slope.tif"),
    ("terrain.h5", "aspect", "aspect.tif"),
    ("terrain_deflate.h5", "slope", "slope.tif"),
    ("terrain_deflate.h5", "aspect", "aspect.tif"),
    ("hillshade.h5", "hillshade", "hillshade.tif"),
]


def same_cells(a, b):
    if a.dtype.kind == "f":
        return np.array_equal(a, b, equal_nan=True)
    return np.array_equal(a, b)


def compare(folder, h5, name, tif):
    """What differs between dataset `name` of `h5` and the GeoTIFF `tif`, as text."""
    got = gdal.Open('NETCDF:"%s":%s' % (os.path.join(folder, h5), name))
    want = gdal.Open(os.path.join(folder, tif))
    problems = []
    a, b = got.GetRasterBand(1), want.GetRasterBand(1)
    if a.DataType != b.DataType:
        problems.append("type %s, expected %s" % (gdal.GetDataTypeName(a.DataType),
                                                  gdal.GetDataTypeName(b.DataType)))
    if a.GetNoDataValue() != b.GetNoDataValue():
        problems.append("nodata %s, expected %s" % (a.GetNoDataValue(), b.GetNoDataValue()))
    if not np.allclose(got.GetGeoTransform(), want.GetGeoTransform(), rtol=1e-12, atol=1e-9):
        problems.append("geotransform %s, expected %s" % (got.GetGeoTransform(), want.GetGeoTransform()))
    srs_got, srs_want = osr.SpatialReference(), osr.SpatialReference()
    srs_got.ImportFromWkt(got.GetProjection())
    srs_want.ImportFromWkt(want.GetProjection())
    if not srs_got.IsSame(srs_want):
        problems.append("another CRS")
    # The cells through GDAL's HDF5 driver: the netCDF driver reads NaN cells as _FillValue.
    raw = gdal.Open('HDF5:"%s"://%s' % (os.path.join(folder, h5), name))
    cells_got, cells_want = raw.ReadAsArray(), b.ReadAsArray()
    if cells_got.shape != cells_want.shape or not same_cells(cells_got, cells_want):
        problems.append("cells differ")
    return "; ".join("%s:%s %s" % (h5, name, p) for p in problems)


def check_shape(args, name, source, srcwin, tile):
    folder = os.path.join(args.work, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(os.path.join(folder, "out"))
    dem = os.path.join(folder, "dem.tif")
    gdal.Translate(dem, os.path.join(args.data, source), srcWin=list(srcwin))
    job = os.path.join(folder, "job.toml")
    with open(job, "w") as f:
        f.write(JOB.format(dem=dem, tile=tile))
    failures = []
    reference = None
    for ranks, threads in ((1, 1), (args.ranks, 1), (args.ranks, 2)):
        done = mpitest.launch(args, ranks, threads, ["run", job, "-q"])
        if done.returncode != 0:
            return ["%s: tessera failed at %d ranks x %d threads:\n%s%s" %
                    (name, ranks, threads, done.stdout, done.stderr)]
        out = os.path.join(folder, "out")
        files = h5_bytes(out)
        if reference is None:
            reference = files  # 1 rank x 1 thread: what every layout must write, byte for byte
        elif files != reference:
            differ = sorted(f for f in reference if files.get(f) != reference[f])
            failures.append("%s at %d ranks x %d threads: not the bytes of 1 rank x 1 thread: %s" %
                            (name, ranks, threads, differ))
        for h5, dataset, tif in PAIRS:
            problem = compare(out, h5, dataset, tif)
            if problem:
                failures.append("%s at %d ranks x %d threads: %s" % (name, ranks, threads, problem))
        shutil.rmtree(out)
        os.makedirs(out)
    print("%-10s %s: %d HDF5 datasets equal the GeoTIFFs, and the files 1 rank's bytes, at %d ranks "
          "x 1 and 2 threads" % (name, "x".join(map(str, srcwin[2:])), len(PAIRS), args.ranks))
    return failures


def h5_bytes(folder):
    """The bytes of every HDF5 file in `folder`, by name."""
    files = {}
    for entry in sorted(os.listdir(folder)):
        if entry.endswith(".h5"):
            with open(os.path.join(folder, entry), "rb") as f:
                files[entry] = f.read()
    return files


def check_failure(args):
    """A read error half-way through the tiles: no HDF5 file, not even a temporary one."""
    folder = os.path.join(args.work, "cut")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(os.path.join(folder, "out"))
    dem = os.path.join(folder, "cut.tif")
    gdal.Translate(dem, os.path.join(args.data, "srtm.tif"),
                   creationOptions=["TILED=YES", "BLOCKXSIZE=64", "BLOCKYSIZE=64"])
    os.truncate(dem, os.path.getsize(dem) // 2)
    job = os.path.join(folder, "job.toml")
    with open(job, "w") as f:
        f.write(JOB.format(dem=dem, tile=64))
    done = mpitest.launch(args, args.ranks, 1, ["run", job, "-q"])
    left = os.listdir(os.path.join(folder, "out"))
    if done.returncode != 1 or "cut.tif" not in done.stderr:
        return ["cut input at %d ranks: exit %d, stderr %r" % (args.ranks, done.returncode, done.stderr)]
    if left:
        return ["cut input at %d ranks left files behind: %s" % (args.ranks, left)]
    print("cut input: exit 1 naming cut.tif, output folder empty at %d ranks" % args.ranks)
    return []


def main():
    args = mpitest.parse_args()
    failures = []
    for shape in SHAPES:
        failures += check_shape(args, *shape)
    failures += check_failure(args)
    if failures:
        sys.exit("HDF5 outputs wrong:\n" + "\n".join(failures))


if __name__ == "__main__":
    main()
