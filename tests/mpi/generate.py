#!/usr/bin/env python3
"""`tessera generate` writes the same file, byte for byte, at N ranks x 1 and 2 threads as at 1 x 1.

Three variants of a 700 x 500 raster in tiles of 128 (24 tiles, ragged at the right and bottom):
Float32 with ZSTD and the floating-point predictor, Float64 with LZW, Int16 with nodata and
DEFLATE. Also checks the georeferencing, that Int16 cells are the Float64 heights rounded half away
from zero, and that another seed gives another terrain.
"""
import filecmp
import os
import shutil
import sys

import numpy as np
import mpitest
from osgeo import gdal

gdal.UseExceptions()

SIZE = "700x500"
VARIANTS = [
    ("f32", ["--type", "Float32", "-co", "COMPRESS=ZSTD", "-co", "PREDICTOR=3"]),
    ("f64", ["--type", "Float64", "-co", "COMPRESS=LZW"]),
    ("i16", ["--type", "Int16", "--nodata", "-32768", "-co", "COMPRESS=DEFLATE"]),
]
COMMON = ["--size", SIZE, "--seed", "1234", "--coarse", "8", "--octaves", "7", "--zmin", "-50.5",
          "--zmax", "1200", "--cell", "10", "-co", "BLOCKXSIZE=128", "-co", "BLOCKYSIZE=128", "-q"]


def check_file(path, type_name, nodata):
    ds = gdal.Open(path)
    band = ds.GetRasterBand(1)
    problems = []
    if (ds.RasterXSize, ds.RasterYSize) != (700, 500):
        problems.append("size %dx%d" % (ds.RasterXSize, ds.RasterYSize))
    if gdal.GetDataTypeName(band.DataType) != type_name:
        problems.append("type " + gdal.GetDataTypeName(band.DataType))
    if band.GetBlockSize() != [128, 128]:
        problems.append("blocks %s" % band.GetBlockSize())
    if band.GetNoDataValue() != nodata:
        problems.append("nodata %s" % band.GetNoDataValue())
    if ds.GetGeoTransform() != (500000.0, 10.0, 0.0, 4000000.0, 0.0, -10.0):
        problems.append("geotransform %s" % (ds.GetGeoTransform(),))
    if ds.GetSpatialRef().GetAuthorityCode(None) != "32611":
        problems.append("CRS " + ds.GetSpatialRef().ExportToWkt()[:60])
    return ["%s: %s" % (os.path.basename(path), p) for p in problems]


def check_values(folder):
    heights = gdal.Open(os.path.join(folder, "f64.tif")).ReadAsArray()
    ints = gdal.Open(os.path.join(folder, "i16.tif")).ReadAsArray()
    want = np.sign(heights) * np.floor(np.abs(heights) + 0.5)
    problems = []
    if not (heights.min() >= -50.5 and heights.max() <= 1200 and heights.std() > 1):
        problems.append("heights %.2f..%.2f sd %.2f" % (heights.min(), heights.max(), heights.std()))
    if not np.array_equal(ints, want.astype(np.int16)):
        problems.append("Int16 cells are not the Float64 heights rounded half away from zero")
    return problems


def main():
    args = mpitest.parse_args(with_data=False)
    shutil.rmtree(args.work, ignore_errors=True)
    reference = os.path.join(args.work, "reference")
    os.makedirs(reference)
    for name, options in VARIANTS:
        reference_file = os.path.join(reference, name + ".tif")
        mpitest.launch_or_exit(args, 1, 1, ["generate", reference_file] + options + COMMON,
                               timeout=120)
    failures = check_file(os.path.join(reference, "f32.tif"), "Float32", None)
    failures += check_file(os.path.join(reference, "i16.tif"), "Int16", -32768.0)
    failures += check_values(reference)
    for threads in (1, 2):
        out = os.path.join(args.work, "np%dx%d" % (args.ranks, threads))
        os.makedirs(out)
        for name, options in VARIANTS:
            got = os.path.join(out, name + ".tif")
            mpitest.launch_or_exit(args, args.ranks, threads, ["generate", got] + options + COMMON,
                                   timeout=120)
            if not filecmp.cmp(got, os.path.join(reference, name + ".tif"), shallow=False):
                failures.append("%s differs at %d ranks x %d threads" % (name, args.ranks, threads))
    other = os.path.join(args.work, "other_seed.tif")
    other_seed = [("99" if previous == "--seed" else v) for previous, v in zip([""] + COMMON, COMMON)]
    mpitest.launch_or_exit(args, args.ranks, 1, ["generate", other] + VARIANTS[0][1] + other_seed,
                                   timeout=120)
    a = gdal.Open(other).ReadAsArray()
    b = gdal.Open(os.path.join(reference, "f32.tif")).ReadAsArray()
    if np.array_equal(a, b):
        failures.append("seeds 99 and 1234 give the same terrain")
    if failures:
        sys.exit("FAILED: " + "; ".join(failures))
    print("generate: %d variants identical at %d ranks x 1 and 2 threads to 1 x 1" %
          (len(VARIANTS), args.ranks))


if __name__ == "__main__":
    main()
