#!/usr/bin/env python3
# System test: stop signals at random moments from a process's start; a tile-graph pass's solution
# journalled; the commands that keep no journal refusing --resume.
"""A stop at any moment, and what a resume takes from the journal:

- `tessera dem hillshade` and `tessera hydro fill`, each a plain process (the one rank), get
  SIGTERM, SIGUSR1 or SIGINT at once, at the first moment the process holds the signal, and at
  random moments from the process's start to past its end. Once the
  process has the signal in hand (caught or held, as /proc/PID/status says just before it is
  sent), the run must end with 0 and its whole output, or with 75 and nothing at the output path;
  the same command with --resume then ends with the uninterrupted run's bytes and leaves no
  journal or temporary file. A signal that comes before (the kernel still starting the front,
  whose first instruction holds it) may end the process by it, with nothing written; those
  moments are counted apart.
- Start-up: `tessera dem hillshade` of a raster too large to finish in the moments tried gets a
  stop signal at random moments of its first fraction of a second (`--startup` of them), most
  while the dynamic loader maps and relocates the program's libraries (the front `tessera` users
  run blocks the stop signals from its first instruction and executes the program with them
  held). Every run must end 75, with nothing at the output path, whatever the phase the signal
  met; only a signal sent before the front's first instruction (the kernel still executing it:
  /proc/PID/status shows the signal neither blocked nor caught) may end the process by its
  default action, and it must leave nothing either. The phases met are counted.
- The front finds the program through a symbolic link to it, and says in one line (status 1)
  that it cannot run it when it is not there.
- `tessera hydro fill` on 2 ranks, stopped once its second pass has begun (the graph solved),
  resumes without solving again: the resumed run computes only the tiles not yet written.
- A job writing a GeoTIFF and a zonal table, stopped and resumed, ends with the bytes of both.
- `tessera stats`, `tessera zonal` and `tessera generate` refuse --resume with one line.
"""
import glob
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import time
import json

import systest

SIGNALS = [signal.SIGTERM, signal.SIGUSR1, signal.SIGINT]


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def leftovers(folder):
    return sorted(glob.glob(os.path.join(folder, ".*")))


