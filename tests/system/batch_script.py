#!/usr/bin/env python3
# System test: what a stop signal sent to mpirun, or to the batch script around it, gives the user.
"""Signals to mpirun and to jobs/slurm/terrain.sbatch, outside Slurm (the script runs as a plain
bash script, `mpirun` then starting a rank per core), on a job of one ZSTD GeoTIFF (a hillshade of
a smoothed DEM, seconds long):

- Open MPI's mpirun as documented in docs/slurm.md: given SIGUSR1 it passes it to the ranks and
  ends with their status, 75; given SIGTERM or SIGINT it ends the ranks itself and exits 1, the
  ranks having stopped with their journal (the run resumes).
- The batch script, given SIGTERM with every other process of the job (what Slurm does at the
  time limit and on scancel), or SIGINT alone, ends with 75 and a journal, nothing at the output
  path; run again as a requeued job (SLURM_RESTART_COUNT set) it resumes to the bytes of an
  uninterrupted run.
"""
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time

import systest

JOB = """
[input.dem]
path = "{dem}"

# A median of radius 16 of a 3072 x 3072 DEM first, so that the run lasts seconds even on an idle
# machine (about 3 s at 2 ranks): mpirun passes SIGTERM on to the ranks a second after it gets
# it, and they must still be running.
[[step]]
id = "smooth"
op = "focal.median"
in = "dem"
radius = 16

[[step]]
id = "hs"
op = "hillshade"
in = "smooth"

[[output]]
from = "hs"
path = "out/hs.tif"
compress = "zstd"

[run]
tile = 64
"""
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "jobs", "slurm",
                      "terrain.sbatch")


def environment(args):
    env = systest.environment(1)
    env["TESSERA"] = args.tessera
    for name in list(env):
        if name.startswith("SLURM_"):
            del env[name]
    return env


def wait_for(path, proc, seconds=60):
    deadline = time.monotonic() + seconds
    while not os.path.exists(path) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.2)  # into the pass


def signal_session(leader, sig):
    """`sig` to every process of the session `leader` began (mpirun's ranks too, whatever their
    process group), as Slurm signals every process of a job."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[3]) == leader:  # the session id
                os.kill(int(pid), sig)
        except (OSError, ValueError, IndexError):
            pass


def signalled(cmd, work, env, journal, send):
    """Runs cmd in its own session and, once the journal exists, `send(proc)`; returns the
    status and the output."""
    proc = subprocess.Popen(cmd, cwd=work, env=env, start_new_session=True, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_for(journal, proc)
    if proc.poll() is None:
        send(proc)
    try:
        out, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return None, out
    return proc.returncode, out


def main():
    args = systest.parse_args(__doc__)
    args.tessera, args.data = os.path.abspath(args.tessera), os.path.abspath(args.data)
    problems = []
    work = tempfile.mkdtemp(prefix="tessera-batch-")
    try:
        dem = os.path.join(work, "dem.tif")
        made = systest.tessera(args, ["generate", dem, "--size", "3072x3072", "-q"])
        if made.returncode != 0:
            systest.fail("generate failed:\n" + made.describe())
        job = os.path.join(work, "job.toml")
        with open(job, "w") as f:
            f.write(JOB.format(dem=dem))
        os.makedirs(os.path.join(work, "out"))
        output = os.path.join(work, "out", "hs.tif")
        journal = os.path.join(work, "out", ".hs.tif.journal-0")
        made = systest.tessera(args, ["run", job, "-q"], ranks=2)
        if made.returncode != 0:
            systest.fail("the uninterrupted run failed:\n" + made.describe())
        with open(output, "rb") as f:
            reference = f.read()
        os.remove(output)
        env = environment(args)

        mpirun = systest.mpi_prefix(args, 2) + [args.tessera, "run", job, "-q", "--restart"]
        for sig, want in ((signal.SIGUSR1, 75), (signal.SIGTERM, 1)):
            status, out = signalled(mpirun, work, env, journal, lambda p: p.send_signal(sig))
            kept = os.path.exists(journal)
            print(f"mpirun given {sig.name}: status {status}, journal kept: {kept}")
            if status != want or not kept or os.path.exists(output):
                problems.append(f"mpirun given {sig.name}: status {status} (want {want}), journal "
                                f"kept: {kept}, output there: {os.path.exists(output)}\n{out[-600:]}")

        script = ["bash", SCRIPT, job]
        cases = (("SIGTERM to every process", lambda p: signal_session(p.pid, signal.SIGTERM)),
                 ("SIGINT to the script", lambda p: p.send_signal(signal.SIGINT)))
        for case, (label, send) in enumerate(cases):
            for path in glob.glob(os.path.join(work, "out", ".*")):
                os.remove(path)
            status, out = signalled(script, work, env, journal, send)
            kept = os.path.exists(journal)
            print(f"the batch script, {label}: status {status}, journal kept: {kept}")
            if status != 75 or not kept or os.path.exists(output):
                problems.append(f"the batch script, {label}: status {status}, journal kept: {kept}, "
                                f"output there: {os.path.exists(output)}\n{out[-800:]}")
                continue
            if case > 0:
                continue
            requeued = dict(env, SLURM_RESTART_COUNT="1")
            again = subprocess.run(script, cwd=work, env=requeued, text=True, timeout=120,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            same = os.path.exists(output) and open(output, "rb").read() == reference
            left = glob.glob(os.path.join(work, "out", ".*"))
            if again.returncode != 0 or not same or left:
                problems.append(f"the batch script, {label}, requeued: status {again.returncode}, "
                                f"same bytes: {same}, left {left}\n{again.stdout[-800:]}")
            if os.path.exists(output):
                os.remove(output)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if problems:
        systest.fail(f"{len(problems)} problem(s):\n" + "\n".join(problems))
    print("mpirun's statuses as documented; the batch script ends 75 on a stop and resumes")


if __name__ == "__main__":
    main()
