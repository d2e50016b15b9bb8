#!/usr/bin/env python3
"""fill with epsilon = true (docs/hydrology.md, "fill's epsilon"): the job step and `tessera
hydro fill --epsilon`, planned as four passes (fill, flowdir, fill_epsilon_bound, fill_epsilon)
through stage rasters, against the serial reference hydro_reference.epsilon_fill bit for bit on
generated terrain with voids and windows of the real DEMs, at 1 x 1, 2 x 2, 3 x 1 and 4 x 2 ranks
x threads; `tessera plan` shows the four passes; a run stopped between passes and resumed at
another rank count gives the same cells without writing the finished passes again; the
refusals (a DEM cell of +inf, a key past the largest Float32, a raised cell landing on nodata, a
bad epsilon, a name of a pass the user did not write) are one line with nothing left behind.
"""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
from osgeo import gdal

import systest
from bad_inputs import MPIRUN_NOISE
from hydro_reference import epsilon_fill, float_keys, from_keys

gdal.UseExceptions()

RUNS = [(0, 1), (2, 2), (3, 1), (4, 2)]  # ranks (0: no mpirun) x threads
JOB = """
[input.dem]
path = "{dem}"

[[step]]
id = "fel"
op = "fill"
in = "dem"
epsilon = true
{more}
[[output]]
from = "fel"
path = "out/fel.tif"

[run]
tile = {tile}
"""



def write_job(folder, dem, tile=16, more=""):
    os.makedirs(os.path.join(folder, "out"), exist_ok=True)
    job = os.path.join(folder, "eps.toml")
    with open(job, "w") as f:
        f.write(JOB.format(dem=dem, tile=tile, more=more))
    return job


def reference(dem):
    """epsilon_fill of the DEM's cells as the op writes them: voids hold the nodata value."""
    z, nodata = systest.read_band(dem)
    void = np.isnan(z) | ((z == nodata) if nodata is not None else False)
    surface = epsilon_fill(z.astype(np.float32), void, nodata)
    return np.where(void, np.float32(nodata), surface), void, z


def same(got, want):
    return got.dtype == np.float32 and got.tobytes() == want.tobytes()


def first_difference(got, want):
    bad = np.argwhere(float_keys(got) != float_keys(want))[0]
    return f"cell {bad[1]}, {bad[0]} holds {got[tuple(bad)]!r}, the reference {want[tuple(bad)]!r}"


def left_behind(folder):
    return sorted(glob.glob(os.path.join(folder, "out", ".*")))


