#!/usr/bin/env python3
"""fill, flowdir, flowacc (with and without a weight raster) and watershed (basins, and with
outlets) give the same cells at N ranks x 1 thread with 16-cell tiles and at N ranks x 2 threads
with 48-cell tiles as at 1 x 1 with 32-cell tiles, on generated terrain with nodata holes and
pits, on a bowl whose filled lake (with islands) spans every tile, and on a crop of a real DEM
with NaN voids; at 1 x 1, fill equals the plain serial priority-flood, flowdir the serial rule
(flats resolved) and watershed the serial labelling of tests/system/hydro_reference.py, so
identical-but-wrong output cannot pass; and every cell of the directions drains.

fill, flowdir, flowacc and watershed are tile-graph passes (each tile alone, a global solve on
rank 0, each tile finished), so tile size and rank count change which cells share a tile, and
nothing else may change; fill keeps its tiles between the phases in scratch files (beside the
output) or, without a scratch folder, floods them again: the same bits, and no scratch file left.
flowacc and watershed read tessera's own flow directions of the filled DEM, in one job of four
steps.
"""
import os
import shutil
import sys

import numpy as np
import mpitest
from osgeo import gdal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "system"))
from hydro_reference import basins, drains, flow_directions, priority_flood  # noqa: E402

gdal.UseExceptions()

JOB = """[input.{name}]
path = "{path}"

[[step]]
id = "out"
op = "{op}"
in = "{name}"

[[output]]
from = "out"
path = "{out}"
compress = "deflate"

[run]
tile = {tile}
{run}"""


# Directions p, weights w (Float32 with many significant bits: sums must be exact to agree) and
# outlet ids o: four steps of one pass.
ROUTING = """[input.p]
path = "{p}"

[input.w]
path = "{w}"

[input.o]
path = "{o}"

[[step]]
id = "ad8"
op = "flowacc"
in = "p"

[[step]]
id = "wad8"
op = "flowacc"
in = "p"
weight = "w"
type = "float64"

[[step]]
id = "basins"
op = "watershed"
in = "p"

[[step]]
id = "gauged"
op = "watershed"
in = "p"
outlets = "o"

[[output]]
from = "ad8"
path = "{out}-ad8.tif"

[[output]]
from = "wad8"
path = "{out}-wad8.tif"

[[output]]
from = "basins"
path = "{out}-basins.tif"

[[output]]
from = "gauged"
path = "{out}-gauged.tif"

[run]
tile = {tile}
"""
ROUTED = ("ad8", "wad8", "basins", "gauged")


def write_raster(path, z, nodata):
    d = gdal.GetDriverByName("GTiff").Create(path, z.shape[1], z.shape[0], 1, gdal.GDT_Float32)
    d.SetGeoTransform([0, 30, 0, 0, 0, -30])
    d.GetRasterBand(1).SetNoDataValue(nodata)
    d.GetRasterBand(1).WriteArray(z)
    d = None


def terrain(path):
    """Smooth random terrain with integer steps (flats, pits), nodata holes and a nodata block."""
    import scipy.ndimage
    rng = np.random.default_rng(17)
    h, w = 131, 147
    z = scipy.ndimage.gaussian_filter(rng.random((h, w)), 3) * 400
    z = np.floor(z).astype(np.float32) + rng.integers(0, 2, (h, w)).astype(np.float32)
    z[rng.random((h, w)) < 0.004] = -9999
    z[60:66, 70:83] = -9999
    write_raster(path, z, -9999)


def lake(path):
    """A bowl of noisy heights with two islands and holes on its rim: filled, a lake over most of
    it, one flat across every tile."""
    rng = np.random.default_rng(29)
    h, w = 80, 90
    y, x = np.indices((h, w)).astype(np.float32)
    z = 0.03 * ((x - 45) ** 2 + (y - 40) ** 2) + rng.random((h, w)).astype(np.float32) * 3
    z += 60 * np.exp(-((x - 25) ** 2 + (y - 35) ** 2) / 20) + 60 * np.exp(-((x - 60) ** 2 + (y - 50) ** 2) / 40)
    z = z.astype(np.float32)
    z[(rng.random((h, w)) < 0.01) & (z > 45)] = -9999
    write_raster(path, z, -9999)


def run_op(args, ranks, threads, folder, name, source, op, tile, out, run=""):
    job = os.path.join(folder, "%s-%s-%d-%d-%d.toml" % (name, op, ranks, threads, tile))
    with open(job, "w") as f:
        f.write(JOB.format(name=name, path=source, op=op, out=out, tile=tile, run=run))
    if os.path.exists(out):
        os.remove(out)
    mpitest.launch_or_exit(args, ranks, threads, ["run", job, "-q"])
    ds = gdal.Open(out)
    return ds.GetRasterBand(1).ReadAsArray()


def weights_and_outlets(dem):
    """Float32 weights of full precision and outlet ids (Int32, 0: none, some at nodata cells)
    beside `dem`."""
    ds = gdal.Open(dem)
    h, w = ds.RasterYSize, ds.RasterXSize
    rng = np.random.default_rng(23)
    weights = (rng.random((h, w)) * 10 - 1).astype(np.float32)
    outlets = np.zeros((h, w), np.int32)
    picked = rng.choice(h * w, 60, replace=False)
    outlets.ravel()[picked] = np.arange(1, 61)
    paths = (dem[:-4] + "-w.tif", dem[:-4] + "-o.tif")
    for path, a, nodata, kind in ((paths[0], weights, -9999, gdal.GDT_Float32),
                                  (paths[1], outlets, 0, gdal.GDT_Int32)):
        d = gdal.GetDriverByName("GTiff").Create(path, w, h, 1, kind)
        d.SetGeoTransform(ds.GetGeoTransform())
        d.SetProjection(ds.GetProjection())
        d.GetRasterBand(1).SetNoDataValue(nodata)
        d.GetRasterBand(1).WriteArray(a)
        d = None
    return paths


