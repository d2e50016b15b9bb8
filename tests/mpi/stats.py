#!/usr/bin/env python3
"""tessera stats gives the same JSON, byte for byte, at N ranks x 1 and 2 threads and any tile
size as at 1 x 1 with the default tile, on a Float32 DEM with NaN nodata (two sweeps: histogram
and percentile refinement), an Int16 DEM with nodata and a UInt16 band. The 1 x 1 results are
checked against numpy (counts, min, max, percentiles), so identical-but-wrong output cannot pass.

A job whose steps need statistics (stretch of an input, minmax stretch of a focal.mean step,
normalize, calc naming percentile() of a step) writes the same files at N ranks x 1 and 2
threads and tile sizes 48 and 512 as at 1 x 1 (tests/system/stats_job.py checks them against
numpy).

tessera zonal writes the same CSV at N ranks x 1 and 2 threads and tile sizes 48 and 512 as at
1 x 1: the SRTM DEM (UInt16) and a Float32 copy with NaN holes zoned by elevation bands, every
statistic (tests/system/zonal_cli.py checks the table against numpy).
"""
import json
import os
import shutil
import sys

import numpy as np
import mpitest
from osgeo import gdal

gdal.UseExceptions()

CASES = [("nz_elev.tif", "2,50,98,99.9"), ("n43.dt0", "0,10,50"), ("landsat_b5.tif", "1,50,99")]


def stats_json(args, ranks, threads, path, percentiles, tile, out):
    words = ["stats", "--hist", "--percentiles", percentiles, "--json", out, "--no-aux", "-q", path]
    if tile:
        words += ["--tile", str(tile)]
    mpitest.launch_or_exit(args, ranks, threads, words)
    with open(out) as f:
        return f.read()


def check_reference(path, percentiles, text):
    ds = gdal.Open(path)
    b = ds.GetRasterBand(1)
    a = b.ReadAsArray().ravel()
    nodata = b.GetNoDataValue()
    bad = np.isnan(a) if a.dtype.kind == "f" else np.zeros(a.shape, bool)
    if nodata is not None and not np.isnan(nodata):
        bad |= a == a.dtype.type(nodata)
    v = a[~bad].astype(np.float64)
    got = json.loads(text)
    ps = [float(p) for p in percentiles.split(",")]
    want = np.percentile(v, ps).tolist()
    mine = [got["percentiles"]["%g" % p] for p in ps]
    if (got["valid_count"], got["minimum"], got["maximum"], mine) != (v.size, v.min(), v.max(), want):
        sys.exit("FAILED: %s: %s differs from numpy (%d %r %r %r)" % (path, text, v.size, v.min(),
                                                                      v.max(), want))


JOB = """[input.dem]
path = "{dem}"

[[step]]
id = "st"
op = "stretch"
in = "dem"
low = 5
high = 95

[[step]]
id = "sm"
op = "focal.mean"
in = "dem"
radius = 2

[[step]]
id = "smst"
op = "stretch"
in = "sm"
mode = "minmax"

[[step]]
id = "z"
op = "normalize"
in = "dem"

[[step]]
id = "top"
op = "calc"
expr = "sm > percentile(sm, 75) + std(dem) * 0"
type = "uint8"
nodata = 0

[[output]]
from = ["st", "smst", "top"]
path = "out/bytes.tif"
compress = "deflate"

[[output]]
from = ["z"]
path = "out/z.tif"
{run}"""


def run_job(args, ranks, threads, tile, label):
    """The job's output files' bytes and cells at `ranks` x `threads` with `tile` (None: 512)."""
    dem = os.path.abspath(os.path.join(args.data, "nz_elev.tif"))
    folder = os.path.join(args.work, "job-%s-%d-%d-%s" % (label, ranks, threads, tile))
    os.makedirs(os.path.join(folder, "out"))
    path = os.path.join(folder, "job.toml")
    with open(path, "w") as f:
        f.write(JOB.format(dem=dem, run="[run]\ntile = %d\n" % tile if tile else ""))
    mpitest.launch_or_exit(args, ranks, threads, ["run", "-q", path])
    files = [os.path.join(folder, "out", name) for name in ("bytes.tif", "z.tif")]
    return [open(f, "rb").read() for f in files], [gdal.Open(f).ReadAsArray() for f in files]


