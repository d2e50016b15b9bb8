#!/usr/bin/env python3
"""What fill's epsilon would change on a DEM, by the serial reference (tests/system/
hydro_reference.py): cells raised above fill's surface, how many of them are banks (not on a
flat of fill's surface), the largest raise in Float32 steps, cells that Priority-Flood+epsilon's
order puts higher; the *free* cells of the designed tile-graph method (the bound along the flow
paths above fill's surface), and at a tile size, the free perimeter cells and the cell visits of
the fronts' searches (each free perimeter cell's search covers at most its piece of free cells
in its tile: the sum of perimeter cells x cells over the pieces). Serial Python, flowdir's rule
included: about a minute a million cells.

    python3 tests/bench/epsilon_stats.py DEM.tif [--window X Y W H] [--tile 512] [--by-tiles]

With --by-tiles, also runs the designed tile-graph method (hydro_reference.epsilon_by_tiles) at
the tile size and says whether it gives the same keys, and its fronts' sizes.
"""
import argparse
import os
import sys
import time

import numpy as np
import scipy.ndimage
from osgeo import gdal

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "system"))
from hydro_reference import (NEIGHBOURS, epsilon_bound_keys, epsilon_by_tiles,  # noqa: E402
                             epsilon_keys,
                             float_keys, outlets, pit_queue_epsilon_keys, priority_flood)

gdal.UseExceptions()


def flat_cells(keys, void):
    big = np.int64(2) ** 62
    h, w = keys.shape
    p = np.pad(np.where(void, big, keys), 1, constant_values=big)
    low = np.full((h, w), big, np.int64)
    for dx, dy in NEIGHBOURS:
        low = np.minimum(low, p[1 + dy:1 + dy + h, 1 + dx:1 + dx + w])
    return ~void & ~outlets(void) & (low >= keys)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("dem")
    p.add_argument("--window", type=int, nargs=4, metavar=("X", "Y", "W", "H"))
    p.add_argument("--tile", type=int, default=512)
    p.add_argument("--by-tiles", action="store_true")
    args = p.parse_args()
    ds = gdal.Open(args.dem)
    band = ds.GetRasterBand(1)
    x, y, w, h = args.window or (0, 0, ds.RasterXSize, ds.RasterYSize)
    a = band.ReadAsArray(x, y, w, h).astype(np.float64)
    nodata = band.GetNoDataValue()
    void = np.isnan(a) | ((a == nodata) if nodata is not None else False)
    z = np.where(void, 0, a).astype(np.float32)
    start = time.time()
    fel_z = priority_flood(z, void)
    fel = float_keys(fel_z)
    s = epsilon_keys(z, void)
    bound = epsilon_bound_keys(fel_z, void)
    pit = pit_queue_epsilon_keys(z, void)
    valid = ~void
    raised = valid & (s > fel)
    flats = flat_cells(fel, void)
    t = args.tile
    edge = np.zeros((h, w), bool)
    gy, gx = np.indices((h, w))
    edge = ((gx % t == 0) | (gx % t == t - 1) | (gy % t == 0) | (gy % t == t - 1))
    tiles = np.unique(((gy // t) * ((w + t - 1) // t) + gx // t)[raised & edge])
    free = valid & (bound > fel)
    visits = 0
    for y0 in range(0, h, t):
        for x0 in range(0, w, t):
            piece, count = scipy.ndimage.label(free[y0:y0 + t, x0:x0 + t], np.ones((3, 3)))
            if count == 0:
                continue
            sizes = np.bincount(piece.ravel())
            rim = np.zeros(piece.shape, bool)
            rim[0, :] = rim[-1, :] = rim[:, 0] = rim[:, -1] = True
            ends = np.bincount(piece[rim].ravel(), minlength=len(sizes))
            visits += int((sizes[1:] * ends[1:]).sum())
    print(f"{os.path.basename(args.dem)} [{x}:{x + w}, {y}:{y + h}]: {int(valid.sum())} cells, "
          f"{int(flats.sum())} on flats of fill's surface, {int(raised.sum())} raised "
          f"({int((raised & ~flats).sum())} not on a flat), largest raise "
          f"{int((s - fel)[valid].max())} steps, {int((pit != s)[valid].sum())} cells higher in "
          f"Priority-Flood+epsilon's order (largest excess {int((pit - s)[valid].max())} steps); "
          f"{int((raised & edge).sum())} raised perimeter cells in {len(tiles)} of "
          f"{((w + t - 1) // t) * ((h + t - 1) // t)} tiles of {t}; {int(free.sum())} free cells, "
          f"{int((free & edge).sum())} on tile perimeters, front searches at most {visits} cell "
          f"visits; {time.time() - start:.1f} s")
    if args.by_tiles:
        start = time.time()
        keys, pairs, ends, longest = epsilon_by_tiles(z, void, t)
        same = np.array_equal(keys[valid], s[valid])
        print(f"  by tiles of {t}: {'the same keys' if same else 'DIFFERENT keys'}; {ends} free "
              f"perimeter cells, {pairs} front pairs, at most {longest} in one front; "
              f"{time.time() - start:.1f} s")
        if not same:
            sys.exit(1)


if __name__ == "__main__":
    main()
