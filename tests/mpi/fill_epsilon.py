#!/usr/bin/env python3
"""fill_epsilon (the strictly draining surface above fill's, docs/hydrology.md) equals the serial
least surface of tests/system/hydro_reference.py (epsilon_keys) key for key, and gives the same
bits at 1 x 1 (tile 32), 2 ranks x 2 threads (tile 16) and 3 ranks x 1 thread (tile 48), on
120 x 120 rasters: a window of a real DEM with voids, generated terrain with integer steps and
nodata holes, a bowl whose filled lake (with islands) spans every tile, and heights 0 to 4
Float32 steps apart with voids (raised flats bury their banks). Each reads fill's surface (the
serial priority-flood) and the bound along flowdir's paths (hydro_reference.epsilon_bound_keys),
and the generated terrain also a looser bound that frees every cell but the outlets, so that
fronts cross whole tiles. Then the refusals: a bound that is no bound, a raised cell on the
nodata value; one line naming the cell, a non-zero exit and no output left.
"""
import os
import sys

import numpy as np
import mpitest
from osgeo import gdal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "system"))
from hydro_reference import (D8_DX, D8_DY, epsilon_bound_keys, epsilon_keys,  # noqa: E402
                             flow_directions, float_keys, from_keys, priority_flood)

gdal.UseExceptions()

SIZE = 120
NODATA = -9999.0
RUNS = ((1, 1, 32), (2, 2, 16), (3, 1, 48))


def write(path, a, nodata=NODATA):
    """A Float32 GeoTIFF; the bounds' voids are NaN (any finite value could be a bound's)."""
    d = gdal.GetDriverByName("GTiff").Create(path, a.shape[1], a.shape[0], 1, gdal.GDT_Float32)
    d.SetGeoTransform([0, 30, 0, 0, 0, -30])
    d.GetRasterBand(1).SetNoDataValue(nodata)
    d.GetRasterBand(1).WriteArray(a)
    d = None


def real(data):
    ds = gdal.Open(os.path.join(data, "srtm.tif"))
    band = ds.GetRasterBand(1)
    a = band.ReadAsArray(150, 150, SIZE, SIZE).astype(np.float32)
    nodata = band.GetNoDataValue()
    void = np.isnan(a) | ((a == nodata) if nodata is not None else False)
    void[40:44, 50:57] = True
    return a, void


def terrain():
    import scipy.ndimage
    rng = np.random.default_rng(17)
    z = scipy.ndimage.gaussian_filter(rng.random((SIZE, SIZE)), 3) * 400
    z = (np.floor(z) + rng.integers(0, 2, (SIZE, SIZE))).astype(np.float32)
    void = rng.random((SIZE, SIZE)) < 0.004
    void[60:66, 70:83] = True
    return z, void


def lake():
    rng = np.random.default_rng(29)
    y, x = np.indices((SIZE, SIZE)).astype(np.float32)
    z = 0.02 * ((x - 60) ** 2 + (y - 55) ** 2) + rng.random((SIZE, SIZE)).astype(np.float32) * 3
    z += 60 * np.exp(-((x - 35) ** 2 + (y - 45) ** 2) / 20)
    z += 60 * np.exp(-((x - 80) ** 2 + (y - 70) ** 2) / 40)
    z = z.astype(np.float32)
    return z, (rng.random((SIZE, SIZE)) < 0.01) & (z > 60)


def ulps():
    rng = np.random.default_rng(11)
    base = int(float_keys(np.float32(100)))
    z = from_keys(base + rng.integers(0, 5, (SIZE, SIZE)))
    void = rng.random((SIZE, SIZE)) < 0.05
    void[30:33, 40:44] = True
    return z, void


def loose_bound(fel, void, bound):
    """The bound plus each cell's steps along its flow path to where it leaves the raster: still
    a bound (each cell above the next one by at least one), equal to fill's only at the outlets."""
    p = flow_directions(fel, void)
    h, w = fel.shape
    moving = ((p >= 1) & (p <= 8) & ~void).ravel()
    code = np.where(moving.reshape(h, w), p, 1).astype(np.int64) - 1
    ys, xs = np.indices((h, w))
    nxt = ((ys + np.array(D8_DY)[code]) * w + xs + np.array(D8_DX)[code]).ravel()
    nxt = np.where(moving, nxt, np.arange(h * w))
    steps = np.zeros(h * w, np.int64)
    while True:
        grown = np.where(moving, steps[nxt] + 1, 0)
        if np.array_equal(grown, steps):
            return bound + steps.reshape(h, w)
        steps = grown


def prepare(folder, name, z, void):
    """fill's surface, the bound (Float32 from keys) and the least surface's keys."""
    z = np.where(void, np.float32(0), z).astype(np.float32)
    fel = priority_flood(z, void)
    bound = epsilon_bound_keys(fel, void)
    want = epsilon_keys(fel, void)
    paths = {}
    for kind, a in (("fel", fel), ("u", from_keys(np.where(void, 0, bound)))):
        paths[kind] = os.path.join(folder, "%s-%s.tif" % (name, kind))
        nodata = NODATA if kind == "fel" else np.nan
        write(paths[kind], np.where(void, np.float32(nodata), a), nodata)
    return fel, bound, want, paths


