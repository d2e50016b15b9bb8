"""The zonal statistics peers of tests/bench/suite.py: how Python and GRASS users compute what
`tessera zonal` computes (count, min, max, mean, std of the DEM per zone).

    python3 tests/bench/zonal_peers.py WAY ZONES VALUES OUT.csv [--workers 2] [--chunk 1024]

ZONES is a raster of zone ids on the values' grid, or a vector file of polygons with an integer
field `zone` (the suite's, tests/bench/inputs.py make_zones: they do not overlap). WAY is one of
  numpy     the whole rasters read with rasterio (polygons burnt with rasterio.features.rasterize
            onto the whole grid), np.bincount for counts, sums and sums of squares,
            scipy.ndimage.minimum / maximum for the extremes;
  rasterio  the same per --chunk x --chunk window, windows on a ThreadPoolExecutor of --workers
            threads (reads under a lock), each window's polygons those whose bounds meet it
            burnt with rasterize onto the window's transform; partial sums added up at the end;
  grass     GRASS in a temporary location: r.external links the rasters (polygons: v.in.ogr
            imports them, v.to.rast burns them by `zone`), then r.univar -t zones=; prints the
            seconds of the import and of r.univar apart ("steps: ...").
OUT is a CSV: zone,count,min,max,mean,std (population standard deviation, as tessera and GRASS).
"""
import argparse
import concurrent.futures
import csv
import math
import os
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np


def write_table(out, ids, count, total, squares, low, high):
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["zone", "count", "min", "max", "mean", "std"])
        for z in ids:
            n = int(count[z])
            if n == 0:
                continue
            mean = total[z] / n
            var = max(0.0, squares[z] / n - mean * mean)
            w.writerow([z, n, repr(float(low[z])), repr(float(high[z])), repr(mean), repr(math.sqrt(var))])


def polygon_shapes(path):
    """[(geometry as GeoJSON, zone)] and each polygon's bounds, read with OGR."""
    import json

    from osgeo import ogr

    ds = ogr.Open(path)
    layer = ds.GetLayer(0)
    shapes, bounds = [], []
    for feature in layer:
        g = feature.GetGeometryRef()
        shapes.append((json.loads(g.ExportToJson()), feature.GetField("zone")))
        minx, maxx, miny, maxy = g.GetEnvelope()
        bounds.append((minx, miny, maxx, maxy))
    return shapes, np.array(bounds)


def fold(zones, values, nodata, size):
    """count, sum, sum of squares, min, max per zone id (0..size-1) of one block: np.bincount,
    and the extremes by np.minimum/maximum.reduceat over the cells sorted by zone (a stable
    argsort of small integers is a radix sort)."""
    ok = zones > 0
    if nodata is not None:
        ok &= values != nodata
    ok &= ~np.isnan(values)
    z, v = zones[ok].astype(np.int64), values[ok].astype(np.float64)
    count = np.bincount(z, minlength=size)
    total = np.bincount(z, weights=v, minlength=size)
    squares = np.bincount(z, weights=v * v, minlength=size)
    low = np.full(size, np.inf)
    high = np.full(size, -np.inf)
    if z.size:
        order = np.argsort(z, kind="stable")
        zs, vs = z[order], v[order]
        starts = np.flatnonzero(np.r_[True, zs[1:] != zs[:-1]])
        low[zs[starts]] = np.minimum.reduceat(vs, starts)
        high[zs[starts]] = np.maximum.reduceat(vs, starts)
    return count, total, squares, low, high


def whole(zones_path, values_path, out, args):
    import rasterio
    import rasterio.features

    with rasterio.open(values_path) as src:
        values = src.read(1)
        nodata, transform, shape = src.nodata, src.transform, (src.height, src.width)
    if zones_path.endswith(".tif"):
        with rasterio.open(zones_path) as z:
            zones = z.read(1)
    else:
        shapes, _ = polygon_shapes(zones_path)
        zones = rasterio.features.rasterize(shapes, out_shape=shape, transform=transform, fill=0,
                                            dtype="uint16")
    size = int(zones.max()) + 1
    parts = fold(zones, values, nodata, size)
    write_table(out, range(size), *parts)


