#!/usr/bin/env python3
"""calc steps give the same files, byte for byte, at N ranks x 1 and 2 threads as at 1 x 1.

Two jobs on real images, cut into many small tiles: NDVI and band arithmetic of the Landsat-8
red/NIR pair (with a block of nodata written into a copy of the NIR band, so nodata crosses tile
and rank boundaries) to Float32, Int16 and Byte; and the L7 image's bands 4 and 3 in a job that
also holds a slope step, so calc reads its cells inside a halo; and a job of steps reading steps
(fused per tile, no intermediate file). The 1 x 1 files are also checked against numpy, or for
the chained job against the same steps run as separate jobs through files, so that
identical-but-wrong files cannot pass.
"""
import filecmp
import os
import shutil
import sys

import numpy as np
import mpitest
from osgeo import gdal

gdal.UseExceptions()

LANDSAT_JOB = """[input.nir]
path = "{nir}"
[input.red]
path = "{red}"

[[step]]
id = "ndvi"
op = "calc"
expr = "(nir - red) / (nir + red)"
type = "float32"

[[step]]
id = "diff"
op = "calc"
expr = "nir - red"
type = "int16"

[[step]]
id = "dense"
op = "calc"
expr = "where(nir > red * 2, 1, 0)"
type = "uint8"

[[output]]
from = ["ndvi"]
path = "out/ndvi.tif"
compress = "deflate"

[[output]]
from = ["diff"]
path = "out/diff.tif"

[[output]]
from = ["dense"]
path = "out/dense.tif"

[run]
tile = 96
"""

L7_JOB = """[input.l7]
path = "{l7}"

[[step]]
id = "slope"
op = "slope"
in = "l7"

[[step]]
id = "nd"
op = "calc"
expr = "(l7[4] - l7[3]) / (l7[4] + l7[3])"
type = "float64"
nodata = -2

[[step]]
id = "rescaled"
op = "set-type"
in = "l7"
type = "int16"
scale = -1.5
offset = 7

[[output]]
from = ["nd"]
path = "out/nd.tif"

[[output]]
from = ["rescaled"]
path = "out/rescaled.tif"

[[output]]
from = ["slope"]
path = "out/slope.tif"

[run]
tile = 32
"""


# Steps reading steps, fused per tile: slope -> TPI (Float32), hillshade -> roughness (Byte read
# as Int32), calc -> slope (calc computing beyond its tile), slope -> set-type and reclassify. SEPARATE_* are the same steps run as
# jobs through intermediate files, which the fused outputs must equal byte for byte in cells.
CHAIN_JOB = """[input.dem]
path = "{dem}"

[[step]]
id = "slope"
op = "slope"
in = "dem"

[[step]]
id = "tpi"
op = "TPI"
in = "slope"
compute_edges = true

[[step]]
id = "hs"
op = "hillshade"
in = "dem"

[[step]]
id = "rough"
op = "roughness"
in = "hs"

[[step]]
id = "half"
op = "calc"
expr = "dem * 0.5"

[[step]]
id = "half_slope"
op = "slope"
in = "half"
compute_edges = true

[[step]]
id = "classes"
op = "reclassify"
in = "slope"
table = "0..5=1; 5..15=2; 15..90=3"
default = 0

[[step]]
id = "slope_u8"
op = "set-type"
in = "slope"
type = "uint8"
scale = 2

[[output]]
from = ["slope_u8"]
path = "out/slope_u8.tif"

[[output]]
from = ["classes"]
path = "out/classes.tif"

[[output]]
from = ["tpi"]
path = "out/tpi.tif"

[[output]]
from = ["rough"]
path = "out/rough.tif"

[[output]]
from = ["half_slope"]
path = "out/half_slope.tif"

[run]
tile = 48
"""

SEPARATE_FIRST = """[input.dem]
path = "{dem}"

[[step]]
id = "slope"
op = "slope"
in = "dem"

[[step]]
id = "hs"
op = "hillshade"
in = "dem"

[[step]]
id = "half"
op = "calc"
expr = "dem * 0.5"

[[output]]
from = ["slope"]
path = "slope.tif"

[[output]]
from = ["hs"]
path = "hs.tif"

[[output]]
from = ["half"]
path = "half.tif"
"""

SEPARATE_SECOND = """[input.slope]
path = "slope.tif"
[input.hs]
path = "hs.tif"
[input.half]
path = "half.tif"

[[step]]
id = "tpi"
op = "TPI"
in = "slope"
compute_edges = true

[[step]]
id = "rough"
op = "roughness"
in = "hs"

[[step]]
id = "half_slope"
op = "slope"
in = "half"
compute_edges = true

[[step]]
id = "classes"
op = "reclassify"
in = "slope"
table = "0..5=1; 5..15=2; 15..90=3"
default = 0

[[step]]
id = "slope_u8"
op = "set-type"
in = "slope"
type = "uint8"
scale = 2

[[output]]
from = ["slope_u8"]
path = "slope_u8.tif"

[[output]]
from = ["classes"]
path = "classes.tif"

[[output]]
from = ["tpi"]
path = "tpi.tif"

[[output]]
from = ["rough"]
path = "rough.tif"

[[output]]
from = ["half_slope"]
path = "half_slope.tif"
"""


def read(path, band=1):
    ds = gdal.Open(path)
    b = ds.GetRasterBand(band)
    return b.ReadAsArray(), b.GetNoDataValue()