def check(args, name, dem, job_runs, command_runs):
    want, void, z = reference(dem)
    folder = tempfile.mkdtemp(prefix="tessera-eps-")
    try:
        job = write_job(folder, dem)
        out = os.path.join(folder, "out", "fel.tif")
        for how, runs in (("job", job_runs), ("command", command_runs)):
            for ranks, threads in runs:
                label = f"{name}: the {how} at {max(ranks, 1)} rank(s) x {threads} thread(s)"
                if os.path.exists(out):
                    os.remove(out)
                words = (["run", job] if how == "job" else
                         ["hydro", "fill", "-z", dem, "-fel", out, "--epsilon", "--tile", "16"])
                made = systest.tessera(args, words + ["-q"], ranks=ranks, threads=threads)
                if made.returncode != 0:
                    systest.fail(f"{label}: {made.describe()}")
                got, _ = systest.read_band(out)
                if not same(got, want):
                    systest.fail(f"{label}: {first_difference(got, want)}")
                if left_behind(folder):
                    systest.fail(f"{label}: left {left_behind(folder)}")
        raised = int(np.count_nonzero(float_keys(want)[~void] > float_keys(z)[~void]))
        print(f"{name}: job at {len(job_runs)} and command at {len(command_runs)} rank/thread "
              f"counts equal epsilon_fill ({raised} of {int(np.count_nonzero(~void))} cells "
              "raised)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def generated(work):
    """A noisy bowl with two islands, heights a few Float32 steps apart across it, and voids."""
    rng = np.random.default_rng(5)
    h, w = 60, 75
    y, x = np.indices((h, w)).astype(np.float32)
    z = 0.03 * ((x - 37) ** 2 + (y - 30) ** 2) + rng.random((h, w)).astype(np.float32) * 3
    z += 60 * np.exp(-((x - 20) ** 2 + (y - 25) ** 2) / 20)
    z += 60 * np.exp(-((x - 50) ** 2 + (y - 40) ** 2) / 40)
    z[8:12, 4:70] = from_keys(float_keys(np.float32(70)) + rng.integers(0, 3, (4, 66)))
    z = z.astype(np.float32)
    z[(rng.random((h, w)) < 0.01) & (z > 40)] = -9999
    z[45:48, 60:64] = -9999
    dem = os.path.join(work, "generated.tif")
    systest.write_float32(dem, z, -9999)
    return dem


def real(args, work, name, window):
    """A window of a real DEM of tests/data on its own grid (NaN its nodata if it has none)."""
    ds = gdal.Open(os.path.join(args.data, name))
    nodata = ds.GetRasterBand(1).GetNoDataValue()
    x0, y0, w, h = window
    dem = os.path.join(work, name)
    gdal.Translate(dem, ds, srcWin=[x0, y0, w, h], outputType=gdal.GDT_Float32,
                   noData=float("nan") if nodata is None else nodata)
    return dem


def plan_shows_four_passes(args, dem):
    folder = tempfile.mkdtemp(prefix="tessera-eps-plan-")
    try:
        made = systest.tessera(args, ["plan", write_job(folder, dem)])
        wanted = ["pass 1 (tile-graph): steps fel.fill;", "pass 2 (tile-graph): steps fel.flowdir;",
                  "pass 3 (tile-graph): steps fel.bound;", "pass 4 (tile-graph): steps fel;",
                  "fel.bound (fill_epsilon_bound): written once by pass 3"]
        missing = [w for w in wanted if w not in made.stdout]
        if made.returncode != 0 or missing or "pass 5" in made.stdout:
            systest.fail(f"plan: missing {missing}: {made.describe()}\n{made.stdout}")
        print("tessera plan shows the four passes and their stage rasters")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def stopped_between_passes(args, work):
    """Stopped once flowdir's stage raster is committed, resumed at 3 ranks: the uninterrupted
    run's cells, fill's stage raster not written again, nothing left behind."""
    dem = os.path.join(work, "big.tif")
    made = systest.tessera(args, ["generate", dem, "--size", "640x640", "-q", "--nodata", "-9999"])
    if made.returncode != 0:
        systest.fail(f"generate: {made.describe()}")
    whole = os.path.join(work, "whole")
    made = systest.tessera(args, ["run", write_job(whole, dem, 64), "-q"], ranks=2)
    if made.returncode != 0:
        systest.fail(f"resume: the uninterrupted run failed: {made.describe()}")
    part = os.path.join(work, "part")
    job = write_job(part, dem, 64)
    stage = lambda step: os.path.join(part, "out", f".fel.tif.{step}.stage.tif")
    proc = subprocess.Popen(systest.mpi_prefix(args, 2) + [args.tessera, "run", job, "-q",
                                                           "--checkpoint", "0.05"],
                            env=systest.environment(1), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + args.timeout
    while (not os.path.exists(stage("fel.flowdir")) and proc.poll() is None
           and time.monotonic() < deadline):
        time.sleep(0.002)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGUSR1)
    _, err = proc.communicate(timeout=args.timeout)
    if proc.returncode != 75:
        systest.fail(f"resume: the stop after flowdir's pass ended {proc.returncode} (0: it "
                     f"finished first): {err.decode(errors='replace')[-400:]}")
    if not os.path.exists(stage("fel.fill")):
        systest.fail("resume: the stop kept no stage raster of fill's pass")
    report = os.path.join(part, "report.json")
    resumed = systest.tessera(args, ["run", job, "--resume", "-q", "--report", report], ranks=3)
    if resumed.returncode != 0:
        systest.fail(f"resume: {resumed.describe()}")
    with open(report) as f:
        sweeps = json.load(f)["sweeps"]
    if sweeps > 4:  # the bound's and the epsilon pass's two sweeps each, at most
        systest.fail(f"resume: {sweeps} sweeps: fill's or flowdir's pass ran again")
    got, _ = systest.read_band(os.path.join(part, "out", "fel.tif"))
    if not same(got, systest.read_band(os.path.join(whole, "out", "fel.tif"))[0]):
        systest.fail("resume: the cells differ from the uninterrupted run's")
    if left_behind(part):
        systest.fail(f"resume: left {left_behind(part)}")
    print(f"stopped after flowdir's pass, resumed at 3 ranks in {sweeps} sweeps (fill's and "
          "flowdir's passes not run again): the uninterrupted run's cells, nothing left behind")


def refused(args, work, name, words, want, ranks=0):
    """`words` fails with the one line `want` (a prefix when it ends in '...'), leaving nothing."""
    made = systest.tessera(args, words + ["-q"], ranks=ranks)
    lines = [line for line in made.stderr.splitlines() if not MPIRUN_NOISE.match(line)]
    ok = len(lines) == 1 and (lines[0].startswith(want[:-3]) if want.endswith("...")
                              else lines[0] == want)
    if made.returncode in (0, None) or not ok:
        systest.fail(f"{name}: expected the line {want!r}: {made.describe()}")
    out = os.path.join(work, "out")
    if os.path.isdir(out) and os.listdir(out):
        systest.fail(f"{name}: left {os.listdir(out)}")


def bad_inputs(args, work):
    top = os.path.join(work, "top.tif")
    systest.write_float32(top, np.full((6, 7), np.finfo(np.float32).max, np.float32), -9999)
    below = os.path.join(work, "below.tif")  # a flat one Float32 step below the nodata value
    systest.write_float32(below, np.full((6, 7), 5, np.float32),
                          float(np.nextafter(np.float32(5), np.float32(6))))
    infinite = os.path.join(work, "infinite.tif")  # a peak of +inf on a ramp
    ramp = np.add.outer(np.arange(6), np.arange(7)).astype(np.float32)
    ramp[2, 3] = np.inf
    systest.write_float32(infinite, ramp, -9999)
    gen = os.path.join(work, "generated.tif")
    for name, words, want, ranks in [
        ("a cell of +inf", ["hydro", "fill", "-z", infinite, "-fel", os.path.join(work, "out", "i.tif"),
                            "--epsilon"], "tessera: error: fill_epsilon: cell 3, 2 holds +infinity; "
         "a strictly draining surface needs finite heights", 0),
        ("past the largest Float32", ["run", write_job(work, top)], "tessera: error: "
         "fill_epsilon: cell 1, 1 would rise past the largest finite Float32 (3.4028235e+38)", 2),
        ("onto nodata", ["hydro", "fill", "-z", below, "-fel", os.path.join(work, "out", "f.tif"),
                         "--epsilon"], "tessera: error: fill_epsilon: cell 1, 1 would be raised "
         "onto the nodata value 5.00000048 and read as a void; give the surface another nodata "
         "value", 0),
    ]:
        refused(args, work, name, words, want, ranks)
    job = write_job(work, gen, 16, more='\n[[step]]\nid = "x"\nop = "slope"\nin = "fel.flowdir"\n')
    refused(args, work, "in naming a pass", ["run", job],
            f"tessera: error: {job}:14:6: step 'x': in: 'fel.flowdir' is a pass that step 'fel' "
            "(fill with epsilon) runs for itself; read 'fel' instead")
    job = write_job(work, gen, 16, more='\n[[step]]\nid = "fel.bound"\nop = "slope"\nin = "dem"\n')
    refused(args, work, "an id of a pass", ["run", job],
            f"tessera: error: {job}:12:6: step 'fel.bound': id: the name of a pass of fill with "
            "epsilon; rename it")
    job = write_job(work, gen)
    with open(job) as f:
        text = f.read()
    with open(job, "w") as f:
        f.write(text.replace("epsilon = true", 'epsilon = "maybe"'))
    refused(args, work, "a bad epsilon", ["run", job],
            f"tessera: error: {job}:9:1: step 'fel': option 'epsilon' must be true or false")
    refused(args, work, "--epsilon elsewhere",
            ["hydro", "flowdir", "-fel", gen, "-p", os.path.join(work, "out", "p.tif"),
             "--epsilon"], "tessera: error: unknown flag '--epsilon' for hydro flowdir (see "
            "tessera hydro --help)")
    print("refused in one line, nothing left: a cell of +inf, a flat at the largest Float32, a "
          "flat raised onto nodata, a step reading a pass, an id of a pass, epsilon = \"maybe\", "
          "--epsilon on flowdir")


def main():
    args = systest.parse_args(__doc__)
    work = tempfile.mkdtemp(prefix="tessera-eps-dems-")
    try:
        gen = generated(work)
        plan_shows_four_passes(args, gen)
        check(args, "generated", gen, RUNS, RUNS)
        check(args, "n43", real(args, work, "n43.tif", (0, 0, 121, 121)), RUNS[:2], RUNS[:1])
        check(args, "srtm", real(args, work, "srtm.tif", (150, 150, 120, 120)), RUNS[:1], [])
        check(args, "nz_elev", real(args, work, "nz_elev.tif", (840, 420, 120, 120)), RUNS[:1],
              [])
        check(args, "chiprofiler_dem",
              real(args, work, "chiprofiler_dem.tif", (200, 300, 120, 120)), RUNS[:1], [])
        bad_inputs(args, work)
        stopped_between_passes(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("fill with epsilon: every check holds")


if __name__ == "__main__":
    sys.exit(main())
