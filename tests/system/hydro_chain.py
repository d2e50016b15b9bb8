#!/usr/bin/env python3
# System test: hydrology chained in one job (fill -> slope, fill -> flowdir -> flowacc -> calc,
# flowdir -> watershed) against the same steps run as separate commands, and stopped mid-job.
"""Stages: a step reading a tile-graph step's result, in one job.

- On srtm (UInt16 with nodata) and n43 (Int16 with nodata), one job computes fill, the slope
  of the filled DEM, flow directions of it, flow accumulation, `log(acc)`, a stream mask
  `acc > 1000` and basins; fill's result is read back from the job's own output, the
  directions' and the areas' from scratch rasters. Run plainly and at 2, 3 and 4 ranks x 1 or 2
  threads (n43: plainly and at 4 x 2) at 64-cell tiles, every output must be the same cells, bit
  for bit, as the steps run as separate commands (`tessera hydro`, `tessera dem`, `tessera
  calc`, at 128-cell tiles), and the slope the same bits as `gdaldem slope` of tessera's own
  fill output. No scratch raster may be left, and the run report (--report) must count every
  sweep of the tiles.
- On srtm at 2 ranks x 2 threads, the same job with a first output named with 250 bytes (the
  fill's) and a fill step id of 240 bytes: every hidden name made after them is cut and hashed
  to fit a file name, and the cells are the same.
- jobs/hydrology.toml, the example, run at 2 ranks: its slope of the filled DEM is gdaldem's
  slope of its filled output, and its stream mask matches its log of the area.
- `tessera plan` lists the stage results, which pass writes each and which reads it.
- On a generated DEM, the job stopped (SIGUSR1) once fill's output is committed, in a later
  stage (with the long names), ends 75; `--resume` at another rank count then skips the fill stage (its output is not
  written again), ends with the uninterrupted run's bytes and leaves nothing hidden behind.
"""
import glob
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import numpy as np
from osgeo import gdal

import systest

JOB = """
[input.dem]
path = "{dem}"

[[step]]
id = "fel"
op = "fill"
in = "dem"

[[step]]
id = "slope"
op = "slope"
in = "fel"

[[step]]
id = "p"
op = "flowdir"
in = "fel"

[[step]]
id = "acc"
op = "flowacc"
in = "p"

[[step]]
id = "logacc"
op = "calc"
expr = "log(acc)"

[[step]]
id = "streams"
op = "calc"
expr = "acc > 1000"
type = "uint8"

[[step]]
id = "basins"
op = "watershed"
in = "p"

[[output]]
from = "fel"
path = "out/fel.tif"
compress = "deflate"

[[output]]
from = "slope"
path = "out/slope.tif"

[[output]]
from = "logacc"
path = "out/logacc.tif"

[[output]]
from = "streams"
path = "out/streams.tif"
compress = "zstd"

[[output]]
from = "basins"
path = "out/basins.tif"

[run]
tile = {tile}
"""
OUTPUTS = ["fel", "slope", "logacc", "streams", "basins"]
RUNS = [(0, 1), (2, 2), (3, 1), (4, 2)]  # ranks (0: no mpirun) x threads


def cells(path):
    """The band's cells and nodata, for a bit-for-bit comparison."""
    ds = gdal.Open(path)
    band = ds.GetRasterBand(1)
    return band.ReadAsArray(), band.GetNoDataValue()


def same_bits(a, b):
    (x, nx), (y, ny) = a, b
    return x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes() and (
        nx == ny or (nx is not None and ny is not None and np.isnan(nx) and np.isnan(ny)))


# A first output's name of 250 bytes and a fill step's id of 240: legal, and every hidden name
# made after them (the journal, the outputs' temporaries, the stage rasters named after the first
# output, fill's scratch files named after its step) is cut and hashed to fit a file name.
LONG_FEL = "f" * 246 + ".tif"
LONG_ID = "fel" + "l" * 237


def write_job(folder, dem, tile, long_names=False):
    os.makedirs(os.path.join(folder, "out"), exist_ok=True)
    job = os.path.join(folder, "chain.toml")
    text = JOB.format(dem=dem, tile=tile)
    if long_names:
        text = text.replace('"fel"', f'"{LONG_ID}"').replace('"out/fel.tif"', f'"out/{LONG_FEL}"')
    with open(job, "w") as f:
        f.write(text)
    return job


def output_path(folder, name, long_names=False):
    """Where the job in `folder` writes output `name`."""
    return os.path.join(folder, "out", LONG_FEL if long_names and name == "fel" else name + ".tif")


