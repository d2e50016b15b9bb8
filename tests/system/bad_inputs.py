# System test: bad inputs (and a full disk) fail cleanly alone and under mpirun: one clear message, the right exit
# status, no hang, no output file, and an earlier output at the path left as it was.
import os
import re
import shutil
import subprocess
import sys
import tempfile

import systest

# Lines Open MPI's mpirun adds when a rank exits non-zero, and the one its MPI-IO layer prints
# when a write fails; everything else on stderr is tessera's.
MPIRUN_NOISE = re.compile(
    r"^(-+|\s*|Primary job\s+terminated normally.*|a non-zero exit code\..*|(mpirun|mpiexec|orterun) detected that.*"
    r"|the job to be terminated\..*|\s*Process name:.*|\s*Exit code:.*|mca_fbtl_posix_pwritev: error in .*)$")

BAD_JOB = """\
[input.dem]
path = "{dem}"

[[step]]
id = "hs"
op = "hillshade
in = "dem"

[[output]]
from = ["hs"]
path = "{out}"
"""

DEEP_JOB = """\
[input.dem]
path = "{dem}"

[[step]]
id = "deep"
op = "calc"
expr = "{expr}"

[[output]]
from = "deep"
path = "{out}"
"""

# Nesting past the parser's limit of 256 crashed tessera on its stack (SIGSEGV in every rank).
TOO_DEEP = r"column 257: nesting deeper than 256 levels"


class Case:
    """One bad invocation: tessera words, expected status, a regex the message must match, the output path."""

    def __init__(self, name, words, status, culprit, output, existing=None):
        self.name, self.words, self.status = name, words, status
        self.culprit, self.output = re.compile(culprit), output
        self.existing = existing  # text of a file already at the output path, which must survive


