#!/usr/bin/env python3
# System test: statistics of tile-graph results in the job that computes them (a reduction pass
# after the pass writing the result), against numpy and against a second job reading the files.
"""Statistics of a stage: `max(acc)`, `percentile(acc, 99)`, `stretch` and `normalize` of a fill
in the job that computes fill, flowdir and flowacc.

- On srtm (UInt16 with nodata), the steps run as separate commands (`tessera hydro fill`,
  `flowdir`, `flowacc`) give fel.tif and acc.tif; numpy computes, on those files, the maximum and
  the 99th percentile of the areas, the 2nd and 98th percentiles, mean and standard deviation of
  the filled DEM, and from them `log(acc + 1) / log(max(acc) + 1)` (within one Float32 ulp: numpy's
  log against the C library's), `acc > percentile(acc, 99)`, the stretch and the z-score of the
  filled DEM and the min-max stretch of that z-score (the statistics of a step that needs
  statistics itself), each cell for cell.
- A second job reads fel.tif and acc.tif as inputs and takes the same statistics of them: its
  outputs are the reference bits.
- The one job (fill, flowdir, flowacc and the steps above; fill's result read back from the
  job's own output, the areas' from a scratch raster) at 1 rank x 1 thread and 2 ranks x 2
  threads, at 64-cell tiles, gives those bits exactly and leaves no hidden file.
- `tessera plan` shows the reduction passes after the passes writing what they reduce.
- Stopped (SIGUSR1) at 2 ranks once the reduction of the areas is journalled, and once the areas'
  scratch raster is committed (the stop meets the reduction or the pass after it), `--resume` at
  1 rank x 2 threads (no mpirun) ends with the uninterrupted run's bytes and leaves nothing behind.
- A copy of the first stopped run whose fel.tif (the ended fill pass's result, which the passes
  left read) was changed since is refused by `--resume`, one line naming the file; another on a
  small tmpfs filled to its last byte fails in one line saying so and that the journal is kept;
  the journal and the stage rasters stay, and once the disk is freed `--resume` continues after
  the passes that ended (fel.tif not written again) to the uninterrupted run's bytes.
- A resume that fails while its pass streams (a full disk) keeps that pass's tiles: `tessera dem
  slope` stopped once its journal names some tiles, its disk then filled: `--resume` fails in one
  line, the output's temporary file and the journal stay, and once the disk is freed `--resume`
  takes up the stopped run's tiles (it computed them all again before) to the uninterrupted
  run's bytes.
"""
import glob
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import time

import numpy as np

import systest
from stats_job import exact_mean_std, read, stretch_ref, valid_mask

STEPS = """
[[step]]
id = "scaled"
op = "calc"
expr = "log(acc + 1) / log(max(acc) + 1)"

[[step]]
id = "hot"
op = "calc"
expr = "acc > percentile(acc, 99)"
type = "uint8"

[[step]]
id = "st"
op = "stretch"
in = "fel"

[[step]]
id = "z"
op = "normalize"
in = "fel"

[[step]]
id = "zst"
op = "stretch"
in = "z"
mode = "minmax"
"""

HYDRO = """
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
from = "fel"
path = "out/fel.tif"
"""

FROM_FILES = """
[input.fel]
path = "{fel}"

[input.acc]
path = "{acc}"
"""

OUTPUTS = ["scaled", "hot", "st", "z", "zst"]
RUNS = [(0, 1), (2, 2)]  # ranks (0: no mpirun) x threads
REDUCTION_OF_ACC = 5  # fill, its reduction, flowdir, z's reduction, flowacc, then acc's


def small_disk(disk, check):
    """Mounts a 16 MB tmpfs at new folder `disk`; False (the check `check` skipped) if it cannot."""
    os.makedirs(disk)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", disk],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        print(f"skip {check}: cannot mount a small tmpfs ({mounted.stderr.strip()})")
    return mounted.returncode == 0


def job_text(head, tile):
    outputs = "".join(f'\n[[output]]\nfrom = "{o}"\npath = "out/{o}.tif"\n' for o in OUTPUTS)
    return f"{head}{STEPS}{outputs}\n[run]\ntile = {tile}\n"


