# System test: `tessera stats` on every real raster of tests/data against GDAL, exact sums and numpy.
"""tessera stats --hist --percentiles, at 2 ranks, on every band of every raster in tests/data.

References, all from outside tessera:
- GDAL's ComputeStatistics (forced, exact): minimum and maximum equal; mean and standard
  deviation within 1e-12 (GDAL accumulates in double, so its last digits depend on its order);
- the exact values, from Python integers: the sum and the sum of squares of the valid cells
  (each value times 2^1074, squares times 2^2148) give the mean (correctly rounded sum / n) and
  the standard deviation (sqrt of (n Q - S^2) rounded once, / n^2): equal to the bit;
- GDAL's ComputeHistogram (GetHistogram, exact, out-of-range included) over GDAL's default
  buckets (computed here from the exact minimum and maximum): equal counts;
- numpy.percentile of the valid cells as float64: equal to the bit;
- gdalinfo -stats -hist, for rasters that carry no statistics of their own (gdalinfo reuses
  those): the same histogram and STATISTICS_* in the .aux.xml it writes, as above;
- counts of valid and nodata cells from numpy.
"""
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from fractions import Fraction

import numpy as np
from osgeo import gdal

import systest

PERCENTILES = [0, 2, 25, 50, 90, 98, 100]


def valid_cells(path, band):
    ds = gdal.Open(path)
    b = ds.GetRasterBand(band)
    a = b.ReadAsArray().ravel()
    nodata = b.GetNoDataValue()
    bad = np.zeros(a.shape, bool)
    if a.dtype.kind == "f":
        bad |= np.isnan(a)
        if nodata is not None and not math.isnan(nodata):
            bad |= a == a.dtype.type(nodata)
    elif nodata is not None and float(nodata).is_integer():
        bad |= a.astype(np.float64) == nodata
    return a[~bad], int(bad.sum())


