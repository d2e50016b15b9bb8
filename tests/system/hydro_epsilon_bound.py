#!/usr/bin/env python3
"""fill's epsilon, its bound pass (docs/hydrology.md, "fill's epsilon"): the op
fill_epsilon_bound, run in a job on tessera's fill and flowdir, against the bound of
tests/system/hydro_reference.py (epsilon_bound_keys: U(c) = max(K(c), U(next) + 1) along the
flow, U = K where it leaves the raster) on generated terrain with voids and windows of the real
DEMs, bit for bit at 1 x 1, 2 x 2 and 3 x 1 ranks x threads; at the top of the Float32 range it
saturates to +infinity; directions that are not those of the surface are refused in one line.
"""
import os
import shutil
import sys
import tempfile

import numpy as np
from osgeo import gdal

import systest
from bad_inputs import MPIRUN_NOISE
from hydro_reference import LARGEST_KEY, epsilon_bound_keys, float_keys, from_keys

gdal.UseExceptions()

RUNS = [(0, 1), (2, 2), (3, 1)]  # ranks (0: no mpirun) x threads
JOB = """
[input.fel]
path = "fel.tif"

[input.p]
path = "p.tif"

[[step]]
id = "u"
op = "fill_epsilon_bound"
in = "fel"
directions = "p"

[[output]]
from = "u"
path = "u.tif"

[run]
tile = 16
"""



def run(args, words, label, ranks=0, threads=1):
    made = systest.tessera(args, words + ["-q"], ranks=ranks, threads=threads)
    if made.returncode != 0:
        systest.fail(f"{label}: {made.describe()}")


def expected(u_keys, void):
    """The op's Float32 cells for the bound's keys: +inf past the largest finite value, NaN (its
    nodata) at voids."""
    cells = from_keys(np.where(void, 0, np.minimum(u_keys, LARGEST_KEY + 1)))
    return np.where(void, np.float32(np.nan), cells)


def check(args, name, dem, nodata, runs, square):
    """fill and flowdir of `dem` by tessera, then the bound at each of `runs`, against the
    reference on tessera's directions (and on the reference's own when cells are square)."""
    folder = tempfile.mkdtemp(prefix="tessera-bound-")
    try:
        path = lambda n: os.path.join(folder, n)
        run(args, ["hydro", "fill", "-z", dem, "-fel", path("fel.tif"), "--tile", "32"], name)
        run(args, ["hydro", "flowdir", "-fel", path("fel.tif"), "-p", path("p.tif"), "--tile",
                   "32"], name)
        fel, fel_nodata = systest.read_band(path("fel.tif"))
        p, _ = systest.read_band(path("p.tif"))
        void = np.isnan(fel) | ((fel == fel_nodata) if fel_nodata is not None else False)
        want_keys = epsilon_bound_keys(fel, void, p)
        if square and not np.array_equal(want_keys[~void], epsilon_bound_keys(fel, void)[~void]):
            systest.fail(f"{name}: the bound on tessera's directions differs from the one on "
                         "the reference's")
        want = expected(want_keys, void)
        with open(path("bound.toml"), "w") as f:
            f.write(JOB)
        for ranks, threads in runs:
            label = f"{name} at {max(ranks, 1)} rank(s) x {threads} thread(s)"
            if os.path.exists(path("u.tif")):
                os.remove(path("u.tif"))
            run(args, ["run", path("bound.toml")], label, ranks, threads)
            got, got_nodata = systest.read_band(path("u.tif"))
            if got_nodata is None or not np.isnan(got_nodata):
                systest.fail(f"{label}: nodata {got_nodata}, not NaN")
            if got.dtype != np.float32 or got.tobytes() != want.tobytes():
                bad = np.argwhere(float_keys(got) != float_keys(want))[0]
                systest.fail(f"{label}: cell {bad[1]}, {bad[0]} holds {got[tuple(bad)]!r}, the "
                             f"bound is {want[tuple(bad)]!r}")
        raised = int(np.count_nonzero(want_keys[~void] > float_keys(fel)[~void]))
        print(f"{name}: the bound equals the reference at {len(runs)} rank/thread counts "
              f"({raised} of {int(np.count_nonzero(~void))} cells above fill's surface)")
        return folder
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def generated(args, work):
    """A noisy bowl with two islands, a ridge of heights one Float32 step apart, and voids;
    returns the folder of its rasters and job."""
    rng = np.random.default_rng(5)
    h, w = 70, 90
    y, x = np.indices((h, w)).astype(np.float32)
    z = 0.03 * ((x - 45) ** 2 + (y - 35) ** 2) + rng.random((h, w)).astype(np.float32) * 3
    z += 60 * np.exp(-((x - 25) ** 2 + (y - 30) ** 2) / 20)
    z += 60 * np.exp(-((x - 60) ** 2 + (y - 45) ** 2) / 40)
    z[10:14, 5:80] = from_keys(float_keys(np.float32(70)) + rng.integers(0, 3, (4, 75)))
    z = z.astype(np.float32)
    z[(rng.random((h, w)) < 0.01) & (z > 40)] = -9999
    z[50:53, 70:74] = -9999
    dem = os.path.join(work, "generated.tif")
    systest.write_float32(dem, z, -9999)
    return check(args, "generated", dem, -9999, RUNS, True)


