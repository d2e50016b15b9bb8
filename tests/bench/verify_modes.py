"""tessera dem against gdaldem, bit for bit, on a large DEM: every mode and flag mix of
suite_modes.MODES (or those named), tessera at 2 ranks x 1 thread. Compares the two outputs strip
by strip (never a whole band in memory) and prints, per mode, the cells whose bits differ (NaN
counts as equal to NaN) over every band; exits non-zero when any differs.

    /usr/bin/python3 tests/bench/verify_modes.py DEM [--modes all|MODE,...] [--tessera build/src/tessera]
        [--dir /tmp/tessera-bench] [--json F] [--ref-dir DIR]

--ref-dir keeps gdaldem's outputs as DIR/MODE.tif and takes them from there when they exist (with
DIR/MODE.dem naming the DEM they were made from), so that repeated checks of tessera run gdaldem once.

DEM: the suite's (tests/bench/inputs.py, `tessera generate`) or tests/bench/make_dem.py's."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from osgeo import gdal

from suite_modes import MODES, parse_modes, words
from suite_tools import mpi_env

gdal.UseExceptions()
HERE = os.path.dirname(os.path.abspath(__file__))
STRIP = 512


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dem")
    p.add_argument("--modes", default="all", help=f"comma-separated, of: {', '.join(MODES)}")
    p.add_argument("--tessera", default=os.path.join(os.path.dirname(os.path.dirname(HERE)), "build", "src", "tessera"))
    p.add_argument("--mpiexec", default="mpirun")
    p.add_argument("--dir", default=os.environ.get("TESSERA_BENCH_DIR", "/tmp/tessera-bench"))
    p.add_argument("--json", help="also write the counts here")
    p.add_argument("--ref-dir", help="keep gdaldem's outputs here (MODE.tif) and reuse them")
    return p.parse_args()


def run(cmd, env):
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"verify: failed ({done.returncode}): {' '.join(cmd)}\n{done.stdout}{done.stderr}")


def differing_cells(ref_path, got_path):
    """Cells whose bits differ over every band (NaN equal to NaN), and the first one's place."""
    ref, got = gdal.Open(ref_path), gdal.Open(got_path)
    if (ref.RasterXSize, ref.RasterYSize, ref.RasterCount) != (got.RasterXSize, got.RasterYSize, got.RasterCount):
        return -1, "sizes differ"
    total, first = 0, ""
    for b in range(1, ref.RasterCount + 1):
        rb, gb = ref.GetRasterBand(b), got.GetRasterBand(b)
        if rb.DataType != gb.DataType or rb.GetNoDataValue() != gb.GetNoDataValue():
            return -1, f"band {b}: type or nodata differs"
        for y in range(0, ref.RasterYSize, STRIP):
            rows = min(STRIP, ref.RasterYSize - y)
            a, c = rb.ReadAsArray(0, y, None, rows), gb.ReadAsArray(0, y, None, rows)
            if a.dtype.kind == "f":
                differ = (a.view(np.uint32) != c.view(np.uint32)) & ~(np.isnan(a) & np.isnan(c))
            else:
                differ = a != c
            n = int(np.count_nonzero(differ))
            if n and not first:
                yy, xx = np.argwhere(differ)[0]
                first = f"band {b} at {xx},{y + yy}: {c[yy, xx]!r} vs gdaldem {a[yy, xx]!r}"
            total += n
    return total, first


def gdaldem_output(name, args, scratch):
    """gdaldem's output for mode `name`: made at `scratch`, or with --ref-dir kept there and reused
    while it was made from the same DEM (path, size and modification time)."""
    if not args.ref_dir:
        run(["gdaldem"] + words(name, args.dem, scratch), dict(os.environ))
        return scratch
    os.makedirs(args.ref_dir, exist_ok=True)
    path = os.path.join(args.ref_dir, name + ".tif")
    st = os.stat(args.dem)
    stamp = f"{os.path.abspath(args.dem)} {st.st_size} {st.st_mtime_ns}\n"
    try:
        with open(path[:-4] + ".dem") as f:
            if f.read() == stamp and os.path.exists(path):
                return path
    except FileNotFoundError:
        pass
    run(["gdaldem"] + words(name, args.dem, path), dict(os.environ))
    with open(path[:-4] + ".dem", "w") as f:
        f.write(stamp)
    return path


def main():
    args = parse_args()
    names = parse_modes(args.modes)
    results = []
    os.makedirs(args.dir, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="verify.", dir=args.dir) as work:
        scratch, got = os.path.join(work, "gdaldem.tif"), os.path.join(work, "tessera.tif")
        for name in names:
            start = time.monotonic()
            ref = gdaldem_output(name, args, scratch)
            run([args.mpiexec, "-n", "2", "--bind-to", "none", args.tessera, "dem"] + words(name, args.dem, got),
                mpi_env(1))
            n, first = differing_cells(ref, got)
            results.append({"mode": name, "flags": " ".join(MODES[name][1]), "differing_cells": n, "first": first})
            print(f"{name:28} {n:12d} differing cells  ({time.monotonic() - start:.0f} s) {first}", flush=True)
            os.remove(got)
            if ref == scratch:
                os.remove(scratch)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"dem": args.dem, "tessera": args.tessera, "results": results}, f, indent=1)
    bad = [r for r in results if r["differing_cells"] != 0]
    print(f"{len(results)} modes, {len(bad)} with differing cells")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
