#!/usr/bin/env python3
"""Runs killed with SIGKILL: a rank killed cannot remove its temporary file, and leaves its journal;
the next run of the same output is refused with one line unless it says --resume or --restart,
and with --restart removes what was left and leaves its own output whole. Ranks whose mpirun was
killed end soon (SIGTERM from the kernel: a stop) and keep their tiles with a journal, as a
signal to mpirun does; nothing at the output path looks finished.

Each killed run writes a slow output (a ZSTD level 19 hillshade of generated terrain) and is killed
once its temporary file exists; then a quick run writes the same output path from tests/data.
A fill killed in its last phase leaves its scratch files, which the run that resumes it removes.
"""
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import systest

SLOW_CO = ["-co", "COMPRESS=ZSTD", "-co", "ZSTD_LEVEL=19", "-co", "TILED=YES"]


def temporaries(out):
    """The temporary files of output `out` now in its folder."""
    folder, name = os.path.split(out)
    return glob.glob(os.path.join(folder, "." + name + ".tmp-*"))


def journal(out):
    """The journal files beside output `out`."""
    folder, name = os.path.split(out)
    return glob.glob(os.path.join(folder, "." + name + ".journal-*"))


def restart(args, out):
    """A quick run of output `out` that starts over, removing what an interrupted one left."""
    done = systest.tessera(args, ["dem", "hillshade", os.path.join(args.data, "srtm.tif"), out, "-q",
                                  "--restart"])
    if done.returncode != 0 or temporaries(out) or journal(out):
        systest.fail("--restart failed or left files:\n" + done.describe())
    os.remove(out)


def writers_of(out):
    """The pids of processes whose command line names `out`."""
    found = []
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                words = f.read().split(b"\0")
        except (OSError, ValueError):
            continue
        if pid.isdigit() and out.encode() in words:
            found.append(int(pid))
    return found


