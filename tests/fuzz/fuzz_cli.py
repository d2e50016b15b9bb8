#!/usr/bin/env python3
"""Fuzz tier, through the command line: seeded mutations of job files (through `tessera plan`)
and of tessera calc and dem command lines (run for real on small rasters), then faults at random
moments of 2-rank runs (SIGKILL of rank 0, of rank 1 or of mpirun; SIGINT twice or SIGTERM to
mpirun), each followed by the same command with --resume (or, every other case, --restart).

Every mutated command must end by itself (no signal, no hang) with status 0, 1 or 2, and when
it fails print exactly one line, "tessera: error: ...", with no raw control character; no
temporary file may stay beside an output. After each fault no process of the run may be left
after a few seconds, nothing that looks finished may be at the output path, and the same command
with --resume must end with the uninterrupted run's pixels (or a --restart run end), leaving no
temporary file or journal. --seed replays a run; the seed is printed first.
"""
import glob
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "system"))
import systest  # noqa: E402

CONTROL = re.compile(rb"[\x00-\x1f\x7f]")
MPIRUN_NOISE = re.compile(
    rb"^(-+|\s*|Primary job\s+terminated normally.*|a non-zero exit code\..*|(mpirun|mpiexec|orterun) detected that.*"
    rb"|the job to be terminated\..*|\s*Process name:.*|\s*Exit code:.*)$")

JOB_WORDS = ['[[step]]\n', '[[output]]\n', '[input.x]\n', '[run]\n', 'id = ', 'op = ', 'in = ', 'expr = ',
             'path = ', 'from = ', 'tile = ', 'band = ', 'radius = ', '"', "'", '"""', '[', ']', '{', '}', ',',
             '=', '.', '#', '\n', 'true', 'nan', 'inf', '1e309', '-1', '0', '16', '32', '99999999999999999999',
             '"slope"', '"calc"', '"focal.max"', '"dem"', '"hillshade"', '"/dev/null"', '"/"', '"."',
             '"NETCDF:\\"x.h5\\":s"', '"/vsizip/none.zip/a.tif"', 'é', '\x01', '\x1b[2J', '\r\n', '\t']

CALC_WORDS = ["-A", "-B", "-Z", "--A_band", "--B_band", "--calc", "--outfile", "--type", "--NoDataValue",
              "--format", "--co", "--overwrite", "-q", "--memory", "A", "B", "A+B", "(A-B)/(A+B)", "A[2]",
              "where(A>100, nodata, A)", "Byte", "Float64", "Int16", "HDF5", "GTiff", "COMPRESS=ZSTD",
              "BLOCKXSIZE=32", "BLOCKXSIZE=17", "PREDICTOR=3", "0", "-1", "2.5", "300", "nan", "1e309",
              "4G", "1K", "", "-", "--", "=", "--calc=", "\x1b[31m", "é", "/dev/null", "/", "."]

DEM_WORDS = ["hillshade", "slope", "aspect", "TRI", "TPI", "roughness", "color-relief", "-z", "-s", "-az", "-alt",
             "-alg", "Horn", "ZevenbergenThorne", "Wilson", "-combined", "-multidirectional", "-igor", "-p",
             "-trigonometric", "-zero_for_flat", "-compute_edges", "-b", "-of", "-co", "-q", "--report",
             "--memory", "-alpha", "-exact_color_entry", "-nearest_color_entry", "HDF5", "GTiff",
             "COMPRESS=DEFLATE", "BLOCKYSIZE=48", "1", "0", "-3", "1e309", "nan", "2", "",
             "\x1b[2J", "é", "/dev/null", "/"]


def tail_temporaries(folder):
    return sorted(glob.glob(os.path.join(folder, ".*.tmp-*")))