def make_cases(args, work):
    """Builds the bad files under `work` and returns the cases; outputs go to work/out/."""
    dem = os.path.join(args.data, "chiprofiler_dem.tif")
    out_dir = os.path.join(work, "out")
    os.makedirs(out_dir)
    out = os.path.join(out_dir, "result.tif")
    text = os.path.join(work, "notaraster.tif")
    with open(text, "w") as f:
        f.write("this is a text file, not a GeoTIFF\n" * 20)
    truncated = os.path.join(work, "truncated.tif")
    shutil.copyfile(dem, truncated)
    os.truncate(truncated, os.path.getsize(dem) // 2)
    # Header first, tiles after: opens fine, then only the ranks reading the lost tiles fail.
    cut_tiles = os.path.join(work, "cut_tiles.tif")
    systest.gdal.Translate(cut_tiles, dem, creationOptions=["TILED=YES", "BLOCKXSIZE=128", "BLOCKYSIZE=128"])
    os.truncate(cut_tiles, os.path.getsize(cut_tiles) // 2)
    afile = os.path.join(work, "afile")
    with open(afile, "w") as f:
        f.write("a regular file where a folder is expected\n")
    job = os.path.join(work, "bad.toml")
    with open(job, "w") as f:
        f.write(BAD_JOB.format(dem=dem, out=out))
    deep_job = os.path.join(work, "deep.toml")
    with open(deep_job, "w") as f:
        f.write(DEEP_JOB.format(dem=dem, out=out, expr="(" * 5000 + "dem" + ")" * 5000))
    missing = os.path.join(work, "missing_dem.tif")
    return [
        Case("missing input", ["dem", "hillshade", missing, out], 1, r"missing_dem\.tif", out),
        Case("text file named .tif", ["dem", "slope", text, out], 1, r"notaraster\.tif", out),
        Case("truncated GeoTIFF", ["dem", "hillshade", truncated, out], 1, r"truncated\.tif", out),
        Case("tiled GeoTIFF cut in half", ["dem", "slope", cut_tiles, out], 1, r"cut_tiles\.tif", out),
        Case("unknown subcommand", ["bogus", dem, out], 2, r"bogus", out),
        Case("unknown mode", ["dem", "shine", dem, out], 2, r"shine", out),
        Case("unknown flag", ["dem", "hillshade", dem, out, "-zz", "3"], 2, r"-zz", out),
        Case("output under a regular file", ["dem", "hillshade", dem, os.path.join(afile, "out.tif")], 1,
             r"afile", os.path.join(afile, "out.tif")),
        Case("output folder missing", ["dem", "aspect", dem, os.path.join(work, "nodir", "out.tif")], 1,
             r"nodir", os.path.join(work, "nodir", "out.tif")),
        Case("job file syntax error", ["run", job], 1, r"bad\.toml:\d+", out),
        Case("calc: 5,000 nested parentheses", ["calc", "-A", dem, "--calc", "(" * 5000 + "A" + ")" * 5000,
                                                "--outfile", out], 1, TOO_DEEP, out),
        Case("calc: 30,000 unary minus", ["calc", "-A", dem, "--calc=" + "-" * 30000 + "A", "--outfile", out], 1,
             TOO_DEEP, out),
        Case("plan: expr nested 5,000 deep", ["plan", deep_job], 1, r"deep\.toml:7:\d+: .*" + TOO_DEEP, out),
        Case("run: expr nested 5,000 deep", ["run", deep_job], 1, r"deep\.toml:7:\d+: .*" + TOO_DEEP, out),
        Case("tiled GeoTIFF cut in half, over an earlier output", ["dem", "slope", cut_tiles, out], 1,
             r"cut_tiles\.tif", out, existing="an earlier run's output\n"),
    ]


def mount_full_disk(work):
    """A 256 KiB tmpfs at work/full, too small for the outputs below; None when it cannot be
    mounted (not root, or no mount in this container)."""
    folder = os.path.join(work, "full")
    os.makedirs(folder)
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", folder],
                         capture_output=True, text=True)
    if res.returncode != 0:
        print(f"skip full-disk cases: cannot mount a small tmpfs ({res.stderr.strip()})", flush=True)
        return None
    return folder


def full_disk_cases(args, folder):
    """Outputs larger than the disk: uncompressed (every rank writes its tiles in place) and
    deflated (rank 0 appends them)."""
    dem = os.path.join(args.data, "chiprofiler_dem.tif")
    plain = os.path.join(folder, "slope.tif")
    packed = os.path.join(folder, "slope_deflate.tif")
    h5 = os.path.join(folder, "slope.h5")
    return [
        Case("full disk, uncompressed", ["dem", "slope", dem, plain], 1,
             r"full/slope\.tif: .*No space left on device", plain),
        Case("full disk, deflate", ["dem", "slope", dem, packed, "-co", "COMPRESS=DEFLATE"], 1,
             r"full/slope_deflate\.tif.*No space left on device", packed),
        Case("full disk, over an earlier output", ["dem", "slope", dem, plain], 1,
             r"full/slope\.tif: .*No space left on device", plain, existing="an earlier run's output\n"),
        # HDF5 crashed at MPI_Finalize on a file it could not close, and at 2 ranks hung in it.
        Case("full disk, HDF5", ["dem", "slope", dem, h5, "-of", "HDF5"], 1,
             r"full/slope\.h5: .*No space left on device", h5),
        Case("full disk, HDF5 deflate", ["dem", "slope", dem, h5, "-of", "HDF5", "-co", "COMPRESS=DEFLATE"], 1,
             r"full/slope\.h5: .*No space left on device", h5),
    ]


def tessera_lines(stderr, ranks):
    lines = stderr.splitlines()
    if ranks:
        lines = [line for line in lines if not MPIRUN_NOISE.match(line)]
    return lines


def snapshot(folder):
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else None


def check(args, case, ranks, work):
    """A list of problems with one run of one case (empty when it failed as it should)."""
    if case.existing is not None:
        with open(case.output, "w") as f:
            f.write(case.existing)
    before = {d: snapshot(d) for d in (work, os.path.join(work, "out"), os.path.dirname(case.output))}
    res = systest.tessera(args, case.words, ranks)
    problems = []
    if res.hung:
        return [f"hung for {args.timeout:g} s"]
    if res.returncode != case.status:
        problems.append(f"exit status {res.returncode}, expected {case.status}")
    lines = tessera_lines(res.stderr, ranks)
    if len(lines) != 1 or not lines[0].startswith("tessera: error: "):
        problems.append(f"expected one line 'tessera: error: ...', got {lines!r}")
    elif not case.culprit.search(lines[0]):
        problems.append(f"message does not name the culprit /{case.culprit.pattern}/: {lines[0]!r}")
    if case.existing is not None:
        problems += earlier_output_problems(case)
    elif os.path.lexists(case.output):
        problems.append(f"a file exists at the output path {case.output}")
    for folder, listing in before.items():
        if snapshot(folder) != listing:
            problems.append(f"{folder} changed: {listing} -> {snapshot(folder)}")
    if case.existing is not None and os.path.lexists(case.output):
        os.remove(case.output)
    return problems


def earlier_output_problems(case):
    """The file that was at the output path must be there as it was."""
    if not os.path.isfile(case.output):
        return [f"the earlier output at {case.output} is gone"]
    with open(case.output) as f:
        text = f.read()
    return [] if text == case.existing else [f"the earlier output at {case.output} changed: {text[:40]!r}"]


def main():
    args = systest.parse_args("tessera on bad inputs, alone and under mpirun",
                              lambda p: p.set_defaults(timeout=60.0))
    failures = []
    with tempfile.TemporaryDirectory(prefix="tessera-bad-") as work:
        cases = make_cases(args, work)
        full = mount_full_disk(work)
        if full:
            cases += full_disk_cases(args, full)
        runs = [(c, r) for c in cases for r in (0, 2)]
        runs += [(c, 3) for c in cases
                 if c.name in ("tiled GeoTIFF cut in half", "job file syntax error", "full disk, uncompressed",
                               "full disk, HDF5")]
        try:
            run_cases(args, runs, work, failures)
        finally:
            if full:
                subprocess.run(["umount", full], check=False)
    if failures:
        systest.fail(f"{len(failures)} of {len(runs)} runs misbehaved: {', '.join(failures)}")
    print(f"{len(runs)} bad-input runs failed cleanly")


def run_cases(args, runs, work, failures):
    for case, ranks in runs:
        label = f"{case.name} [{f'np={ranks}' if ranks else 'alone'}]"
        problems = check(args, case, ranks, work)
        print(f"{'ok  ' if not problems else 'FAIL'} {label}" + (f": {'; '.join(problems)}" if problems else ""),
              flush=True)
        if problems:
            failures.append(label)


if __name__ == "__main__":
    sys.exit(main())
