#!/usr/bin/env python3
"""tessera stats gives the same JSON, byte for byte, at N ranks x 1 and 2 threads and any tile
size as at 1 x 1 with the default tile, on a Float32 DEM with NaN nodata (two sweeps: histogram
and percentile refinement), an Int16 DEM with nodata and a UInt16 band. The 1 x 1 results are
checked against numpy (counts, min, max, percentiles), so identical-but-wrong output cannot pass.
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
    print("ok")


if __name__ == "__main__":
    main()