def write_job(folder, head, tile=64):
    os.makedirs(os.path.join(folder, "out"), exist_ok=True)
    path = os.path.join(folder, "job.toml")
    with open(path, "w") as f:
        f.write(job_text(head, tile))
    return path


def same_bits(a, b):
    (x, nx), (y, ny) = a, b
    return x.dtype == y.dtype and x.tobytes() == y.tobytes() and (
        nx == ny or (nx is not None and ny is not None and np.isnan(nx) and np.isnan(ny)))


def out_cells(folder, name):
    return read(os.path.join(folder, "out", name + ".tif"))


def separate(args, dem, work, problems):
    """fel.tif and acc.tif by separate commands, then the second job reading them."""
    fel, p, acc = (os.path.join(work, n + ".tif") for n in ("fel", "p", "acc"))
    for words in (["hydro", "fill", "-z", dem, "-fel", fel], ["hydro", "flowdir", "-fel", fel,
                  "-p", p], ["hydro", "flowacc", "-p", p, "-ad8", acc]):
        made = systest.tessera(args, words + ["--tile", "128", "-q"])
        if made.returncode != 0:
            problems.append(f"separate commands: {made.describe()}")
            return None
    folder = os.path.join(work, "files")
    made = systest.tessera(args, ["run", "-q", write_job(folder, FROM_FILES.format(fel=fel, acc=acc),
                                                         128)])
    if made.returncode != 0:
        problems.append(f"the job reading the files: {made.describe()}")
        return None
    return folder


def against_numpy(work, files, problems):
    """The second job's outputs against numpy on the separately computed fel.tif and acc.tif."""
    acc, acc_nodata = read(os.path.join(work, "acc.tif"))
    fel, fel_nodata = read(os.path.join(work, "fel.tif"))
    ok = valid_mask(acc, acc_nodata)
    a = acc.astype(np.float64)
    hot, hot_nodata = out_cells(files, "hot")
    p99 = np.percentile(a[ok], 99)
    if not np.array_equal(hot[ok], (a[ok] > p99).astype(np.uint8)) or (hot[~ok] != hot_nodata).any():
        problems.append("acc > percentile(acc, 99) differs from numpy's")
    scaled, _ = out_cells(files, "scaled")
    want = (np.log(a[ok] + 1) / np.log(a[ok].max() + 1)).astype(np.float32)
    ulps = np.abs(scaled[ok].view(np.int32).astype(np.int64) - want.view(np.int32))
    if ulps.max() > 1:
        problems.append(f"log(acc + 1) / log(max(acc) + 1) is {ulps.max()} ulps from numpy's")
    fok = valid_mask(fel, fel_nodata)
    lo, hi = np.percentile(fel[fok].astype(np.float64), [2, 98])
    if not np.array_equal(out_cells(files, "st")[0], stretch_ref(fel, fel_nodata, lo, hi)):
        problems.append("stretch of fel differs from numpy's")
    mean, std = exact_mean_std(fel[fok])
    z, z_nodata = out_cells(files, "z")
    if not np.array_equal(z[fok], ((fel[fok].astype(np.float64) - mean) / std).astype(np.float32)):
        problems.append("normalize of fel differs from numpy's")
    zok = valid_mask(z, z_nodata)
    zst = stretch_ref(z, z_nodata, float(z[zok].min()), float(z[zok].max()))
    if not np.array_equal(out_cells(files, "zst")[0], zst):
        problems.append("minmax stretch of normalize of fel differs from numpy's")
    print(f"the job reading the files equals numpy: max(acc) {a[ok].max():g}, p99 {p99:g}, "
          f"{int(np.count_nonzero(hot == 1))} hot cells, scaled within {ulps.max()} ulp")


def one_job(args, dem, work, files, problems):
    for ranks, threads in RUNS:
        folder = os.path.join(work, f"one-{ranks}-{threads}")
        made = systest.tessera(args, ["run", "-q", write_job(folder, HYDRO.format(dem=dem))],
                               ranks=ranks, threads=threads)
        label = f"one job at {max(ranks, 1)} rank(s) x {threads} thread(s)"
        if made.returncode != 0:
            problems.append(f"{label}: {made.describe()}")
            continue
        for name in OUTPUTS:
            if not same_bits(out_cells(folder, name), out_cells(files, name)):
                problems.append(f"{label}: {name} differs from the job reading the files")
        hidden = glob.glob(os.path.join(folder, "out", ".*"))
        if hidden:
            problems.append(f"{label}: left {hidden}")
    print(f"the one job equals the job reading the files at {len(RUNS)} rank/thread counts")


