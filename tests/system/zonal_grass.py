#!/usr/bin/env python3
"""`tessera zonal` against GRASS `r.univar -t -e zones=` (Debian grass-core) on real DEMs.

The SRTM DEM (UInt16, nodata 65535) zoned by 250 m elevation bands with a nodata square (Int16),
and the ChiProfiler DEM (Float32, NaN voids) zoned by 200 m bands (Byte): both rasters imported into a
temporary GRASS location (r.in.gdal), `r.univar -t -e` with percentile=25,90. Per zone, count,
min, max, range, mean, stddev, variance and sum within a relative 1e-12 (GRASS prints 15
significant digits), and the median, first quartile and percentiles 25 and 90 equal (r.univar
interpolates between the two values around the rank as numpy.percentile does).
A million zones too: every cell of a 1000 x 1000 raster its own zone, count and mean against the
cells themselves.
"""
import csv
import os
import shutil
import subprocess
import tempfile

import numpy as np
from osgeo import gdal

import systest
from zonal_cli import read, write_like

gdal.UseExceptions()

PAIRS = [("count", "non_null_cells"), ("min", "min"), ("max", "max"), ("range", "range"),
         ("mean", "mean"), ("std", "stddev"), ("variance", "variance"), ("sum", "sum")]
ORDER = [("median", "median"), ("percentile_25", "perc_25"), ("percentile_90", "perc_90"),
         ("percentile_25", "first_quart")]


def univar(values, zones, out):
    script = ("set -e; r.in.gdal -o input=%s output=v --quiet; r.in.gdal -o input=%s output=z "
              "--quiet; g.region raster=v; r.univar -t -e map=v zones=z separator=comma "
              "percentile=25,90 output=%s --quiet" % (values, zones, out))
    done = subprocess.run(["grass", "--tmp-location", values, "--exec", "bash", "-c", script],
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        systest.fail("GRASS r.univar failed:\n" + done.stdout + done.stderr)
    return {r["zone"]: r for r in csv.DictReader(open(out))}


def compare(label, args, values, zones, work, errors):
    table = os.path.join(work, label + ".csv")
    stats = [p[0] for p in PAIRS] + ["median", "percentile_25", "percentile_90"]
    outcome = systest.tessera(args, ["zonal", "--zones", zones, "--values", values, "--stats",
                                     ",".join(stats), "--out", table], ranks=2)
    if outcome.returncode != 0:
        errors.append(outcome.describe())
        return
    grass = univar(values, zones, os.path.join(work, label + ".grass.csv"))
    mine = {r["zone"]: r for r in csv.DictReader(open(table))}
    if sorted(mine) != sorted(grass):
        errors.append("%s: zones %r, GRASS %r" % (label, sorted(mine), sorted(grass)))
        return
    compared = 0
    for zone, row in mine.items():
        g = grass[zone]
        for ours, theirs in PAIRS:
            x, y = float(row[ours]), float(g[theirs])
            if abs(x - y) > 1e-12 * max(1.0, abs(y)):
                errors.append("%s zone %s %s: %r, GRASS %r" % (label, zone, ours, x, y))
        for ours, theirs in ORDER:
            x, y = float(row[ours]), float(g[theirs])
            compared += 1
            if x != y:
                errors.append("%s zone %s %s: %r, GRASS %s %r" % (label, zone, ours, x, theirs, y))
    print("%s: %d zones, %d order statistics compared" % (label, len(mine), compared))


def million(args, work, errors):
    n = 1000
    zones = np.arange(n * n, dtype=np.uint32).reshape(n, n) + 1
    values = (np.arange(n * n, dtype=np.float32).reshape(n, n) % 977) * np.float32(0.25)
    zpath, vpath = os.path.join(work, "million.tif"), os.path.join(work, "million_values.tif")
    for path, array, dtype in ((zpath, zones, gdal.GDT_UInt32), (vpath, values, gdal.GDT_Float32)):
        ds = gdal.GetDriverByName("GTiff").Create(path, n, n, 1, dtype, ["TILED=YES"])
        ds.SetGeoTransform([0, 1, 0, 0, 0, -1])
        ds.GetRasterBand(1).WriteArray(array)
        ds = None
    table = os.path.join(work, "million.csv")
    outcome = systest.tessera(args, ["zonal", "--zones", zpath, "--values", vpath, "--stats",
                                     "count,mean", "--out", table], ranks=2)
    if outcome.returncode != 0:
        errors.append(outcome.describe())
        return
    rows = list(csv.reader(open(table)))
    want = ["%d,1,%r" % (z, float(v)) for z, v in zip(range(1, n * n + 1), values.ravel().tolist())]
    got = [",".join(r) for r in rows[1:]]
    want = [w[:-2] if w.endswith(".0") else w for w in want]
    if len(got) != n * n or got != want:
        bad = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), len(got))
        errors.append("a million zones: %d rows; first difference at %d: %r, expected %r" %
                      (len(got), bad, got[bad:bad + 1], want[bad:bad + 1]))


def main():
    args = systest.parse_args(__doc__)
    if shutil.which("grass") is None:
        systest.fail("GRASS is not installed (Debian grass-core; tests/run.sh installs it)")
    errors = []
    work = tempfile.mkdtemp(prefix="tessera-zonal-grass-")
    try:
        srtm = os.path.join(args.data, "srtm.tif")
        dem, _ = read(srtm)
        bands = (dem // 250).astype(np.int16)
        bands[100:150, 200:260] = -1
        write_like(os.path.join(work, "srtm_bands.tif"), srtm, bands, gdal.GDT_Int16, -1)
        compare("srtm", args, srtm, os.path.join(work, "srtm_bands.tif"), work, errors)
        chi = os.path.join(args.data, "chiprofiler_dem.tif")
        dem, _ = read(chi)
        # NaN cells (the DEM's voids) are nodata for both; 200 m bands, 0 where the DEM is void.
        bands = np.where(np.isnan(dem), 0, (np.nan_to_num(dem) - np.nanmin(dem)) // 200 + 1)
        bands = bands.astype(np.uint8)
        write_like(os.path.join(work, "chi_bands.tif"), chi, bands, gdal.GDT_Byte, 0)
        compare("chiprofiler", args, chi, os.path.join(work, "chi_bands.tif"), work, errors)
        million(args, work, errors)
    finally:
        shutil.rmtree(work)
    if errors:
        systest.fail("\n".join(errors[:40]))
    print("ok")


if __name__ == "__main__":
    main()