def exact_mean_std(values):
    """Mean and standard deviation from exact integer sums, rounded as tessera documents."""
    uniq, counts = np.unique(values.astype(np.float64), return_counts=True)
    s = 0
    q = 0
    for v, c in zip(uniq.tolist(), counts.tolist()):
        num, den = v.as_integer_ratio()
        scaled = num * ((1 << 1074) // den)
        s += c * scaled
        q += c * scaled * scaled
    n = int(counts.sum())
    mean = float(Fraction(s, 1 << 1074)) / n
    spread = float(Fraction(n * q - s * s, 1 << 2148))
    return mean, math.sqrt(max(0.0, spread / (float(n) * float(n))))


def default_buckets(dtype_name, lo, hi):
    """GDAL's default buckets, as gdalinfo -stats -hist takes them: from the extremes its
    statistics metadata keeps ("%.14g") and GetDefaultHistogram reads back."""
    if dtype_name == "Byte":
        return -0.5, 255.5
    lo, hi = float("%.14g" % lo), float("%.14g" % hi)
    half = (hi - lo) / (2 * (256 - 1))
    return lo - half, hi + half


def aux_items(path, band_number=1):
    root = ET.parse(path + ".aux.xml").getroot()
    band = root.find("PAMRasterBand[@band='%d']" % band_number)
    stats = {m.get("key"): m.text for m in band.iter("MDI")}
    item = band.find("Histograms/HistItem")
    hist = None
    if item is not None:
        hist = (float(item.find("HistMin").text), float(item.find("HistMax").text),
                [int(c) for c in item.find("HistCounts").text.split("|")])
    return stats, hist


def close(a, b, rel=1e-12):
    return a == b or abs(a - b) <= rel * max(abs(a), abs(b))


def check_band(args, work, name, band, errors):
    src = os.path.join(args.data, name)
    mine = os.path.join(work, "t_" + name)
    shutil.copy(src, mine)
    out_json = os.path.join(work, "%s.%d.json" % (name, band))
    outcome = systest.tessera(args, ["stats", "-b", str(band), "--hist", "--percentiles",
                                     ",".join(map(str, PERCENTILES)), "--json", out_json, "-q",
                                     mine], ranks=2)
    if outcome.returncode != 0:
        errors.append(outcome.describe())
        return
    got = json.load(open(out_json))
    label = "%s band %d" % (name, band)
    values, nodata = valid_cells(src, band)
    if (got["valid_count"], got["nodata_count"]) != (values.size, nodata):
        errors.append("%s: counts %s/%s, numpy %d/%d" % (label, got["valid_count"],
                                                        got["nodata_count"], values.size, nodata))
    # GDAL stores what ComputeStatistics and GetHistogram find in an .aux.xml: on a copy, never
    # beside tests/data's files.
    ref_copy = os.path.join(work, "r_" + name)
    if not os.path.exists(ref_copy):
        shutil.copy(src, ref_copy)
    ds = gdal.Open(ref_copy)
    b = ds.GetRasterBand(band)
    gmin, gmax, gmean, gstd = b.ComputeStatistics(False)
    if (got["minimum"], got["maximum"]) != (gmin, gmax):
        errors.append("%s: min/max %s %s, GDAL %r %r" % (label, got["minimum"], got["maximum"],
                                                         gmin, gmax))
    if not close(got["mean"], gmean) or not close(got["stddev"], gstd):
        errors.append("%s: mean/std %r %r, GDAL %r %r" % (label, got["mean"], got["stddev"],
                                                          gmean, gstd))
    emean, estd = exact_mean_std(values)
    if (got["mean"], got["stddev"]) != (emean, estd):
        errors.append("%s: mean/std %r %r, exact %r %r" % (label, got["mean"], got["stddev"],
                                                           emean, estd))
    lo, hi = default_buckets(gdal.GetDataTypeName(b.DataType), gmin, gmax)
    hist = got["histogram"]
    if (hist["min"], hist["max"], hist["buckets"]) != (lo, hi, 256):
        errors.append("%s: buckets %r, GDAL's default %r %r 256" % (label, hist, lo, hi))
    ghist = b.GetHistogram(min=lo, max=hi, buckets=256, include_out_of_range=1, approx_ok=0)
    if hist["counts"] != list(ghist):
        errors.append("%s: histogram differs from GDAL's" % label)
    ref = np.percentile(values.astype(np.float64), PERCENTILES)
    mine_p = [got["percentiles"][str(p)] for p in PERCENTILES]
    if mine_p != ref.tolist():
        errors.append("%s: percentiles %r, numpy %r" % (label, mine_p, ref.tolist()))
    ds = None
    stored, stored_hist = aux_items(mine, band)
    # GDAL's PAM keeps the histogram's range to 16 digits and the statistics to 14.
    if stored_hist != (float("%.16g" % hist["min"]), float("%.16g" % hist["max"]), hist["counts"]):
        errors.append("%s: the .aux.xml histogram is not the one printed" % label)
    if float(stored["STATISTICS_MEAN"]) != float("%.14g" % got["mean"]):
        errors.append("%s: .aux.xml STATISTICS_MEAN %s" % (label, stored["STATISTICS_MEAN"]))


def has_own_statistics(path):
    """Whether the file carries STATISTICS_* itself, which gdalinfo -stats reuses."""
    ds = gdal.Open(path)
    return ds.GetRasterBand(1).GetMetadataItem("STATISTICS_MINIMUM") is not None


def check_gdalinfo(args, work, name, errors):
    """Our .aux.xml beside gdalinfo -stats -hist's, for band 1."""
    theirs = os.path.join(work, "g_" + name)
    shutil.copy(os.path.join(args.data, name), theirs)
    subprocess.run(["gdalinfo", "-stats", "-hist", theirs], capture_output=True, check=True)
    gstats, ghist = aux_items(theirs)
    stats, hist = aux_items(os.path.join(work, "t_" + name))
    if ghist != hist:
        errors.append("%s: histogram differs from gdalinfo -hist's" % name)
    for key in ("STATISTICS_MINIMUM", "STATISTICS_MAXIMUM", "STATISTICS_VALID_PERCENT"):
        if gstats.get(key) != stats.get(key):
            errors.append("%s: %s %s, gdalinfo %s" % (name, key, stats.get(key), gstats.get(key)))
    for key in ("STATISTICS_MEAN", "STATISTICS_STDDEV"):
        if not close(float(gstats[key]), float(stats[key])):
            errors.append("%s: %s %s, gdalinfo %s" % (name, key, stats[key], gstats[key]))


def check_long_name(args, work, errors):
    """A raster whose name leaves no room for ".aux.xml" (251 bytes + ".tif"): GDAL stores nothing
    there without a word; tessera says so in one warning line and exits 0 (--no-aux: silent)."""
    path = os.path.join(work, "m" * 251 + ".tif")
    shutil.copyfile(os.path.join(args.data, "srtm.tif"), path)
    done = systest.tessera(args, ["stats", path])
    lines = done.stderr.splitlines()
    if done.returncode != 0 or len(lines) != 1 or not lines[0].startswith("tessera: warning: ") \
            or "the statistics are not stored" not in lines[0]:
        errors.append("stats of a 255-byte name: expected exit 0 and one warning: " + done.describe())
    quiet = systest.tessera(args, ["stats", path, "--no-aux"])
    if quiet.returncode != 0 or quiet.stderr:
        errors.append("stats --no-aux of a 255-byte name: " + quiet.describe())
    os.remove(path)


def check_infinities(args, work, errors):
    """Bands of infinities, alone and beside finite cells, NaN and nodata, in Float32 and Float64
    at 2 ranks: the extremes and the mean numpy gives (an infinite mean, NaN for both signs; the
    standard deviation NaN), stored in the .aux.xml."""
    cases = {"all_plus": [[np.inf] * 5] * 4, "all_minus": [[-np.inf] * 5] * 4,
             "one_minus": [[-np.inf]], "minus_and_finite": [[-np.inf, 1.0, 2.0]],
             "both": [[-np.inf, 3.0, np.inf, np.nan, -5.0]]}
    for gdal_type, label in ((gdal.GDT_Float32, "Float32"), (gdal.GDT_Float64, "Float64")):
        for case, rows in cases.items():
            z = np.array(rows, dtype=np.float64)
            path = os.path.join(work, "%s_%s.tif" % (case, label))
            ds = gdal.GetDriverByName("GTiff").Create(path, z.shape[1], z.shape[0], 1, gdal_type)
            ds.GetRasterBand(1).SetNoDataValue(-5.0)
            ds.GetRasterBand(1).WriteArray(z)
            ds = None
            done = systest.tessera(args, ["stats", path, "-q"], ranks=2)
            if done.returncode != 0:
                errors.append("stats of %s %s: %s" % (label, case, done.describe()))
                continue
            valid = z[~np.isnan(z) & (z != -5.0)]
            with np.errstate(invalid="ignore"):
                want = {"STATISTICS_MINIMUM": valid.min(), "STATISTICS_MAXIMUM": valid.max(),
                        "STATISTICS_MEAN": valid.mean(), "STATISTICS_STDDEV": np.nan}
            got, _ = aux_items(path)
            for key, value in want.items():
                g = float(got.get(key, "none").replace("none", "nan"))
                if not (g == value or (math.isnan(g) and math.isnan(value))):
                    errors.append("stats of %s %s: %s %s, numpy %r" % (label, case, key, got.get(key), value))


def check_valid_percent(args, work, errors):
    """STATISTICS_VALID_PERCENT as gdalinfo -stats writes it: 99.999, not 100, for one nodata cell
    in 100000; 100 with none; the same text as GDAL's for a few nodata cells."""
    for nodata_cells in (1, 0, 40):
        a = np.ones((250, 400), np.int16)
        a.ravel()[:nodata_cells] = 0
        paths = []
        for who in ("tessera", "gdal"):
            path = os.path.join(work, "valid_%d_%s.tif" % (nodata_cells, who))
            ds = gdal.GetDriverByName("GTiff").Create(path, 400, 250, 1, gdal.GDT_Int16)
            ds.GetRasterBand(1).SetNoDataValue(0)
            ds.GetRasterBand(1).WriteArray(a)
            ds = None
            paths.append(path)
        done = systest.tessera(args, ["stats", paths[0], "-q"], ranks=2)
        gdal_done = subprocess.run(["gdalinfo", "-stats", paths[1]], capture_output=True, text=True)
        if done.returncode != 0 or gdal_done.returncode != 0:
            errors.append("valid percent of %d nodata cells: %s" % (nodata_cells, done.describe()))
            continue
        got = aux_items(paths[0])[0].get("STATISTICS_VALID_PERCENT")
        want = aux_items(paths[1])[0].get("STATISTICS_VALID_PERCENT")
        if got != want:
            errors.append("valid percent of %d nodata cells: %s, gdalinfo -stats %s" % (nodata_cells, got, want))


def check_degenerate_histograms(args, work, errors):
    """--hist where GDAL's default buckets have no width: a constant Int16 band, and Float64 cells
    at both extremes of a double (the buckets' range beyond a double): no histogram printed, in
    the JSON or in the .aux.xml, as gdalinfo -stats -hist makes none; a constant Byte band keeps
    its 256 buckets from -0.5."""
    cases = (("constant", gdal.GDT_Int16, np.full((20, 20), 32767), False),
             ("extremes", gdal.GDT_Float64, np.array([[-1.7976931348623157e308, 1.7976931348623157e308]]), False),
             ("byte", gdal.GDT_Byte, np.full((20, 20), 7), True))
    for name, gdal_type, z, histogram in cases:
        path = os.path.join(work, "degenerate_%s.tif" % name)
        ds = gdal.GetDriverByName("GTiff").Create(path, z.shape[1], z.shape[0], 1, gdal_type)
        ds.GetRasterBand(1).WriteArray(z)
        ds = None
        out = os.path.join(work, "degenerate_%s.json" % name)
        done = systest.tessera(args, ["stats", path, "--hist", "--json", out], ranks=2)
        if done.returncode != 0:
            errors.append("stats --hist of %s: %s" % (name, done.describe()))
            continue
        printed = "buckets from" in done.stdout
        in_json = "histogram" in json.load(open(out))
        in_aux = aux_items(path)[1] is not None
        if (printed, in_json, in_aux) != (histogram, histogram, histogram):
            errors.append("stats --hist of %s: histogram printed %s, in the JSON %s, in the .aux.xml %s;"
                          " expected %s" % (name, printed, in_json, in_aux, histogram))


def main():
    args = systest.parse_args(__doc__)
    errors = []
    work = tempfile.mkdtemp(prefix="tessera-stats-")
    try:
        names = sorted(n for n in os.listdir(args.data) if n.endswith((".tif", ".dt0")))
        for name in names:
            bands = gdal.Open(os.path.join(args.data, name)).RasterCount
            for band in range(1, bands + 1):
                check_band(args, work, name, band, errors)
            if not has_own_statistics(os.path.join(args.data, name)):
                check_gdalinfo(args, work, name, errors)
        print("checked %d rasters" % len(names))
        check_long_name(args, work, errors)
        check_infinities(args, work, errors)
        check_valid_percent(args, work, errors)
        check_degenerate_histograms(args, work, errors)
    finally:
        shutil.rmtree(work)
    if errors:
        systest.fail("\n".join(errors))
    print("ok")


if __name__ == "__main__":
    main()