def job_text(cases, out, tile):
    text = []
    for name, paths in cases:
        text.append('[input.%s_fel]\npath = "%s"\n\n[input.%s_u]\npath = "%s"\n'
                    % (name, paths["fel"], name, paths["u"]))
    for name, _ in cases:
        text.append('[[step]]\nid = "%s"\nop = "fill_epsilon"\nin = "%s_fel"\nbound = "%s_u"\n'
                    % (name, name, name))
        text.append('[[output]]\nfrom = "%s"\npath = "%s-%s.tif"\n' % (name, out, name))
    text.append("[run]\ntile = %d\n" % tile)
    return "\n".join(text)


def run(args, folder, cases, ranks, threads, tile):
    out = os.path.join(folder, "eps-%d-%d-%d" % (ranks, threads, tile))
    job = out + ".toml"
    with open(job, "w") as f:
        f.write(job_text(cases, out, tile))
    mpitest.launch_or_exit(args, ranks, threads, ["run", job, "-q"])
    got = {}
    for name, _ in cases:
        ds = gdal.Open("%s-%s.tif" % (out, name))
        got[name] = ds.GetRasterBand(1).ReadAsArray()
    return got


def refused(args, folder, name, fel, bound, void, words):
    """A run on this surface and bound stops: non-zero, one line with `words`, no output."""
    paths = {}
    for kind, a in (("fel", fel), ("u", bound)):
        paths[kind] = os.path.join(folder, "%s-%s.tif" % (name, kind))
        nodata = NODATA if kind == "fel" else np.nan
        write(paths[kind], np.where(void, np.float32(nodata), a), nodata)
    out = os.path.join(folder, "refused-" + name)
    with open(out + ".toml", "w") as f:
        f.write(job_text([(name, paths)], out, 16))
    done = mpitest.launch(args, 2, 1, ["run", out + ".toml", "-q"])
    if done.returncode == 0 or words not in done.stderr or os.path.exists(out + "-" + name + ".tif"):
        sys.exit("FAILED: %s was not refused as it should (%s):\n%s%s"
                 % (name, words, done.stdout, done.stderr))
    print("%s: refused: %s" % (name, [l for l in done.stderr.splitlines() if words in l][0]))


def main():
    args = mpitest.parse_args()
    folder = args.work
    os.makedirs(folder, exist_ok=True)
    cases, wants = [], {}
    for name, (z, void) in (("real", real(args.data)), ("terrain", terrain()), ("lake", lake()),
                            ("ulps", ulps())):
        fel, bound, want, paths = prepare(folder, name, z, void)
        cases.append((name, paths))
        wants[name] = (want, void, fel)
        if name == "terrain":
            loose = loose_bound(fel, void, bound)
            paths = dict(paths, u=os.path.join(folder, "terrain-loose-u.tif"))
            write(paths["u"], np.where(void, np.float32(np.nan), from_keys(np.where(void, 0, loose))),
                  np.nan)
            cases.append(("loose", paths))
            wants["loose"] = wants[name]
        raised = int((~void & (want > float_keys(fel))).sum())
        print("%s: %d cells raised, %d free" % (name, raised, int((~void & (bound > float_keys(fel))).sum())))
    first = None
    for ranks, threads, tile in RUNS:
        got = run(args, folder, cases, ranks, threads, tile)
        for name, a in got.items():
            want, void, fel = wants[name]
            keys = float_keys(a)
            if not np.array_equal(keys[~void], want[~void]) or (a[void] != NODATA).any():
                bad = np.argwhere(~void & (keys != want))
                sys.exit("FAILED: %s at %d x %d, tile %d: differs from epsilon_keys at %d cells "
                         "(first %s)" % (name, ranks, threads, tile, len(bad),
                                         bad[0] if len(bad) else "a void"))
            if first is not None and first[name].tobytes() != a.tobytes():
                sys.exit("FAILED: %s at %d x %d, tile %d: not the bits of 1 x 1"
                         % (name, ranks, threads, tile))
        first = first or got
        print("%d x %d, tile %d: equal to epsilon_keys" % (ranks, threads, tile))
    fel = np.full((8, 9), 5, np.float32)
    fel[3:5, 2:7] = np.nextafter(np.float32(NODATA), np.float32(-np.inf))
    fel[3:5, 0:2] = fel[3, 2]
    none = np.zeros(fel.shape, bool)
    bound = from_keys(epsilon_bound_keys(fel, none))
    refused(args, folder, "onto-nodata", fel, bound, none, "raised onto the nodata value")
    flat = np.full((8, 9), 5, np.float32)
    refused(args, folder, "no-bound", flat, flat, none, "is no bound")
    print("fill_epsilon: every check holds")


if __name__ == "__main__":
    sys.exit(main())
