#!/usr/bin/env python3
"""fill's epsilon, its definition checked (docs/hydrology.md, "fill's epsilon"): the serial
reference of tests/system/hydro_reference.py (the least strictly draining surface, by Dijkstra's
algorithm on Float32 keys) against a brute force that knows no order of visits (Kleene's
iteration of the equation from fill's surface), on hand-worked rasters, on random rasters whose
heights are a few Float32 steps apart (so that raised flats bury their banks) with voids, on a
lake with islands, at zero, and on the real DEMs of tests/data. On each: the equation holds,
every cell that is not an outlet has a strictly lower neighbour as Float32 compares, the surface
is at or above fill's, the same from the DEM as from fill's surface, unchanged where a strictly
descending path leaves the raster, below the bound along the flow paths, and Priority-Flood+
epsilon's first-come order is never lower. And the tile-graph method designed for it (docs/
hydrology.md; hydro_reference.epsilon_by_tiles: fixed cells, fronts between a tile's free
perimeter cells, one global Dijkstra) gives the same keys at small tile sizes.

This checks the rule and the reference; system.hydro_epsilon_fill compares the op (fill with
epsilon = true) with the reference.
"""
import os
import sys

import numpy as np
from osgeo import gdal

import systest
from hydro_reference import (LARGEST_KEY, NEIGHBOURS, drains_strictly, epsilon_bound_keys,
                             epsilon_by_relaxation, epsilon_by_tiles, epsilon_fill, epsilon_keys,
                             float_keys, from_keys, is_epsilon_surface, outlets,
                             pit_queue_epsilon_keys, priority_flood)

gdal.UseExceptions()


def descends_to_outlet(keys, void):
    """The cells with a strictly descending path (in `keys`) to an outlet."""
    h, w = keys.shape
    big = np.int64(2) ** 62
    reached = outlets(void)
    while True:
        # a cell is reached when a reached neighbour is strictly lower
        p = np.pad(np.where(reached, keys, big), 1, constant_values=big)
        low = np.full((h, w), big, np.int64)
        for dx, dy in NEIGHBOURS:
            low = np.minimum(low, p[1 + dy:1 + dy + h, 1 + dx:1 + dx + w])
        grown = reached | (~void & (low < keys))
        if np.array_equal(grown, reached):
            return reached
        reached = grown


def check(name, z, void, tiles=()):
    """Every property of the module's docstring on one raster, and the designed tile-graph method
    at each size of `tiles`; returns the surface's keys and the number of cells raised that are
    not on a flat of fill's surface (buried banks)."""
    z = np.where(void, np.float32(0), z).astype(np.float32)
    base = float_keys(z)
    fel = priority_flood(z, void)
    fel_keys = float_keys(fel)
    s = epsilon_keys(z, void)
    valid = ~void
    if not is_epsilon_surface(s, base, void):
        systest.fail(f"{name}: the reference's surface does not satisfy the equation")
    brute = epsilon_by_relaxation(fel_keys, base, void)
    if not np.array_equal(s[valid], brute[valid]):
        bad = np.argwhere(valid & (s != brute))[0]
        systest.fail(f"{name}: Dijkstra and the brute force differ at cell {bad[1]}, {bad[0]}: "
                     f"{s[tuple(bad)]} against {brute[tuple(bad)]}")
    if not np.array_equal(epsilon_keys(fel, void)[valid], s[valid]):
        systest.fail(f"{name}: the surface from fill's output differs from the one from the DEM")
    surface = from_keys(np.where(void, 0, s))
    if not drains_strictly(surface, void):
        systest.fail(f"{name}: a cell has no strictly lower neighbour")
    if (surface[valid] < fel[valid]).any():
        systest.fail(f"{name}: the surface is below fill's somewhere")
    down = descends_to_outlet(fel_keys, void)
    if not np.array_equal(s[down], fel_keys[down]):
        systest.fail(f"{name}: a cell with a strictly descending path to an outlet was raised")
    pit = pit_queue_epsilon_keys(z, void)
    pit_surface = from_keys(np.where(void, 0, pit))
    if (pit[valid] < s[valid]).any() or not drains_strictly(pit_surface, void):
        systest.fail(f"{name}: Priority-Flood+epsilon's order went below the least surface or "
                     "does not drain")
    bound = epsilon_bound_keys(fel, void)
    if (s[valid] > bound[valid]).any():
        systest.fail(f"{name}: the bound along the flow paths is below the surface somewhere")
    for t in tiles:
        by_tiles, pairs, ends, longest = epsilon_by_tiles(z, void, t)
        if not np.array_equal(by_tiles[valid], s[valid]):
            bad = np.argwhere(valid & (by_tiles != s))[0]
            systest.fail(f"{name}: the tile-graph method at tile {t} differs at cell {bad[1]}, "
                         f"{bad[0]}: {by_tiles[tuple(bad)]} against {s[tuple(bad)]}")
        print(f"{name}: tile {t}: the same keys; {ends} free perimeter cells, {pairs} front "
              f"pairs, at most {longest} in one front")
    raised = valid & (s > fel_keys)
    buried = raised & ~flat_cells(fel_keys, void)
    print(f"{name}: {int(valid.sum())} cells, {int(raised.sum())} raised "
          f"({int(buried.sum())} of them not on a flat of fill's surface; "
          f"{int((valid & (bound > fel_keys)).sum())} free, their bound above fill's), "
          "largest raise "
          f"{int((s - fel_keys)[valid].max())} steps, {int((pit != s)[valid].sum())} cells "
          "higher in Priority-Flood+epsilon's order")
    return s, int(buried.sum())


