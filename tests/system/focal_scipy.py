#!/usr/bin/env python3
"""`tessera focal` against scipy.ndimage on real rasters without nodata, sizes 3, 5 and 15, square
and circular windows, weights and Gaussian weights.

tessera leaves cells beyond the raster out of a window; scipy's filters take an edge mode. Where
a scipy filter can leave them out (mode='constant' with a value that cannot win: +-inf for
minimum and maximum, 0 with a count of the cells that exist for sums and means, NaN with nan*
functions in generic_filter) the whole raster is compared; median_filter and percentile_filter
have no such value, so they are compared on the cells whose window lies inside the raster, and
generic_filter with np.nanmedian / np.nanpercentile covers the edges on a crop.

Order statistics, minimum, maximum, range and the classes must be equal; sums, means, variances
and weighted values within a relative 1e-6 (tessera sums in float64 in its own order; the
output is Float32, whose rounding step is 6e-8). A Float64 raster of values Float32 cannot hold
gives Float64 results equal to scipy's float64 within 1e-12 (sums, means) or exactly.
"""
import os
import sys
import tempfile

import numpy as np
import scipy.ndimage as ndi
from osgeo import gdal

import systest

gdal.UseExceptions()


def read(path):
    ds = gdal.Open(path)
    band = ds.GetRasterBand(1)
    return band.ReadAsArray(), band.GetNoDataValue(), gdal.GetDataTypeName(band.DataType)


class Checker:
    def __init__(self, args, folder, pool):
        self.args = args
        self.folder = folder
        self.pool = pool  # tessera's runs go a few at a time, while scipy computes
        self.failures = []
        self.count = 0

    def focal(self, method, src, words):
        """Starts `tessera focal METHOD` of `src`: its cells come from .result() of what this
        returns."""
        out = os.path.join(self.folder, "%s-%d.tif" % (method, self.count))
        self.count += 1
        return self.pool.submit(self.run, ["focal", method, src, out, "-q"] + words, out)

    def run(self, words, out):
        done = systest.tessera(self.args, words)
        if done.returncode != 0:
            systest.fail(done.describe())
        return read(out)

    def check(self, what, got, want, exact, region=None):
        got = got.result()[0]
        if region is not None:
            got, want = got[region], want[region]
        if exact:
            bad = int((got != want.astype(got.dtype)).sum())
        else:
            bad = int((~np.isclose(got, want, rtol=1e-6, atol=1e-6)).sum())
        status = "ok" if bad == 0 else "FAILED: %d cells differ" % bad
        print("%-46s %s" % (what, status))
        if bad:
            worst = np.unravel_index(np.argmax(np.abs(got.astype(np.float64) - want)), got.shape)
            print("    worst at %s: tessera %r, scipy %r" % (worst, got[worst], want[worst]))
            self.failures.append(what)


def disk(r):
    d = np.arange(-r, r + 1)
    return d[:, None] ** 2 + d[None, :] ** 2 <= r * r


def interior(shape, r):
    return (slice(r, shape[0] - r), slice(r, shape[1] - r))