def run_bytes(cmd, timeout, env, cwd):
    """Runs cmd in folder `cwd` (where a mutated relative output lands) in a session of its own;
    returns (status or None if it hung, stdout, stderr) as bytes."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            start_new_session=True, cwd=cwd)
    try:
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out, err
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return None, out, err


def outcome_problem(status, err, ranks):
    """What is wrong with how one mutated command ended, or None."""
    if status is None:
        return "hung"
    if status < 0 or status > 2:
        return f"ended with status {status} (a signal or a crash)"
    lines = err.splitlines()
    if ranks:
        lines = [line for line in lines if not MPIRUN_NOISE.match(line)]
    lines = [line for line in lines if not line.startswith(b"tessera: warning: ")]
    if status == 0:
        return None
    if len(lines) != 1 or not lines[0].startswith(b"tessera: error: "):
        return f"expected one line 'tessera: error: ...', got {lines[:4]!r}"
    if CONTROL.search(lines[0]):
        return f"a raw control character in {lines[0]!r}"
    return None


def mutate_text(rng, text, words):
    for _ in range(1 if rng.random() < 0.5 else rng.randint(1, 5)):
        at = rng.randint(0, len(text))
        kind = rng.randrange(6)
        if kind == 0 and text:
            i = rng.randrange(len(text))
            text = text[:i] + chr(rng.randrange(1, 128)) + text[i + 1:]
        elif kind == 1:
            text = text[:at] + text[at + rng.randint(1, 12):]
        elif kind == 2:
            text = text[:at] + text[at:at + rng.randint(1, 20)] + text[at:]
        elif kind == 3:
            eq = text.find("= ", at)
            if eq >= 0:
                end = text.find("\n", eq)
                end = len(text) if end < 0 else end
                text = text[:eq + 2] + rng.choice(words) + text[end:]
        else:
            text = text[:at] + rng.choice(words) + text[at:]
    return text


def mutate_args(rng, args, words):
    args = list(args)
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(5)
        i = rng.randrange(len(args) + 1)
        if kind == 0 and args:
            del args[min(i, len(args) - 1)]
        elif kind == 1:
            args.insert(i, rng.choice(words))
        elif kind == 2 and args:
            args[min(i, len(args) - 1)] = rng.choice(words)
        elif kind == 3 and args:
            j = min(i, len(args) - 1)
            args.insert(j, args[j])
        elif args:
            j = min(i, len(args) - 1)
            if args[j]:
                k = rng.randrange(len(args[j]))
                args[j] = args[j][:k] + rng.choice(words) + args[j][k + 1:]
    return args


def job_seeds(data, out_dir):
    dem = os.path.join(data, "srtm.tif")
    return [
        f'[input.dem]\npath = "{dem}"\n\n[[step]]\nid = "hs"\nop = "hillshade"\nin = "dem"\nz = 2\n\n'
        f'[[step]]\nid = "s"\nop = "slope"\nin = "hs"\n\n[[output]]\nfrom = ["hs"]\npath = "{out_dir}/a.tif"\n'
        f'compress = "zstd"\n\n[[output]]\nfrom = ["s"]\npath = "{out_dir}/s.h5"\n\n[run]\ntile = 128\n',
        f'[input.nir]\npath = "{data}/landsat_b5.tif"\n[input.red]\npath = "{data}/landsat_b4.tif"\n\n'
        f'[[step]]\nid = "ndvi"\nop = "calc"\nexpr = "(nir - red) / (nir + red)"\nnodata = -9999\n\n'
        f'[[output]]\nfrom = ["ndvi"]\npath = "{out_dir}/ndvi.h5"\n',
        f'[input.dem]\npath = "{dem}"\n\n[[step]]\nid = "m"\nop = "focal.max"\nin = "dem"\nradius = 2\n\n'
        f'[[step]]\nid = "c"\nop = "color-relief"\nin = "m"\ncolor_file = "{data}/color_file.txt"\n\n'
        f'[[output]]\nfrom = ["c"]\npath = "{out_dir}/c.tif"\n',
    ]


def fuzz_jobs(args, rng, work, cases, problems):
    out_dir = os.path.join(work, "jobs_out")
    os.makedirs(out_dir)
    seeds = job_seeds(os.path.abspath(args.data), out_dir)
    # Every case's text first, in the seed's order; then `tessera plan` (which writes nothing) of
    # each, a job file of its own, a few at a time.
    texts = [mutate_text(rng, rng.choice(seeds), JOB_WORDS) for _ in range(cases)]

    def plan(case, text):
        job = os.path.join(work, "fuzz-%d.toml" % case)
        with open(job, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text)
        return run_bytes([args.tessera, "plan", job], 30, systest.environment(1), work)

    planned = 0
    with systest.Pool() as pool:
        started = [pool.submit(plan, case, text) for case, text in enumerate(texts)]
        for case, (text, outcome) in enumerate(zip(texts, started)):
            status, _, err = outcome.result()
            planned += status == 0
            problem = outcome_problem(status, err, 0)
            if problem:
                problems.append(f"job case {case}: {problem}\n  job: {text!r}")
    print(f"{cases} mutated job files through tessera plan: {planned} planned, the rest refused with one line")


def fuzz_command_lines(args, rng, work, cases, problems):
    lanes = [work] + [tempfile.mkdtemp(prefix="tessera-fuzz-") for _ in range(systest.workers(waiting=True) - 1)]
    for lane in lanes:
        os.makedirs(os.path.join(lane, "cli_out"))
    out_dir = os.path.join(work, "cli_out")
    data = args.data
    calc = ["calc", "-A", f"{data}/landsat_b5.tif", "-B", f"{data}/landsat_b4.tif", "--calc", "(A-B)/(A+B)",
            "--type", "Float32", "--outfile", f"{out_dir}/c.tif", "--overwrite", "-q"]
    dem = ["dem", "hillshade", f"{data}/srtm.tif", f"{out_dir}/d.tif", "-z", "2", "-q"]
    relief = ["dem", "color-relief", f"{data}/srtm.tif", f"{data}/color_file.txt", f"{out_dir}/r.tif", "-q"]
    # Every case's words first, in the seed's order (the lanes' folders are named as `work`
    # is, so the mutations draw the same numbers); then case K runs in lane K mod the lanes (a
    # work folder of its own, `work`'s name in the words replaced by the lane's), each lane's
    # cases in order, the lanes at once: a failing run under mpirun is mostly mpirun's wait
    # after a non-zero exit. The same seed and TESSERA_TEST_WORKERS replay the same runs
    # (TESSERA_TEST_WORKERS=1: one lane, every case after the one before, as before lanes).
    draws = []
    for case in range(cases):
        base, words = rng.choice([(calc, CALC_WORDS), (dem, DEM_WORDS), (relief, DEM_WORDS)])
        words_now = mutate_args(rng, base, words)
        ranks = 2 if rng.random() < 0.25 else 0
        draws.append((words_now, ranks))

    def one(lane, words_now, ranks):
        lane_out = os.path.join(lane, "cli_out")
        for name in ("d.tif", "r.tif"):  # dem refuses nothing that exists; start from none
            if os.path.isfile(os.path.join(lane_out, name)):
                os.remove(os.path.join(lane_out, name))
        cmd = systest.mpi_prefix(args, ranks) + [args.tessera] + [w.replace(work, lane) for w in words_now]
        status, _, err = run_bytes(cmd, 60, systest.environment(1), lane_out)
        left = tail_temporaries(lane_out) + tail_temporaries(os.path.join(lane_out, ".."))
        for path in left:
            os.remove(path)
        return status, err, [path.replace(lane, work) for path in left]

    ran = 0
    pools = [systest.Pool(1) for _ in lanes]
    try:
        started = [pools[case % len(lanes)].submit(one, lanes[case % len(lanes)], words_now, ranks)
                   for case, (words_now, ranks) in enumerate(draws)]
        for case, ((words_now, ranks), outcome) in enumerate(zip(draws, started)):
            status, err, left = outcome.result()
            ran += status == 0
            problem = outcome_problem(status, err, ranks)
            if left:
                problem = (problem + "; " if problem else "") + f"temporary files left: {left}"
            if problem:
                problems.append(f"command case {case}: {problem}\n  words: {words_now!r} ({ranks or 'no'} mpirun ranks)")
    finally:
        for pool in pools:
            pool.__exit__(None, None, None)
        for lane in lanes[1:]:
            shutil.rmtree(lane, ignore_errors=True)
    print(f"{cases} mutated command lines: {ran} ran, the rest refused with one line, no temporary file left")


def processes_naming(path):
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                words = f.read().split(b"\0")
        except OSError:
            continue
        if path.encode() in words:
            found.append(int(pid))
    return found


def ranks_of(mpirun_pid, out):
    """The tessera ranks of one mpirun, rank 0 first (by the OMPI_COMM_WORLD_RANK they were given)."""
    ranks = {}
    for pid in processes_naming(out):
        if pid == mpirun_pid:
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = dict(item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item)
        except OSError:
            continue
        if b"OMPI_COMM_WORLD_RANK" in env:
            ranks[int(env[b"OMPI_COMM_WORLD_RANK"])] = pid
    return [ranks[r] for r in sorted(ranks)]


FAULTS = ("SIGKILL rank 0", "SIGKILL rank 1", "SIGKILL mpirun", "SIGINT twice to mpirun", "SIGTERM to mpirun")


def checksum(path):
    ds = systest.gdal.Open(path)  # held while its band is read: GDAL frees bands with it
    return ds.GetRasterBand(1).Checksum()


def finished_output(path, reference):
    """Whether the file at `path` holds the whole output: the same pixels as `reference`."""
    try:
        return checksum(path) == reference
    except RuntimeError:  # GDAL cannot read it whole
        return False


def fault_case(args, rng, work, dem, reference, case, problems):
    out = os.path.join(work, "faults", "hs.tif")
    fault = rng.choice(FAULTS)
    delay = rng.uniform(0.1, 3.0)
    words = ["dem", "hillshade", dem, out, "-q", "-co", "COMPRESS=ZSTD", "-co", "ZSTD_LEVEL=19"]
    if os.path.exists(out):  # an earlier case's output: a failed run would leave it as it was
        os.remove(out)
    # Checkpoints often, so that a kill leaves journalled tiles for the resume to take up.
    cmd = systest.mpi_prefix(args, 2) + [args.tessera] + words + ["--checkpoint", "0.2"]
    proc = subprocess.Popen(cmd, env=systest.environment(1), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start = time.monotonic()
    ranks = []
    while time.monotonic() - start < delay and proc.poll() is None:
        if len(ranks) < 2:
            ranks = ranks_of(proc.pid, out)
        time.sleep(0.01)
    label = f"fault case {case}: {fault} at {delay:.2f} s"
    if proc.poll() is not None:
        print(f"{label}: the run ended first (status {proc.returncode})")
        return
    if fault.startswith("SIGKILL rank"):
        index = int(fault[-1])
        started = time.monotonic()  # a moment before the ranks exist: the kill waits for them
        while len(ranks) <= index and proc.poll() is None and time.monotonic() - started < 30:
            time.sleep(0.01)
            ranks = ranks_of(proc.pid, out)
        if proc.poll() is not None:
            print(f"{label}: the run ended first (status {proc.returncode})")
            return
        if index >= len(ranks):
            problems.append(f"{label}: rank {index} not found among {ranks}")
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return
        try:
            os.kill(ranks[index], signal.SIGKILL)
        except ProcessLookupError:  # it ended as it was being killed: the run is ending
            proc.wait()
            print(f"{label}: the rank ended first (status {proc.returncode})")
            return
    elif fault == "SIGKILL mpirun":
        os.kill(proc.pid, signal.SIGKILL)
    elif fault == "SIGINT twice to mpirun":
        os.kill(proc.pid, signal.SIGINT)
        time.sleep(0.05)
        os.kill(proc.pid, signal.SIGINT)
    else:
        os.kill(proc.pid, signal.SIGTERM)
    killed = time.monotonic()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        problems.append(f"{label}: mpirun still runs 30 s later")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    while processes_naming(out) and time.monotonic() - killed < 10:
        time.sleep(0.02)
    seconds = time.monotonic() - killed
    left = processes_naming(out)
    if left:
        problems.append(f"{label}: processes of the run left 10 s later: {left}")
        for pid in left:
            os.kill(pid, signal.SIGKILL)
    elif seconds > 5:
        problems.append(f"{label}: the run's processes took {seconds:.1f} s to end")
    if proc.returncode == 0:
        print(f"{label}: the run finished before the fault took effect")
        return
    if os.path.exists(out) and not finished_output(out, reference):
        problems.append(f"{label}: an unfinished file at the output path after a failed run "
                        f"(status {proc.returncode})")
    elif os.path.exists(out):
        print(f"{label}: the output was finished (its pixels are whole) before the fault ended the run "
              f"(status {proc.returncode})")
    temporaries = tail_temporaries(os.path.dirname(out))
    journal = os.path.exists(os.path.join(os.path.dirname(out), ".hs.tif.journal-0"))
    # The run journals its tiles: what a stop or a kill left, the same command with --resume
    # continues to the uninterrupted run's pixels (every other case: a resume of this slow output
    # costs seconds), or --restart with a quick input starts over; neither leaves anything beside.
    if case % 2 == 0:
        status, _, err = run_bytes(systest.mpi_prefix(args, 2) + [args.tessera] + words + ["--resume"], 120,
                                   systest.environment(1), work)
        whole = status == 0 and finished_output(out, reference)
        next_run = "resumed"
    else:
        quick = ["dem", "hillshade", os.path.join(args.data, "srtm.tif"), out, "-q", "--restart"]
        status, _, err = run_bytes([args.tessera] + quick, 60, systest.environment(1), work)
        whole = status == 0
        next_run = "restarted"
    left = glob.glob(os.path.join(os.path.dirname(out), ".*"))
    if status != 0:
        problems.append(f"{label}: the {next_run} run failed: {err[-300:]!r}")
    elif not whole:
        problems.append(f"{label}: the resumed run's output differs from the uninterrupted run's")
    elif left:
        problems.append(f"{label}: the {next_run} run left {left}")
    os.remove(out) if os.path.exists(out) else None
    print(f"{label}: processes gone in {seconds:.2f} s, {len(temporaries)} temporary file(s) "
          f"{'and a journal ' if journal else ''}until the {next_run} run")


def main():
    args = systest.parse_args(__doc__, lambda p: (p.add_argument("--seed", type=int, default=None),
                                                  p.add_argument("--jobs", type=int, default=120),
                                                  p.add_argument("--commands", type=int, default=80),
                                                  p.add_argument("--faults", type=int, default=10)))
    args.tessera, args.data = os.path.abspath(args.tessera), os.path.abspath(args.data)  # run elsewhere
    seed = args.seed if args.seed is not None else int(os.environ.get("TESSERA_FUZZ_SEED", "20261206"))
    print(f"seed {seed} (replay with --seed {seed})")
    rng = random.Random(seed)
    problems = []
    work = tempfile.mkdtemp(prefix="tessera-fuzz-")
    try:
        fuzz_jobs(args, rng, work, args.jobs, problems)
        fuzz_command_lines(args, rng, work, args.commands, problems)
        os.makedirs(os.path.join(work, "faults"))
        dem = os.path.join(work, "dem.tif")
        made = systest.tessera(args, ["generate", dem, "--size", "3000x3000", "-q"])
        if made.returncode != 0:
            systest.fail("generate failed:\n" + made.describe())
        whole = os.path.join(work, "whole.tif")
        made = systest.tessera(args, ["dem", "hillshade", dem, whole, "-q"])
        if made.returncode != 0:
            systest.fail("the uninterrupted run failed:\n" + made.describe())
        reference = checksum(whole)
        for case in range(args.faults):
            fault_case(args, rng, work, dem, reference, case, problems)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if problems:
        systest.fail(f"seed {seed}: {len(problems)} problem(s):\n" + "\n".join(problems))
    print("no crash, no hang, one line for every refusal, nothing left behind")


if __name__ == "__main__":
    main()
