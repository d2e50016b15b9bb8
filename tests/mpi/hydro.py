#!/usr/bin/env python3
"""fill, flowdir and flowacc give the same cells at N ranks x 1 thread with 16-cell tiles and at
N ranks x 2 threads with 48-cell tiles as at 1 x 1 with 32-cell tiles, on generated terrain with nodata holes and pits and on a
crop of a real DEM with NaN voids; at 1 x 1, fill equals the plain serial priority-flood of
tests/system/hydro_reference.py, so identical-but-wrong output cannot pass.

fill and flowacc are tile-graph passes (each tile alone, a global solve on rank 0, each tile
finished), so tile size and rank count change which cells share a tile, and nothing else may
change. flowacc reads tessera's own flow directions of the filled DEM.
"""
import os
import shutil
import sys

import numpy as np
import mpitest
from osgeo import gdal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "system"))
from hydro_reference import priority_flood  # noqa: E402

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
"""


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


def run_op(args, ranks, threads, folder, name, source, op, tile, out):
    job = os.path.join(folder, "%s-%s-%d-%d-%d.toml" % (name, op, ranks, threads, tile))
    with open(job, "w") as f:
        f.write(JOB.format(name=name, path=source, op=op, out=out, tile=tile))
    if os.path.exists(out):
        os.remove(out)
    mpitest.launch_or_exit(args, ranks, threads, ["run", job, "-q"])
    ds = gdal.Open(out)
    return ds.GetRasterBand(1).ReadAsArray()


def chain(args, ranks, threads, folder, dem, tile):
    """fill, flowdir of the filled DEM, flowacc of those directions: the three arrays."""
    tag = "%d-%d-%d" % (ranks, threads, tile)
    fel = os.path.join(folder, "fel-%s.tif" % tag)
    p = os.path.join(folder, "p-%s.tif" % tag)
    ad8 = os.path.join(folder, "ad8-%s.tif" % tag)
    return [run_op(args, ranks, threads, folder, "dem", dem, "fill", tile, fel),
            run_op(args, ranks, threads, folder, "fel", fel, "flowdir", tile, p),
            run_op(args, ranks, threads, folder, "p", p, "flowacc", tile, ad8)]


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


def main():
    args = mpitest.parse_args()
    folder = args.work
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    generated = os.path.join(folder, "terrain.tif")
    terrain(generated)
    crop = os.path.join(folder, "nz.tif")
    gdal.Translate(crop, os.path.join(args.data, "nz_elev.tif"), srcWin=[560, 560, 170, 150])
    failures = []
    for dem in (generated, crop):
        reference = chain(args, 1, 1, folder, dem, 32)
        raised = check_reference(dem, reference[0])
        for threads, tile in ((1, 16), (2, 48)):
            got = chain(args, args.ranks, threads, folder, dem, tile)
            for op, a, b in zip(("fill", "flowdir", "flowacc"), reference, got):
                if a.tobytes() != b.tobytes():
                    failures.append("%s %s at %d ranks x %d threads, tile %d" %
                                    (os.path.basename(dem), op, args.ranks, threads, tile))
        print("%s: fill (%d cells raised, as the serial priority-flood), flowdir, flowacc identical"
              " at %d ranks x 1 thread (tile 16) and x 2 threads (tile 48)" %
              (os.path.basename(dem), raised, args.ranks))
    if failures:
        sys.exit("FAILED:\n  " + "\n  ".join(failures))


if __name__ == "__main__":
    main()
