#!/usr/bin/env python3
"""focal.* methods on real rasters equal numpy at 1 rank x 1 thread (checked by the 1-rank test)
and are the same bytes at N ranks x 1 and 2 threads.

SRTM (UInt16, a block of nodata written across tile corners) through running windows of radius
1 to 25 on tiles of 48 (so windows span several tiles and the blocks of the running sums start
inside tiles), order statistics on circles, a Gaussian-weighted sum and the integer outputs
(min, range and median keep 16 bits; count is UInt32); square medians and quartiles of radius
2 and more go through the sliding histogram, smaller and circular ones walk their windows; NLCD
land cover (Byte classes, nodata 255) through mode, minority and diversity; SRTM / 3 as Float64
through running windows, 3 x 3 and sliding medians and a weighted count, read and written as
Float64. Running windows must equal focal_reference.py's block
arithmetic bit for bit; order statistics and classes must equal numpy's window statistics.
"""
import filecmp
import os
import shutil
import sys

import numpy as np
import mpitest
import focal_reference as ref
from osgeo import gdal

gdal.UseExceptions()

SRTM_STEPS = [
    # (id, op, options, output)
    ("mean25", "focal.mean", "radius = 25", "float"),
    ("sd3", "focal.stddev", "radius = 3", "float"),
    ("var7", "focal.variance", "size = 7", "float"),
    ("sum2", "focal.sum", "radius = 2", "float"),
    ("q3c", "focal.quart3", "radius = 2\ncircle = true", "float"),
    ("gsum", "focal.sum", "radius = 2\ngauss = 1.5", "float"),
    ("min9", "focal.min", "radius = 9", "int"),
    ("range1", "focal.range", "radius = 1", "int"),
    ("median2", "focal.median", "radius = 2\ncircle = true", "int"),
    ("median5", "focal.median", "radius = 5", "int"),
    ("q1s", "focal.quart1", "size = 9", "float"),
    ("count4", "focal.count", "radius = 4\ncircle = true", "count"),
]

NLCD_STEPS = [
    ("mode", "focal.mode", "radius = 2\ncircle = true", "classes"),
    ("minority", "focal.minority", "radius = 1", "classes"),
    ("diversity", "focal.diversity", "size = 7", "count"),
]


# A Float64 raster (SRTM / 3, values Float32 cannot hold, nodata -1): its steps read Float64
# cells and give Float64 outputs (a weighted count, a sum of weights, too), identical at N ranks;
# system/focal_scipy.py compares such values with scipy.
F64_STEPS = [
    ("mean2", "focal.mean", "radius = 2", "f64"),
    ("sd1", "focal.stddev", "radius = 1", "f64"),
    ("med1", "focal.median", "radius = 1", "f64"),
    ("med3", "focal.median", "radius = 3", "f64"),
    ("max4", "focal.max", "radius = 4", "f64"),
    ("wcount", "focal.count", "radius = 2\ngauss = 1.5", "f64"),
]


def float64_of(src, path):
    """`src` divided by 3 as Float64, its nodata cells -1."""
    ds = gdal.Open(src)
    band = ds.GetRasterBand(1)
    a = band.ReadAsArray().astype(np.float64)
    out = gdal.GetDriverByName("GTiff").Create(path, ds.RasterXSize, ds.RasterYSize, 1,
                                               gdal.GDT_Float64)
    out.SetGeoTransform(ds.GetGeoTransform())
    out.SetProjection(ds.GetProjection())
    out.GetRasterBand(1).SetNoDataValue(-1)
    out.GetRasterBand(1).WriteArray(np.where(a == band.GetNoDataValue(), -1, a / 3))
    out = None


def check_float64(folder):
    bands, _ = read(os.path.join(folder, "out", "f64.tif"))
    if any(b.dtype != np.float64 for b in bands):
        sys.exit("FAILED: the Float64 source's focal outputs are not all Float64")


def job_text(path, steps, outputs):
    text = '[input.src]\npath = "%s"\n\n' % path
    for sid, op, options, _ in steps:
        text += '[[step]]\nid = "%s"\nop = "%s"\nin = "src"\n%s\n\n' % (sid, op, options)
    for name in outputs:
        ids = [s[0] for s in steps if s[3] == name]
        text += '[[output]]\nfrom = [%s]\npath = "out/%s.tif"\n\n' % (
            ", ".join('"%s"' % i for i in ids), name)
    return text + "[run]\ntile = 48\n"


def read(path):
    ds = gdal.Open(path)
    bands = [ds.GetRasterBand(i + 1) for i in range(ds.RasterCount)]
    return [b.ReadAsArray() for b in bands], bands[0].GetNoDataValue()