def real(args, work, name, window, runs):
    """A window of a real DEM of tests/data, on its own grid (NaN its nodata if it has none:
    chiprofiler_dem has NaN voids)."""
    ds = gdal.Open(os.path.join(args.data, name))
    nodata = ds.GetRasterBand(1).GetNoDataValue()
    nodata = float("nan") if nodata is None else nodata
    x0, y0, w, h = window
    w, h = min(w, ds.RasterXSize - x0), min(h, ds.RasterYSize - y0)
    dem = os.path.join(work, name)
    gdal.Translate(dem, ds, srcWin=[x0, y0, w, h], outputType=gdal.GDT_Float32, noData=nodata)
    gt = ds.GetGeoTransform()
    shutil.rmtree(check(args, f"{name} [{x0}:{x0 + w}, {y0}:{y0 + h}]", dem, nodata, runs,
                        abs(gt[1]) == abs(gt[5])))


def saturated(args, work):
    """A raster at the largest finite Float32: the cells inside its edge bound past it (+inf)."""
    dem = os.path.join(work, "top.tif")
    systest.write_float32(dem, np.full((6, 7), np.finfo(np.float32).max, np.float32), None)
    folder = check(args, "top of the range", dem, None, RUNS[:1], True)
    try:
        got, _ = systest.read_band(os.path.join(folder, "u.tif"))
        if not np.isposinf(got[1:-1, 1:-1]).all():
            systest.fail("top of the range: the cells inside the edge are not +inf")
    finally:
        shutil.rmtree(folder)


def refused(args, folder):
    """Directions of another surface (generated()'s `folder`, its job and rasters): a cell with
    code 0 is refused in one line, no output."""
    try:
        ds = gdal.Open(os.path.join(folder, "p.tif"), gdal.GA_Update)
        p = ds.GetRasterBand(1).ReadAsArray()
        p[20, 30] = 0
        ds.GetRasterBand(1).WriteArray(p)
        ds = None
        os.remove(os.path.join(folder, "u.tif"))
        for ranks, threads in RUNS[:2]:
            made = systest.tessera(args, ["run", os.path.join(folder, "bound.toml"), "-q"],
                                   ranks=ranks, threads=threads)
            lines = [line for line in made.stderr.splitlines() if not MPIRUN_NOISE.match(line)]
            want = ("tessera: error: fill_epsilon_bound: cell 30, 20 has direction 0 (its flow "
                    "stops there): the directions are not those of a filled surface")
            if made.returncode in (0, None) or lines != [want]:
                systest.fail(f"refusal at {max(ranks, 1)} rank(s): {made.describe()}")
            left = [f for f in os.listdir(folder) if f.startswith(".") or f == "u.tif"]
            if left:
                systest.fail(f"refusal at {max(ranks, 1)} rank(s): left {left}")
        print("directions with a code 0 are refused in one line, nothing left behind")
    finally:
        shutil.rmtree(folder)


def main():
    args = systest.parse_args(__doc__)
    work = tempfile.mkdtemp(prefix="tessera-bound-dems-")
    try:
        folder = generated(args, work)
        real(args, work, "n43.tif", (0, 0, 121, 121), RUNS)
        real(args, work, "srtm.tif", (150, 150, 140, 140), RUNS[:1])
        real(args, work, "nz_elev.tif", (840, 420, 140, 140), RUNS[:1])
        real(args, work, "chiprofiler_dem.tif", (200, 300, 140, 140), RUNS[:1])
        saturated(args, work)
        refused(args, folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("fill_epsilon_bound: every check holds")


if __name__ == "__main__":
    sys.exit(main())