def check_job(args):
    """The job's files at N ranks x 1 and 2 threads equal 1 x 1's byte for byte, at tile sizes 48
    and 512 (the files' block size); the cells are the same at both tile sizes."""
    cells = None
    for tile in (48, None):
        base_bytes, base_cells = run_job(args, 1, 1, tile, "base")
        if cells is None:
            cells = base_cells
        elif any(not np.array_equal(a, b, equal_nan=True) for a, b in zip(cells, base_cells)):
            sys.exit("FAILED: the job's cells with tile %s differ from those with tile 48" % tile)
        for threads in (1, 2):
            got, _ = run_job(args, args.ranks, threads, tile, "n")
            if got != base_bytes:
                sys.exit("FAILED: the job's outputs at %d ranks x %d threads, tile %s differ from 1 x 1's"
                         % (args.ranks, threads, tile))


def make_zonal_inputs(args):
    """Zones (elevation bands of the SRTM DEM, Int16, nodata -1 on a square) and a Float32 copy of
    the DEM with NaN holes, on its grid."""
    src = gdal.Open(os.path.join(args.data, "srtm.tif"))
    dem = src.GetRasterBand(1).ReadAsArray()
    zones = (dem // 250).astype(np.int16)
    zones[100:150, 200:260] = -1
    scaled = dem.astype(np.float32) * np.float32(0.37)
    scaled[::7, ::5] = np.nan
    paths = []
    for name, array, dtype, nodata in (("zones.tif", zones, gdal.GDT_Int16, -1),
                                       ("scaled.tif", scaled, gdal.GDT_Float32, None)):
        path = os.path.join(args.work, name)
        ds = gdal.GetDriverByName("GTiff").Create(path, src.RasterXSize, src.RasterYSize, 1, dtype)
        ds.SetGeoTransform(src.GetGeoTransform())
        ds.SetProjection(src.GetProjection())
        if nodata is not None:
            ds.GetRasterBand(1).SetNoDataValue(nodata)
        ds.GetRasterBand(1).WriteArray(array)
        ds = None
        paths.append(path)
    return paths


def check_zonal(args):
    zones, scaled = make_zonal_inputs(args)
    srtm = os.path.join(args.data, "srtm.tif")

    def table(ranks, threads, tile, label, values, stats):
        out = os.path.join(args.work, "zonal-%s-%d-%d-%s.csv" % (label, ranks, threads, tile))
        words = ["zonal", "--zones", zones, "--values"] + values + ["--stats", stats, "--out", out]
        mpitest.launch_or_exit(args, ranks, threads, words + (["--tile", str(tile)] if tile else []))
        return open(out).read()

    for label, values, stats in (("int", [srtm], "count,nodata,sum,mean,min,max,std,median,majority,"
                                  "minority,variety"),
                                 ("both", [srtm, scaled], "count,nodata,sum,mean,min,max,range,std,variance")):
        base = table(1, 1, None, label + "-base", values, stats)
        for threads in (1, 2):
            for tile in (48, None):
                got = table(args.ranks, threads, tile, label, values, stats)
                if got != base:
                    sys.exit("FAILED: zonal %s at %d ranks x %d threads, tile %s:\n%s\nat 1 x 1:\n%s"
                             % (label, args.ranks, threads, tile, got, base))


def main():
    args = mpitest.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    for name, percentiles in CASES:
        path = os.path.join(args.data, name)
        base = stats_json(args, 1, 1, path, percentiles, None, os.path.join(args.work, "base.json"))
        check_reference(path, percentiles, base)
        for threads in (1, 2):
            for tile in (None, 48, 208):
                out = os.path.join(args.work, "t%d-%s.json" % (threads, tile))
                got = stats_json(args, args.ranks, threads, path, percentiles, tile, out)
                if got != base:
                    sys.exit("FAILED: %s at %d ranks x %d threads, tile %s:\n%s\nat 1 x 1:\n%s" %
                             (name, args.ranks, threads, tile, got, base))
    check_job(args)
    check_zonal(args)
    print("ok")


if __name__ == "__main__":
    main()