def plan_shows_reductions(args, dem, work, problems):
    made = systest.tessera(args, ["plan", write_job(os.path.join(work, "plan"),
                                                    HYDRO.format(dem=dem))])
    wanted = ["pass 2 (reduction): steps none; writes none; reads the results of pass 1; "
              "statistics of fel (count, min, max, mean, std, percentiles 2, 98)",
              "pass 4 (reduction): steps z; writes none; reads the results of pass 1, 2; "
              "statistics of z", "pass 6 (reduction): steps none; writes none; reads the results "
              "of pass 5; statistics of acc (count, min, max, mean, std, percentiles 99)",
              "pass 7 (streaming)", "acc (flowacc): written once by pass 5 to",
              "read as an input by pass 6, 7"]
    missing = [w for w in wanted if w not in made.stdout]
    if made.returncode != 0 or missing:
        problems.append(f"plan: missing {missing}: {made.describe()}\n{made.stdout}")
    else:
        print("tessera plan shows each reduction pass after the pass writing what it reduces")


def journalled_result(path, pass_index):
    """Whether the journal file holds the result record of pass `pass_index` (record: length,
    checksum, then kind 2 and the pass as uint32)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return False
    at = 0
    while at + 12 <= len(data):
        (length,) = struct.unpack_from("<I", data, at)
        payload = data[at + 12:at + 12 + length]
        if len(payload) == length and length >= 5 and payload[0] == 2 and \
                struct.unpack_from("<I", payload, 1)[0] == pass_index:
            return True
        at += 12 + length
    return False


def changed_result_refused(args, part, problems):
    """A copy of the stopped run whose fel.tif (written by the ended fill pass, read by the passes
    left) was changed since: --resume refuses it, naming the file, and changes nothing."""
    copy = part + "-changed"
    shutil.copytree(part, copy)
    fel = os.path.join(copy, "out", "fel.tif")
    ds = systest.gdal.Open(fel, systest.gdal.GA_Update)
    band = ds.GetRasterBand(1)
    band.WriteArray(band.ReadAsArray() + 1)
    ds = None
    before = sorted(os.listdir(os.path.join(copy, "out")))
    made = systest.tessera(args, ["run", os.path.join(copy, "job.toml"), "--resume", "-q"])
    lines = [l for l in made.stderr.splitlines() if l.strip()]
    if made.returncode != 1 or len(lines) != 1 or "fel.tif changed since" not in lines[0] or \
            sorted(os.listdir(os.path.join(copy, "out"))) != before:
        problems.append(f"resume over a changed fel.tif: {made.describe()}")
    else:
        print(f"resume over a fel.tif changed since its pass ended: refused: {lines[0]}")
    shutil.rmtree(copy, ignore_errors=True)


def hidden_files(folder):
    """The hidden files of `folder` (journal, stage rasters, temporaries) and their mtimes."""
    return {os.path.basename(f): os.stat(f).st_mtime_ns
            for f in glob.glob(os.path.join(folder, ".*"))}


def resumed_on_a_full_disk(args, part, whole, problems):
    """A copy of the stopped run on a small tmpfs filled to its last byte: --resume fails in one
    line that says the disk is full and that the journal is kept; the journal and the stage
    rasters of the passes that ended stay (fel.tif untouched), and the temporary files of the pass
    it failed in; once the disk is freed, --resume continues from those passes (fel.tif not
    written again) to the uninterrupted run's bytes."""
    disk = part + "-disk"
    if not small_disk(disk, "the resume on a full disk"):
        return
    try:
        copy = os.path.join(disk, "run")
        shutil.copytree(part, copy)
        out = os.path.join(copy, "out")
        fel = os.path.join(out, "fel.tif")
        fel_before = os.stat(fel).st_mtime_ns
        kept = {name: t for name, t in hidden_files(out).items() if ".tmp-" not in name}
        # The stopped run allocated its in-place outputs' tiles when it began, and as copied here
        # they hold that space: a resume would need no more. Holes where no tile was written yet
        # (what a file system without fallocate leaves) make it need room again.
        for name in hidden_files(out):
            if ".tmp-" in name:
                subprocess.run(["fallocate", "--dig-holes", os.path.join(out, name)], check=True)
        filler = systest.fill_disk(disk)
        made = systest.tessera(args, ["run", os.path.join(copy, "job.toml"), "--resume", "-q"])
        lines = [l for l in made.stderr.splitlines() if l.strip()]
        after = hidden_files(out)
        lost = sorted(name for name in kept if name not in after or
                      (".stage." in name and after[name] != kept[name]))
        if made.returncode != 1 or len(lines) != 1 or "No space left on device" not in lines[0] \
                or "is kept with the passes that ended" not in lines[0]:
            problems.append(f"resume on a full disk: {made.describe()}")
            return
        if lost or os.stat(fel).st_mtime_ns != fel_before:
            problems.append(f"resume on a full disk: the stopped run's files changed or were lost "
                            f"({lost}); left {sorted(after)}")
            return
        print(f"resume on a full disk: {lines[0]}")
        os.remove(filler)
        again = systest.tessera(args, ["run", os.path.join(copy, "job.toml"), "--resume", "-q"],
                                threads=2)
        if again.returncode != 0:
            problems.append(f"resume once the disk is freed: {again.describe()}")
            return
        differ = [o for o in OUTPUTS + ["fel"]
                  if not same_bits(out_cells(whole, o), out_cells(copy, o))]
        left = sorted(hidden_files(out))
        if differ or left or os.stat(fel).st_mtime_ns != fel_before:
            problems.append(f"resume once the disk is freed: {differ} differ from the "
                            f"uninterrupted run's, left {left}, fel.tif written again: "
                            f"{os.stat(fel).st_mtime_ns != fel_before}")
        else:
            print("resumed once the disk was freed: continued after the passes that ended, "
                  "the uninterrupted run's bytes")
    finally:
        subprocess.run(["umount", disk], check=False)
        shutil.rmtree(disk, ignore_errors=True)


