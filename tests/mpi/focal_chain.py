#!/usr/bin/env python3
"""A fused job equals the same steps run as separate jobs through files, at N ranks x 1 and 2.

The job is DESIGN.md's: slope of a radius-2 focal.mean of a real DEM (SRTM, with a block of
nodata written across tile corners), thresholded by a calc that names the slope step,
`slope > 30`. Fused, the three steps run per tile with no intermediate file; separately, each
is a job of its own reading the previous one's file. At 1 x 1 the fused files must hold the
separate jobs' cells exactly, the mean must equal a float64 numpy reference summed in the
blocks docs/jobs.md states, and the threshold must give both 0 and 1. At N ranks x 1 and 2
threads the fused files must be the 1 x 1 files byte for byte. A second job of focal.mean and
focal.max on a New Zealand DEM with NaN nodata checks them against numpy in the same way.
"""
import filecmp
import os
import shutil
import sys

import numpy as np
import mpitest
import focal_reference as focal_ref
from osgeo import gdal

gdal.UseExceptions()

FUSED = """[input.dem]
path = "{dem}"

[[step]]
id = "steep"
op = "calc"
expr = "slope > 30"
type = "uint8"

[[step]]
id = "smooth"
op = "focal.mean"
in = "dem"
radius = 2

[[step]]
id = "slope"
op = "slope"
in = "smooth"
scale = 111120

[[output]]
from = ["steep"]
path = "out/steep.tif"

[[output]]
from = ["slope"]
path = "out/slope.tif"
compress = "deflate"

[[output]]
from = ["smooth"]
path = "out/smooth.tif"

[run]
tile = 48
"""

# The same steps, one job each, through files.
SEPARATE = [
    ("smooth", """[input.dem]
path = "{dem}"
[[step]]
id = "smooth"
op = "focal.mean"
in = "dem"
radius = 2
[[output]]
from = "smooth"
path = "smooth.tif"
"""),
    ("slope", """[input.smooth]
path = "smooth.tif"
[[step]]
id = "slope"
op = "slope"
in = "smooth"
scale = 111120
[[output]]
from = "slope"
path = "slope.tif"
"""),
    ("steep", """[input.slope]
path = "slope.tif"
[[step]]
id = "steep"
op = "calc"
expr = "slope > 30"
type = "uint8"
[[output]]
from = "steep"
path = "steep.tif"
"""),
]

NZ = """[input.dem]
path = "{dem}"

[[step]]
id = "mean"
op = "focal.mean"
in = "dem"
radius = 3

[[step]]
id = "max"
op = "focal.max"
in = "dem"
radius = 1

[[output]]
from = ["mean", "max"]
path = "out/nz.tif"

[run]
tile = 32
"""


def read(path):
    ds = gdal.Open(path)
    band = ds.GetRasterBand(1)
    return band.ReadAsArray(), band.GetNoDataValue()


def focal_reference(a, nodata, radius, stat):
    """The running window's Float32 result by the block arithmetic docs/jobs.md states."""
    out = focal_ref.running(a, nodata, radius, stat).astype(np.float32)
    out[np.isnan(out)] = -9999
    return out


def dem_with_nodata(args, folder):
    """A copy of srtm.tif with a 40 x 30 block of nodata (65535) across tile corners."""
    path = os.path.join(folder, "dem.tif")
    gdal.Translate(path, os.path.join(args.data, "srtm.tif"))
    ds = gdal.Open(path, gdal.GA_Update)
    ds.GetRasterBand(1).WriteArray(np.full((30, 40), 65535, np.uint16), 130, 80)
    ds = None
    return path


def check_fused(args, folder, dem):
    """The 1 x 1 fused outputs against the separate jobs and the numpy mean."""
    separate = os.path.join(folder, "separate")
    shutil.rmtree(separate, ignore_errors=True)
    os.makedirs(separate)
    for name, text in SEPARATE:
        path = os.path.join(separate, name + ".toml")
        with open(path, "w") as f:
            f.write(text.format(dem=dem))
        mpitest.launch_or_exit(args, 1, 1, ["run", path, "-q"])
    for name in ("smooth", "slope", "steep"):
        got, got_nodata = read(os.path.join(folder, "out", name + ".tif"))
        want, want_nodata = read(os.path.join(separate, name + ".tif"))
        if got_nodata != want_nodata or got.dtype != want.dtype or got.tobytes() != want.tobytes():
            sys.exit("FAILED: fused %s differs from the steps run as separate jobs" % name)
    steep = read(os.path.join(folder, "out", "steep.tif"))[0]
    ones, zeros = int((steep == 1).sum()), int((steep == 0).sum())
    if ones < 1000 or zeros < 1000 or (steep == 255).sum() == 0:
        sys.exit("FAILED: slope > 30 should give many 0, many 1 and some nodata: %d, %d" %
                 (zeros, ones))
    a, nodata = read(dem)
    want = focal_reference(a.astype(np.float32), nodata, 2, "mean")
    got = read(os.path.join(folder, "out", "smooth.tif"))[0]
    if not np.array_equal(got, want):
        sys.exit("FAILED: focal.mean differs from numpy in %d cells" % (got != want).sum())
    print("fused smooth -> slope -> steep equals the separate jobs (%d ones, %d zeros) and "
          "focal.mean equals numpy" % (ones, zeros))


def check_nz(folder, dem):
    a, nodata = read(dem)
    ds = gdal.Open(os.path.join(folder, "out", "nz.tif"))
    for band, stat, radius in ((1, "mean", 3), (2, "max", 1)):
        got = ds.GetRasterBand(band).ReadAsArray()
        want = focal_reference(a, nodata, radius, stat)
        if not np.array_equal(got, want):
            sys.exit("FAILED: focal.%s on nz_elev (NaN nodata) differs from numpy" % stat)
    print("focal.mean and focal.max on nz_elev (NaN nodata) equal numpy")


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
                failures.append("%s/%s at %d ranks x %d threads" % (name, output, args.ranks,
                                                                   threads))
        shutil.rmtree(os.path.join(folder, "out"))
    print("%s: %d outputs identical at %d ranks x 1 and 2 threads" % (name, len(outputs),
                                                                     args.ranks))
    return failures


def main():
    args = mpitest.parse_args()
    args.data = os.path.abspath(args.data)
    os.makedirs(args.work, exist_ok=True)
    dem = dem_with_nodata(args, args.work)
    failures = check_job(args, "terrain", lambda f: FUSED.format(dem=dem),
                         ["steep.tif", "slope.tif", "smooth.tif"],
                         lambda f: check_fused(args, f, dem))
    nz = os.path.join(args.work, "nz.tif")
    gdal.Translate(nz, os.path.join(args.data, "nz_elev.tif"), srcWin=[300, 400, 150, 170])
    failures += check_job(args, "nz", lambda f: NZ.format(dem=nz), ["nz.tif"],
                          lambda f: check_nz(f, nz))
    if failures:
        sys.exit("outputs differ from 1 rank x 1 thread: " + "; ".join(failures))


if __name__ == "__main__":
    main()
