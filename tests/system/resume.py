#!/usr/bin/env python3
# System test: runs stopped by a signal, or killed, at random moments, then resumed (at other rank
# counts) until done, end with the bytes of an uninterrupted run.
"""Stop and resume, on one job that has every kind of output and two passes:

a reduction pass (a stretch to the 2nd-98th percentiles) and a streaming pass writing a ZSTD
GeoTIFF (ordered), an uncompressed GeoTIFF (in place), an uncompressed HDF5 file (parallel, over
MPI-IO) and a DEFLATE HDF5 file (ordered chunks), two of them of two bands.

- Faults at random moments of 2-rank runs: SIGUSR1 or SIGTERM to mpirun (a clean stop: exit 75,
  the unfinished outputs kept at their temporary names, a journal beside the first), SIGKILL of
  a rank or of mpirun; after each, nothing that looks finished at an output path, and the run is
  resumed with --resume at 1 to 3 ranks (itself stopped again at times) until it ends with 0:
  every output is then the uninterrupted run's bytes, and no journal or temporary file is left.
- A run over a journal without --resume or --restart is refused with one line naming it; a
  journal for a changed input or job file, or written by another binary, is refused with one
  line; --restart starts over.
- tessera dem and tessera calc stop and resume the same way.
- A parallel HDF5 --resume on a full disk fails with one line, keeps the journal, and resumes to
  the same bytes once there is room.
"""
import glob
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import systest

JOB = """
[input.dem]
path = "{dem}"

[[step]]
id = "hs"
op = "hillshade"
in = "dem"

[[step]]
id = "slope"
op = "slope"
in = "dem"

[[step]]
id = "aspect"
op = "aspect"
in = "dem"

[[step]]
id = "stretched"
op = "stretch"
in = "dem"

[[output]]
from = "hs"
path = "out/hs.tif"
compress = "zstd"

[[output]]
from = ["slope", "aspect"]
path = "out/slope.tif"

[[output]]
from = ["slope", "aspect"]
path = "out/terrain.h5"

[[output]]
from = "stretched"
path = "out/stretched.h5"
compress = "deflate"

[run]
tile = 128
"""
OUTPUTS = ["hs.tif", "slope.tif", "terrain.h5", "stretched.h5"]
FAULTS = ["SIGUSR1", "SIGUSR1", "SIGTERM", "SIGKILL rank 1", "SIGKILL rank 0", "SIGKILL mpirun"]


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def leftovers(folder):
    return sorted(glob.glob(os.path.join(folder, ".*")))


def child_of(pid, parent):
    """Whether process `pid`'s parent is `parent` (/proc/PID/stat's fourth field)."""
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1]) == parent


def ranks_of(mpirun_pid):
    """The pids of mpirun's tessera ranks, by rank: its children that carry this test's mark (not
    another run's of this test on the same machine)."""
    ranks = {}
    mark = str(os.getpid()).encode()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == mpirun_pid:
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = dict(i.split(b"=", 1) for i in f.read().split(b"\0") if b"=" in i)
            if env.get(b"TESSERA_RESUME_TEST") != mark or not child_of(int(pid), mpirun_pid):
                continue
        except OSError:
            continue
        if b"OMPI_COMM_WORLD_RANK" in env:
            ranks[int(env[b"OMPI_COMM_WORLD_RANK"])] = int(pid)
    return [ranks[r] for r in sorted(ranks)]


def environment():
    env = systest.environment(1)
    env["TESSERA_RESUME_TEST"] = str(os.getpid())
    return env


