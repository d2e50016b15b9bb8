#!/usr/bin/env python3
"""Statistics of a tile-graph result in the job that computes it, against the two jobs a user ran
before: on a generated DEM, fill -> flowdir -> flowacc written to acc.tif, then
`log(acc + 1) / log(max(acc) + 1)` and `acc > percentile(acc, 99)` written to two files.

- one job: the whole chain in one `tessera run` (the reduction of acc runs after flowacc's pass,
  reading acc.tif, which the job writes as an output);
- two jobs: `tessera run` of fill, flowdir and flowacc into acc.tif, then `tessera run` of the
  two calc steps reading acc.tif as an input.

    /usr/bin/python3 tests/bench/stage_statistics.py --tessera build/src/tessera [--size 4000]
        [--ranks 2] [--threads 1] [--runs 3] [--dir /tmp/tessera-bench]

The two ways alternate (the one job first in every other run); each run deletes its outputs
first and runs after a `sync`. Prints each run's seconds and `uptime`'s load, the medians and
their ratio, and whether the two ways wrote the same bytes (scaled.tif, hot.tif, acc.tif cells).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time

from osgeo import gdal

CHAIN = """
[input.dem]
path = "{dem}"

[[step]]
id = "fel"
op = "fill"
in = "dem"

[[step]]
id = "p"
op = "flowdir"
in = "fel"

[[step]]
id = "acc"
op = "flowacc"
in = "p"

[[output]]
from = "acc"
path = "out/acc.tif"
"""

FROM_FILE = """
[input.acc]
path = "out/acc.tif"
"""

STATISTICS = """
[[step]]
id = "scaled"
op = "calc"
expr = "log(acc + 1) / log(max(acc) + 1)"

[[step]]
id = "hot"
op = "calc"
expr = "acc > percentile(acc, 99)"
type = "uint8"

[[output]]
from = "scaled"
path = "out/scaled.tif"

[[output]]
from = "hot"
path = "out/hot.tif"
"""


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--tessera", required=True)
    p.add_argument("--size", type=int, default=4000)
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--dir", default="/tmp/tessera-bench")
    return p.parse_args()


def environment(threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")
    return env


def tessera(args, words):
    cmd = ["mpirun", "-n", str(args.ranks), "--bind-to", "none", args.tessera] + words
    subprocess.run(cmd, check=True, env=environment(args.threads), stdout=subprocess.DEVNULL)


def write(folder, name, text):
    os.makedirs(os.path.join(folder, "out"), exist_ok=True)
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def timed(run, folder):
    shutil.rmtree(os.path.join(folder, "out"), ignore_errors=True)
    os.makedirs(os.path.join(folder, "out"))
    subprocess.run(["sync"], check=True)
    load = os.getloadavg()[0]
    start = time.monotonic()
    run()
    return time.monotonic() - start, load


def cells(path):
    ds = gdal.Open(path)
    return ds.GetRasterBand(1).ReadAsArray().tobytes()


def main():
    args = parse_args()
    os.makedirs(args.dir, exist_ok=True)
    dem = os.path.join(args.dir, f"dem_{args.size}.tif")
    if not os.path.exists(dem):
        subprocess.run([args.tessera, "generate", dem, "--size", f"{args.size}x{args.size}", "-q"],
                       check=True)
    work = tempfile.mkdtemp(prefix="stage-stats.", dir=args.dir)
    try:
        one = os.path.join(work, "one")
        two = os.path.join(work, "two")
        one_job = write(one, "one.toml", CHAIN.format(dem=dem) + STATISTICS)
        first = write(two, "first.toml", CHAIN.format(dem=dem))
        second = write(two, "second.toml", FROM_FILE + STATISTICS)
        ways = {
            "one job": (one, lambda: tessera(args, ["run", "-q", one_job])),
            "two jobs": (two, lambda: (tessera(args, ["run", "-q", first]),
                                       tessera(args, ["run", "-q", second]))),
        }
        seconds = {name: [] for name in ways}
        print(f"{args.size}x{args.size} generated DEM, {args.ranks} rank(s) x {args.threads} "
              f"thread(s); uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
        for run in range(args.runs):
            order = list(ways) if run % 2 == 0 else list(reversed(ways))
            for name in order:
                folder, call = ways[name]
                s, load = timed(call, folder)
                seconds[name].append(s)
                print(f"  run {run + 1} {name:8s} {s:7.2f} s   load {load:.2f}")
        same = all(cells(os.path.join(one, "out", f)) == cells(os.path.join(two, "out", f))
                   for f in ("acc.tif", "scaled.tif", "hot.tif"))
        m = {name: statistics.median(v) for name, v in seconds.items()}
        print(f"median: one job {m['one job']:.2f} s, two jobs {m['two jobs']:.2f} s, "
              f"one/two {m['one job'] / m['two jobs']:.3f}; same bytes: {same}")
        print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
