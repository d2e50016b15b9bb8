#!/usr/bin/env python3
"""`watershed` against GRASS r.water.outlet (Debian grass-core): on generated terrain with holes,
tessera fills it, takes its flow directions, and for each of a few outlets on its streams, the
cells `watershed -o` labels with that outlet equal the basin r.water.outlet draws from the same
directions (recoded to GRASS's: 1 north-east, counter-clockwise, 8 east).

The directions' 0 codes (unresolved flats) are given to both as nodata, so that flow stops at the
same cells in both.
"""
import os
import shutil
import subprocess
import sys

import numpy as np
from osgeo import gdal

import systest

gdal.UseExceptions()

OUTLETS = 5


def extra(p):
    p.add_argument("--work", required=True)


def run(cmd):
    done = systest.run(cmd, 300, systest.environment())
    if done.returncode != 0:
        systest.fail(done.describe())


def write_like(template, path, a, kind, nodata):
    ds = gdal.Open(template)
    out = gdal.GetDriverByName("GTiff").Create(path, ds.RasterXSize, ds.RasterYSize, 1, kind)
    out.SetGeoTransform(ds.GetGeoTransform())
    out.SetProjection(ds.GetProjection())
    out.GetRasterBand(1).SetNoDataValue(nodata)
    out.GetRasterBand(1).WriteArray(a)
    out = None


def terrain(path):
    import scipy.ndimage
    rng = np.random.default_rng(41)
    h, w = 181, 203
    z = (scipy.ndimage.gaussian_filter(rng.random((h, w)), 4) * 2000).astype(np.float32)
    z[rng.random((h, w)) < 0.002] = -9999
    d = gdal.GetDriverByName("GTiff").Create(path, w, h, 1, gdal.GDT_Float32)
    d.SetGeoTransform([500000, 10, 0, 4000000, 0, -10])
    d.GetRasterBand(1).SetNoDataValue(-9999)
    d.GetRasterBand(1).WriteArray(z)
    d = None


def tessera(args, *words):
    run([args.tessera, "hydro"] + list(words) + ["-q"])


def read(path):
    ds = gdal.Open(path)
    return ds.GetRasterBand(1).ReadAsArray()


def main():
    args = systest.parse_args(__doc__, extra)
    if not shutil.which("grass"):
        print("SKIPPED: grass is not installed (Debian grass-core)")
        sys.exit(77)
    w = lambda f: os.path.join(args.work, f)
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    terrain(w("dem.tif"))
    tessera(args, "fill", "-z", w("dem.tif"), "-fel", w("fel.tif"), "--tile", "48")
    tessera(args, "flowdir", "-fel", w("fel.tif"), "-p", w("p0.tif"))
    p = read(w("p0.tif"))
    p[p == 0] = -32768
    write_like(w("p0.tif"), w("p.tif"), p, gdal.GDT_Int16, -32768)
    tessera(args, "flowacc", "-p", w("p.tif"), "-ad8", w("ad8.tif"), "--tile", "48")
    area = read(w("ad8.tif"))
    grass_codes = np.where(p > 0, (p.astype(np.int32) - 2) % 8 + 1, -32768).astype(np.int16)
    write_like(w("p.tif"), w("drain.tif"), grass_codes, gdal.GDT_Int16, -32768)
    rows, cols = np.nonzero(area >= 200)
    rng = np.random.default_rng(3)
    picked = rng.choice(len(rows), OUTLETS, replace=False)
    gt = gdal.Open(w("p.tif")).GetGeoTransform()
    script = ["set -e", "r.in.gdal -o input=%s output=drain --quiet" % w("drain.tif"),
              "g.region raster=drain"]
    for i, k in enumerate(picked):
        x = gt[0] + (cols[k] + 0.5) * gt[1]
        y = gt[3] + (rows[k] + 0.5) * gt[5]
        script.append("r.water.outlet input=drain output=b%d coordinates=%f,%f --quiet" % (i, x, y))
        script.append("r.out.gdal -c -f input=b%d output=%s format=GTiff type=Int32 --quiet "
                      "--overwrite" % (i, w("grass%d.tif" % i)))
    with open(w("grass.sh"), "w") as f:
        f.write("\n".join(script) + "\n")
    done = subprocess.run(["grass", "--tmp-location", "XY", "--exec", "bash", w("grass.sh")],
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        systest.fail("GRASS failed:\n" + done.stdout[-2000:] + done.stderr[-2000:])
    cells = []
    for i, k in enumerate(picked):
        ids = np.zeros(p.shape, np.int32)
        ids[rows[k], cols[k]] = i + 1
        write_like(w("p.tif"), w("o%d.tif" % i), ids, gdal.GDT_Int32, 0)
        tessera(args, "watershed", "-p", w("p.tif"), "-o", w("o%d.tif" % i), "-gw", w("t%d.tif" % i),
                "--tile", "32")
        mine = read(w("t%d.tif" % i)) == i + 1
        ds = gdal.Open(w("grass%d.tif" % i))
        b = ds.GetRasterBand(1)
        theirs = b.ReadAsArray()
        theirs = (theirs != b.GetNoDataValue()) & (theirs > 0)
        if not np.array_equal(mine, theirs):
            systest.fail("outlet %d at row %d, column %d: watershed's basin differs from "
                         "r.water.outlet's at %d cells (%d against %d)" %
                         (i + 1, rows[k], cols[k], int((mine != theirs).sum()), int(mine.sum()),
                          int(theirs.sum())))
        cells.append(int(mine.sum()))
    print("watershed = r.water.outlet at %d outlets (basins of %s cells)" %
          (OUTLETS, ", ".join(map(str, cells))))


if __name__ == "__main__":
    main()
