# System test: job steps that need statistics of a whole band (stretch, normalize, calc naming
# mean/std/min/max/percentile) against numpy, on 2 ranks, and the reduction pass `tessera plan` shows.
"""Steps that need a global number first, on real rasters, against numpy:

- stretch (percentiles 2 and 98, the default) of the New Zealand DEM (Float32, NaN nodata):
  (v - p2) * (254 / (p98 - p2)) + 1 rounded half away from zero and clamped to 0..255, 0 where
  nodata, with p2 and p98 from numpy.percentile: equal cells;
- stretch mode minmax of a focal.mean step (computed in the reduction pass too), against the same
  step run alone into a file and stretched by numpy: equal cells;
- normalize of the Int16 n43 DEM: (v - mean) / std as Float32, mean and std exact (Python
  integers): equal cells;
- calc `ndvi > percentile(ndvi, 90)` on the Landsat pair (the percentile of a step) and
  `(nir - mean(nir)) / std(nir)`, `red - min(red)`, against numpy: equal cells;
- `tessera plan` lists the reduction pass first, with the bands it reduces.
"""
import math
import os
import shutil
import sys
import tempfile
from fractions import Fraction

import numpy as np
from osgeo import gdal

import systest


def read(path):
    ds = gdal.Open(path)
    band = ds.GetRasterBand(1)
    return band.ReadAsArray(), band.GetNoDataValue()


def valid_mask(a, nodata):
    bad = np.isnan(a) if a.dtype.kind == "f" else np.zeros(a.shape, bool)
    if nodata is not None and not math.isnan(nodata):
        bad |= a == a.dtype.type(nodata)
    return ~bad


def round_half_away(x):
    return np.where(x >= 0, np.floor(x + 0.5), np.ceil(x - 0.5))


def to_byte(x):
    with np.errstate(invalid="ignore"):  # NaN (nodata) cells: replaced by the caller
        return np.clip(round_half_away(x), 0, 255).astype(np.uint8)