def windows(zones_path, values_path, out, args):
    import rasterio
    import rasterio.features
    from rasterio.windows import Window, bounds as window_bounds, transform as window_transform

    src = rasterio.open(values_path)
    vector = not zones_path.endswith(".tif")
    zsrc = None if vector else rasterio.open(zones_path)
    shapes, bounds = polygon_shapes(zones_path) if vector else (None, None)
    size = (len(shapes) if vector else 65535) + 1
    lock = threading.Lock()
    chunk = args.chunk

    def one(window):
        with lock:
            values = src.read(1, window=window)
            zones = None if vector else zsrc.read(1, window=window)
        if vector:
            left, bottom, right, top = window_bounds(window, src.transform)
            meets = np.nonzero((bounds[:, 0] <= right) & (bounds[:, 2] >= left) &
                               (bounds[:, 1] <= top) & (bounds[:, 3] >= bottom))[0]
            zones = rasterio.features.rasterize([shapes[i] for i in meets], out_shape=values.shape,
                                                transform=window_transform(window, src.transform),
                                                fill=0, dtype="uint16") if meets.size else \
                np.zeros(values.shape, np.uint16)
        return fold(zones, values, src.nodata, size)

    jobs = [Window(x, y, min(chunk, src.width - x), min(chunk, src.height - y))
            for y in range(0, src.height, chunk) for x in range(0, src.width, chunk)]
    count, total, squares = np.zeros(size, np.int64), np.zeros(size), np.zeros(size)
    low, high = np.full(size, np.inf), np.full(size, -np.inf)
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.workers) as pool:
        for c, t, s, lo, hi in pool.map(one, jobs):
            count += c
            total += t
            squares += s
            np.minimum(low, lo, out=low)
            np.maximum(high, hi, out=high)
    write_table(out, range(size), count, total, squares, low, high)


def grass(zones_path, values_path, out, args):
    """r.univar -t in a temporary location; the import and r.univar timed apart."""
    work = tempfile.mkdtemp(prefix="zonal-grass-")
    raw = os.path.join(work, "univar.csv")
    if zones_path.endswith(".tif"):
        imports = f"r.external -o input={zones_path} output=z --quiet"
    else:
        imports = (f"v.in.ogr -o input={zones_path} output=p --quiet && "
                   "v.to.rast input=p output=z use=attr attribute_column=zone --quiet")
    script = (f"r.external -o input={values_path} output=dem --quiet && "
              f"s=$(date +%s.%N) && {imports} && g.region raster=dem && m=$(date +%s.%N) && "
              f"r.univar -t map=dem zones=z separator=comma output={raw} --quiet && "
              "e=$(date +%s.%N) && echo \"$s $m $e\"")
    done = subprocess.run(["grass", "--tmp-location", values_path, "--exec", "bash", "-c", script],
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(done.stdout + done.stderr)
    s, m, e = (float(t) for t in done.stdout.split()[-3:])
    print(f"steps: import {m - s:.2f} s, r.univar {e - m:.2f} s")
    with open(raw) as f, open(out, "w", newline="") as g:
        w = csv.writer(g)
        w.writerow(["zone", "count", "min", "max", "mean", "std"])
        for row in csv.DictReader(f):
            w.writerow([row["zone"], row["non_null_cells"], row["min"], row["max"], row["mean"],
                        row["stddev"]])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("way", choices=["numpy", "rasterio", "grass"])
    p.add_argument("zones")
    p.add_argument("values")
    p.add_argument("out")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--chunk", type=int, default=1024)
    args = p.parse_args()
    start = time.perf_counter()
    {"numpy": whole, "rasterio": windows, "grass": grass}[args.way](args.zones, args.values, args.out, args)
    print(f"{args.way}: {time.perf_counter() - start:.2f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