def flat_cells(keys, void):
    """Valid cells, not outlets, with no strictly lower valid neighbour."""
    big = np.int64(2) ** 62
    h, w = keys.shape
    p = np.pad(np.where(void, big, keys), 1, constant_values=big)
    low = np.full((h, w), big, np.int64)
    for dx, dy in NEIGHBOURS:
        low = np.minimum(low, p[1 + dy:1 + dy + h, 1 + dx:1 + dx + w])
    return ~void & ~outlets(void) & (low >= keys)


def corridor():
    """A corridor between two outlets at 5, walls at 9: the least surface rises one step a cell
    from each end, [6, 7, 7, 6] above 5; the pit queue runs from the first outlet popped to the
    far end, [6, 7, 8, 9] (or its mirror)."""
    z = np.full((3, 6), 9, np.float32)
    z[1] = [5, 1, 1, 1, 1, 5]
    void = np.zeros(z.shape, bool)
    s, _ = check("corridor", z, void, tiles=(2, 3))
    five = int(float_keys(np.float32(5)))
    if list(s[1, 1:5] - five) != [1, 2, 2, 1]:
        systest.fail(f"corridor: {list(s[1, 1:5] - five)} steps above 5, not [1, 2, 2, 1]")
    pit = pit_queue_epsilon_keys(z, void)[1, 1:5] - five
    if list(pit) not in ([1, 2, 3, 4], [4, 3, 2, 1]):
        systest.fail(f"corridor: Priority-Flood+epsilon gave {list(pit)}")


def bank():
    """A flat at 100 whose only outlet of its height is its west end; one step above it, at its
    east end, a bank cell that drains to a lower outlet. The least surface leaves the flat over
    the bank where that is shorter: min(x, 11 - x) steps above 100 at cell x of the flat (the bank
    is 1 step up, the cell beside it 2), not x (the breadth-first distance to the flat's outlet
    that flowdir uses)."""
    z = np.full((3, 12), 1000, np.float32)
    z[1, :10] = 100
    z[1, 10] = np.nextafter(np.float32(100), np.float32(np.inf))
    z[1, 11] = 50
    void = np.zeros(z.shape, bool)
    s, _ = check("bank", z, void, tiles=(2, 4))
    got = list(s[1, 1:10] - int(float_keys(np.float32(100))))
    want = [min(x, 11 - x) for x in range(1, 10)]
    if got != want:
        systest.fail(f"bank: {got} steps above 100 on the flat, not {want}")