def nir_with_nodata(args, folder):
    """A copy of the NIR band with a 150 x 90 block of nodata (65535) across tile corners."""
    path = os.path.join(folder, "nir.tif")
    gdal.Translate(path, os.path.join(args.data, "landsat_b5.tif"))
    ds = gdal.Open(path, gdal.GA_Update)
    ds.GetRasterBand(1).WriteArray(np.full((90, 150), 65535, np.uint16), 250, 170)
    ds = None
    return path


def check_landsat(folder, nir_path, red_path):
    nir, _ = read(nir_path)
    red, _ = read(red_path)
    nodata = (nir == 65535) | (red == 65535)
    assert nodata.sum() == 150 * 90, nodata.sum()
    a, b = nir.astype(np.float64), red.astype(np.float64)
    with np.errstate(all="ignore"):
        ndvi = ((a - b) / (a + b)).astype(np.float32)
    ndvi[nodata] = np.float32(3.402823466e38)
    diff = np.clip(a - b, -32768, 32767).astype(np.int16)
    diff[nodata] = -32768
    dense = (a > b * 2).astype(np.uint8)
    dense[nodata] = 255
    for name, want in (("ndvi", ndvi), ("diff", diff), ("dense", dense)):
        got, _ = read(os.path.join(folder, "out", name + ".tif"))
        if got.dtype != want.dtype or not np.array_equal(got, want):
            sys.exit("FAILED: %s at 1 x 1 differs from numpy" % name)


def check_l7(folder, l7):
    b4, _ = read(l7, 4)
    b3, _ = read(l7, 3)
    a, b = b4.astype(np.float64), b3.astype(np.float64)
    with np.errstate(all="ignore"):
        want = (a - b) / (a + b)
    want[np.isnan(want)] = -2
    got, nodata = read(os.path.join(folder, "out", "nd.tif"))
    if nodata != -2 or not np.array_equal(got, want):
        sys.exit("FAILED: nd (calc beside slope, inside a halo) at 1 x 1 differs from numpy")
    b1 = read(l7, 1)[0].astype(np.float64) * -1.5 + 7
    want = (np.sign(b1) * np.floor(np.abs(b1) + 0.5)).clip(-32768, 32767).astype(np.int16)
    got, nodata = read(os.path.join(folder, "out", "rescaled.tif"))
    if nodata != -32768 or got.dtype != np.int16 or not np.array_equal(got, want):
        sys.exit("FAILED: set-type at 1 x 1 differs from numpy")


def check_chain(args, folder, dem):
    """The fused job's 1 x 1 outputs equal the same steps run as two jobs via files."""
    separate = os.path.join(folder, "separate")
    shutil.rmtree(separate, ignore_errors=True)
    os.makedirs(separate)
    for name, text in (("first.toml", SEPARATE_FIRST), ("second.toml", SEPARATE_SECOND)):
        path = os.path.join(separate, name)
        with open(path, "w") as f:
            f.write(text.format(dem=dem))
        mpitest.launch_or_exit(args, 1, 1, ["run", path, "-q"])
    for name in ("tpi", "rough", "half_slope", "slope_u8", "classes"):
        got, got_nodata = read(os.path.join(folder, "out", name + ".tif"))
        want, want_nodata = read(os.path.join(separate, name + ".tif"))
        if got_nodata != want_nodata or not np.array_equal(got, want):
            sys.exit("FAILED: fused %s differs from the steps run through files" % name)


def check_job(args, name, text, outputs, check):
    folder = os.path.join(args.work, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(os.path.join(folder, "out"))
    job = os.path.join(folder, "job.toml")
    with open(job, "w") as f:
        f.write(text(folder))
    mpitest.launch_or_exit(args, 1, 1, ["run", job, "-q"])
    check(folder)
    shutil.move(os.path.join(folder, "out"), os.path.join(folder, "reference"))
    failures = []
    for threads in (1, 2):
        os.makedirs(os.path.join(folder, "out"))
        mpitest.launch_or_exit(args, args.ranks, threads, ["run", job, "-q"])
        for output in outputs:
            got = os.path.join(folder, "out", output)
            if not filecmp.cmp(got, os.path.join(folder, "reference", output), shallow=False):
                failures.append("%s/%s at %d ranks x %d threads" % (name, output, args.ranks, threads))
        shutil.rmtree(os.path.join(folder, "out"))
    print("%-8s %d outputs identical at %d ranks x 1 and 2 threads, and equal to the reference" %
          (name, len(outputs), args.ranks))
    return failures


def main():
    args = mpitest.parse_args()
    args.data = os.path.abspath(args.data)
    red = os.path.join(args.data, "landsat_b4.tif")
    l7 = os.path.join(args.data, "L7_ETMs.tif")
    os.makedirs(os.path.join(args.work, "landsat"), exist_ok=True)
    nir = nir_with_nodata(args, os.path.join(args.work, "landsat"))
    failures = check_job(args, "landsat-job", lambda f: LANDSAT_JOB.format(nir=nir, red=red),
                         ["ndvi.tif", "diff.tif", "dense.tif"],
                         lambda f: check_landsat(f, nir, red))
    failures += check_job(args, "l7-job", lambda f: L7_JOB.format(l7=l7), ["nd.tif", "slope.tif", "rescaled.tif"],
                          lambda f: check_l7(f, l7))
    dem = os.path.join(args.data, "srtm.tif")
    failures += check_job(args, "chain-job", lambda f: CHAIN_JOB.format(dem=dem),
                          ["tpi.tif", "rough.tif", "half_slope.tif", "slope_u8.tif",
                           "classes.tif"],
                          lambda f: check_chain(args, f, dem))
    if failures:
        sys.exit("outputs differ from 1 rank x 1 thread: " + "; ".join(failures))


if __name__ == "__main__":
    main()