def exact_mean_std(values):
    """As tessera documents them: the exact sum rounded once over n; sqrt((n Q - S^2) / n^2)."""
    uniq, counts = np.unique(values.astype(np.float64), return_counts=True)
    s = q = 0
    for v, c in zip(uniq.tolist(), counts.tolist()):
        num, den = v.as_integer_ratio()
        scaled = num * ((1 << 1074) // den)
        s += c * scaled
        q += c * scaled * scaled
    n = int(counts.sum())
    spread = float(Fraction(n * q - s * s, 1 << 2148))
    return float(Fraction(s, 1 << 1074)) / n, math.sqrt(max(0.0, spread / (float(n) * float(n))))


def stretch_ref(a, nodata, lo, hi):
    ok = valid_mask(a, nodata)
    v = a.astype(np.float64)
    out = to_byte(np.clip((v - lo) * (254.0 / (hi - lo)) + 1.0, 1.0, 255.0))  # valid stays valid
    return np.where(ok, out, 0).astype(np.uint8)


DEM_JOB = """[input.dem]
path = "{nz}"

[[step]]
id = "st"
op = "stretch"
in = "dem"

[[step]]
id = "sm"
op = "focal.mean"
in = "dem"
radius = 2

[[step]]
id = "smst"
op = "stretch"
in = "sm"
mode = "minmax"

[[output]]
from = ["st"]
path = "st.tif"
[[output]]
from = ["smst"]
path = "smst.tif"
"""

N43_JOB = """[input.n43]
path = "{n43}"

[[step]]
id = "z"
op = "normalize"
in = "n43"

[[output]]
from = ["z"]
path = "z.tif"
"""

FOCAL_JOB = """[input.dem]
path = "{nz}"

[[step]]
id = "sm"
op = "focal.mean"
in = "dem"
radius = 2

[[output]]
from = ["sm"]
path = "sm.tif"
"""

CALC_JOB = """[input.nir]
path = "{nir}"
[input.red]
path = "{red}"

[[step]]
id = "ndvi"
op = "calc"
expr = "(nir - red) / (nir + red)"

[[step]]
id = "top"
op = "calc"
expr = "ndvi > percentile(ndvi, 90)"
type = "uint8"

[[step]]
id = "zn"
op = "calc"
expr = "(nir - mean(nir)) / std(nir)"
type = "float64"

[[step]]
id = "low"
op = "calc"
expr = "red - min(red)"
type = "int32"

[[output]]
from = ["ndvi"]
path = "ndvi.tif"
[[output]]
from = ["top"]
path = "top.tif"
[[output]]
from = ["zn"]
path = "zn.tif"
[[output]]
from = ["low"]
path = "low.tif"
"""


def run_job(args, work, name, text, errors, ranks=2):
    path = os.path.join(work, name + ".toml")
    with open(path, "w") as f:
        f.write(text)
    outcome = systest.tessera(args, ["run", "-q", path], ranks=ranks)
    if outcome.returncode != 0:
        systest.fail("\n".join(errors + [outcome.describe()]))
    return path


def check_dem(args, work, errors):
    nz = os.path.join(args.data, "nz_elev.tif")
    job = run_job(args, work, "dem", DEM_JOB.format(nz=nz), errors)
    run_job(args, work, "focal", FOCAL_JOB.format(nz=nz), errors, ranks=0)
    a, nodata = read(nz)
    lo, hi = np.percentile(a[valid_mask(a, nodata)].astype(np.float64), [2, 98])
    st, st_nodata = read(os.path.join(work, "st.tif"))
    if st_nodata != 0 or not np.array_equal(st, stretch_ref(a, nodata, lo, hi)):
        errors.append("stretch of nz_elev differs from numpy's (nodata %r)" % st_nodata)
    sm, sm_nodata = read(os.path.join(work, "sm.tif"))
    ok = valid_mask(sm, sm_nodata)
    smst, _ = read(os.path.join(work, "smst.tif"))
    ref = stretch_ref(sm, sm_nodata, float(sm[ok].min()), float(sm[ok].max()))
    if not np.array_equal(smst, ref):
        errors.append("minmax stretch of a focal.mean step differs from numpy's")
    plan = systest.tessera(args, ["plan", job])
    lines = [l for l in plan.stdout.splitlines() if "pass " in l]
    if len(lines) != 2 or "(reduction)" not in lines[0] or "statistics of dem" not in lines[0] \
            or "sm (" not in lines[0] or "percentiles 2, 98" not in lines[0] \
            or "reads the results of pass 1" not in lines[1]:
        errors.append("tessera plan does not show the reduction pass first:\n" + plan.stdout)


def check_normalize(args, work, errors):
    n43 = os.path.join(args.data, "n43.dt0")
    run_job(args, work, "n43", N43_JOB.format(n43=n43), errors)
    a, nodata = read(n43)
    ok = valid_mask(a, nodata)
    mean, std = exact_mean_std(a[ok])
    z, z_nodata = read(os.path.join(work, "z.tif"))
    ref = ((a.astype(np.float64) - mean) / std).astype(np.float32)
    if not np.array_equal(z[ok], ref[ok]) or not (z[~ok] == np.float32(z_nodata)).all():
        errors.append("normalize of n43 differs from numpy's")


def check_calc(args, work, errors):
    nir_path, red_path = os.path.join(args.data, "landsat_b5.tif"), os.path.join(args.data, "landsat_b4.tif")
    run_job(args, work, "calc", CALC_JOB.format(nir=nir_path, red=red_path), errors)
    nir, nir_nodata = read(nir_path)
    red, red_nodata = read(red_path)
    ndvi, ndvi_nodata = read(os.path.join(work, "ndvi.tif"))
    ok = valid_mask(ndvi, ndvi_nodata)
    p90 = np.percentile(ndvi[ok].astype(np.float64), 90)
    top, top_nodata = read(os.path.join(work, "top.tif"))
    if not np.array_equal(top[ok], (ndvi[ok].astype(np.float64) > p90).astype(np.uint8)) \
            or not (top[~ok] == top_nodata).all():
        errors.append("ndvi > percentile(ndvi, 90) differs from numpy's")
    nok = valid_mask(nir, nir_nodata)
    mean, std = exact_mean_std(nir[nok])
    zn, _ = read(os.path.join(work, "zn.tif"))
    if not np.array_equal(zn[nok], (nir[nok].astype(np.float64) - mean) / std):
        errors.append("(nir - mean(nir)) / std(nir) differs from numpy's")
    rok = valid_mask(red, red_nodata)
    low, _ = read(os.path.join(work, "low.tif"))
    if not np.array_equal(low[rok], red[rok].astype(np.int64) - int(red[rok].min())):
        errors.append("red - min(red) differs from numpy's")


def main():
    args = systest.parse_args(__doc__)
    args.data = os.path.abspath(args.data)
    errors = []
    work = tempfile.mkdtemp(prefix="tessera-stats-job-")
    try:
        check_dem(args, work, errors)
        check_normalize(args, work, errors)
        check_calc(args, work, errors)
    finally:
        shutil.rmtree(work)
    if errors:
        systest.fail("\n".join(errors))
    print("ok")


if __name__ == "__main__":
    main()
