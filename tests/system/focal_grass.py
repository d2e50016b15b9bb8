#!/usr/bin/env python3
"""`tessera focal` against GRASS r.neighbors (Debian grass-core) on real DEMs and NLCD classes:
every method both define, sizes 3, 5 and 15, square and circular windows; the methods
r.neighbors weights with a weights file holding zeros (a count is then the sum of the valid
cells' weights) and with Gaussian weights; minimum, maximum, range and diversity, which take
weights as a mask, with weights on the cells of r.neighbors' 5 x 5 circle against its -c.

Each source is imported into a temporary GRASS location (r.in.gdal; nodata cells become GRASS
nulls), r.neighbors writes every method in one run, and r.out.gdal writes each result as
Float64. Cells are compared where the centre is valid: r.neighbors also fills a null centre from
its neighbours, which tessera leaves nodata (docs/jobs.md). The comparisons are exact for the
order statistics, extremes, counts and classes (r.neighbors' median of an integer source, which
it writes as a double, rounded half away from zero as tessera rounds it into the source's type);
within a relative 1e-6 for sums, means, variances
and weighted values (tessera's result is Float32). What r.neighbors defines differently is listed
in docs/jobs.md; r.neighbors 8.2 has no minority method.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from osgeo import gdal

import systest

gdal.UseExceptions()

# tessera method -> r.neighbors method (and its extra options).
METHODS = {
    "mean": "average", "median": "median", "mode": "mode", "min": "minimum", "max": "maximum",
    "range": "range", "stddev": "stddev", "sum": "sum", "count": "count",
    "variance": "variance", "diversity": "diversity", "quart1": "quart1", "quart3": "quart3",
    "minority": "minority",
}
EXACT = {"median", "mode", "min", "max", "range", "count", "diversity", "quart1", "quart3",
         "minority"}
DEM_METHODS = ["mean", "median", "min", "max", "range", "stddev", "sum", "count", "variance",
               "quart1", "quart3"]
CLASS_METHODS = ["mode", "diversity", "count"]  # r.neighbors 8.2 has no minority
# The methods r.neighbors weights (its w_* functions); the others take weights as a mask.
WEIGHTED = {"mean", "sum", "count", "median", "stddev", "variance", "quart1", "quart3", "mode"}
MASK_FILE = None  # a weights file whose nonzero cells are the 5 x 5 circle (main writes it)


def read(path):
    ds = gdal.Open(path)
    band = ds.GetRasterBand(1)
    a = band.ReadAsArray().astype(np.float64)
    nodata = band.GetNoDataValue()
    if nodata is not None:
        a[a == nodata] = np.nan
    return a


def grass_runs(src, folder, runs):
    """Runs r.neighbors once per (name, methods, options) in a temporary location made from
    `src`; returns {name/method: path of its Float64 GeoTIFF}."""
    script = ["set -e", "r.in.gdal -o input=%s output=src --quiet" % src,
              "g.region raster=src"]
    outputs = {}
    for name, methods, options in runs:
        maps = ["%s_%s" % (name, m) for m in methods]
        script.append("r.neighbors input=src output=%s method=%s %s --quiet --overwrite" % (
            ",".join(maps), ",".join(METHODS[m] for m in methods), options))
        for m, gmap in zip(methods, maps):
            path = os.path.join(folder, gmap + ".tif")
            script.append("r.out.gdal -c -f input=%s output=%s format=GTiff type=Float64 "
                          "--quiet --overwrite" % (gmap, path))
            outputs[name + "/" + m] = path
    with open(os.path.join(folder, "grass.sh"), "w") as f:
        f.write("\n".join(script) + "\n")
    done = subprocess.run(["grass", "--tmp-location", src, "--exec", "bash",
                           os.path.join(folder, "grass.sh")],
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        systest.fail("GRASS failed:\n" + done.stdout[-2000:] + done.stderr[-2000:])
    return outputs


def tessera_run(args, folder, src, method, words, index):
    """tessera's result as float64 (NaN for nodata), and whether its type is an integer (the
    index-th run of the source: its output's name)."""
    out = os.path.join(folder, "t_%s_%d.tif" % (method, index))
    done = systest.tessera(args, ["focal", method, src, out, "-q"] + words)
    if done.returncode != 0:
        systest.fail(done.describe())
    band = gdal.Open(out).GetRasterBand(1)
    return read(out), band.DataType not in (gdal.GDT_Float32, gdal.GDT_Float64)


def compare(what, got, want, centre_valid, exact, failures):
    mask = centre_valid & ~np.isnan(want)
    g, w = got[mask], want[mask]
    if exact:
        bad = int((g != w).sum())
    else:
        bad = int((~np.isclose(g, w, rtol=1e-6, atol=1e-6)).sum())
    print("%-44s %s (%d cells)" % (what, "ok" if not bad else "FAILED: %d differ" % bad,
                                   mask.sum()))
    if bad:
        i = np.argmax(np.abs(g - w))
        print("    worst: tessera %r, r.neighbors %r" % (g[i], w[i]))
        failures.append(what)
    nodata_filled = int((~centre_valid & ~np.isnan(want)).sum())
    return nodata_filled