def failed_resume_keeps_tiles(args, dem, work, problems):
    """`tessera dem slope` (one pass, DEFLATE, 16-cell tiles) to a small tmpfs, stopped once its
    journal names some tiles; the disk then filled to its last byte: --resume fails while it
    streams, in one line saying the journal is kept with the tiles made durable, and leaves the
    output's temporary file and the journal; once the disk is freed, --resume computes only the
    tiles the stopped run had not made durable (it said they were lost) and ends with the
    uninterrupted run's bytes, leaving nothing."""
    disk = os.path.join(work, "kept-disk")
    if not small_disk(disk, "the failed resume's tiles"):
        return
    try:
        whole = os.path.join(work, "slope-whole.tif")
        words = ["dem", "slope", dem, os.path.join(disk, "s.tif"), "-co", "COMPRESS=DEFLATE",
                 "-co", "BLOCKXSIZE=16", "-co", "BLOCKYSIZE=16", "--checkpoint", "0"]
        made = systest.tessera(args, ["dem", "slope", dem, whole, "-co", "COMPRESS=DEFLATE",
                                      "-co", "BLOCKXSIZE=16", "-co", "BLOCKYSIZE=16", "-q"])
        journal = os.path.join(disk, ".s.tif.journal-0")
        proc = subprocess.Popen([args.tessera] + words + ["-q"], env=systest.environment(1),
                                start_new_session=True, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        deadline = time.monotonic() + args.timeout
        header = None
        while proc.poll() is None and time.monotonic() < deadline:
            if os.path.exists(journal):
                size = os.path.getsize(journal)
                header = size if header is None else header
                if size > header:  # a record of tiles past the header
                    break
            time.sleep(0.001)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGUSR1)
        proc.communicate(timeout=args.timeout)
        if made.returncode != 0 or proc.returncode != 75:
            problems.append(f"failed resume's tiles: the runs ended {made.returncode} and "
                            f"{proc.returncode} (75: stopped)")
            return
        filler = systest.fill_disk(disk)
        failed = systest.tessera(args, words + ["--resume", "-q"])
        lines = [l for l in failed.stderr.splitlines() if l.strip()]
        left = sorted(hidden_files(disk))
        if failed.returncode != 1 or len(lines) != 1 or "No space left on device" not in lines[0] \
                or "kept with the passes that ended and the tiles made durable" not in lines[0] \
                or ".s.tif.journal-0" not in left or not any(".s.tif.tmp-" in n for n in left):
            problems.append(f"failed resume's tiles: {failed.describe()}; left {left}")
            return
        print(f"resume on a full disk: {lines[0]}")
        os.remove(filler)
        again = systest.tessera(args, words + ["--resume"])
        done = re.findall(r"resuming from .*: (\d+) of (\d+) tiles were done", again.stderr)
        if again.returncode != 0 or not done or int(done[0][0]) == 0:
            problems.append(f"failed resume's tiles: the resume once the disk was freed took up no "
                            f"tile ({done}): {again.describe()}")
            return
        with open(whole, "rb") as a, open(os.path.join(disk, "s.tif"), "rb") as b:
            same = a.read() == b.read()
        if not same or hidden_files(disk):
            problems.append(f"failed resume's tiles: the output differs ({not same}) or left "
                            f"{sorted(hidden_files(disk))}")
            return
        print(f"resumed once the disk was freed: {done[0][0]} of {done[0][1]} tiles kept through "
              f"the failed resume, the uninterrupted run's bytes")
    finally:
        subprocess.run(["umount", disk], check=False)
        shutil.rmtree(disk, ignore_errors=True)