def separate_commands(args, dem, folder, problems):
    """The steps as separate commands, each reading the file the one before wrote; with
    gdaldem's slope of tessera's fill. Returns {name: path}."""
    path = lambda name: os.path.join(folder, name + ".tif")
    tile = ["--tile", "128"]
    commands = [
        ["hydro", "fill", "-z", dem, "-fel", path("fel")] + tile,
        ["dem", "slope", path("fel"), path("slope")],
        ["hydro", "flowdir", "-fel", path("fel"), "-p", path("p")] + tile,
        ["hydro", "flowacc", "-p", path("p"), "-ad8", path("acc")] + tile,
        ["calc", "-A", path("acc"), "--calc", "log(A)", "--type", "Float32", "--outfile",
         path("logacc")],
        ["calc", "-A", path("acc"), "--calc", "A > 1000", "--type", "Byte", "--outfile",
         path("streams")],
        ["hydro", "watershed", "-p", path("p"), "-gw", path("basins")] + tile,
    ]
    for words in commands:
        made = systest.tessera(args, words + ["-q"])
        if made.returncode != 0:
            problems.append(f"separate commands: {made.describe()}")
            return None
    gdaldem = systest.run([args.gdaldem, "slope", path("fel"), path("gdal_slope"), "-q"],
                          args.timeout)
    if gdaldem.returncode != 0:
        problems.append(f"gdaldem: {gdaldem.describe()}")
        return None
    return {name: path(name) for name in OUTPUTS + ["gdal_slope"]}


def chained(args, dem, name, reference, runs, problems, long_names=False):
    """The job at each rank and thread count of `runs` against the separate commands."""
    for ranks, threads in runs:
        folder = tempfile.mkdtemp(prefix=f"tessera-chain-{name}-")
        try:
            job = write_job(folder, dem, 64, long_names)
            report = os.path.join(folder, "report.json")
            made = systest.tessera(args, ["run", job, "-q", "--report", report], ranks=ranks,
                                   threads=threads)
            label = f"{name} at {max(ranks, 1)} rank(s) x {threads} thread(s)" + (
                " with long names" if long_names else "")
            if made.returncode != 0:
                problems.append(f"{label}: {made.describe()}")
                continue
            for output in OUTPUTS:
                got = cells(output_path(folder, output, long_names))
                if not same_bits(got, cells(reference[output])):
                    problems.append(f"{label}: {output} differs from the separate commands'")
            slope = cells(os.path.join(folder, "out", "slope.tif"))
            if not same_bits(slope, cells(reference["gdal_slope"])):
                problems.append(f"{label}: slope differs from gdaldem slope of tessera's fill")
            hidden = glob.glob(os.path.join(folder, "out", ".*"))
            if hidden:
                problems.append(f"{label}: left {hidden}")
            with open(report) as f:
                data = json.load(f)
            tiles = sum(rank["tiles"] for rank in data["per_rank"])
            # fill, flowdir, flowacc with watershed: two sweeps each; the last streaming pass one.
            if data["sweeps"] != 7 or tiles != 7 * data["tiles"]:
                problems.append(f"{label}: the report counts {data['sweeps']} sweeps and {tiles} "
                                f"tiles over {data['tiles']} tiles; want 7 sweeps")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    streams = cells(reference["streams"])[0]
    print(f"{name}: the chained job equals the separate commands and gdaldem slope at "
          f"{len(runs)} rank/thread counts ({int(np.count_nonzero(streams == 1))} stream cells)"
          + (" with a 250-byte output name and a 240-byte step id" if long_names else ""))


def plan_lists_stages(args, dem, problems):
    folder = tempfile.mkdtemp(prefix="tessera-chain-plan-")
    try:
        made = systest.tessera(args, ["plan", write_job(folder, dem, 64)])
        text = made.stdout
        wanted = ["stage results:", "fel (fill): written once by pass 1 to", "p (flowdir): written "
                  "once by pass 2 to", "a scratch raster", "read as an input by pass 2, 4",
                  "memory per rank:"]
        missing = [w for w in wanted if w not in text]
        if made.returncode != 0 or missing:
            problems.append(f"plan: missing {missing}: {made.describe()}\n{text}")
        else:
            print("tessera plan lists the stage results and the passes writing and reading them")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def example_job(args, problems):
    """jobs/hydrology.toml, run at 2 ranks in a folder of its own: its slope of the filled DEM is
    gdaldem's slope of its filled output, and its stream mask the cells of log_area > log(1000)."""
    folder = tempfile.mkdtemp(prefix="tessera-chain-example-")
    try:
        with open(args.job) as f:
            text = f.read()
        text = text.replace("../tests/data/", os.path.abspath(args.data) + "/")
        os.makedirs(os.path.join(folder, "out"))
        job = os.path.join(folder, "hydrology.toml")
        with open(job, "w") as f:
            f.write(text)
        made = systest.tessera(args, ["run", job, "-q"], ranks=2, threads=2)
        if made.returncode != 0:
            problems.append(f"example: {made.describe()}")
            return
        out = lambda name: os.path.join(folder, "out", name + ".tif")
        gdaldem = systest.run([args.gdaldem, "slope", out("filled"), out("gdal_slope"), "-q"],
                              args.timeout)
        if gdaldem.returncode != 0 or not same_bits(cells(out("filled_slope")),
                                                    cells(out("gdal_slope"))):
            problems.append(f"example: its slope is not gdaldem's of its filled DEM ({gdaldem.describe()})")
        log_area, nodata = cells(out("log_area"))
        streams = cells(out("streams"))[0]
        valid = log_area != nodata
        if not np.array_equal(streams[valid] == 1, log_area[valid] > np.float32(np.log(1000.0))):
            problems.append("example: the stream mask is not where log_area passes log(1000)")
        else:
            print(f"jobs/hydrology.toml: slope of the filled DEM equals gdaldem's, "
                  f"{int(np.count_nonzero(streams == 1))} stream cells")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def wait_for(path, proc, seconds=60):
    deadline = time.monotonic() + seconds
    while not glob.glob(path) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    return proc.poll() is None