def dem_checks(c, src, a):
    a64 = a.astype(np.float64)
    ones = np.ones_like(a64)
    runs = {}  # every tessera run of the source, started before scipy's filters
    for size in (3, 5, 15):
        for circle in (False, True):
            words = ["--size", str(size)] + (["--circle"] if circle else [])
            for m in ("min", "max", "range", "sum", "mean", "count", "variance", "median") + \
                    (() if circle else ("quart1", "quart3")):
                runs[size, circle, m] = c.focal(m, src, words)
    for size in (3, 5, 15):
        r = size // 2
        for circle in (False, True):
            foot = disk(r) if circle else np.ones((size, size), bool)
            shape = "circle" if circle else "square"
            tag = "size %d %s" % (size, shape)
            lo = ndi.minimum_filter(a64, footprint=foot, mode="constant", cval=np.inf)
            hi = ndi.maximum_filter(a64, footprint=foot, mode="constant", cval=-np.inf)
            c.check("min, " + tag, runs[size, circle, "min"], lo, True)
            c.check("max, " + tag, runs[size, circle, "max"], hi, True)
            c.check("range, " + tag, runs[size, circle, "range"],
                    hi - lo, True)
            w = foot.astype(np.float64)
            total = ndi.correlate(a64, w, mode="constant", cval=0.0)
            n = ndi.correlate(ones, w, mode="constant", cval=0.0)
            c.check("sum, " + tag, runs[size, circle, "sum"], total, False)
            c.check("mean (uniform_filter), " + tag, runs[size, circle, "mean"], total / n, False)
            c.check("count, " + tag, runs[size, circle, "count"], n, True)
            squares = ndi.correlate(a64 * a64, w, mode="constant", cval=0.0)
            variance = np.maximum(0, squares / n - (total / n) ** 2)
            got_var = runs[size, circle, "variance"].result()[0]
            # The difference of two sums of squares loses digits where the window is nearly flat:
            # compare with an absolute tolerance scaled to the squares' size there.
            scale = np.finfo(np.float64).eps * 16 * squares / n
            bad = int((np.abs(got_var - variance) > 1e-6 * variance + scale + 1e-6).sum())
            print("%-46s %s" % ("variance, " + tag, "ok" if not bad else "FAILED %d" % bad))
            if bad:
                c.failures.append("variance, " + tag)
            inner = interior(a.shape, r)
            c.check("median (median_filter, inside), " + tag, runs[size, circle, "median"],
                    ndi.median_filter(a, footprint=foot), True, inner)
            if not circle:
                for name, pct in (("quart1", 25), ("quart3", 75)):
                    c.check("%s (percentile_filter, inside), %s" % (name, tag),
                            runs[size, circle, name],
                            ndi.percentile_filter(a, pct, footprint=foot), True, inner)


def edge_checks(c, folder, src_full):
    """generic_filter with nan-functions on a crop, edges included."""
    crop = os.path.join(folder, "crop.tif")
    gdal.Translate(crop, src_full, srcWin=[100, 120, 60, 50])
    a = read(crop)[0].astype(np.float64)
    runs = {}  # every tessera run, started before scipy's filters
    for size in (3, 5):
        for circle in (False, True):
            words = ["--size", str(size)] + (["--circle"] if circle else [])
            runs[size, circle, "median"] = c.focal("median", crop, words)
            for pct in (10, 25, 90):
                runs[size, circle, pct] = c.focal("percentile", crop,
                                                  words + ["--percentile", str(pct)])
            runs[size, circle, "stddev"] = c.focal("stddev", crop, words)
    for size in (3, 5):
        for circle in (False, True):
            foot = disk(size // 2) if circle else np.ones((size, size), bool)
            tag = "size %d %s, edges" % (size, "circle" if circle else "square")
            gf = lambda f: ndi.generic_filter(a, f, footprint=foot, mode="constant", cval=np.nan)
            c.check("median (generic_filter), " + tag, runs[size, circle, "median"],
                    gf(np.nanmedian), False)
            for pct in (10, 25, 90):
                c.check("percentile %d (generic_filter), %s" % (pct, tag),
                        runs[size, circle, pct],
                        gf(lambda v: np.nanpercentile(v, pct)), False)
            c.check("stddev (generic_filter), " + tag, runs[size, circle, "stddev"],
                    gf(np.nanstd), False)


def weight_checks(c, folder, src, a):
    a64 = a.astype(np.float64)
    ones = np.ones_like(a64)
    kernel = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], np.float64)
    path = os.path.join(folder, "kernel.txt")
    with open(path, "w") as f:
        f.write("\n".join(" ".join("%g" % v for v in row) for row in kernel) + "\n")
    laplace = os.path.join(folder, "laplace.txt")
    with open(laplace, "w") as f:
        f.write("0 1 0\n1 -4 1\n0 1 0\n")
    # Every tessera run started before scipy's filters.
    weighted_sum = c.focal("sum", src, ["--size", "3", "--weights", path])
    weighted_mean = c.focal("mean", src, ["--size", "3", "--weights", path])
    laplace_sum = c.focal("sum", src, ["--size", "3", "--weights", laplace])
    gauss = {radius: c.focal("mean", src, ["--radius", str(radius), "--gauss", str(sigma)])
             for sigma, radius in ((1.0, 2), (1.5, 3), (3.0, 6))}
    total = ndi.correlate(a64, kernel, mode="constant", cval=0.0)
    n = ndi.correlate(ones, kernel, mode="constant", cval=0.0)
    c.check("sum, weights file (correlate)", weighted_sum, total, False)
    c.check("mean, weights file (correlate)", weighted_mean, total / n, False)
    c.check("sum, negative weights (ndimage.laplace, inside)", laplace_sum,
            ndi.laplace(a64), False, interior(a.shape, 1))
    # gaussian_filter's kernel is the product of two normalised 1-D Gaussians of radius
    # int(truncate * sigma + 0.5): tessera's mean with Gaussian weights over that radius.
    for sigma, radius in ((1.0, 2), (1.5, 3), (3.0, 6)):
        truncate = radius / sigma
        smooth = ndi.gaussian_filter(a64, sigma, mode="constant", cval=0.0, truncate=truncate)
        norm = ndi.gaussian_filter(ones, sigma, mode="constant", cval=0.0, truncate=truncate)
        c.check("mean, gauss %g radius %d (gaussian_filter)" % (sigma, radius), gauss[radius],
                smooth / norm, False)