def stopped_and_resumed(args, dem, whole, problems):
    """Stopped at two moments at 2 ranks, resumed at 1 rank x 2 threads; `whole` holds the
    outputs of an uninterrupted run."""
    moments = [("the reduction of acc journalled",
                lambda out: journalled_result(os.path.join(out, ".fel.tif.journal-0"),
                                              REDUCTION_OF_ACC)),
               ("acc's scratch raster committed",
                lambda out: os.path.exists(os.path.join(out, ".fel.tif.acc.stage.tif")))]
    for k, (name, reached) in enumerate(moments):
        part = os.path.join(os.path.dirname(whole), f"part-{k}")
        job = write_job(part, HYDRO.format(dem=dem))
        out = os.path.join(part, "out")
        proc = subprocess.Popen(systest.mpi_prefix(args, 2) + [args.tessera, "run", job, "-q",
                                                               "--checkpoint", "0.05"],
                                env=systest.environment(1), start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + args.timeout
        while proc.poll() is None and not reached(out) and time.monotonic() < deadline:
            time.sleep(0.001)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGUSR1)
        _, err = proc.communicate(timeout=args.timeout)
        if proc.returncode != 75:
            problems.append(f"resume: the stop once {name} ended {proc.returncode} (0: it "
                            f"finished first): {err.decode(errors='replace')[-400:]}")
            continue
        if k == 0:
            changed_result_refused(args, part, problems)
            resumed_on_a_full_disk(args, part, whole, problems)
        resumed = systest.tessera(args, ["run", job, "--resume", "-q"], threads=2)
        if resumed.returncode != 0:
            problems.append(f"resume after {name}: {resumed.describe()}")
            continue
        for output in OUTPUTS + ["fel"]:
            if not same_bits(out_cells(whole, output), out_cells(part, output)):
                problems.append(f"resume after {name}: {output} differs from the uninterrupted run's")
        left = glob.glob(os.path.join(out, ".*"))
        if left:
            problems.append(f"resume after {name}: left {left}")
        print(f"stopped once {name}, resumed at 1 rank: the uninterrupted run's bytes")


def main():
    args = systest.parse_args(__doc__)
    problems = []
    work = tempfile.mkdtemp(prefix="tessera-stage-stats-")
    try:
        dem = os.path.abspath(os.path.join(args.data, "srtm.tif"))
        files = separate(args, dem, work, problems)
        if files:
            against_numpy(work, files, problems)
            one_job(args, dem, work, files, problems)
        plan_shows_reductions(args, dem, work, problems)
        failed_resume_keeps_tiles(args, dem, work, problems)
        whole = os.path.join(work, "one-%d-%d" % RUNS[-1])
        if os.path.exists(os.path.join(whole, "out", "zst.tif")):
            stopped_and_resumed(args, dem, whole, problems)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if problems:
        systest.fail(f"{len(problems)} problem(s):\n" + "\n".join(problems))
    print("statistics of tile-graph results in one job: the files' and numpy's numbers")


if __name__ == "__main__":
    main()
