#!/usr/bin/env python3
"""fill, flowdir and flowacc against TauDEM 5.3 (pitremove, d8flowdir, aread8 -nc), cell for cell,
on every real DEM of tests/data and on generated terrain with nodata holes and pits.

- fill equals pitremove everywhere (same voids, same heights);
- flowdir equals d8flowdir (of the same filled DEM) wherever the steepest descent is unique and
  downhill (no flat), on projected DEMs: on a geographic DEM TauDEM measures cells in metres on
  the ellipsoid, tessera in the geotransform's units, so the steepest neighbour may differ;
- flowacc equals aread8 -nc given the same flow-direction raster: tessera's own (its 0 codes,
  cells of unresolved flats, as nodata: aread8 misreads a 0), then TauDEM's.

TauDEM 5.3 does not read NaN as nodata, so each DEM is given to both tools with its voids as
-9999 (chiprofiler_dem.tif has NaN voids and no nodata value, which tessera refuses).

TauDEM is built from its source beside the project (../shared/peers, see its README) into
--taudem-dir the first time (about 3 minutes on 2 cores); the test is skipped (exit 77) when
neither the binaries nor that source are on the machine.
"""
import os
import shutil
import subprocess
import sys

import numpy as np
import systest
from osgeo import gdal

gdal.UseExceptions()

SKIP = 77
DEMS = [("chiprofiler_dem.tif", True), ("nz_elev.tif", True), ("srtm.tif", False),
        ("n43.tif", False)]  # (file, projected)
DX = [1, 1, 0, -1, -1, -1, 0, 1]  # TauDEM's directions 1-8: E, NE, N, NW, W, SW, S, SE
DY = [0, -1, -1, -1, 0, 1, 1, 1]


def extra(p):
    p.add_argument("--taudem-dir", required=True, help="where TauDEM is (or is built): DIR/bin")
    p.add_argument("--peers", required=True, help="folder of build_taudem.sh")
    p.add_argument("--work", required=True)


def taudem_bin(args):
    binary = os.path.join(args.taudem_dir, "bin")
    if os.access(os.path.join(binary, "aread8"), os.X_OK):
        return binary
    script = os.path.join(args.peers, "build_taudem.sh")
    if not os.path.exists(script):
        print("SKIPPED: TauDEM is not built in %s and its source (%s) is not on this machine"
              % (args.taudem_dir, script))
        sys.exit(SKIP)
    print("building TauDEM into %s (about 3 minutes)" % args.taudem_dir, flush=True)
    subprocess.run(["bash", script, args.taudem_dir], check=True)
    return binary


def run(args, cmd):
    done = systest.run(cmd, 600, systest.environment())
    if done.returncode != 0:
        systest.fail(done.describe())


def read(path):
    ds = gdal.Open(path)
    b = ds.GetRasterBand(1)
    return b.ReadAsArray(), b.GetNoDataValue()


def with_voids_as(src, dst, value=-9999.0):
    """A Float32 copy of `src` whose voids (NaN or its nodata) are `value`, its nodata value."""
    ds = gdal.Open(src)
    b = ds.GetRasterBand(1)
    a = b.ReadAsArray().astype(np.float32)
    nodata = b.GetNoDataValue()
    void = np.isnan(a) | (False if nodata is None or np.isnan(nodata) else a == np.float32(nodata))
    a[void] = value
    out = gdal.GetDriverByName("GTiff").Create(dst, ds.RasterXSize, ds.RasterYSize, 1,
                                               gdal.GDT_Float32)
    out.SetGeoTransform(ds.GetGeoTransform())
    out.SetProjection(ds.GetProjection())
    out.GetRasterBand(1).SetNoDataValue(value)
    out.GetRasterBand(1).WriteArray(a)
    out = None


def zeros_as_nodata(src, dst):
    """A copy of a flow-direction raster whose 0 codes are its nodata value."""
    ds = gdal.Open(src)
    b = ds.GetRasterBand(1)
    a = b.ReadAsArray()
    a[a == 0] = b.GetNoDataValue()
    out = gdal.GetDriverByName("GTiff").CreateCopy(dst, ds)
    out.GetRasterBand(1).WriteArray(a)
    out = None


def generated(dst):
    import scipy.ndimage
    rng = np.random.default_rng(5)
    h, w = 301, 277
    z = scipy.ndimage.gaussian_filter(rng.random((h, w)), 4) * 2000
    z = np.round(z, 1).astype(np.float32)
    z[rng.random((h, w)) < 0.003] = -9999
    z[100:120, 40:90] = -9999
    out = gdal.GetDriverByName("GTiff").Create(dst, w, h, 1, gdal.GDT_Float32)
    out.SetGeoTransform([500000, 10, 0, 4000000, 0, -10])
    out.GetRasterBand(1).SetNoDataValue(-9999)
    out.GetRasterBand(1).WriteArray(z)
    out = None