def start_writing(args, words, ranks, out):
    """Starts tessera WORDS (under mpirun when ranks > 0) in a session of its own; returns it
    once the output's temporary file exists and tiles are being written."""
    cmd = systest.mpi_prefix(args, ranks) + [args.tessera] + words
    proc = subprocess.Popen(cmd, env=systest.environment(1), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + args.timeout
    while not temporaries(out) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    if proc.poll() is not None:
        systest.fail("%s ended (%s) before it could be stopped" % (" ".join(cmd), proc.returncode))
    return proc


def kill_once_writing(args, words, ranks, out, ranks_too=True, sig=signal.SIGKILL, times=1):
    """Starts tessera WORDS as start_writing() does, then sends SIGKILL to every rank when
    `ranks_too` and `sig` `times` times (50 ms apart) to its process group; returns the
    seconds until no process writing `out` was left, and the files they left."""
    proc = start_writing(args, words, ranks, out)
    deadline = time.monotonic() + args.timeout
    ranks_alive = [pid for pid in writers_of(out) if pid != proc.pid]
    killed = time.monotonic()
    for pid in ranks_alive if ranks_too else []:  # first: mpirun's end would SIGTERM them
        os.kill(pid, signal.SIGKILL)
    for _ in range(times):
        os.killpg(proc.pid, sig)  # ranks run in process groups of their own
        time.sleep(0.05)
    proc.wait()
    while writers_of(out) and time.monotonic() < deadline:
        time.sleep(0.02)
    if writers_of(out):
        systest.fail("processes writing %s still run after they were killed: %s" % (out, writers_of(out)))
    return time.monotonic() - killed, temporaries(out)


def slow_words(dem, out):
    return ["dem", "hillshade", dem, out, "-q"] + SLOW_CO


def check_stale(args, work, dem, ranks):
    """Every process killed: the next run removes what they left."""
    out = os.path.join(work, "hs.tif")
    _, left = kill_once_writing(args, slow_words(dem, out), ranks, out)
    if not left:
        systest.fail("the killed run left no temporary file: the test killed it too late")
    quick = ["dem", "hillshade", os.path.join(args.data, "srtm.tif"), out, "-q"]
    refused = systest.tessera(args, quick, ranks=ranks)
    if refused.returncode != 1 or "--restart starts over" not in refused.stderr:
        systest.fail("a run over a killed run's journal was not refused:\n" + refused.describe())
    done = systest.tessera(args, quick + ["--restart"], ranks=ranks)
    if done.returncode != 0:
        systest.fail("the run after the killed one failed:\n" + done.describe())
    if temporaries(out) or journal(out):
        systest.fail("stale files left after the next run: %s" % (temporaries(out) + journal(out)))
    if systest.gdal.Open(out).RasterXSize != 465:
        systest.fail("the next run's output is not srtm's hillshade")
    print("%s: the temporary file a killed run left (%s) went with the next run" %
          ("alone" if ranks == 0 else "%d ranks" % ranks, os.path.basename(left[0])))


def check_orphans(args, work, dem):
    """mpirun alone killed: its ranks stop within the grace of a stop, their tiles journalled."""
    out = os.path.join(work, "orphans.tif")
    seconds, left = kill_once_writing(args, slow_words(dem, out), 2, out, ranks_too=False)
    if seconds > 11 or os.path.exists(out) or (left and not journal(out)):
        systest.fail("ranks of a killed mpirun ran %.1f s more and left %s, journal %s"
                     % (seconds, left, journal(out)))
    print("2 ranks: after mpirun was killed its ranks stopped in %.2f s, kept %d file(s) and a journal"
          % (seconds, len(left)))
    restart(args, out)


def check_second_signal(args, work, dem):
    """SIGINT or SIGTERM twice to mpirun, as an impatient user or a batch system does: the ranks
    stop, nothing at the output path, what they kept journalled."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        out = os.path.join(work, "twice.tif")
        seconds, left = kill_once_writing(args, slow_words(dem, out), 2, out, ranks_too=False,
                                          sig=sig, times=2)
        if os.path.exists(out) or (left and not journal(out)):
            systest.fail("%s twice to mpirun left %s at the output path or no journal" % (sig.name, left))
        print("2 ranks: %s twice to mpirun: ended in %.2f s, %d file(s) kept with a journal"
              % (sig.name, seconds, len(left)))
        restart(args, out)


def scratch_files(folder):
    """The scratch files fill keeps in `folder`, of every rank and run."""
    return sorted(glob.glob(os.path.join(folder, ".fill.scratch-r*.tmp-*")))


def start_filling(args, dem, out, scratch, ranks, files, prefix=(), more=()):
    """Starts `tessera hydro fill` of `dem` into `out`, keeping its tiles in `scratch` (under
    mpirun when ranks > 0, after the command `prefix`; `more` words after its own), in a session
    of its own; returns it once `files` scratch files are there and hold tiles."""
    cmd = list(prefix) + systest.mpi_prefix(args, ranks) + [args.tessera, "hydro", "fill", "-z", dem,
                                                            "-fel", out, "--tile", "128", "--scratch",
                                                            scratch, "-q"] + list(more)
    proc = subprocess.Popen(cmd, env=systest.environment(1), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + args.timeout
    while proc.poll() is None and time.monotonic() < deadline:
        kept = scratch_files(scratch)
        if len(kept) >= files and all(os.path.getsize(f) > 0 for f in kept):
            return proc
        time.sleep(0.01)
    systest.fail("%s ended (%s) before its scratch files held tiles" % (" ".join(cmd), proc.poll()))


def check_scratch_of_more_ranks(args, work, dem):
    """fill on 2 ranks killed with SIGKILL leaves a scratch file per rank; the next run, alone,
    removes both (it removed only rank 0's, and rank 1's stayed for good)."""
    scratch = os.path.join(work, "scratch")
    os.makedirs(scratch)
    out = os.path.join(work, "fel.tif")
    proc = start_filling(args, dem, out, scratch, 2, 2)
    for pid in [pid for pid in writers_of(out) if pid != proc.pid]:
        os.kill(pid, signal.SIGKILL)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    left = scratch_files(scratch)
    if len(left) != 2:
        systest.fail("the killed fill left %s in its scratch folder, not a file per rank" % left)
    done = systest.tessera(args, ["hydro", "fill", "-z", os.path.join(args.data, "srtm.tif"), "-fel", out,
                                  "--scratch", scratch, "--tile", "64", "-q", "--restart"])
    if done.returncode != 0 or scratch_files(scratch):
        systest.fail("the fill after a killed one on more ranks left %s:\n%s"
                     % (scratch_files(scratch), done.describe()))
    print("1 rank: removed the scratch files of both ranks of a killed fill (%s)" %
          ", ".join(os.path.basename(f) for f in left))
    shutil.rmtree(scratch)
    os.remove(out)


def check_scratch_after_resume(args, work, dem):
    """fill on 2 ranks killed with SIGKILL in its last phase (its solution journalled, its output
    begun) leaves a scratch file per rank; the run that resumes it, alone, takes the solution from
    the journal and keeps no tiles of its own: it must still remove both (they stayed for good)."""
    scratch = os.path.join(work, "scratch_resumed")
    os.makedirs(scratch)
    out = os.path.join(work, "fel_resumed.tif")
    # A compressed output makes the last phase last long enough to be caught under load (written
    # plain it takes some tens of ms, which a busy machine's scheduler could let pass unseen).
    slow = ["-co", "COMPRESS=ZSTD", "-co", "ZSTD_LEVEL=9", "-co", "TILED=YES"]
    proc = start_filling(args, dem, out, scratch, 2, 2, more=slow)
    deadline = time.monotonic() + args.timeout
    while proc.poll() is None and not temporaries(out) and time.monotonic() < deadline:
        time.sleep(0.005)
    if proc.poll() is not None or not temporaries(out):
        systest.fail("the fill ended (%s) before its output was begun" % proc.poll())
    for pid in [pid for pid in writers_of(out) if pid != proc.pid]:
        os.kill(pid, signal.SIGKILL)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    left = scratch_files(scratch)
    if len(left) != 2 or not journal(out):
        systest.fail("the fill killed in its last phase left %s and journal %s" % (left, journal(out)))
    done = systest.tessera(args, ["hydro", "fill", "-z", dem, "-fel", out, "--tile", "128", "--scratch",
                                  scratch, "-q", "--resume"] + slow)
    if done.returncode != 0 or scratch_files(scratch) or not os.path.isfile(out):
        systest.fail("the resumed fill left %s:\n%s" % (scratch_files(scratch), done.describe()))
    print("1 rank: a fill resumed from its journalled solution removed both ranks' scratch files")
    shutil.rmtree(scratch)
    os.remove(out)


def check_shared_scratch(args, work, dem):
    """Two fills in PID namespaces of their own (containers, or two nodes), each process 1 there,
    share a scratch folder: the first is paused once it keeps tiles, the second fills another DEM
    there to its end, then the first goes on. Both end with the bytes of a fill alone (scratch
    files named by the pid were one file: the first failed, "a kept tile of fill does not match
    its tile")."""
    if subprocess.run(["unshare", "-p", "-f", "--mount-proc", "true"], capture_output=True).returncode != 0:
        print("skip the shared scratch folder: no PID namespaces here (unshare -p needs root)")
        return
    scratch = os.path.join(work, "shared")
    os.makedirs(scratch)
    other = os.path.join(args.data, "srtm.tif")
    outs = {}
    for name, source in (("first", dem), ("second", other)):
        outs[name] = os.path.join(work, name + "_alone.tif")
        alone = systest.tessera(args, ["hydro", "fill", "-z", source, "-fel", outs[name], "--tile", "128",
                                       "--no-scratch", "-q"])
        if alone.returncode != 0:
            systest.fail("fill alone failed:\n" + alone.describe())
    first_out, second_out = os.path.join(work, "first.tif"), os.path.join(work, "second.tif")
    namespace = ["unshare", "-p", "-f", "--mount-proc"]
    first = start_filling(args, dem, first_out, scratch, 0, 1, namespace)
    os.killpg(first.pid, signal.SIGSTOP)
    try:
        second = systest.run(namespace + [args.tessera, "hydro", "fill", "-z", other, "-fel", second_out,
                                          "--tile", "128", "--scratch", scratch, "-q"], args.timeout,
                             systest.environment(1))
    finally:
        os.killpg(first.pid, signal.SIGCONT)
    _, err = first.communicate(timeout=args.timeout)
    if first.returncode != 0 or second.returncode != 0:
        systest.fail("fills sharing a scratch folder failed: first %s %s, second:\n%s"
                     % (first.returncode, err.decode(errors="replace"), second.describe()))
    for name, out in (("first", first_out), ("second", second_out)):
        with open(out, "rb") as a, open(outs[name], "rb") as b:
            if a.read() != b.read():
                systest.fail("the %s fill sharing a scratch folder differs from a fill alone" % name)
    if scratch_files(scratch):
        systest.fail("fills sharing a scratch folder left %s" % scratch_files(scratch))
    print("2 fills, each process 1 of its PID namespace, shared a scratch folder; both whole")


def main():
    args = systest.parse_args(__doc__)
    work = tempfile.mkdtemp(prefix="tessera-stale-")
    try:
        dem = os.path.join(work, "dem.tif")
        made = systest.tessera(args, ["generate", dem, "--size", "3000x3000"])
        if made.returncode != 0:
            systest.fail("generate failed:\n" + made.describe())
        for ranks in (0, 2):
            check_stale(args, work, dem, ranks)
        check_scratch_of_more_ranks(args, work, dem)
        check_scratch_after_resume(args, work, dem)
        check_shared_scratch(args, work, dem)
        check_orphans(args, work, dem)
        check_second_signal(args, work, dem)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
