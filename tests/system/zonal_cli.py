# System test: `tessera zonal` on 2 ranks against numpy per-zone references, and its bad inputs.
"""tessera zonal --zones Z --values R... --stats ... --out T.csv, against numpy, per zone:

- the Landsat-8 red and NIR bands (UInt16, nodata 65535) zoned by NDVI classes computed here with
  numpy (Byte zones 1..6, 0 = no zone where either band is nodata): every statistic, the median,
  majority, minority and variety included;
- the SRTM DEM (UInt16) and a Float32 copy scaled by 0.37 with NaN holes, zoned by elevation
  bands (Int16 zones, nodata -1 on a square): every statistic.

References: count, nodata, min, max, range and variety with numpy; the sum and mean from exact
integer sums (the sum rounded once, the mean that over the count), std and variance from the
exact (n Q - S^2) / n^2, rounded once; the median as numpy.median; majority and minority the most
and least frequent value, the smallest of those tied. Every field is compared as text, so the
table must be the one these numbers print as (shortest round-trip decimal).

Past the cap of (zone, value) counts a table keeps: the median and percentiles of 2.4 million
distinct Float32 values in 25 zones, found by digit sweeps, against numpy.percentile, the same
at 2 ranks and 1.

Bad inputs: values on another grid, float zones, an unknown statistic, a percentile above 100:
one line, non-zero exit, no table. Progress on stderr, and none with -q.
"""
import csv
import math
import os
import re
import shutil
import tempfile
from fractions import Fraction

import numpy as np
from osgeo import gdal

import systest

gdal.UseExceptions()

ALL = ["count", "nodata", "sum", "mean", "min", "max", "range", "std", "variance", "median",
       "majority", "minority", "variety"]


def write_like(path, template, array, dtype, nodata):
    src = gdal.Open(template)
    ds = gdal.GetDriverByName("GTiff").Create(path, src.RasterXSize, src.RasterYSize, 1, dtype)
    ds.SetGeoTransform(src.GetGeoTransform())
    ds.SetProjection(src.GetProjection())
    band = ds.GetRasterBand(1)
    if nodata is not None:
        band.SetNoDataValue(nodata)
    band.WriteArray(array)
    ds = None


def read(path):
    ds = gdal.Open(path)
    band = ds.GetRasterBand(1)
    return band.ReadAsArray(), band.GetNoDataValue()


def shortest(v):
    """The number as tessera prints it: integers of the count kind plain, the others shortest
    round-trip (fmt's "{}"), which Python's repr matches for doubles."""
    if isinstance(v, int):
        return str(v)
    if math.isnan(v):
        return ""
    text = repr(float(v))
    return text[:-2] if text.endswith(".0") else text.replace("e+", "e+").replace(".0e", "e")