def tessera_op(args, op, name, src, out, tile=64):
    job = out + ".toml"
    with open(job, "w") as f:
        f.write('[input.%s]\npath = "%s"\n\n[[step]]\nid = "o"\nop = "%s"\nin = "%s"\n\n'
                '[[output]]\nfrom = "o"\npath = "%s"\n\n[run]\ntile = %d\n'
                % (name, src, op, name, out, tile))
    run(args, [args.tessera, "run", job, "-q"])


def unique_descent(fel_path):
    """Cells whose steepest downhill neighbour is unique (TauDEM's float arithmetic)."""
    z, nodata = read(fel_path)
    z = z.astype(np.float32)
    z[z == np.float32(nodata)] = np.nan
    gt = gdal.Open(fel_path).GetGeoTransform()
    h, w = z.shape
    padded = np.pad(z, 1, constant_values=np.nan)
    slopes = np.empty((8, h, w), np.float32)
    for k in range(8):
        factor = 1.0 / np.sqrt(DX[k] ** 2 * gt[1] ** 2 + DY[k] ** 2 * gt[5] ** 2)
        drop = z - padded[1 + DY[k]:1 + DY[k] + h, 1 + DX[k]:1 + DX[k] + w]
        slopes[k] = (factor * drop.astype(np.float64)).astype(np.float32)
    slopes = np.nan_to_num(slopes, nan=-np.inf)
    top = slopes.max(axis=0)
    return (top > 0) & ((slopes == top).sum(axis=0) == 1)


def check_dem(args, bin_dir, name, dem, projected):
    tau = lambda tool, *words: run(args, [args.mpiexec, "-n", "1", os.path.join(bin_dir, tool)]
                                   + list(words))
    w = lambda f: os.path.join(args.work, name + "-" + f)
    tau("pitremove", "-z", dem, "-fel", w("tfel.tif"))
    tessera_op(args, "fill", "dem", dem, w("fel.tif"))
    mine, mine_nd = read(w("fel.tif"))
    theirs, theirs_nd = read(w("tfel.tif"))
    mine_void = mine == np.float32(mine_nd)
    theirs_void = theirs == np.float32(theirs_nd)
    if not (mine_void == theirs_void).all() or not (mine == theirs)[~mine_void].all():
        systest.fail("%s: fill differs from pitremove at %d cells" %
                     (name, int(((mine != theirs) & ~(mine_void & theirs_void)).sum())))
    raised = int((mine > read(dem)[0])[~mine_void].sum())

    tau("d8flowdir", "-fel", w("fel.tif"), "-p", w("tp.tif"), "-sd8", w("tsd8.tif"))
    tessera_op(args, "flowdir", "fel", w("fel.tif"), w("p.tif"))
    p, _ = read(w("p.tif"))
    tp, _ = read(w("tp.tif"))
    compared = unique_descent(w("fel.tif")) & (tp > 0)
    differ = int((p != tp)[compared].sum())
    if projected and differ:
        systest.fail("%s: flowdir differs from d8flowdir at %d of %d cells of unique descent" %
                     (name, differ, int(compared.sum())))
    if ((p < 0) != (tp < 0)).any():
        systest.fail("%s: flowdir's nodata cells differ from d8flowdir's" % name)

    # aread8 counts a neighbour of code 0 as flowing into the cell it would reach with code 4 or 8
    # (|0 - k| == 4) and then never releases that cell: tessera's 0 codes (unresolved flats) are
    # given to both tools as nodata, where flow stops in both.
    zeros_as_nodata(w("p.tif"), w("p0.tif"))
    for label, directions in (("tessera's", w("p0.tif")), ("TauDEM's", w("tp.tif"))):
        tau("aread8", "-p", directions, "-ad8", w("tad8.tif"), "-nc")
        tessera_op(args, "flowacc", "p", directions, w("ad8.tif"))
        a, _ = read(w("ad8.tif"))
        ta, _ = read(w("tad8.tif"))
        if not np.array_equal(a, ta):
            systest.fail("%s: flowacc of %s directions differs from aread8 -nc at %d cells" %
                         (name, label, int((a != ta).sum())))
    note = ("%d cells of unique descent equal" % compared.sum() if projected else
            "geographic: %d of %d cells of unique descent differ (metres on the ellipsoid)"
            % (differ, compared.sum()))
    print("%-20s fill = pitremove (%d raised); flowdir: %s; flowacc = aread8 -nc (max %d)" %
          (name, raised, note, int(a.max())))


def main():
    args = systest.parse_args(__doc__, extra)
    bin_dir = taudem_bin(args)
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    for name, projected in DEMS:
        dem = os.path.join(args.work, name)
        with_voids_as(os.path.join(args.data, name), dem)
        check_dem(args, bin_dir, name, dem, projected)
    dem = os.path.join(args.work, "generated.tif")
    generated(dem)
    check_dem(args, bin_dir, "generated.tif", dem, True)


if __name__ == "__main__":
    main()