def start_source(args, pool, folder, src, methods, weights_file):
    """Starts r.neighbors on `src` and every tessera run compared with it (the pool runs them a
    few at a time); check_source() compares them."""
    work = os.path.join(folder, os.path.splitext(os.path.basename(src))[0])
    os.makedirs(work)
    runs = []
    for size in (3, 5, 15):
        runs.append(("s%d" % size, methods, "size=%d" % size))
        runs.append(("c%d" % size, methods, "size=%d -c" % size))
    # The methods r.neighbors weights, with a weights file holding zeros and Gaussian weights.
    weighted = [m for m in methods if m in WEIGHTED]
    runs.append(("w", weighted, "size=3 weighting_function=file weight=%s" % weights_file))
    runs.append(("g", weighted, "size=7 weighting_function=gaussian weighting_factor=1.5"))
    grass = pool.submit(grass_runs, src, work, runs)
    tdir = os.path.join(work, "tessera")
    os.makedirs(tdir)
    started = {}
    for name, ms, options in runs:
        words = []
        for word in options.split():
            key, _, value = word.partition("=")
            if key == "size":
                words += ["--size", value]
            elif word == "-c":
                words.append("--circle")
            elif key == "weight":
                words += ["--weights", value]
            elif key == "weighting_factor":
                words += ["--gauss", value]
        for m in ms:
            started[name, m] = pool.submit(tessera_run, args, tdir, src, m, words, len(started))
    for m in methods:
        if m not in WEIGHTED:
            started["mask", m] = pool.submit(tessera_run, args, tdir, src, m,
                                             ["--size", "5", "--weights", MASK_FILE], len(started))
    return src, methods, runs, grass, started


def check_source(started_source, failures):
    src, methods, runs, grass, started = started_source
    grass = grass.result()
    centre_valid = ~np.isnan(read(src))
    filled = 0
    for name, ms, options in runs:
        for m in ms:
            got, integer = started[name, m].result()
            want = read(grass[name + "/" + m])
            if integer:  # an integer source's median keeps its type, rounded half away from 0
                want = np.sign(want) * np.floor(np.abs(want) + 0.5)
            elif m in EXACT:  # r.neighbors writes doubles; tessera the same value as Float32
                want = want.astype(np.float32).astype(np.float64)
            # With weights a count is a sum of weights, Float32 in tessera, a double in GRASS.
            exact = m in EXACT and not (m == "count" and name in ("w", "g"))
            filled += compare("%s %s, %s" % (os.path.basename(src), m, options.split(" w")[0] +
                                             (" weighted" if name in ("w", "g") else "")),
                              got, want, centre_valid, exact, failures)
    # Minimum, maximum, range and diversity take weights as a mask: tessera's with weights of
    # nonzero values on the cells of r.neighbors' 5 x 5 circle equal r.neighbors' -c. (With
    # weights, r.neighbors 8.2.1 warns that it uses the mask but covers the whole square.)
    for m in methods:
        if m in WEIGHTED:
            continue
        got, _ = started["mask", m].result()
        filled += compare("%s %s, mask of the size=5 -c circle" % (os.path.basename(src), m), got,
                          read(grass["c5/" + m]), centre_valid, True, failures)
    print("r.neighbors filled %d cells whose centre is nodata (tessera leaves them nodata)" %
          filled)


def main():
    args = systest.parse_args(__doc__)
    if shutil.which("grass") is None:
        systest.fail("GRASS (grass-core) is not installed: cmake/deps.sh lists it")
    failures = []
    with tempfile.TemporaryDirectory() as folder:
        global MASK_FILE
        MASK_FILE = os.path.join(folder, "mask.txt")
        with open(MASK_FILE, "w") as f:  # the cells of the 5 x 5 circle, weights 1 to 3
            f.write("0 0 2 0 0\n0 1 3 1 0\n2 3 1 3 2\n0 1 3 1 0\n0 0 2 0 0\n")
        weights = os.path.join(folder, "weights.txt")
        with open(weights, "w") as f:
            f.write("0 1 2\n1 4 1\n2 1 0\n")
        srtm = os.path.join(folder, "srtm.tif")
        gdal.Translate(srtm, os.path.join(args.data, "srtm.tif"), srcWin=[100, 100, 200, 160])
        ds = gdal.Open(srtm, gdal.GA_Update)  # a block of nodata, to see how each treats it
        ds.GetRasterBand(1).WriteArray(np.full((12, 15), 65535, np.uint16), 60, 50)
        ds = None
        nz = os.path.join(folder, "nz.tif")
        gdal.Translate(nz, os.path.join(args.data, "nz_elev.tif"), srcWin=[700, 350, 200, 180])  # a quarter sea (NaN)
        nlcd = os.path.join(folder, "nlcd.tif")
        gdal.Translate(nlcd, os.path.join(args.data, "nlcd.tif"), srcWin=[400, 500, 160, 140])
        # GRASS's three sessions and tessera's runs go a few at a time (one a core); the
        # comparisons, in this order, as their results come.
        with systest.Pool() as pool:
            sources = [start_source(args, pool, folder, src, methods, weights)
                       for src, methods in ((srtm, DEM_METHODS), (nz, DEM_METHODS),
                                            (nlcd, CLASS_METHODS))]
            for started in sources:
                check_source(started, failures)
    if failures:
        systest.fail("%d comparisons differ from r.neighbors: %s" % (len(failures),
                                                                     "; ".join(failures)))
    print("tessera focal equals r.neighbors where both define the cell")


if __name__ == "__main__":
    main()