def expected(a, nodata, sid, op, options):
    method = op.split(".")[1]
    radius = int(options.split("\n")[0].split("=")[1])
    if options.startswith("size"):
        radius //= 2
    circle = "circle" in options
    if method in ("mean", "stddev", "variance", "sum", "min", "range") and "gauss" not in options:
        return ref.running(a, nodata, radius, method)
    if method == "count":
        valid = ref.valid_of(a, nodata)
        views, mask = ref.windows_of(a, valid, radius, circle)
        return np.where(valid, (~np.isnan(views[:, :, mask])).sum(axis=2), np.nan)
    if method in ("median", "quart1", "quart3"):
        q = {"median": 0.5, "quart1": 0.25, "quart3": 0.75}[method]
        return ref.ordered(a, nodata, radius, circle, q)
    if method in ("mode", "minority", "diversity"):
        return ref.classes(a, nodata, radius, circle, method)
    # The Gaussian-weighted sum: weights as r.neighbors' gaussian function.
    valid = ref.valid_of(a, nodata)
    views, _ = ref.windows_of(a, valid, radius, False)
    d = np.arange(-radius, radius + 1)
    w = np.exp(-(d[:, None] ** 2 + d[None, :] ** 2) / (2 * 1.5 ** 2)) / (2 * np.pi * 1.5 ** 2)
    return np.where(valid, np.nansum(views * w, axis=(2, 3)), np.nan)


def check(folder, src, steps, outputs, exact):
    """The 1 x 1 outputs against numpy: `exact` methods bit for bit, the others within one
    Float32 rounding (their sums run in another order than numpy's)."""
    a, nodata = read(src)
    a = a[0]
    failures = []
    for name in outputs:
        got_bands, got_nodata = read(os.path.join(folder, "out", name + ".tif"))
        ids = [s for s in steps if s[3] == name]
        for (sid, op, options, _), got in zip(ids, got_bands):
            values = expected(a.astype(np.float32) if a.dtype.kind == "f" or name != "classes"
                              else a, nodata, sid, op, options)
            want = ref.to_type(values, got.dtype, got_nodata)
            if sid in exact or got.dtype.kind != "f":
                bad = int((got != want).sum())
            else:
                bad = int((~np.isclose(got, want, rtol=2e-7, atol=0)).sum())
            if bad:
                failures.append("%s (%s) differs from numpy in %d cells" % (sid, got.dtype, bad))
            else:
                print("%s: %s equals numpy (%s, nodata %s)" % (sid, op, got.dtype, got_nodata))
    if failures:
        sys.exit("FAILED: " + "; ".join(failures))


def run_job(args, name, text, outputs, check_reference):
    folder = os.path.join(args.work, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(os.path.join(folder, "out"))
    job = os.path.join(folder, "job.toml")
    with open(job, "w") as f:
        f.write(text)
    mpitest.launch_or_exit(args, 1, 1, ["run", job, "-q"])
    if args.ranks == 1:
        # The same 1 x 1 run as the other rank counts compare with: checked once, in .np1.
        check_reference(folder)
    shutil.move(os.path.join(folder, "out"), os.path.join(folder, "reference"))
    failures = []
    for threads in (1, 2):
        os.makedirs(os.path.join(folder, "out"))
        mpitest.launch_or_exit(args, args.ranks, threads, ["run", job, "-q"])
        for output in outputs:
            got = os.path.join(folder, "out", output + ".tif")
            if not filecmp.cmp(got, os.path.join(folder, "reference", output + ".tif"),
                               shallow=False):
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
    srtm = os.path.join(args.work, "srtm.tif")
    gdal.Translate(srtm, os.path.join(args.data, "srtm.tif"))
    ds = gdal.Open(srtm, gdal.GA_Update)
    ds.GetRasterBand(1).WriteArray(np.full((30, 40), 65535, np.uint16), 130, 80)
    ds = None
    nlcd = os.path.join(args.work, "nlcd.tif")
    gdal.Translate(nlcd, os.path.join(args.data, "nlcd.tif"), srcWin=[400, 500, 160, 140])
    exact = {"mean25", "sd3", "var7", "sum2"}
    failures = run_job(args, "srtm", job_text(srtm, SRTM_STEPS, ["float", "int", "count"]),
                       ["float", "int", "count"],
                       lambda f: check(f, srtm, SRTM_STEPS, ["float", "int", "count"], exact))
    failures += run_job(args, "nlcd", job_text(nlcd, NLCD_STEPS, ["classes", "count"]),
                        ["classes", "count"],
                        lambda f: check(f, nlcd, NLCD_STEPS, ["classes", "count"], set()))
    srtm64 = os.path.join(args.work, "srtm64.tif")
    float64_of(srtm, srtm64)
    failures += run_job(args, "float64", job_text(srtm64, F64_STEPS, ["f64"]), ["f64"],
                        check_float64)
    if failures:
        sys.exit("outputs differ from 1 rank x 1 thread: " + "; ".join(failures))


if __name__ == "__main__":
    main()