def stopped_in_a_later_stage(args, work, problems):
    """Stopped once fill's output is committed, then resumed at another rank count; with the long
    names, so that the journal, the temporaries and the stage rasters found again on resuming
    are the cut and hashed ones."""
    dem = os.path.join(work, "gen.tif")
    made = systest.tessera(args, ["generate", dem, "--size", "1024x1024", "-q", "--nodata", "-9999"])
    if made.returncode != 0:
        problems.append(f"generate: {made.describe()}")
        return
    whole = os.path.join(work, "whole")
    made = systest.tessera(args, ["run", write_job(whole, dem, 64), "-q"], ranks=2)
    if made.returncode != 0:
        problems.append(f"resume: the uninterrupted run failed: {made.describe()}")
        return
    part = os.path.join(work, "part")
    job = write_job(part, dem, 64, long_names=True)
    fel = output_path(part, "fel", long_names=True)
    proc = subprocess.Popen(systest.mpi_prefix(args, 2) + [args.tessera, "run", job, "-q",
                                                           "--checkpoint", "0.05"],
                            env=systest.environment(1), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if wait_for(fel, proc):
        os.kill(proc.pid, signal.SIGUSR1)
    _, err = proc.communicate(timeout=args.timeout)
    if proc.returncode != 75:
        problems.append(f"resume: the stop after the fill stage ended {proc.returncode} "
                        f"(0: it finished first): {err.decode(errors='replace')[-400:]}")
        return
    stamp = os.stat(fel).st_mtime_ns
    kept = glob.glob(os.path.join(part, "out", ".*"))
    resumed = systest.tessera(args, ["run", job, "--resume"], ranks=3)
    if resumed.returncode != 0:
        problems.append(f"resume: {resumed.describe()}")
        return
    if os.stat(fel).st_mtime_ns != stamp:
        problems.append("resume: the fill stage was written again")
    for output in OUTPUTS:
        a = os.path.join(whole, "out", output + ".tif")
        b = output_path(part, output, long_names=True)
        if not same_bits(cells(a), cells(b)):
            problems.append(f"resume: {output} differs from the uninterrupted run's")
    left = glob.glob(os.path.join(part, "out", ".*"))
    if left:
        problems.append(f"resume: left {left}")
    print(f"stopped after the fill stage (kept {len(kept)} hidden files), resumed at 3 ranks "
          "without writing fill again: the uninterrupted run's cells, nothing left behind")


def main():
    args = systest.parse_args(__doc__, lambda p: p.add_argument(
        "--job", required=True, help="the example job jobs/hydrology.toml"))
    problems = []
    work = tempfile.mkdtemp(prefix="tessera-chain-")
    try:
        for name, runs in [("srtm", RUNS), ("n43", [RUNS[0], RUNS[-1]])]:
            dem = os.path.abspath(os.path.join(args.data, name + ".tif"))
            os.makedirs(os.path.join(work, name))
            reference = separate_commands(args, dem, os.path.join(work, name), problems)
            if reference:
                chained(args, dem, name, reference, runs, problems)
            if reference and name == "srtm":
                chained(args, dem, name, reference, [RUNS[1]], problems, long_names=True)
        plan_lists_stages(args, os.path.abspath(os.path.join(args.data, "srtm.tif")), problems)
        example_job(args, problems)
        stopped_in_a_later_stage(args, work, problems)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if problems:
        systest.fail(f"{len(problems)} problem(s):\n" + "\n".join(problems))
    print("hydrology chained in one job: the separate commands' cells at every split")


if __name__ == "__main__":
    main()
