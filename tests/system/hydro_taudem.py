#!/usr/bin/env python3
"""fill, flowdir, flowacc and watershed against TauDEM 5.3 (pitremove, d8flowdir, aread8 -nc and
-wg, gagewatershed), cell for cell,
on every real DEM of tests/data and on generated terrain with nodata holes and pits.

- fill equals pitremove everywhere (same voids, same heights);
- flowdir equals d8flowdir (of the same filled DEM) wherever the steepest descent is unique and
  downhill (no flat), on projected DEMs: on a geographic DEM TauDEM measures cells in metres on
  the ellipsoid, tessera in the geotransform's units, so the steepest neighbour may differ; on
  flats (cells with no lower neighbour), every cell of tessera's directions drains (no code 0, no
  cycle), and the share of flat cells where the two agree is printed (the rules differ);
- flowacc equals aread8 -nc given the same flow-direction raster: tessera's own (any 0 codes,
  cells of flats without an outlet, as nodata: aread8 misreads a 0), then TauDEM's;
- flowacc with a weight raster equals aread8 -wg -nc (TauDEM's directions; weights in quarters,
  so that aread8's Float32 sums in its own order are exact too);
- watershed with outlets equals gagewatershed given the same outlets (a shapefile for TauDEM, a
  raster of the same ids for tessera), and watershed without outlets the serial labelling of
  hydro_reference.py (TauDEM has no such tool).

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
from hydro_reference import basins, drains
from osgeo import gdal, ogr

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


def tessera_with(args, op, directions, option, band, out, tile=64):
    """op of `directions` with option = a second input, `band`."""
    job = out + ".toml"
    with open(job, "w") as f:
        f.write('[input.p]\npath = "%s"\n\n[input.b]\npath = "%s"\n\n[[step]]\nid = "o"\n'
                'op = "%s"\nin = "p"\n%s = "b"\n\n[[output]]\nfrom = "o"\npath = "%s"\n\n'
                '[run]\ntile = %d\n' % (directions, band, op, option, out, tile))
    run(args, [args.tessera, "run", job, "-q"])


def like(template, path, a, kind, nodata):
    """`a` written as `path` on the grid of raster `template`."""
    ds = gdal.Open(template)
    out = gdal.GetDriverByName("GTiff").Create(path, ds.RasterXSize, ds.RasterYSize, 1, kind)
    out.SetGeoTransform(ds.GetGeoTransform())
    out.SetProjection(ds.GetProjection())
    if nodata is not None:
        out.GetRasterBand(1).SetNoDataValue(nodata)
    out.GetRasterBand(1).WriteArray(a)
    out = None


def outlet_layer(template, path, cells):
    """A point shapefile of the centres of `cells` ((row, col, id)), field "id" as TauDEM reads."""
    gt = gdal.Open(template).GetGeoTransform()
    driver = ogr.GetDriverByName("ESRI Shapefile")
    source = driver.CreateDataSource(path)
    layer = source.CreateLayer("outlets", geom_type=ogr.wkbPoint)
    layer.CreateField(ogr.FieldDefn("id", ogr.OFTInteger))
    for row, col, ident in cells:
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("id", int(ident))
        point = ogr.Geometry(ogr.wkbPoint)
        point.AddPoint_2D(gt[0] + (col + 0.5) * gt[1], gt[3] + (row + 0.5) * gt[5])
        feature.SetGeometry(point)
        layer.CreateFeature(feature)
    source = None


def check_weights_and_watersheds(args, tau, w, area):
    """aread8 -wg and gagewatershed against flowacc's weight and watershed, on TauDEM's own
    directions (tp.tif, flats resolved) and areas `area` (to put outlets on streams)."""
    tp, nodata = read(w("tp.tif"))
    rng = np.random.default_rng(31)
    weights = (rng.integers(0, 9, tp.shape) / 4).astype(np.float32)
    like(w("tp.tif"), w("wg.tif"), weights, gdal.GDT_Float32, None)
    tau("aread8", "-p", w("tp.tif"), "-ad8", w("twad8.tif"), "-wg", w("wg.tif"), "-nc")
    tessera_with(args, "flowacc", w("tp.tif"), "weight", w("wg.tif"), w("wad8.tif"))
    a, _ = read(w("wad8.tif"))
    ta, _ = read(w("twad8.tif"))
    if not np.array_equal(a, ta):
        systest.fail("flowacc weight differs from aread8 -wg at %d cells" % int((a != ta).sum()))
    streams = np.argwhere(area >= 50)
    valid = np.argwhere(tp != nodata)
    edge = np.argwhere(tp == nodata)
    picks = [streams[rng.choice(len(streams), min(25, len(streams)), replace=False)],
             valid[rng.choice(len(valid), 10, replace=False)],
             edge[rng.choice(len(edge), 3, replace=False)]]
    cells = {}
    for row, col in np.concatenate(picks):
        cells.setdefault((int(row), int(col)), len(cells) + 1)
    ids = np.zeros(tp.shape, np.int32)
    for (row, col), ident in cells.items():
        ids[row, col] = ident
    like(w("tp.tif"), w("outlets.tif"), ids, gdal.GDT_Int32, 0)
    outlet_layer(w("tp.tif"), w("outlets.shp"), [(r, c, i) for (r, c), i in cells.items()])
    tau("gagewatershed", "-p", w("tp.tif"), "-o", w("outlets.shp"), "-gw", w("tgw.tif"))
    tessera_with(args, "watershed", w("tp.tif"), "outlets", w("outlets.tif"), w("gw.tif"))
    g, _ = read(w("gw.tif"))
    tg, _ = read(w("tgw.tif"))
    if not np.array_equal(g, tg):
        systest.fail("watershed differs from gagewatershed at %d cells" % int((g != tg).sum()))
    tessera_op(args, "watershed", "p", w("tp.tif"), w("basins.tif"))
    b, _ = read(w("basins.tif"))
    if not np.array_equal(b, basins(tp, nodata)):
        systest.fail("watershed (basins) differs from the serial reference")
    return float(a.max()), int((g != -2147483647).sum()), len(cells), int(b.max())


def unique_descent(fel_path):
    """Cells whose steepest downhill neighbour is unique (TauDEM's float arithmetic), and cells
    with no lower neighbour."""
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
    return (top > 0) & ((slopes == top).sum(axis=0) == 1), top <= 0


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
    unique, no_descent = unique_descent(w("fel.tif"))
    compared = unique & (tp > 0)
    differ = int((p != tp)[compared].sum())
    if projected and differ:
        systest.fail("%s: flowdir differs from d8flowdir at %d of %d cells of unique descent" %
                     (name, differ, int(compared.sum())))
    if ((p < 0) != (tp < 0)).any():
        systest.fail("%s: flowdir's nodata cells differ from d8flowdir's" % name)
    if not drains(p):
        systest.fail("%s: flowdir leaves cells that do not drain (code 0 or a cycle)" % name)
    on_flats = no_descent & (p > 0)
    flats_note = "; on flats %d of %d cells as d8flowdir" % (int((p == tp)[on_flats].sum()),
                                                             int(on_flats.sum()))

    # aread8 counts a neighbour of code 0 as flowing into the cell it would reach with code 4 or 8
    # (|0 - k| == 4) and then never releases that cell: tessera's 0 codes (flats without an
    # outlet; none on a filled DEM) are given to both tools as nodata, where flow stops in both.
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
    print("%-20s fill = pitremove (%d raised); flowdir: %s%s, every cell drains; flowacc = aread8"
          " -nc (max %d)" % (name, raised, note, flats_note, int(a.max())))
    weighted, gauged, outlets, count = check_weights_and_watersheds(args, tau, w, ta)
    print("%-20s flowacc weight = aread8 -wg (max %g); watershed = gagewatershed (%d outlets, %d "
          "cells labelled); %d basins as the serial reference" %
          ("", weighted, outlets, gauged, count))


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
