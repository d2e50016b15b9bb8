#!/usr/bin/env python3
"""fill_epsilon's inputs for a measurement, in numpy: a window of fill's surface and the bound
along given D8 directions (TauDEM codes, tessera's flowdir of that surface), U(c) = max(K(c),
U(next) + 1) with U = K where the flow stops or leaves the window, as Float32 (NaN at voids). A
path that leaves the window ends at the window's edge, an outlet of the window, so U bounds the
window's least surface. Composed by pointer jumping (log2 of the longest path in numpy passes),
not the bound op.

    python3 tests/bench/epsilon_bound.py FEL.tif DIRECTIONS.tif OUT_PREFIX [--window X Y W H]

writes OUT_PREFIX_fel.tif and OUT_PREFIX_u.tif.
"""
import argparse
import sys

import numpy as np
from osgeo import gdal

gdal.UseExceptions()

DX = np.array([1, 1, 0, -1, -1, -1, 0, 1])
DY = np.array([0, -1, -1, -1, 0, 1, 1, 1])


def keys_of(z):
    bits = z.view(np.uint32).astype(np.int64)
    magnitude = bits & 0x7FFFFFFF
    return np.where((bits >> 31) == 1, -magnitude, magnitude)


def value_of(keys):
    bits = np.where(keys < 0, 0x80000000 | -keys, keys).astype(np.uint32)
    return bits.view(np.float32)


def bound(keys, codes, valid):
    h, w = keys.shape
    moving = valid & (codes >= 1) & (codes <= 8)
    k = np.where(moving, codes, 1).astype(np.int64) - 1
    ys, xs = np.indices((h, w))
    ny, nx = ys + DY[k], xs + DX[k]
    inside = (ny >= 0) & (nx >= 0) & (ny < h) & (nx < w)
    moving &= inside
    moving &= valid[np.clip(ny, 0, h - 1), np.clip(nx, 0, w - 1)]
    here = np.arange(h * w)
    jump = np.where(moving, ny * w + nx, here.reshape(h, w)).ravel()
    del ys, xs, ny, nx, k, inside
    # U(c) = max(top[c], U(jump[c]) + steps[c]); at an end jump[c] = c, steps 0, top K
    top = keys.ravel().copy()
    steps = moving.ravel().astype(np.int64)
    while True:
        top = np.maximum(top, top[jump] + steps)
        if (jump[jump] == jump).all():
            return top.reshape(h, w)
        steps = steps + steps[jump]
        jump = jump[jump]


def write(path, a, like, window, nodata):
    x, y, w, h = window
    d = gdal.GetDriverByName("GTiff").Create(path, w, h, 1, gdal.GDT_Float32,
                                             ["TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512"])
    g = list(like.GetGeoTransform())
    g[0] += x * g[1]
    g[3] += y * g[5]
    d.SetGeoTransform(g)
    d.SetProjection(like.GetProjection())
    d.GetRasterBand(1).SetNoDataValue(nodata)
    d.GetRasterBand(1).WriteArray(a)
    d = None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("fel")
    p.add_argument("directions")
    p.add_argument("prefix")
    p.add_argument("--window", type=int, nargs=4)
    a = p.parse_args()
    fds, pds = gdal.Open(a.fel), gdal.Open(a.directions)
    window = a.window or (0, 0, fds.RasterXSize, fds.RasterYSize)
    band = fds.GetRasterBand(1)
    z = band.ReadAsArray(*window).astype(np.float32)
    nodata = band.GetNoDataValue()
    valid = ~np.isnan(z) & ((z != np.float32(nodata)) if nodata is not None else True)
    codes = pds.GetRasterBand(1).ReadAsArray(*window)
    u = bound(keys_of(z), codes, valid)
    write(a.prefix + "_fel.tif", z, fds, window, nodata if nodata is not None else np.nan)
    write(a.prefix + "_u.tif", np.where(valid, value_of(np.minimum(u, 0x7F800000)), np.nan), fds,
          window, np.nan)
    print("free cells: %d of %d" % (int((valid & (u > keys_of(z))).sum()), int(valid.sum())))


if __name__ == "__main__":
    sys.exit(main())