def start(args, words, ranks, cwd):
    cmd = systest.mpi_prefix(args, ranks) + [args.tessera] + words
    return subprocess.Popen(cmd, cwd=cwd, env=environment(), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def inflict(proc, fault):
    if fault == "SIGUSR1":
        os.kill(proc.pid, signal.SIGUSR1)
    elif fault == "SIGTERM":
        os.kill(proc.pid, signal.SIGTERM)
    elif fault == "SIGKILL mpirun":
        os.kill(proc.pid, signal.SIGKILL)
    else:
        ranks = []
        deadline = time.monotonic() + 10
        index = int(fault[-1])
        while len(ranks) <= index and proc.poll() is None and time.monotonic() < deadline:
            ranks = ranks_of(proc.pid)
            time.sleep(0.01)
        if index < len(ranks):
            try:
                os.kill(ranks[index], signal.SIGKILL)
            except ProcessLookupError:
                pass


def finish(proc, label, problems):
    try:
        _, err = proc.communicate(timeout=40)
    except subprocess.TimeoutExpired:
        problems.append(f"{label}: still running 40 s after the fault")
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
    return proc.returncode, err.decode(errors="replace")


def check_nothing_finished(out, reference, label, problems):
    for name in OUTPUTS:
        path = os.path.join(out, name)
        if os.path.exists(path) and read_bytes(path) != reference[name]:
            problems.append(f"{label}: an unfinished {name} at its path")


def faulted_then_resumed(args, rng, work, words, reference, case, problems, duration):
    """One run faulted at a random moment of its life, scaled to how long an uninterrupted
    2-rank run takes here (`duration`), so that the moments fall inside it on a fast machine as
    on a loaded one: a SIGKILL anywhere from start-up on, a stop signal once the ranks have their
    handlers (the journal exists)."""
    out = os.path.join(work, "out")
    fault = rng.choice(FAULTS)
    share = rng.uniform(0.05, 0.9) if fault.startswith("SIGKILL") else rng.uniform(0.0, 0.6)
    delay = share * duration
    label = f"case {case}: {fault} at {share:.2f} of a run"
    began = time.monotonic()
    proc = start(args, words + ["--checkpoint", "0.05"], 2, work)
    if not fault.startswith("SIGKILL"):
        wait_for(os.path.join(out, ".hs.tif.journal-0"), proc)
    time.sleep(delay)
    if proc.poll() is None:
        inflict(proc, fault)
    t0 = time.monotonic()
    status, err = finish(proc, label, problems)
    print(f"  faulted run: {status} in {time.monotonic() - t0:.1f} s after the fault")
    check_nothing_finished(out, reference, label, problems)
    # mpirun forwards SIGUSR1 to its ranks; SIGTERM it answers by ending them with SIGTERM, which
    # they take as a stop too, but its own status is then 1.
    journal = os.path.exists(os.path.join(out, ".hs.tif.journal-0"))
    finished = all(os.path.exists(os.path.join(out, name)) for name in OUTPUTS)
    if fault == "SIGUSR1" and status not in (0, 75):
        problems.append(f"{label}: a clean stop ended with status {status}: {err[-400:]}")
    if fault == "SIGTERM" and status != 0 and not journal and not finished:
        problems.append(f"{label}: stopped by SIGTERM, neither finished nor journalled")
    if status == 75 and not os.path.exists(os.path.join(out, ".hs.tif.journal-0")):
        problems.append(f"{label}: stopped with no journal")
    resumes = 0
    while status != 0 and resumes < 6:
        resumes += 1
        ranks = rng.choice([1, 2, 3])
        proc = start(args, words + ["--resume", "--checkpoint", "0.05"], ranks, work)
        if rng.random() < 0.3:  # stopped again, at another moment
            time.sleep(rng.uniform(0.3, 1.5))
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGUSR1)
        t0 = time.monotonic()
        status, err = finish(proc, label, problems)
        print(f"  resume {resumes} at {ranks} ranks: {status} in {time.monotonic() - t0:.1f} s")
        if status not in (0, 75):
            problems.append(f"{label}: resume {resumes} at {ranks} ranks ended {status}: {err[-400:]}")
            break
    for name in OUTPUTS:
        path = os.path.join(out, name)
        if not os.path.exists(path) or read_bytes(path) != reference[name]:
            problems.append(f"{label}: after {resumes} resume(s), {name} differs from the uninterrupted run")
    if leftovers(out):
        problems.append(f"{label}: left {leftovers(out)}")
    print(f"{label}: first run ended {status if resumes == 0 else 'early'}, {resumes} resume(s), "
          f"{time.monotonic() - began:.1f} s in all")
    for name in OUTPUTS:
        path = os.path.join(out, name)
        if os.path.exists(path):
            os.remove(path)
    for path in leftovers(out):
        os.remove(path)


def wait_for(journal, proc):
    """Until `journal` exists (every rank has its handlers by then) or the run has ended."""
    deadline = time.monotonic() + 60
    while not os.path.exists(journal) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)


def stopped_run(args, words, cwd, journal, ranks=2):
    """Runs WORDS on `ranks` ranks and sends mpirun SIGUSR1 as soon as the run has begun (its
    journal exists)."""
    proc = start(args, words + ["--checkpoint", "0.05"], ranks, cwd)
    wait_for(journal, proc)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGUSR1)
    _, err = proc.communicate(timeout=40)
    return proc.returncode, err.decode(errors="replace")