def start(args, words, ranks=0):
    cmd = systest.mpi_prefix(args, ranks) + [args.tessera] + words
    return subprocess.Popen(cmd, env=systest.environment(1), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def has_in_hand(pid, sig):
    """Whether process `pid` catches or blocks `sig` now (SigCgt, SigBlk of /proc/PID/status)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
    except OSError:
        return True  # gone: it ended on its own
    bit = 1 << (int(sig) - 1)
    return any(int(fields.get(name, "0").strip(), 16) & bit for name in ("SigCgt", "SigBlk"))


def finish(proc, timeout=60):
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
        return None, err.decode(errors="replace")
    return proc.returncode, err.decode(errors="replace")


def clean(folder):
    for path in glob.glob(os.path.join(folder, "*")) + leftovers(folder):
        os.remove(path)


def stopped_at_moments(args, rng, name, words_for, moments, problems):
    """`moments` runs of words_for(out) as one process, each sent a stop signal at a random moment
    from its start, then resumed; returns how many moments came before the process held the
    signal."""
    work = tempfile.mkdtemp(prefix=f"tessera-stop-{name}-")
    try:
        reference_path = os.path.join(work, "whole.tif")
        began = time.monotonic()
        made = systest.tessera(args, words_for(reference_path))
        duration = time.monotonic() - began
        if made.returncode != 0:
            problems.append(f"{name}: the uninterrupted run failed: {made.describe()}")
            return 0
        reference = read_bytes(reference_path)
        out_dir = os.path.join(work, "out")
        os.makedirs(out_dir)
        out = os.path.join(out_dir, "part.tif")
        early = 0
        for case in range(moments):
            sig = rng.choice(SIGNALS)
            # Case 0 at once; case 1 the moment the process first holds the signal (start-up:
            # MPI_Init, the inputs and the plan are still to come); then random moments.
            delay = rng.uniform(0, 1.1 * duration) if case > 1 else 0.0
            label = f"{name} case {case}: {sig.name} at {delay:.3f} s of {duration:.2f}"
            proc = start(args, words_for(out) + ["--checkpoint", "0"])
            time.sleep(delay)
            while case == 1 and proc.poll() is None and not has_in_hand(proc.pid, sig):
                time.sleep(0.001)
            held = has_in_hand(proc.pid, sig)
            if proc.poll() is None:
                os.kill(proc.pid, sig)
            status, err = finish(proc)
            if status == -sig and not held:
                early += 1
                if os.path.exists(out) or leftovers(out_dir):
                    problems.append(f"{label}: ended by the signal before its handlers, yet left "
                                    f"{os.listdir(out_dir)} {leftovers(out_dir)}")
                clean(out_dir)
                continue
            if status not in (0, 75):
                problems.append(f"{label}: ended {status} (signal in hand: {held}): {err[-300:]}")
            elif status == 75 and os.path.exists(out):
                problems.append(f"{label}: stopped (75) with a file at the output path")
            elif status == 0 and read_bytes(out) != reference:
                problems.append(f"{label}: finished (0) with other bytes")
            if status == 75:
                resumed = systest.tessera(args, words_for(out) + ["--resume"])
                if resumed.returncode != 0 or read_bytes(out) != reference:
                    problems.append(f"{label}: the resume ended {resumed.returncode} or differs: "
                                    f"{resumed.describe()}")
            if leftovers(out_dir):
                problems.append(f"{label}: left {leftovers(out_dir)}")
            clean(out_dir)
        return early
    finally:
        shutil.rmtree(work, ignore_errors=True)


def startup_phase(pid, sig, front):
    """Where process `pid` is in its start-up, for `sig`: "exec" (the signal neither blocked nor
    caught: the kernel has not yet entered the front), "front" (the front, holding it), "loader"
    (the program, loading and initialising its libraries, the signal held), "main" (the program's
    handlers in place) or "gone"."""
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
    except OSError:
        return "gone"
    bit = 1 << (int(sig) - 1)
    if int(fields.get("SigCgt", "0").strip(), 16) & bit:
        return "main"
    if not int(fields.get("SigBlk", "0").strip(), 16) & bit:
        return "exec"
    return "front" if exe == front else "loader"


def stopped_in_startup(args, rng, dem, count, problems):
    """`count` runs of a hillshade that takes seconds, each sent a stop signal at a random moment
    of its start-up (up to a little past the moment its handlers were in place in a first run):
    every one must end 75 with nothing at the output path; returns the phases met."""
    work = tempfile.mkdtemp(prefix="tessera-stop-startup-")
    front = os.path.realpath(args.tessera)
    phases = {}
    try:
        out = os.path.join(work, "hs.tif")
        words = ["dem", "hillshade", dem, out, "-q", "-co", "COMPRESS=ZSTD",
                 "--checkpoint", "0"]
        # A first run measures the start-up: the moment its handlers are in place.
        proc = start(args, words)
        began = time.monotonic()
        while proc.poll() is None and startup_phase(proc.pid, signal.SIGTERM, front) != "main":
            time.sleep(0.0005)
        handlers_at = time.monotonic() - began
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
        status, err = finish(proc)
        if status != 75:
            problems.append(f"start-up: the first run, stopped in main, ended {status}: {err[-300:]}")
            return phases
        clean(work)
        for case in range(count):
            sig = rng.choice(SIGNALS)
            delay = 0.0 if case == 0 else rng.uniform(0, 1.3 * handlers_at)
            proc = start(args, words)
            if delay:
                time.sleep(delay)
            phase = startup_phase(proc.pid, sig, front)
            if proc.poll() is None:
                os.kill(proc.pid, sig)
            status, err = finish(proc)
            phases[phase] = phases.get(phase, 0) + 1
            label = f"start-up case {case}: {sig.name} at {delay * 1000:.1f} ms, in {phase}"
            if status != 75 and not (phase == "exec" and status == -sig):
                problems.append(f"{label}: ended {status}: {err[-300:]}")
            if os.path.exists(out):
                problems.append(f"{label}: ended {status} with a file at the output path")
            clean(work)
        print(f"start-up: {count} stops within {1.3 * handlers_at * 1000:.0f} ms of the start "
              f"(handlers in place at {handlers_at * 1000:.0f} ms), phases met: {phases}")
        return phases
    finally:
        shutil.rmtree(work, ignore_errors=True)


def front_finds_program(args, problems):
    """The front runs the program at its place relative to the front's real path: through a
    symbolic link too; with no program there it fails with one line and status 1."""
    work = tempfile.mkdtemp(prefix="tessera-front-")
    try:
        front = os.path.realpath(args.tessera)
        link = os.path.join(work, "tessera")
        os.symlink(front, link)
        direct = systest.run([front, "--version"], args.timeout)
        linked = systest.run([link, "--version"], args.timeout)
        if direct.returncode != 0 or linked.returncode != 0 or linked.stdout != direct.stdout:
            problems.append(f"front: --version through a link: {linked.describe()}")
        os.makedirs(os.path.join(work, "bin"))
        alone = os.path.join(work, "bin", "tessera")
        shutil.copy2(front, alone)
        missing = systest.run([alone, "--version"], args.timeout)
        lines = missing.stderr.splitlines()
        if (missing.returncode != 1 or len(lines) != 1 or not lines[0].startswith("tessera: error: ")
                or "libexec/tessera/tessera" not in lines[0]):
            problems.append(f"front: with no program beside it: {missing.describe()}")
        print(f"the front runs the program through a link; alone it says: {lines[:1]}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def wait_for_file(pattern, proc, seconds=60):
    deadline = time.monotonic() + seconds
    while not glob.glob(pattern) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    return bool(glob.glob(pattern))


def graph_solution_journalled(args, dem, problems):
    """hydro fill on 2 ranks, stopped in its second pass, resumed with a report: the resumed run
    computes the tiles left and no more (phase 1 and the solve are not run again)."""
    work = tempfile.mkdtemp(prefix="tessera-stop-graph-")
    try:
        whole = os.path.join(work, "whole.tif")
        words = lambda out: ["hydro", "fill", "-z", dem, "-fel", out, "--tile", "64"]
        made = systest.tessera(args, words(whole) + ["-q"], ranks=2)
        if made.returncode != 0:
            problems.append(f"graph: the uninterrupted run failed: {made.describe()}")
            return
        out = os.path.join(work, "fill.tif")
        proc = start(args, words(out) + ["-q", "--checkpoint", "0"], ranks=2)
        # The output's temporary file is made when the second pass opens it: the graph is solved.
        if wait_for_file(os.path.join(work, ".fill.tif.tmp-*"), proc):
            os.kill(proc.pid, signal.SIGUSR1)
        status, err = finish(proc)
        if status != 75:
            problems.append(f"graph: the stop in the second pass ended {status}: {err[-300:]}")
            return
        report = os.path.join(work, "report.json")
        resumed = systest.tessera(args, words(out) + ["--resume", "--report", report], ranks=2)
        done = re.search(r"resuming from .*: (\d+) of (\d+) tiles were done", resumed.stderr)
        if resumed.returncode != 0 or not done or read_bytes(out) != read_bytes(whole):
            problems.append(f"graph: the resume failed or differs: {resumed.describe()}")
            return
        with open(report) as f:
            computed = sum(rank["tiles"] for rank in json.load(f)["per_rank"])
        left = int(done.group(2)) - int(done.group(1))
        if computed != left:
            problems.append(f"graph: the resumed run computed {computed} tiles, {left} were left: "
                            "the graph was solved again")
        print(f"hydro fill stopped in its second pass: the resume computed the {left} tiles left "
              f"of {done.group(2)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


ZONAL_JOB = """
[input.dem]
path = "{dem}"

[[step]]
id = "slope"
op = "slope"
in = "dem"

[[output]]
from = "slope"
path = "out/slope.tif"
compress = "zstd"

[[output]]
from = "slope"
path = "out/zones.csv"
zones = "{zones}"
stats = ["count", "mean", "max", "percentile_90"]

[run]
tile = 64
"""


def zonal_table_resumed(args, dem, problems):
    """A job writing a GeoTIFF and a zonal table, stopped mid-pass and resumed: both are the
    uninterrupted run's bytes (the table journals nothing: its pass is computed again)."""
    from osgeo import gdal
    import numpy as np
    work = tempfile.mkdtemp(prefix="tessera-stop-zonal-")
    try:
        src = gdal.Open(dem)
        zones = os.path.join(work, "zones.tif")
        rows, cols = np.mgrid[0:src.RasterYSize, 0:src.RasterXSize]
        made = gdal.GetDriverByName("GTiff").Create(zones, src.RasterXSize, src.RasterYSize, 1,
                                                    gdal.GDT_Int32)
        made.SetGeoTransform(src.GetGeoTransform())
        made.SetProjection(src.GetProjection())
        made.GetRasterBand(1).WriteArray((rows // 100 * 10 + cols // 100).astype(np.int32))
        made = None
        job = os.path.join(work, "job.toml")
        with open(job, "w") as f:
            f.write(ZONAL_JOB.format(dem=dem, zones=zones))
        out = os.path.join(work, "out")
        os.makedirs(out)
        names = ["slope.tif", "zones.csv"]
        whole = systest.tessera(args, ["run", job, "-q"])
        if whole.returncode != 0:
            problems.append(f"zonal: the uninterrupted run failed: {whole.describe()}")
            return
        reference = {n: read_bytes(os.path.join(out, n)) for n in names}
        clean(out)
        proc = start(args, ["run", job, "-q", "--checkpoint", "0"])
        if wait_for_file(os.path.join(out, ".slope.tif.tmp-*"), proc):
            os.kill(proc.pid, signal.SIGUSR1)
        status, err = finish(proc)
        resumed = systest.tessera(args, ["run", job, "-q", "--resume"], ranks=2)
        same = all(os.path.exists(os.path.join(out, n)) and
                   read_bytes(os.path.join(out, n)) == reference[n] for n in names)
        if status not in (0, 75) or resumed.returncode != 0 or not same or leftovers(out):
            problems.append(f"zonal: stopped ({status}: {err[-200:]}), resumed "
                            f"({resumed.returncode}), same bytes: {same}, left {leftovers(out)}")
        print(f"a job with a zonal table stopped ({status}) and resumed on 2 ranks: the same bytes")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def refusals(args, dem, problems):
    """The commands that keep no journal refuse --resume, --restart and --checkpoint with one line."""
    work = tempfile.mkdtemp(prefix="tessera-stop-refusals-")
    try:
        cases = {
            "stats": ["stats", dem, "--resume"],
            "zonal": ["zonal", "--zones", dem, "--values", dem, "--out", os.path.join(work, "z.csv"),
                      "--restart"],
            "generate": ["generate", os.path.join(work, "g.tif"), "--size", "64x64", "--checkpoint",
                         "1"],
        }
        for name, words in cases.items():
            made = systest.tessera(args, words)
            lines = [l for l in made.stderr.splitlines() if l.strip()]
            if made.returncode != 2 or len(lines) != 1 or "keeps no journal" not in lines[0]:
                problems.append(f"{name}: not refused with one line: {made.describe()}")
        if os.listdir(work):
            problems.append(f"refusals: left {os.listdir(work)}")
        print("stats, zonal and generate refuse --resume, --restart and --checkpoint")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    args = systest.parse_args(__doc__, lambda p: (p.add_argument("--seed", type=int, default=None),
                                                  p.add_argument("--moments", type=int, default=6),
                                                  p.add_argument("--startup", type=int, default=16)))
    args.tessera, args.data = os.path.abspath(args.tessera), os.path.abspath(args.data)
    seed = args.seed if args.seed is not None else int(os.environ.get("TESSERA_FUZZ_SEED", "20261206"))
    print(f"seed {seed} (replay with --seed {seed})")
    rng = random.Random(seed)
    problems = []
    work = tempfile.mkdtemp(prefix="tessera-stop-")
    try:
        dem = os.path.join(work, "dem.tif")
        made = systest.tessera(args, ["generate", dem, "--size", "768x768", "-q", "--nodata", "-9999"])
        if made.returncode != 0:
            systest.fail("generate failed:\n" + made.describe())
        commands = {
            "dem": lambda out: ["dem", "hillshade", dem, out, "-q", "-co", "COMPRESS=ZSTD",
                                "-co", "BLOCKXSIZE=64", "-co", "BLOCKYSIZE=64"],
            "hydro": lambda out: ["hydro", "fill", "-z", dem, "-fel", out, "-q", "--tile", "64"],
        }
        for name, words_for in commands.items():
            early = stopped_at_moments(args, rng, name, words_for, args.moments, problems)
            print(f"{name}: {args.moments} stop moments, {early} before the signal was in hand")
        big = os.path.join(work, "big.tif")
        made = systest.tessera(args, ["generate", big, "--size", "3072x3072", "-q"])
        if made.returncode != 0:
            systest.fail("generate failed:\n" + made.describe())
        front_finds_program(args, problems)
        stopped_in_startup(args, rng, big, args.startup, problems)
        graph_solution_journalled(args, dem, problems)
        zonal_table_resumed(args, dem, problems)
        refusals(args, dem, problems)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if problems:
        systest.fail(f"seed {seed}: {len(problems)} problem(s):\n" + "\n".join(problems))
    print("every stop ended 0 or 75 and resumed to the same bytes")


if __name__ == "__main__":
    main()
