# Shared helpers of the system tests: command-line options, running tessera (alone or under mpirun), comparing rasters.
import argparse
import math
import os
import signal
import subprocess
import sys

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()

ROOT_ENV = {
    "OMPI_ALLOW_RUN_AS_ROOT": "1",
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    "OMPI_MCA_rmaps_base_oversubscribe": "1",
}


def parse_args(description, extra=None):
    """The options every system script takes; `extra(parser)` may add its own."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--tessera", required=True, help="path of the tessera executable")
    p.add_argument("--data", required=True, help="folder of the test rasters (tests/data)")
    p.add_argument("--gdaldem", default="gdaldem", help="path of GDAL's gdaldem")
    p.add_argument("--mpiexec", default="mpirun", help="path of mpirun")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds before one command counts as hung")
    if extra:
        extra(p)
    return p.parse_args()


def environment(threads=1):
    env = dict(os.environ)
    env.update(ROOT_ENV)
    env["OMP_NUM_THREADS"] = str(threads)
    return env


def mpi_prefix(args, ranks):
    """The launcher words for `ranks` processes; none for a plain run (ranks == 0)."""
    if ranks <= 0:
        return []
    return [args.mpiexec, "-n", str(ranks), "--oversubscribe", "--bind-to", "none"]


class Outcome:
    """What one command did: exit status (None when it hung), stdout and stderr text."""

    def __init__(self, cmd, returncode, stdout, stderr):
        self.cmd = cmd
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    @property
    def hung(self):
        return self.returncode is None

    def describe(self):
        status = "hung (killed)" if self.hung else f"exit {self.returncode}"
        return f"{' '.join(self.cmd)}: {status}\n--- stderr ---\n{self.stderr.rstrip()}"


def run(cmd, timeout, env=None):
    """Runs cmd in its own process group; on timeout kills the whole group (mpirun and its ranks).
    A command that cannot start at all comes back as exit status 127 with the reason on stderr."""
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env or environment(), start_new_session=True)
    except OSError as e:
        return Outcome(cmd, 127, "", f"cannot start: {e}")
    try:
        out, err = proc.communicate(timeout=timeout)
        return Outcome(cmd, proc.returncode, out, err)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return Outcome(cmd, None, out, err)


def tessera(args, words, ranks=0, threads=1, env=None, address_space=None):
    """Runs `tessera WORDS...`, under `mpirun -n ranks` when ranks > 0, with the variables `env`
    added to the environment and each process's address space limited to `address_space` bytes
    (prlimit --as) when given."""
    cmd = mpi_prefix(args, ranks) + [args.tessera] + list(words)
    if address_space:
        cmd = ["prlimit", f"--as={address_space}", "--"] + cmd
    environ = environment(threads)
    environ.update(env or {})
    return run(cmd, args.timeout, environ)


def write_float32(path, z, nodata, geotransform=(0, 30, 0, 0, 0, -30)):
    """A one-band Float32 GeoTIFF of `z` in UTM 33N (EPSG:32633), `nodata` set unless None."""
    ds = gdal.GetDriverByName("GTiff").Create(path, z.shape[1], z.shape[0], 1, gdal.GDT_Float32)
    ds.SetGeoTransform(geotransform)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    ds.SetProjection(srs.ExportToWkt())
    band = ds.GetRasterBand(1)
    if nodata is not None:
        band.SetNoDataValue(nodata)
    band.WriteArray(z)
    band = None
    ds = None


def read_band(path):
    """Band 1's cells and nodata value (None when it has none)."""
    ds = gdal.Open(path)
    band = ds.GetRasterBand(1)
    return band.ReadAsArray(), band.GetNoDataValue()


class Raster:
    """Everything compared about a raster file, read once."""

    def __init__(self, path):
        ds = gdal.Open(path)
        self.path = path
        self.size = (ds.RasterXSize, ds.RasterYSize, ds.RasterCount)
        self.geotransform = ds.GetGeoTransform(can_return_null=True)
        wkt = ds.GetProjection()
        self.srs = osr.SpatialReference(wkt=wkt) if wkt else None
        self.bands = []
        for i in range(1, ds.RasterCount + 1):
            band = ds.GetRasterBand(i)
            self.bands.append({
                "type": gdal.GetDataTypeName(band.DataType),
                "nodata": band.GetNoDataValue(),
                "block": tuple(band.GetBlockSize()),
                "checksum": band.Checksum(),
                "array": band.ReadAsArray(),
            })
        self.driver = ds.GetDriver().ShortName
        self.compression = ds.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE")

    def is_tiled(self):
        bx, by = self.bands[0]["block"]
        return bx != self.size[0] or (bx == by and bx % 16 == 0)


def _same_nodata(a, b):
    if a is None or b is None:
        return a is None and b is None
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b