def exact(values):
    uniq, counts = np.unique(values.astype(np.float64), return_counts=True)
    s = q = 0
    for v, c in zip(uniq.tolist(), counts.tolist()):
        num, den = v.as_integer_ratio()
        scaled = num * ((1 << 1074) // den)
        s += c * scaled
        q += c * scaled * scaled
    n = int(counts.sum())
    total = float(Fraction(s, 1 << 1074))
    variance = max(0.0, float(Fraction(n * q - s * s, 1 << 2148)) / (float(n) * float(n)))
    return total, total / n, variance


def reference(zones, zone_nodata, values, value_nodata, stats):
    """{zone: {stat: text}} as numpy computes it."""
    ok_zone = np.ones(zones.shape, bool) if zone_nodata is None else zones != zone_nodata
    bad = np.isnan(values) if values.dtype.kind == "f" else np.zeros(values.shape, bool)
    if value_nodata is not None and not math.isnan(value_nodata):
        bad |= values == values.dtype.type(value_nodata)
    out = {}
    for z in np.unique(zones[ok_zone]).tolist():
        cell = ok_zone & (zones == z)
        v = values[cell & ~bad]
        row = {"count": int(v.size), "nodata": int((cell & bad).sum())}
        if v.size:
            total, mean, variance = exact(v)
            row.update(sum=total, mean=mean, min=float(v.min()), max=float(v.max()),
                       range=float(v.max()) - float(v.min()), std=math.sqrt(variance), variance=variance)
            uniq, counts = np.unique(v, return_counts=True)
            row.update(median=float(np.median(v.astype(np.float64))),
                       majority=float(uniq[np.argmax(counts)]), minority=float(uniq[np.argmin(counts)]),
                       variety=int(uniq.size))
        else:
            row.update(sum=0.0, variety=0)
        out[int(z)] = {s: shortest(row.get(s, float("nan"))) for s in stats}
    return out


def run_zonal(args, zones, values, stats, out, ranks=2):
    words = ["zonal", "--zones", zones, "--values"] + values + ["--stats", ",".join(stats), "--out", out]
    return systest.tessera(args, words, ranks=ranks)


def compare(table, refs, names, stats, label, errors):
    rows = list(csv.reader(open(table)))
    header = ["zone"] + [(n + "_" if len(names) > 1 else "") + s for n in names for s in stats]
    if rows[0] != header:
        errors.append("%s: header %r, expected %r" % (label, rows[0], header))
        return
    zones = sorted(set().union(*[r.keys() for r in refs]))
    if [int(r[0]) for r in rows[1:]] != zones:
        errors.append("%s: zones %r, numpy %r" % (label, [r[0] for r in rows[1:]], zones))
        return
    for row in rows[1:]:
        want = [str(row[0])] + [ref[int(row[0])][s] for ref in refs for s in stats]
        if row != want:
            errors.append("%s: zone %s: %r, numpy %r" % (label, row[0], row, want))


def landsat(args, work, errors):
    red_path, nir_path = os.path.join(args.data, "landsat_b4.tif"), os.path.join(args.data, "landsat_b5.tif")
    red, red_nd = read(red_path)
    nir, nir_nd = read(nir_path)
    ok = (red != red_nd) & (nir != nir_nd)
    with np.errstate(invalid="ignore", divide="ignore"):
        ndvi = (nir.astype(float) - red) / (nir.astype(float) + red)
    zones = np.where(ok, np.digitize(ndvi, [0.0, 0.1, 0.2, 0.3, 0.45]) + 1, 0).astype(np.uint8)
    zones_path = os.path.join(work, "ndvi_classes.tif")
    write_like(zones_path, red_path, zones, gdal.GDT_Byte, 0)
    table = os.path.join(work, "landsat.csv")
    outcome = run_zonal(args, zones_path, [red_path, nir_path], ALL, table)
    if outcome.returncode != 0:
        errors.append(outcome.describe())
        return
    refs = [reference(zones, 0, red, red_nd, ALL), reference(zones, 0, nir, nir_nd, ALL)]
    compare(table, refs, ["landsat_b4", "landsat_b5"], ALL, "landsat", errors)


def srtm(args, work, errors):
    dem_path = os.path.join(args.data, "srtm.tif")
    dem, dem_nd = read(dem_path)
    zones = (dem // 250).astype(np.int16)
    zones[100:150, 200:260] = -1
    zones_path = os.path.join(work, "bands.tif")
    write_like(zones_path, dem_path, zones, gdal.GDT_Int16, -1)
    scaled = (dem.astype(np.float32) * np.float32(0.37))
    scaled[::7, ::5] = np.nan
    scaled_path = os.path.join(work, "scaled.tif")
    write_like(scaled_path, dem_path, scaled, gdal.GDT_Float32, None)
    for values, array, nodata in ((dem_path, dem, dem_nd), (scaled_path, scaled, None)):
        table = os.path.join(work, "srtm.csv")
        outcome = run_zonal(args, zones_path, [values], ALL, table)
        if outcome.returncode != 0:
            errors.append(outcome.describe())
            continue
        compare(table, [reference(zones, -1, array, nodata, ALL)], ["x"], ALL,
                os.path.basename(values), errors)
        os.remove(table)
    return zones_path, scaled_path


def past_the_cap(args, work, errors):
    """More distinct (zone, value) pairs than a table counts (2,097,152): the median and
    percentiles come from digit sweeps, and must still be numpy's, at 2 ranks and at 1."""
    rng = np.random.default_rng(4)
    values = (rng.normal(800.0, 300.0, (1600, 1600))).astype(np.float32)
    values[::11, ::3] = np.nan
    values[values < 0] = -9999
    zones = (np.arange(1600)[:, None] // 320 * 5 + np.arange(1600)[None, :] // 320).astype(np.uint16)
    paths = {}
    for name, array, dtype, nodata in (("zones", zones, gdal.GDT_UInt16, None),
                                       ("cap_values", values, gdal.GDT_Float32, -9999)):
        paths[name] = os.path.join(work, name + ".tif")
        ds = gdal.GetDriverByName("GTiff").Create(paths[name], 1600, 1600, 1, dtype)
        ds.SetGeoTransform([0, 1, 0, 1600, 0, -1])
        if nodata is not None:
            ds.GetRasterBand(1).SetNoDataValue(nodata)
        ds.GetRasterBand(1).WriteArray(array)
        ds = None
    stats = ["count", "median", "percentile_2.5", "percentile_90"]
    tables = []
    for ranks in (2, 1):
        table = os.path.join(work, "cap-%d.csv" % ranks)
        outcome = run_zonal(args, paths["zones"], [paths["cap_values"]], stats, table, ranks=ranks)
        if outcome.returncode != 0:
            errors.append(outcome.describe())
            return
        tables.append(open(table).read())
    if tables[0] != tables[1]:
        errors.append("past the cap: the tables at 2 ranks and 1 differ")
    ok = ~np.isnan(values) & (values != -9999)
    rows = list(csv.reader(tables[0].splitlines()))
    for row in rows[1:]:
        v = values[(zones == int(row[0])) & ok].astype(np.float64)
        want = [row[0], str(v.size)] + [shortest(float(np.percentile(v, q))) for q in (50, 2.5, 90)]
        if row != want:
            errors.append("past the cap: zone %s: %r, numpy %r" % (row[0], row, want))
    if len(rows) != 26:
        errors.append("past the cap: %d rows, expected 25 zones" % (len(rows) - 1))


def bad_inputs(args, work, zones_path, scaled_path, errors):
    other = os.path.join(args.data, "n43.tif")
    table = os.path.join(work, "bad.csv")
    # Two grids a cell size 1e-7 apart: the refusal prints them apart (2 and 2.0000001).
    near = {}
    for name, size in (("grid_a.tif", 2.0), ("grid_b.tif", 2.0000001)):
        near[name] = os.path.join(work, name)
        ds = gdal.GetDriverByName("GTiff").Create(near[name], 30, 20, 1, gdal.GDT_Int16)
        ds.SetGeoTransform((100, size, 0, 200, 0, -2))
        ds.GetRasterBand(1).WriteArray(np.ones((20, 30), np.int16))
        ds = None
    cases = [
        ([zones_path], [other], ["mean"], 1, r"n43\.tif .* is not on the grid of the zones"),
        ([near["grid_a.tif"]], [near["grid_b.tif"]], ["count"], 1,
         r"grid_b\.tif \(30 x 20 cells, geotransform \(100, 2\.0000001, 0, 200, 0, -2\)\) is not on "
         r"the grid of the zones .*grid_a\.tif \(30 x 20 cells, geotransform \(100, 2, 0, 200, 0, -2\)\)"),
        ([scaled_path], [scaled_path], ["mean"], 1, r"zone ids must be integers"),
        ([zones_path], [scaled_path], ["mode"], 2, r"--stats: unknown statistic 'mode'"),
        ([zones_path], [scaled_path], ["percentile_101"], 2, r"101 is not between 0 and 100"),
    ]
    # --out naming an input: refused before any tile is read, the input left as it was.
    before = open(scaled_path, "rb").read()
    outcome = systest.tessera(args, ["zonal", "--zones", zones_path, "--values", scaled_path,
                                     "--out", scaled_path], ranks=2)
    if outcome.returncode != 1 or "is an input" not in outcome.stderr or \
            open(scaled_path, "rb").read() != before:
        errors.append("--out naming an input: " + outcome.describe())
    import re
    for zones, values, stats, status, pattern in cases:
        for ranks in (0, 2):
            outcome = run_zonal(args, zones[0], values, stats, table, ranks=ranks)
            lines = [l for l in outcome.stderr.splitlines() if l.startswith("tessera: error: ")]
            if outcome.returncode != status or len(lines) != 1 or not re.search(pattern, lines[0]):
                errors.append("bad input %r: %s" % (stats, outcome.describe()))
            if os.path.exists(table) or any(".tmp-" in n for n in os.listdir(work)):
                errors.append("bad input %r left a table" % stats)


def progress_and_quiet(args, work, zones_path, values_path, errors):
    """Rank 0 shows the pass's progress on stderr; -q hides it (zonal took no -q, as stats, dem
    and hydro do)."""
    table = os.path.join(work, "progress.csv")
    words = ["zonal", "--zones", zones_path, "--values", values_path, "--out", table, "--tile", "16"]
    every_update = {"TESSERA_PROGRESS_SECONDS": "1e-9"}
    shown = systest.tessera(args, words, env=every_update)
    if shown.returncode != 0 or not re.search(r"^tessera: \d+/\d+ tiles", shown.stderr, re.M):
        errors.append(f"zonal: no progress on stderr: {shown.describe()}")
    quiet = systest.tessera(args, words + ["-q"], env=every_update)
    if quiet.returncode != 0 or quiet.stderr or quiet.stdout:
        errors.append(f"zonal -q: not quiet: {quiet.describe()}")


def main():
    args = systest.parse_args(__doc__)
    errors = []
    work = tempfile.mkdtemp(prefix="tessera-zonal-")
    try:
        landsat(args, work, errors)
        zones_path, scaled_path = srtm(args, work, errors)
        past_the_cap(args, work, errors)
        bad_inputs(args, work, zones_path, scaled_path, errors)
        progress_and_quiet(args, work, zones_path, scaled_path, errors)
    finally:
        shutil.rmtree(work)
    if errors:
        systest.fail("\n".join(errors))
    print("ok")


if __name__ == "__main__":
    main()
