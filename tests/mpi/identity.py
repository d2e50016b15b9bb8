#!/usr/bin/env python3
"""Every op's output is the same file, byte for byte, at N ranks x 1 and 2 threads as at 1 x 1.

Odd shapes come from a real DEM: a single cell, a single row, a single column, a raster that is
not a multiple of the tile, and one with fewer tiles than ranks. Each shape runs one job holding
every op (and -compute_edges variants, and focal methods through each of their kernels: running
windows, the sliding histogram, walks of circles and weights), so one launch exercises them all.
"""
import filecmp
import os
import shutil
import sys

import mpitest
from osgeo import gdal

gdal.UseExceptions()

# (name, source file, srcwin x y w h or None for the whole raster, tile size)
SHAPES = [
    ("cell", "chiprofiler_dem.tif", (100, 100, 1, 1), 16),
    ("row", "chiprofiler_dem.tif", (0, 300, 333, 1), 16),
    ("column", "srtm.tif", (200, 0, 1, 301), 16),
    ("ragged", "srtm.tif", (3, 5, 203, 157), 32),
    ("few_tiles", "chiprofiler_dem.tif", (0, 0, 40, 30), 32),
    ("nan_nodata", "nz_elev.tif", (300, 400, 150, 170), 48),
]

STEPS = [
    ("hillshade", "hillshade", {"z": 2.0}),
    ("hillshade_edges", "hillshade", {"compute_edges": True, "multidirectional": True}),
    ("slope", "slope", {}),
    ("slope_edges", "slope", {"compute_edges": True, "units": "percent"}),
    ("aspect", "aspect", {"alg": "ZevenbergenThorne"}),
    ("tri", "TRI", {"compute_edges": True}),
    ("tpi", "TPI", {}),
    ("roughness", "roughness", {"compute_edges": True}),
    ("relief", "color-relief", {"alpha": True}),
    ("mean", "focal.mean", {"radius": 2}),
    ("sum_wide", "focal.sum", {"radius": 7}),
    ("min", "focal.min", {"radius": 1}),
    ("stddev", "focal.stddev", {"radius": 3}),
    ("variance", "focal.variance", {"size": 5}),
    ("range", "focal.range", {"radius": 1}),
    ("count_circle", "focal.count", {"radius": 2, "circle": True}),
    ("median_wide", "focal.median", {"radius": 4}),
    ("quart1_circle", "focal.quart1", {"radius": 2, "circle": True}),
    ("gauss_sum", "focal.sum", {"radius": 2, "gauss": 1.2}),
]


def radius_of(options):
    return options.get("radius", options.get("size", 1) // 2)


def steps_for(width, height):
    """The steps a shape runs: tessera refuses a focal radius that reaches past the whole raster
    from every cell (docs/jobs.md), so a single cell runs no focal step."""
    return [s for s in STEPS
            if not (s[1].startswith("focal.") and radius_of(s[2]) >= max(width, height))]


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"%s"' % v
    return repr(v)


def write_job(folder, dem, tile, color_file, steps):
    lines = ['[input.dem]', 'path = "%s"' % dem, '']
    for step_id, op, options in steps:
        lines += ['[[step]]', 'id = "%s"' % step_id, 'op = "%s"' % op, 'in = "dem"']
        if op == "color-relief":
            options = dict(options, color_file=color_file)
        lines += ["%s = %s" % (k, toml_value(v)) for k, v in options.items()]
        lines.append("")
    for step_id, _, _ in steps:
        lines += ['[[output]]', 'from = ["%s"]' % step_id, 'path = "out/%s.tif"' % step_id,
                  'compress = "deflate"', '']
    lines += ['[run]', 'tile = %d' % tile]
    path = os.path.join(folder, "job.toml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def check_shape(args, name, source, srcwin, tile):
    folder = os.path.join(args.work, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(os.path.join(folder, "out"))
    dem = os.path.join(folder, "dem.tif")
    gdal.Translate(dem, os.path.join(args.data, source), srcWin=list(srcwin))
    steps = steps_for(srcwin[2], srcwin[3])
    job = write_job(folder, dem, tile, os.path.join(args.data, "color_file.txt"), steps)
    mpitest.launch_or_exit(args, 1, 1, ["run", job, "-q"])
    shutil.move(os.path.join(folder, "out"), os.path.join(folder, "reference"))
    os.makedirs(os.path.join(folder, "out"))
    failures = []
    for threads in (1, 2):
        mpitest.launch_or_exit(args, args.ranks, threads, ["run", job, "-q"])
        for step_id, _, _ in steps:
            got = os.path.join(folder, "out", step_id + ".tif")
            want = os.path.join(folder, "reference", step_id + ".tif")
            if not filecmp.cmp(got, want, shallow=False):
                failures.append("%s/%s at %d ranks x %d threads" % (name, step_id, args.ranks, threads))
        shutil.rmtree(os.path.join(folder, "out"))
        os.makedirs(os.path.join(folder, "out"))
    print("%-10s %s: %d ops identical at %d ranks x 1 and 2 threads" %
          (name, "x".join(map(str, srcwin[2:])), len(steps), args.ranks))
    return failures


def main():
    args = mpitest.parse_args()
    failures = []
    for shape in SHAPES:
        failures += check_shape(args, *shape)
    if failures:
        sys.exit("outputs differ from 1 rank x 1 thread: " + "; ".join(failures))


if __name__ == "__main__":
    main()