def another_binary(args, work):
    """A copy of the installation the test runs (the front, and the program at its place relative
    to it, libexec/tessera/tessera) whose program has one byte more: it runs the same, but is
    another binary. Returns the copied front."""
    front = os.path.realpath(args.tessera)
    program = os.path.join(os.path.dirname(front), "..", "libexec", "tessera", "tessera")
    root = tempfile.mkdtemp(prefix="tessera-rebuilt-", dir=work)
    os.makedirs(os.path.join(root, "bin"))
    os.makedirs(os.path.join(root, "libexec", "tessera"))
    copy = os.path.join(root, "bin", "tessera")
    shutil.copy2(front, copy)
    copied = os.path.join(root, "libexec", "tessera", "tessera")
    shutil.copy2(program, copied)
    with open(copied, "ab") as f:
        f.write(b"\0")
    return copy


def refusals(args, work, words, job, problems):
    out = os.path.join(work, "out")
    status, err = stopped_run(args, words, work, os.path.join(out, ".hs.tif.journal-0"))
    if status != 75:
        problems.append(f"refusals: the stop ended with {status}: {err[-300:]}")
        return
    again = systest.tessera(args, words, ranks=1)
    if again.returncode != 1 or "--resume continues that run" not in again.stderr:
        problems.append(f"refusals: a run over a journal was not refused: {again.describe()}")
    with open(job) as f:
        text = f.read()
    with open(job, "w") as f:
        f.write(text.replace("tile = 128", "tile = 128\n# changed"))
    changed = systest.tessera(args, words + ["--resume"], ranks=1)
    with open(job, "w") as f:
        f.write(text)
    if changed.returncode != 1 or "the job file" not in changed.stderr or "--restart" not in changed.stderr:
        problems.append(f"refusals: a changed job file was not refused: {changed.describe()}")
    rebuilt = another_binary(args, work)
    other = systest.run([rebuilt] + words + ["--resume"], args.timeout)
    shutil.rmtree(os.path.dirname(os.path.dirname(rebuilt)))
    if other.returncode != 1 or "another tessera binary" not in other.stderr:
        problems.append(f"refusals: a journal of another binary was not refused: {other.describe()}")
    dem = os.path.join(work, "dem.tif")
    os.utime(dem, (time.time() + 5, time.time() + 5))
    moved = systest.tessera(args, words + ["--resume"], ranks=1)
    if moved.returncode != 1 or "changed since" not in moved.stderr:
        problems.append(f"refusals: a changed input was not refused: {moved.describe()}")
    for made in (again, changed, other, moved):
        lines = [l for l in made.stderr.splitlines() if l.startswith("tessera:")]
        if len(lines) != 1:
            problems.append(f"refusals: not one line: {made.stderr!r}")
    restarted = systest.tessera(args, words + ["--restart"], ranks=2)
    if restarted.returncode != 0 or leftovers(out):
        problems.append(f"refusals: --restart failed or left {leftovers(out)}: {restarted.describe()}")
    print("refused over a journal, for a changed job file, another binary and a changed input; "
          "--restart ran")
    for name in OUTPUTS:
        os.remove(os.path.join(out, name))


def commands(args, work, problems):
    """tessera dem and tessera calc, stopped then resumed, against their uninterrupted runs."""
    dem = os.path.join(work, "dem.tif")
    cases = {
        "dem": lambda out: ["dem", "slope", dem, out, "-q", "-co", "COMPRESS=DEFLATE", "-co", "BLOCKXSIZE=128",
                            "-co", "BLOCKYSIZE=128"],
        "calc": lambda out: ["calc", "-A", dem, "--calc", "A*2+1", "--outfile", out, "-q", "--co", "COMPRESS=ZSTD",
                             "--co", "BLOCKXSIZE=128", "--co", "BLOCKYSIZE=128"],
    }
    for name, words in cases.items():
        whole = os.path.join(work, f"{name}_whole.tif")
        part = os.path.join(work, f"{name}_part.tif")
        made = systest.tessera(args, words(whole), ranks=1)
        if made.returncode != 0:
            problems.append(f"{name}: the uninterrupted run failed: {made.describe()}")
            continue
        status, err = stopped_run(args, words(part), work, os.path.join(work, f".{name}_part.tif.journal-0"))
        if status == 0:
            os.remove(part)  # it finished first: the resume makes it again
        resumed = systest.tessera(args, words(part) + ["--resume"], ranks=3)
        if status not in (0, 75) or resumed.returncode != 0 or read_bytes(part) != read_bytes(whole):
            problems.append(f"{name}: stopped ({status}) and resumed ({resumed.returncode}): not the same bytes")
        print(f"tessera {name}: stopped with {status}, resumed to the same bytes")