def class_checks(c, folder, data):
    """mode, minority and diversity on an NLCD crop without nodata."""
    crop = os.path.join(folder, "nlcd.tif")
    gdal.Translate(crop, os.path.join(data, "nlcd.tif"), srcWin=[500, 600, 70, 60])
    a = read(crop)[0]
    if (a == 255).any():
        systest.fail("the NLCD crop holds nodata cells")

    def mode(v, minority=False):
        values, counts = np.unique(v[~np.isnan(v)], return_counts=True)
        return values[np.argmin(counts) if minority else np.argmax(counts)]

    def variety(v):
        return len(np.unique(v[~np.isnan(v)]))

    a64 = a.astype(np.float64)
    runs = {}  # every tessera run, started before scipy's filters
    for size in (3, 5):
        for circle in (False, True):
            words = ["--size", str(size)] + (["--circle"] if circle else [])
            for m in ("mode", "minority", "diversity"):
                runs[size, circle, m] = c.focal(m, crop, words)
    for size in (3, 5):
        for circle in (False, True):
            foot = disk(size // 2) if circle else np.ones((size, size), bool)
            tag = "size %d %s" % (size, "circle" if circle else "square")
            gf = lambda f: ndi.generic_filter(a64, f, footprint=foot, mode="constant", cval=np.nan)
            c.check("mode (generic_filter), " + tag, runs[size, circle, "mode"], gf(mode), True)
            c.check("minority (generic_filter), " + tag, runs[size, circle, "minority"],
                    gf(lambda v: mode(v, True)), True)
            c.check("diversity (generic_filter), " + tag, runs[size, circle, "diversity"],
                    gf(variety), True)


def float64_checks(c, folder, src):
    """A Float64 raster whose values Float32 cannot hold (the DEM scaled by 1/3, plus 0.1, with
    gdal_translate): Float64 results, equal to scipy in float64 to 1e-12 (sums and means) or
    exactly (extremes, medians); Float32 cells would be off by about 1e-8 of the values."""
    f64 = os.path.join(folder, "dem64.tif")
    gdal.Translate(f64, src, outputType=gdal.GDT_Float64, scaleParams=[[0, 3000, 0.1, 1000.1]],
                   srcWin=[0, 0, 120, 90])
    a, _, kind = read(f64)
    if kind != "Float64" or (a.astype(np.float32).astype(np.float64) == a).mean() > 0.1:
        systest.fail("the scaled DEM should be Float64 with values Float32 cannot hold")
    print("--- dem64.tif (Float64, the DEM / 3 + 0.1)")
    ones = np.ones_like(a)
    runs = {}  # every tessera run, started before scipy's filters
    for size in (3, 15):
        for method in ("sum", "mean", "variance", "stddev", "min", "max", "range", "median"):
            runs[method, size, False] = c.focal(method, f64, ["--size", str(size)])
    for method in ("mean", "median"):
        runs[method, 5, True] = c.focal(method, f64, ["--size", "5", "--circle"])

    def check(what, method, words, want, atol=0.0, rtol=0.0, region=None):
        got, _, got_kind = runs[method, int(words[1]), "--circle" in words].result()
        if region is not None:
            got, want = got[region], want[region]
            atol = atol[region] if np.ndim(atol) else atol
        bad = int((np.abs(got - want) > atol + rtol * np.abs(want)).sum())
        bad += got.size if got_kind != "Float64" else 0
        print("%-46s %s" % (what + ", Float64", "ok" if not bad else
                            "FAILED: %d cells differ (%s)" % (bad, got_kind)))
        if bad:
            c.failures.append(what + ", Float64")

    for size in (3, 15):
        r = size // 2
        foot = np.ones((size, size), bool)
        words = ["--size", str(size)]
        tag = "size %d" % size
        total = ndi.correlate(a, foot.astype(np.float64), mode="constant", cval=0.0)
        n = ndi.correlate(ones, foot.astype(np.float64), mode="constant", cval=0.0)
        squares = ndi.correlate(a * a, foot.astype(np.float64), mode="constant", cval=0.0)
        variance = np.maximum(0, squares / n - (total / n) ** 2)
        # The difference of sums of squares loses digits (about eps x the mean square) in both
        # orders of summation; Float32 cells would be off by 1e-4 x the values.
        cancel = np.finfo(np.float64).eps * 256 * squares / n
        check("sum, " + tag, "sum", words, total, rtol=1e-12)
        check("mean, " + tag, "mean", words, total / n, rtol=1e-12)
        check("variance, " + tag, "variance", words, variance, atol=cancel, rtol=1e-9)
        check("stddev, " + tag, "stddev", words, np.sqrt(variance),
              atol=cancel / np.maximum(np.sqrt(variance), np.sqrt(cancel)), rtol=1e-9)
        lo = ndi.minimum_filter(a, footprint=foot, mode="constant", cval=np.inf)
        hi = ndi.maximum_filter(a, footprint=foot, mode="constant", cval=-np.inf)
        check("min, " + tag, "min", words, lo)
        check("max, " + tag, "max", words, hi)
        check("range, " + tag, "range", words, hi - lo)
        check("median (inside), " + tag, "median", words, ndi.median_filter(a, footprint=foot),
              region=interior(a.shape, r))
    foot = disk(2)
    total = ndi.correlate(a, foot.astype(np.float64), mode="constant", cval=0.0)
    n = ndi.correlate(ones, foot.astype(np.float64), mode="constant", cval=0.0)
    check("mean, size 5 circle", "mean", ["--size", "5", "--circle"], total / n, rtol=1e-12)
    check("median (inside), size 5 circle", "median", ["--size", "5", "--circle"],
          ndi.median_filter(a, footprint=foot), region=interior(a.shape, 2))


def main():
    args = systest.parse_args(__doc__)
    with tempfile.TemporaryDirectory() as folder, systest.Pool() as pool:
        c = Checker(args, folder, pool)
        # A 200 x 200 window of the ChiProfiler DEM (Float32) that holds no NaN, and SRTM
        # (UInt16), which holds no nodata cell.
        dem = os.path.join(folder, "dem.tif")
        gdal.Translate(dem, os.path.join(args.data, "chiprofiler_dem.tif"),
                       srcWin=[200, 500, 200, 200])
        srtm = os.path.join(args.data, "srtm.tif")
        for src in (dem, srtm):
            a, nodata, kind = read(src)
            if np.isnan(a.astype(np.float64)).any() or (nodata is not None and (a == nodata).any()):
                systest.fail(src + " should hold no nodata cell")
            print("--- %s (%s)" % (os.path.basename(src), kind))
            dem_checks(c, src, a)
        edge_checks(c, folder, dem)
        weight_checks(c, folder, dem, read(dem)[0])
        class_checks(c, folder, args.data)
        float64_checks(c, folder, dem)
        if c.failures:
            systest.fail("%d of %d comparisons differ from scipy: %s" %
                         (len(c.failures), c.count, "; ".join(c.failures)))
        print("%d tessera focal runs equal scipy.ndimage" % c.count)


if __name__ == "__main__":
    main()