def _nodata_mask(array, nodata):
    mask = np.zeros(array.shape, dtype=bool)
    if np.issubdtype(array.dtype, np.floating):
        mask |= np.isnan(array)
    if nodata is not None and not math.isnan(nodata):
        mask |= array == nodata
    return mask


def compare_metadata(ref, got):
    """Problems that make two rasters incomparable (size, bands, type, nodata, georeferencing)."""
    problems = []
    if ref.size != got.size:
        problems.append(f"size {got.size} != {ref.size}")
        return problems
    for i, (rb, gb) in enumerate(zip(ref.bands, got.bands), start=1):
        if rb["type"] != gb["type"]:
            problems.append(f"band {i} type {gb['type']} != {rb['type']}")
        if not _same_nodata(rb["nodata"], gb["nodata"]):
            problems.append(f"band {i} nodata {gb['nodata']} != {rb['nodata']}")
    if ref.geotransform != got.geotransform:
        if ref.geotransform is None or got.geotransform is None or not np.allclose(
                ref.geotransform, got.geotransform, rtol=1e-12, atol=0):
            problems.append(f"geotransform {got.geotransform} != {ref.geotransform}")
    if (ref.srs is None) != (got.srs is None) or (ref.srs is not None and not ref.srs.IsSame(got.srs)):
        problems.append("CRS differs")
    return problems


def compare_pixels(ref, got, rtol):
    """(score, text): score 0 when equal within tolerance; larger is worse.

    Integer bands must be identical. Float bands must agree on which cells are nodata or NaN,
    exactly, and elsewhere within rtol relative to max(|reference|, 1)."""
    worst, notes = 0.0, []
    for i, (rb, gb) in enumerate(zip(ref.bands, got.bands), start=1):
        a, b = rb["array"], gb["array"]
        if not np.issubdtype(a.dtype, np.floating):
            diff = np.abs(a.astype(np.int64) - b.astype(np.int64))
            n = int(np.count_nonzero(diff))
            if n:
                worst = max(worst, 1e6 + n)
                notes.append(f"band {i}: {n} cells differ (max {int(diff.max())})")
            continue
        ma, mb = _nodata_mask(a, rb["nodata"]), _nodata_mask(b, gb["nodata"])
        nan_a, nan_b = np.isnan(a), np.isnan(b)
        n_mask = int(np.count_nonzero((ma != mb) | (nan_a != nan_b)))
        if n_mask:
            worst = max(worst, 1e6 + n_mask)
            notes.append(f"band {i}: nodata/NaN differs in {n_mask} cells")
        valid = ~ma & ~mb
        if not valid.any():
            continue
        av, bv = a[valid].astype(np.float64), b[valid].astype(np.float64)
        rel = np.abs(av - bv) / np.maximum(np.abs(av), 1.0)
        k = int(np.argmax(rel))
        if rel[k] > rtol:
            worst = max(worst, float(rel[k]) / rtol)
            notes.append(f"band {i}: {int(np.count_nonzero(rel > rtol))} cells beyond {rtol:g} "
                         f"(worst {bv[k]!r} vs {av[k]!r}, rel {rel[k]:.2e})")
        elif not notes:
            notes.append(f"max rel diff {rel[k]:.1e}")
    return worst, "; ".join(notes) if notes else "identical"


def fill_disk(folder, room=0):
    """A file in `folder` that takes every byte left on its disk but the last `room`; returns its
    path (written unbuffered, to the last byte, then cut by `room`)."""
    filler = os.path.join(folder, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        for chunk in (65536, 4096, 1):
            try:
                while True:
                    os.write(fd, bytes(chunk))
            except OSError:
                pass
        if room:
            os.ftruncate(fd, max(0, os.fstat(fd).st_size - room))
    finally:
        os.close(fd)
    return filler


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def workers(waiting=False):
    """How many independent commands a test runs at once: one a core, twice that for commands
    that mostly wait, such as a failing run under mpirun (after a rank's non-zero exit mpirun
    sleeps through its kill sequence, odls_base_sigkill_timeout: 1-2 s of a 2.1 s run, 0.1 s of
    CPU). TESSERA_TEST_WORKERS sets the number for both; 1 runs them one after another."""
    chosen = int(os.environ.get("TESSERA_TEST_WORKERS", "0"))
    if chosen > 0:
        return chosen
    n = os.cpu_count() or 2
    return 2 * n if waiting else n


class Pool:
    """Independent work (tessera runs, reference tools) a few at a time, each started by
    submit() and its result taken, in the test's own order, by .result() of what it returned.
    On leaving the `with`, work not yet begun is cancelled (a test that failed ends at once)."""

    def __init__(self, size=None):
        import concurrent.futures
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=size or workers())

    def submit(self, fn, *args, **kwargs):
        return self.executor.submit(fn, *args, **kwargs)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.executor.shutdown(wait=True, cancel_futures=True)
        return False