def random_ulps():
    """Small rasters whose heights are 0 to 4 Float32 steps above 100, with voids: flats
    everywhere, and raises that bury the banks around them."""
    rng = np.random.default_rng(11)
    base = int(float_keys(np.float32(100)))
    buried = 0
    for k in range(24):
        h, w = rng.integers(5, 19), rng.integers(5, 23)
        z = from_keys(base + rng.integers(0, 5, (h, w)))
        void = rng.random((h, w)) < 0.05
        if k % 3 == 0:
            void[h // 3:h // 3 + 2, w // 3:w // 3 + 3] = True
        buried += check(f"ulps {k} ({w} x {h})", z, void, tiles=(3 + k % 5,))[1]
    if buried == 0:
        systest.fail("ulps: no bank was buried; the rasters do not test what they should")


def lake():
    """A bowl of noisy heights with two islands and voids on its rim (tests/mpi/hydro.py's)."""
    rng = np.random.default_rng(29)
    h, w = 80, 90
    y, x = np.indices((h, w)).astype(np.float32)
    z = 0.03 * ((x - 45) ** 2 + (y - 40) ** 2) + rng.random((h, w)).astype(np.float32) * 3
    z += 60 * np.exp(-((x - 25) ** 2 + (y - 35) ** 2) / 20)
    z += 60 * np.exp(-((x - 60) ** 2 + (y - 50) ** 2) / 40)
    z = z.astype(np.float32)
    void = (rng.random((h, w)) < 0.01) & (z > 45)
    check("lake", z, void, tiles=(16,))


def at_zero():
    """Heights -0, +0 and the smallest subnormals: -0 and +0 are one height, so a flat of -0
    beside an outlet at +0 rises to the subnormals, and compares strictly lower step by step."""
    tiny = np.float32(1e-45)
    z = np.full((4, 7), 1, np.float32)
    z[1:3, 1:6] = -0.0
    z[1, 0] = 0.0
    z[2, 3] = -tiny
    void = np.zeros(z.shape, bool)
    s, _ = check("zero", z, void, tiles=(2,))
    if from_keys(s[1, 1]) != tiny:
        systest.fail(f"zero: the cell beside the outlet at +0 is {from_keys(s[1, 1])!r}, not 1e-45")


def past_largest():
    """A flat at the largest finite Float32: its raised cells would pass it (the op refuses)."""
    z = np.full((3, 5), np.finfo(np.float32).max, np.float32)
    void = np.zeros(z.shape, bool)
    z[1, 1:4] = 0
    if epsilon_keys(z, void)[1, 2] <= LARGEST_KEY:
        systest.fail("largest: the flat was not raised past the largest finite Float32")
    try:
        epsilon_fill(z, void)
    except ValueError:
        return
    systest.fail("largest: epsilon_fill did not refuse a surface past the largest finite Float32")


def onto_nodata():
    """A flat one Float32 step below the nodata value -9999, beside an outlet at that height: its
    cell beside the outlet would be raised onto -9999 and read as a void (the op refuses)."""
    below = np.nextafter(np.float32(-9999), np.float32(-np.inf))
    z = np.full((3, 5), 0, np.float32)
    z[1, :4] = below
    void = np.zeros(z.shape, bool)
    s, _ = check("nodata", z, void)
    if from_keys(s[1, 1]) != np.float32(-9999):
        systest.fail(f"nodata: the cell beside the outlet is {from_keys(s[1, 1])!r}, not -9999")
    try:
        epsilon_fill(z, void, nodata=-9999)
    except ValueError:
        return
    systest.fail("nodata: epsilon_fill did not refuse a cell raised onto the nodata value")


def real(data, name, window, tiles=()):
    """A window of a real DEM of tests/data, voids as the op reads them (NaN or nodata)."""
    ds = gdal.Open(os.path.join(data, name))
    band = ds.GetRasterBand(1)
    x, y, w, h = window
    w, h = min(w, ds.RasterXSize - x), min(h, ds.RasterYSize - y)
    a = band.ReadAsArray(x, y, w, h).astype(np.float64)
    nodata = band.GetNoDataValue()
    void = np.isnan(a) | ((a == nodata) if nodata is not None else False)
    check(f"{name} [{x}:{x + w}, {y}:{y + h}]", a.astype(np.float32), void, tiles)


def main():
    args = systest.parse_args(__doc__)
    corridor()
    bank()
    at_zero()
    past_largest()
    onto_nodata()
    random_ulps()
    lake()
    real(args.data, "n43.tif", (0, 0, 121, 121), tiles=(16,))
    real(args.data, "srtm.tif", (150, 150, 140, 140))
    real(args.data, "nz_elev.tif", (840, 420, 140, 140))
    real(args.data, "chiprofiler_dem.tif", (200, 300, 140, 140))
    print("fill's epsilon reference: every check holds")


if __name__ == "__main__":
    sys.exit(main())
