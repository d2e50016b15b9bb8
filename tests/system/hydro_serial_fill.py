#!/usr/bin/env python3
"""`fill` against the serial Priority-Floods of the literature that the benchmark suite times
beside it (tests/bench/serial_fill.cpp: Barnes et al. 2014 Algorithms 1 and 2, Zhou et al. 2016):
on the real DEMs with voids and on generated terrain with holes, pits and flat plateaus, tessera at
2 ranks with small tiles gives the same cells as each of the three. This keeps the suite's peers
honest (a peer that computes something else would make its times meaningless) and checks fill
against three more independent implementations.

`fill --epsilon` likewise against serial_fill's `least` (Algorithm 1 raising each cell reached at
or below a cell's key to the next key: the least strictly draining surface, computed in one
priority queue): the same bits. Against Barnes et al.'s Algorithm 3 (`epsilon`, the pit queue's
order) only what the definition implies: its surface also drains strictly, so it lies at or above
the least one on every cell.
"""
import os
import shutil

import numpy as np
from osgeo import gdal

import systest

gdal.UseExceptions()

ALGORITHMS = ("original", "improved", "zhou")


def extra(p):
    p.add_argument("--serial-fill", required=True, help="build/src/serial_fill")
    p.add_argument("--work", required=True)


def terrain(path):
    """Rough terrain with pits, holes of nodata and flat plateaus (ties in every queue)."""
    rng = np.random.default_rng(7)
    h, w = 157, 211
    z = np.cumsum(rng.normal(0, 1, (h, w)), axis=0) + np.cumsum(rng.normal(0, 1, (h, w)), axis=1)
    z = np.round(z * 4) / 4  # quarter steps: many equal heights
    z[40:60, 50:90] = z[40:60, 50:90].min() - 5  # a deep pit
    z[100:110, 120:180] = 3.0  # a plateau
    z[rng.random((h, w)) < 0.003] = -9999
    ds = gdal.GetDriverByName("GTiff").Create(path, w, h, 1, gdal.GDT_Float32)
    ds.SetGeoTransform((0, 30, 0, 0, 0, -30))
    ds.GetRasterBand(1).SetNoDataValue(-9999)
    ds.GetRasterBand(1).WriteArray(z.astype(np.float32))
    ds = None


def read(path):
    ds = gdal.Open(path)
    return ds.GetRasterBand(1).ReadAsArray()


def voids(z, path):
    ds = gdal.Open(path)
    nodata = ds.GetRasterBand(1).GetNoDataValue()
    return np.isnan(z) if nodata is None or np.isnan(nodata) else (z == nodata) | np.isnan(z)


def check_epsilon(args, name, dem, w):
    """tessera's --epsilon at 2 ranks equals `least` bit for bit; Algorithm 3 lies at or above."""
    out = w(name + ".eps.tif")
    done = systest.tessera(args, ["hydro", "fill", "-z", dem, "-fel", out, "--epsilon", "--tile", "64",
                                  "-q"], ranks=2)
    if done.returncode != 0:
        systest.fail(done.describe())
    mine = read(out).astype(np.float32)
    mine_void = voids(mine, out)
    for algorithm in ("least", "epsilon"):
        path = w(f"{name}.{algorithm}.tif")
        done = systest.run([args.serial_fill, algorithm, dem, path], args.timeout)
        if done.returncode != 0:
            systest.fail(done.describe())
        theirs = read(path).astype(np.float32)
        their_void = voids(theirs, path)
        if not (mine_void == their_void).all():
            systest.fail(f"{name}: --epsilon and serial_fill {algorithm} differ in their voids")
        valid = ~mine_void
        if algorithm == "least":
            bad = valid & (mine.view(np.uint32) != theirs.view(np.uint32))
            what = "differs from"
        else:
            bad = valid & (theirs < mine)
            what = "lies above"
        if bad.any():
            y, x = np.argwhere(bad)[0]
            systest.fail(f"{name}: fill --epsilon {what} serial_fill {algorithm} at {int(bad.sum())} "
                         f"cells, first row {y} column {x}: {mine[y, x]!r} against {theirs[y, x]!r}")
        if algorithm == "epsilon":
            raised = int((valid & (theirs > mine)).sum())
    print(f"{name}: fill --epsilon equals serial_fill least; Algorithm 3 is higher on {raised} cells")


def main():
    args = systest.parse_args(__doc__, extra)
    w = lambda f: os.path.join(args.work, f)
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    terrain(w("generated.tif"))
    dems = {name: os.path.join(args.data, name + ".tif") for name in ("srtm", "n43", "nz_elev")}
    dems["generated"] = w("generated.tif")
    for name, dem in dems.items():
        done = systest.tessera(args, ["hydro", "fill", "-z", dem, "-fel", w(name + ".fel.tif"),
                                      "--tile", "64", "-q"], ranks=2)
        if done.returncode != 0:
            systest.fail(done.describe())
        mine = read(w(name + ".fel.tif"))
        for algorithm in ALGORITHMS:
            out = w(f"{name}.{algorithm}.tif")
            done = systest.run([args.serial_fill, algorithm, dem, out], args.timeout)
            if done.returncode != 0:
                systest.fail(done.describe())
            theirs = read(out)
            same = (mine == theirs) | (np.isnan(mine) & np.isnan(theirs))
            if not same.all():
                y, x = np.argwhere(~same)[0]
                systest.fail(f"{name}: fill differs from serial_fill {algorithm} at {int((~same).sum())} "
                             f"cells, first row {y} column {x}: {mine[y, x]} against {theirs[y, x]}")
        print(f"{name}: fill equals serial_fill {', '.join(ALGORITHMS)} ({mine.size} cells)")
        check_epsilon(args, name, dem, w)


if __name__ == "__main__":
    main()