def route(args, ranks, threads, folder, p, tile, extras):
    """flowacc, weighted flowacc and watershed without and with outlets of directions `p`, in
    one run: their four arrays."""
    out = os.path.join(folder, "routed-%d-%d-%d" % (ranks, threads, tile))
    job = out + ".toml"
    with open(job, "w") as f:
        f.write(ROUTING.format(p=p, w=extras[0], o=extras[1], out=out, tile=tile))
    mpitest.launch_or_exit(args, ranks, threads, ["run", job, "-q"])
    arrays = []
    for name in ROUTED:
        ds = gdal.Open("%s-%s.tif" % (out, name))
        arrays.append(ds.GetRasterBand(1).ReadAsArray())
    return arrays


def chain(args, ranks, threads, folder, dem, tile, extras):
    """fill, flowdir of the filled DEM, then (with extras) route()'s four of those directions:
    six arrays (two without)."""
    tag = "%d-%d-%d" % (ranks, threads, tile)
    fel = os.path.join(folder, "fel-%s.tif" % tag)
    p = os.path.join(folder, "p-%s.tif" % tag)
    return [run_op(args, ranks, threads, folder, "dem", dem, "fill", tile, fel),
            run_op(args, ranks, threads, folder, "fel", fel, "flowdir", tile, p)] + \
        (route(args, ranks, threads, folder, p, tile, extras) if extras else [])


def check_basins(p, labels, outlets_path):
    """watershed's labels (basins, then by outlets) equal the serial reference's."""
    ds = gdal.Open(outlets_path)
    outlets = ds.GetRasterBand(1).ReadAsArray()
    for got, want, what in ((labels[0], basins(p, -32768), "basins"),
                            (labels[1], basins(p, -32768, outlets), "outlets")):
        if not np.array_equal(got, want):
            sys.exit("FAILED: watershed (%s) differs from the serial reference at %d cells" %
                     (what, int((got != want).sum())))
    return int(labels[0].max())


def check_reference(dem, fel):
    ds = gdal.Open(dem)
    b = ds.GetRasterBand(1)
    z = b.ReadAsArray()
    nodata = b.GetNoDataValue()
    void = np.isnan(z) | (z == np.float32(nodata))
    want = priority_flood(z, void)
    if not np.array_equal(fel[~void], want[~void]):
        sys.exit("FAILED: %s: fill differs from the serial priority-flood at %d cells" %
                 (dem, int((fel != want)[~void].sum())))
    return int((want > z)[~void].sum())


def check_flowdir(dem, fel, p):
    """flowdir at 1 x 1 equals the serial rule, and every cell drains."""
    ds = gdal.Open(dem)
    nodata = ds.GetRasterBand(1).GetNoDataValue()
    gt = ds.GetGeoTransform()
    void = np.isnan(fel) | (fel == np.float32(nodata))
    want = flow_directions(fel, void, gt[1], gt[5])
    if not np.array_equal(p, want):
        sys.exit("FAILED: flowdir differs from the serial rule at %d cells" % int((p != want).sum()))
    if not drains(p):
        sys.exit("FAILED: flowdir leaves a cell that does not drain (code 0 or a cycle)")
    return int((want != 0).sum())


def main():
    args = mpitest.parse_args()
    folder = args.work
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    generated = os.path.join(folder, "terrain.tif")
    terrain(generated)
    bowl = os.path.join(folder, "lake.tif")
    lake(bowl)
    crop = os.path.join(folder, "nz.tif")
    gdal.Translate(crop, os.path.join(args.data, "nz_elev.tif"), srcWin=[560, 560, 170, 150])
    failures = []
    for dem in (generated, bowl, crop):
        extras = weights_and_outlets(dem) if dem != bowl else None  # the lake: fill, flowdir
        reference = chain(args, 1, 1, folder, dem, 32, extras)
        raised = check_reference(dem, reference[0])
        count = check_basins(reference[1], reference[4:6], extras[1]) if extras else 0
        check_flowdir(dem, reference[0], reference[1])
        for threads, tile in ((1, 16), (2, 48)):
            got = chain(args, args.ranks, threads, folder, dem, tile, extras)
            for op, a, b in zip(("fill", "flowdir") + ROUTED, reference, got):
                if a.tobytes() != b.tobytes():
                    failures.append("%s %s at %d ranks x %d threads, tile %d" %
                                    (os.path.basename(dem), op, args.ranks, threads, tile))
        # Every run above kept fill's tiles in the output's folder between the phases; without a
        # scratch folder each tile is flooded again, to the same bits.
        again = run_op(args, args.ranks, 2, folder, "dem", dem, "fill", 48,
                       os.path.join(folder, "fel-again.tif"), "scratch = false\n")
        if again.tobytes() != reference[0].tobytes():
            failures.append("%s fill without a scratch folder at %d ranks" % (os.path.basename(dem), args.ranks))
        routed = (", flowacc (and weighted), watershed (%d basins, as the serial reference; and"
                  " by outlets)" % count) if extras else ""
        print("%s: fill (%d cells raised, as the serial priority-flood), flowdir (as the serial"
              " rule, every cell drains)%s identical at %d ranks x 1 thread (tile 16) and x 2"
              " threads (tile 48)" % (os.path.basename(dem), raised, routed, args.ranks))
    left = [n for n in os.listdir(folder) if ".scratch-" in n]
    if left:
        failures.append("scratch files left behind: %s" % ", ".join(sorted(left)))
    if failures:
        sys.exit("FAILED:\n  " + "\n  ".join(failures))


if __name__ == "__main__":
    main()