def full_disk_resumes(args, work, problems):
    """A --resume of a parallel HDF5 output on a full disk (none left, or too little for a chunk
    of the interrupted run or for the file's reservation) fails with one line on every rank, without waiting forever in
    HDF5's collective close, and keeps the journal; with room made, --resume ends with the
    uninterrupted run's bytes."""
    disk = os.path.join(work, "disk")
    os.makedirs(disk)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", disk],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        print(f"skip full-disk resumes: cannot mount a small tmpfs ({mounted.stderr.strip()})")
        return
    try:
        dem = os.path.join(work, "dem.tif")
        whole = os.path.join(work, "whole.h5")
        words = lambda out: ["dem", "slope", dem, out, "-of", "HDF5", "-q"]
        made = systest.tessera(args, words(whole), ranks=2)
        if made.returncode != 0:
            problems.append(f"full disk: the uninterrupted run failed: {made.describe()}")
            return
        out = os.path.join(disk, "s.h5")
        for room in (0, 64 << 10):  # 64 KiB: the coordinates fit, not a tile's chunk or the reservation
            status, err = stopped_run(args, words(out), work, os.path.join(disk, ".s.h5.journal-0"))
            if status != 75:
                problems.append(f"full disk ({room} bytes left): the stop ended with {status}: {err[-300:]}")
                break
            filler = systest.fill_disk(disk, room)
            failed = systest.tessera(args, words(out) + ["--resume"], ranks=2)
            lines = [l for l in failed.stderr.splitlines() if l.startswith("tessera:")]
            if (failed.returncode != 1 or len(lines) != 1 or "No space left on device" not in lines[0]
                    or "--resume continues" not in lines[0]):
                problems.append(f"full disk ({room} bytes left): the resume did not fail with one line: "
                                f"{failed.describe()}")
            os.remove(filler)
            resumed = systest.tessera(args, words(out) + ["--resume"], ranks=2)
            if resumed.returncode != 0 or read_bytes(out) != read_bytes(whole) or leftovers(disk):
                problems.append(f"full disk ({room} bytes left): the resume after it ended with "
                                f"{resumed.returncode}, left {leftovers(disk)}, the same bytes: "
                                f"{os.path.exists(out) and read_bytes(out) == read_bytes(whole)}")
            if os.path.exists(out):
                os.remove(out)
        print("a parallel HDF5 --resume on a full disk failed with one line, kept its journal, "
              "and resumed to the same bytes")
    finally:
        subprocess.run(["umount", disk], capture_output=True)


def main():
    args = systest.parse_args(__doc__, lambda p: (p.add_argument("--seed", type=int, default=None),
                                                  p.add_argument("--faults", type=int, default=8)))
    args.tessera, args.data = os.path.abspath(args.tessera), os.path.abspath(args.data)
    seed = args.seed if args.seed is not None else int(os.environ.get("TESSERA_FUZZ_SEED", "20261206"))
    print(f"seed {seed} (replay with --seed {seed})")
    rng = random.Random(seed)
    problems = []
    work = tempfile.mkdtemp(prefix="tessera-resume-")
    try:
        os.makedirs(os.path.join(work, "out"))
        dem = os.path.join(work, "dem.tif")
        made = systest.tessera(args, ["generate", dem, "--size", "2400x2400", "-q", "--nodata", "-9999"])
        if made.returncode != 0:
            systest.fail("generate failed:\n" + made.describe())
        job = os.path.join(work, "job.toml")
        with open(job, "w") as f:
            f.write(JOB.format(dem=dem))
        words = ["run", job, "-q"]
        made = systest.tessera(args, words, ranks=1)
        if made.returncode != 0:
            systest.fail("the uninterrupted run failed:\n" + made.describe())
        reference = {name: read_bytes(os.path.join(work, "out", name)) for name in OUTPUTS}
        for name in OUTPUTS:
            os.remove(os.path.join(work, "out", name))
        began = time.monotonic()
        timed = systest.tessera(args, words, ranks=2)
        duration = time.monotonic() - began
        if timed.returncode != 0:
            systest.fail("the uninterrupted 2-rank run failed:\n" + timed.describe())
        print(f"an uninterrupted 2-rank run takes {duration:.2f} s")
        for name in OUTPUTS:
            os.remove(os.path.join(work, "out", name))
        for case in range(args.faults):
            faulted_then_resumed(args, rng, work, words, reference, case, problems, duration)
        refusals(args, work, words, job, problems)
        commands(args, work, problems)
        full_disk_resumes(args, work, problems)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if problems:
        systest.fail(f"seed {seed}: {len(problems)} problem(s):\n" + "\n".join(problems))
    print("every interrupted run resumed to the uninterrupted run's bytes; refusals were one line")


if __name__ == "__main__":
    main()
