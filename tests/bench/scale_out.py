#!/usr/bin/env python3
"""The measured costs behind docs/scaling.md, on one machine with oversubscribed ranks:

- the tile counter (bench_counter): claims a second and their latency at 2 to 64 ranks;
- start-up: the slowest rank's seconds before its first tile (the run report's start_s);
- rank 0's ingest of compressed tiles: `tessera generate` with small ZSTD tiles at 1 to 64 ranks,
  rank 0's seconds writing them (write_s) and the tiles a second it took in, and the wall time;
- an HDF5 collective round: `tessera dem slope` into uncompressed HDF5 (every rank writes its
  tiles in lock-step rounds), the write seconds per round;
- one tile's cost: read, compute and encode of a 512 x 512 hillshade tile on one thread;
- the front's cost (the static `tessera` that holds the stop signals and executes the program):
  one exec of it with a program that does nothing (/bin/true in its place) against /bin/true
  alone, and `tessera --help` alone and under `mpirun -n 2` through the front and the program
  directly, alternating.

    python3 tests/bench/scale_out.py --tessera build/src/tessera --counter build/tests/bench/bench_counter

Prints one table per cost, with `uptime` beside it and the 1-minute load average beside each row;
medians of --runs runs (--only SECTION,... for some of them).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time


def mpirun(ranks, words, env=None):
    cmd = ["mpirun", "-n", str(ranks), "--oversubscribe", "--bind-to", "none"] + words
    environ = dict(os.environ, OMP_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1",
                   OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", **(env or {}))
    return subprocess.run(cmd, capture_output=True, text=True, env=environ, timeout=900)


def uptime():
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def load():
    """The 1-minute load average, for the row just measured."""
    return f"load {os.getloadavg()[0]:.2f}"


def counter(args):
    print(f"tile counter ({uptime()})")
    for ranks in args.counter_ranks:
        lines = [mpirun(ranks, [args.counter, str(args.claims)]).stdout.strip().splitlines()[-1]
                 for _ in range(args.runs)]
        lines.sort(key=lambda line: float(line.split(" claims/s")[0].rsplit(" ", 1)[1]))
        print(f"  {lines[len(lines) // 2]}  ({load()})")


def report(args, ranks, words, work):
    path = os.path.join(work, "report.json")
    done = mpirun(ranks, [args.tessera] + words + ["-q", "--report", path])
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    with open(path) as f:
        return json.load(f)


def ingest(args, work):
    print(f"rank 0's ingest of ZSTD tiles, {args.size}x{args.size} cells in {args.tile} x {args.tile} "
          f"tiles ({uptime()})")
    print("  ranks  wall s  start s (max)  rank-0 write s  tiles/s in  MB/s in  comm s (max)")
    for ranks in args.ranks:
        rows = []
        for _ in range(args.runs):
            out = os.path.join(work, "g.tif")
            r = report(args, ranks, ["generate", out, "--size", f"{args.size}x{args.size}", "--co", "COMPRESS=ZSTD",
                                     "--co", "ZSTD_LEVEL=1", "--co", f"BLOCKXSIZE={args.tile}",
                                     "--co", f"BLOCKYSIZE={args.tile}"], work)
            zero = r["per_rank"][0]
            rows.append((r["wall_s"], max(p["start_s"] for p in r["per_rank"]), zero["write_s"],
                         r["tiles"] / max(zero["write_s"], 1e-9),
                         zero["bytes_written"] / 1e6 / max(zero["write_s"], 1e-9),
                         max(p["communicate_s"] for p in r["per_rank"])))
        m = [statistics.median(c) for c in zip(*rows)]
        print(f"  {ranks:5d}  {m[0]:6.2f}  {m[1]:13.2f}  {m[2]:14.3f}  {m[3]:10.0f}  {m[4]:7.0f}  "
              f"{m[5]:12.3f}  ({load()})")


def hdf5_rounds(args, work):
    dem = os.path.join(work, "dem.tif")
    mpirun(1, [args.tessera, "generate", dem, "--size", f"{args.size}x{args.size}", "-q"])
    print(f"uncompressed HDF5 over MPI-IO, slope of {args.size}x{args.size} in {args.tile} x {args.tile} tiles "
          f"({uptime()})")
    print("  ranks  wall s  write s (max)  rounds (max tiles)  ms a round")
    for ranks in args.hdf5_ranks:
        rows = []
        for _ in range(args.runs):
            out = os.path.join(work, "s.h5")
            r = report(args, ranks, ["dem", "slope", dem, out, "-co", f"BLOCKXSIZE={args.tile}",
                                     "-co", f"BLOCKYSIZE={args.tile}", "--restart"], work)
            rounds = max(p["tiles"] for p in r["per_rank"])
            write = max(p["write_s"] for p in r["per_rank"])
            rows.append((r["wall_s"], write, rounds, 1000 * write / rounds))
        m = [statistics.median(c) for c in zip(*rows)]
        print(f"  {ranks:5d}  {m[0]:6.2f}  {m[1]:13.3f}  {m[2]:18.0f}  {m[3]:10.2f}  ({load()})")


def tile_cost(args, work):
    """One 512 x 512 tile's read, compute and encode on one thread: hillshade of a generated
    4096 x 4096 DEM, 1 rank, ZSTD level 9 and uncompressed, from the run report."""
    dem = os.path.join(work, "dem4096.tif")
    mpirun(1, [args.tessera, "generate", dem, "--size", "4096x4096", "-q"])
    print(f"one tile's cost: hillshade of 4096x4096 in 512 x 512 tiles, 1 rank x 1 thread ({uptime()})")
    print("  output        wall s  read ms  compute ms  encode ms  write ms  bytes a tile  start s")
    for name, options in (("ZSTD level 9", ["-co", "COMPRESS=ZSTD", "-co", "ZSTD_LEVEL=9"]),
                          ("uncompressed", [])):
        rows = []
        for _ in range(args.runs):
            out = os.path.join(work, "hs.tif")
            r = report(args, 1, ["dem", "hillshade", dem, out, "-co", "TILED=YES", "-co", "BLOCKXSIZE=512",
                                 "-co", "BLOCKYSIZE=512", "--restart"] + options, work)
            p = r["per_rank"][0]
            t = max(p["tiles"], 1)
            rows.append((r["wall_s"], 1000 * p["read_s"] / t, 1000 * p["compute_s"] / t,
                         1000 * p["encode_s"] / t, 1000 * p["write_s"] / t, p["bytes_written"] / t,
                         p["start_s"]))
        m = [statistics.median(c) for c in zip(*rows)]
        print(f"  {name:12s}  {m[0]:6.2f}  {m[1]:7.2f}  {m[2]:10.2f}  {m[3]:9.2f}  {m[4]:8.2f}  "
              f"{m[5]:12.0f}  {m[6]:7.2f}  ({load()})")


def seconds_of(cmd, env=None):
    began = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} ended {done.returncode}: {done.stderr.decode()[-300:]}")
    return time.perf_counter() - began


def alternating(commands, runs, env=None):
    """Median seconds of each command, the commands run in turn `runs` times."""
    times = [[] for _ in commands]
    for _ in range(runs):
        for i, cmd in enumerate(commands):
            times[i].append(seconds_of(cmd, env))
    return [statistics.median(t) for t in times]


def front(args, work):
    front_path = os.path.realpath(args.tessera)
    program = os.path.realpath(os.path.join(os.path.dirname(front_path), "..", "libexec",
                                            "tessera", "tessera"))
    print(f"the front: exec cost and start-up with and without it ({uptime()})")
    # The front with /bin/true in the program's place: what the front adds to any start.
    root = os.path.join(work, "front")
    os.makedirs(os.path.join(root, "bin"), exist_ok=True)
    os.makedirs(os.path.join(root, "libexec", "tessera"), exist_ok=True)
    shutil.copy2(front_path, os.path.join(root, "bin", "tessera"))
    true_path = shutil.which("true")
    place = os.path.join(root, "libexec", "tessera", "tessera")
    if os.path.lexists(place):
        os.remove(place)
    shutil.copy2(true_path, place)
    execs = 20 * args.runs
    pair = alternating([[os.path.join(root, "bin", "tessera")], [true_path]], execs)
    print(f"  front then /bin/true: {pair[0] * 1e3:.3f} ms; /bin/true alone: {pair[1] * 1e3:.3f} ms; "
          f"the front adds {(pair[0] - pair[1]) * 1e3:.3f} ms (medians of {execs}, alternating; "
          f"{load()})")
    environ = dict(os.environ, OMP_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1",
                   OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    alone = alternating([[front_path, "--help"], [program, "--help"]], 3 * args.runs, environ)
    print(f"  tessera --help: through the front {alone[0]:.3f} s, the program directly "
          f"{alone[1]:.3f} s (medians of {3 * args.runs}, alternating; {load()})")
    launcher = ["mpirun", "-n", "2", "--oversubscribe", "--bind-to", "none"]
    two = alternating([launcher + [front_path, "--help"], launcher + [program, "--help"]],
                      3 * args.runs, environ)
    print(f"  mpirun -n 2 tessera --help: through the front {two[0]:.3f} s, the program directly "
          f"{two[1]:.3f} s (medians of {3 * args.runs}, alternating; {load()})")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tessera", required=True)
    p.add_argument("--counter", required=True)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--claims", type=int, default=100000)
    p.add_argument("--size", type=int, default=2048)
    p.add_argument("--tile", type=int, default=64)
    p.add_argument("--counter-ranks", type=int, nargs="+", default=[2, 8, 32, 64])
    p.add_argument("--ranks", type=int, nargs="+", default=[1, 8, 32, 64])
    p.add_argument("--hdf5-ranks", type=int, nargs="+", default=[2, 8, 32, 64])
    p.add_argument("--only", default="counter,ingest,hdf5,tile,front",
                   help="the sections to run, comma-separated: counter, ingest, hdf5, tile, front")
    args = p.parse_args()
    args.tessera = os.path.abspath(args.tessera)
    sections = {"counter": lambda work: counter(args), "ingest": lambda work: ingest(args, work),
                "hdf5": lambda work: hdf5_rounds(args, work), "tile": lambda work: tile_cost(args, work),
                "front": lambda work: front(args, work)}
    work = tempfile.mkdtemp(prefix="tessera-scale-")
    try:
        for name in args.only.split(","):
            sections[name](work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
