# System test: `tessera calc` end to end on real Landsat images against numpy and gdal_calc.py.
"""tessera calc with gdal_calc.py's flags, at 2 ranks, against numpy references and gdal_calc.py.

gdal_calc.py evaluates numpy expressions on the inputs' own types: (A-B)/(A+B) on UInt16 wraps
around where A < B, so its users write A.astype(float). tessera computes in float64 throughout.
Where both compute the same thing (astype(float) spellings, A*(A>B)) the files must hold the
same cells; where numpy wraps, tessera must equal the float64 numpy reference and gdal_calc.py
the wrapped one (checked, so the difference is the documented one and nothing else).
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from osgeo import gdal

import systest

GDAL_CALC = "/usr/bin/gdal_calc.py"


def cells(path, band=1):
    ds = gdal.Open(path)
    b = ds.GetRasterBand(band)
    return b.ReadAsArray(), b.GetNoDataValue(), gdal.GetDataTypeName(b.DataType), ds.RasterCount


def gdal_calc(words):
    cmd = [sys.executable, GDAL_CALC, "--quiet", "--overwrite"] + words
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        systest.fail(" ".join(cmd) + "\n" + done.stderr)


def tessera_calc(args, words, ranks=2):
    outcome = systest.tessera(args, ["calc", "-q"] + words, ranks=ranks)
    if outcome.returncode != 0:
        systest.fail(outcome.describe())


def same(what, got, want):
    if got[2] != want[2] or got[1] != want[1] or not np.array_equal(got[0], want[0]):
        diff = int(np.count_nonzero(got[0] != want[0])) if got[0].shape == want[0].shape else -1
        systest.fail(f"{what}: type {got[2]} vs {want[2]}, nodata {got[1]} vs {want[1]}, "
                     f"{diff} cells differ")


def nir_with_nodata(folder, data):
    path = os.path.join(folder, "nir.tif")
    gdal.Translate(path, os.path.join(data, "landsat_b5.tif"))
    ds = gdal.Open(path, gdal.GA_Update)
    ds.GetRasterBand(1).WriteArray(np.full((60, 200), 65535, np.uint16), 400, 700)
    ds = None
    return path


def check_ndvi(args, tmp):
    nir = nir_with_nodata(tmp, args.data)
    red = os.path.join(args.data, "landsat_b4.tif")
    ours = os.path.join(tmp, "ndvi.tif")
    tessera_calc(args, ["-A", nir, "-B", red, "--calc=(A-B)/(A+B)", "--outfile", ours,
                        "--type=Float32"])
    a, b = cells(nir)[0].astype(np.float64), cells(red)[0].astype(np.float64)
    nodata = (a == 65535) | (b == 65535)
    with np.errstate(all="ignore"):
        want = ((a - b) / (a + b)).astype(np.float32)
    want[nodata] = np.float32(3.402823466e38)
    same("NDVI vs numpy float64", cells(ours), (want, float(np.float32(3.402823466e38)), "Float32", 1))
    theirs = os.path.join(tmp, "ndvi_gdal.tif")
    gdal_calc(["-A", nir, "-B", red, "--calc=(A.astype(float)-B)/(A.astype(float)+B)",
               "--outfile", theirs, "--type=Float32"])
    same("NDVI vs gdal_calc.py (astype(float))", cells(ours), cells(theirs))
    wrapped = os.path.join(tmp, "ndvi_wrapped.tif")
    gdal_calc(["-A", nir, "-B", red, "--calc=(A-B)/(A+B)", "--outfile", wrapped, "--type=Float32"])
    w, o = cells(wrapped)[0], cells(ours)[0]
    ge = (a >= b) & ~nodata
    if not np.array_equal(w[ge], o[ge]) or np.array_equal(w[~ge & ~nodata], o[~ge & ~nodata]):
        systest.fail("NDVI vs gdal_calc.py on raw uint16: expected equal cells exactly where "
                     "nir >= red (numpy wraps nir - red elsewhere)")
    print(f"NDVI: equals numpy float64 and gdal_calc.py (astype(float)) on {a.size} cells, "
          f"{int(nodata.sum())} nodata; raw uint16 gdal_calc.py differs only where nir < red "
          f"({int((~ge & ~nodata).sum())} cells, numpy wrap-around)")


def check_l7(args, tmp):
    l7 = os.path.join(args.data, "L7_ETMs.tif")
    ours = os.path.join(tmp, "l7.tif")
    flags = ["-A", l7, "--A_band=4", "-B", l7, "--B_band", "3", "--type=Int16"]
    tessera_calc(args, flags + ["--calc", "A.astype(float) - B", "--calc", "A*(A>B)",
                                "--calc", "A - B", "--outfile", ours])
    theirs = os.path.join(tmp, "l7_gdal.tif")
    gdal_calc(flags + ["--calc", "A.astype(float) - B", "--calc", "A*(A>B)", "--outfile", theirs])
    for band in (1, 2):
        same(f"L7 band {band} vs gdal_calc.py", cells(ours, band), cells(theirs, band))
    a, b = cells(l7, 4)[0].astype(np.int64), cells(l7, 3)[0].astype(np.int64)
    same("L7 band 3 (A - B, no uint8 wrap) vs numpy", cells(ours, 3),
         ((a - b).astype(np.int16), -32768.0, "Int16", 3))
    if cells(ours)[3] != 3:
        systest.fail("three --calc should give three bands")
    print("L7: bands 4 and 3 of one file; three --calc give three Int16 bands; equal to "
          "gdal_calc.py (astype(float), A*(A>B)) and to numpy (A - B without wrap-around)")


# Inputs of these types, without --type: gdal_calc.py writes the union of their types
# (GDALDataTypeUnion) with its default nodata for it, and so must tessera. The last case's
# third input is not read by the expression but counts, as in gdal_calc.py.
DEFAULT_TYPE_CASES = [
    (["Byte", "Byte"], "A*(A>B)"),
    (["UInt16"], "A+1"),
    (["UInt16", "Int16"], "A+B"),
    (["Byte", "Int16"], "B-A"),
    (["Int16", "Float32"], "A-B"),
    (["Int32", "Float32"], "A-B"),
    (["UInt32", "Byte"], "A+B"),
    (["Byte", "Byte", "Float64"], "maximum(A, B)"),
]


def typed_inputs(args, tmp, types):
    """Crops of L7 bands 4, 3, 2... written as `types`, one file each."""
    l7 = os.path.join(args.data, "L7_ETMs.tif")
    paths = []
    for i, name in enumerate(types):
        path = os.path.join(tmp, f"typed_{i}_{name}.tif")
        gdal.Translate(path, l7, bandList=[4 - i], srcWin=[0, 0, 120, 100], outputType=gdal.GetDataTypeByName(name))
        paths.append(path)
    return paths


def check_default_type(args, tmp):
    letters = "ABC"
    for types, expr in DEFAULT_TYPE_CASES:
        flags = []
        for letter, path in zip(letters, typed_inputs(args, tmp, types)):
            flags += [f"-{letter}", path]
        ours = os.path.join(tmp, "default_ours.tif")
        theirs = os.path.join(tmp, "default_gdal.tif")
        tessera_calc(args, flags + ["--calc", expr, "--outfile", ours, "--overwrite"], ranks=1)
        gdal_calc(flags + ["--calc", expr, "--outfile", theirs])
        same(f"{'+'.join(types)} without --type vs gdal_calc.py", cells(ours), cells(theirs))
    flags = []
    for letter, path in zip(letters, typed_inputs(args, tmp, ["UInt32", "Int16"])):
        flags += [f"-{letter}", path]
    expect_error(args, flags + ["--calc=A", "--outfile", os.path.join(tmp, "int64.tif")],
                 "--type: gdal_calc.py's default for input B (Int16) with UInt32 inputs is Int64")
    print(f"default type: {len(DEFAULT_TYPE_CASES)} combinations of input types give "
          "gdal_calc.py's type, nodata and cells; UInt32 with Int16 (Int64) is refused")


def check_hdf5(args, tmp):
    l7 = os.path.join(args.data, "L7_ETMs.tif")
    ours = os.path.join(tmp, "l7.h5")
    tessera_calc(args, ["-A", l7, "--A_band=4", "-B", l7, "--B_band=3", "--calc=(A-B)/(A+B)",
                        "--type=Float64", "--NoDataValue=-2", "--outfile", ours])
    got = gdal.Open(ours).ReadAsArray()
    a, b = cells(l7, 4)[0].astype(np.float64), cells(l7, 3)[0].astype(np.float64)
    with np.errstate(all="ignore"):
        want = (a - b) / (a + b)
    want[np.isnan(want)] = -2
    if not np.array_equal(got, want):
        systest.fail("HDF5 outfile (.h5) differs from numpy")
    print("HDF5: an outfile ending in .h5 holds the numpy reference")


def expect_error(args, words, part):
    outcome = systest.tessera(args, ["calc"] + words)
    if outcome.returncode == 0 or part not in outcome.stderr:
        systest.fail(f"expected an error with {part!r}: {outcome.describe()}")


def check_own_output(args, tmp):
    """An input beside a GDAL-written output of it: gdaldem writes chiprofiler_dem's CRS back
    with an AUTHORITY node more, a different text for the same CRS, which must not stop the job;
    another CRS must. tessera's own output carries the DEM's GeoTIFF keys as they are, so GDAL
    reads the same CRS text from it."""
    dem = os.path.join(args.data, "chiprofiler_dem.tif")
    ours_slope = os.path.join(tmp, "dem_slope_tessera.tif")
    outcome = systest.tessera(args, ["dem", "slope", dem, ours_slope, "-q"], ranks=2)
    if outcome.returncode != 0:
        systest.fail(outcome.describe())
    if gdal.Open(ours_slope).GetProjectionRef() != gdal.Open(dem).GetProjectionRef():
        systest.fail("tessera's slope does not carry the DEM's CRS as it is")
    slope = os.path.join(tmp, "dem_slope.tif")
    done = subprocess.run(["gdaldem", "slope", dem, slope, "-q"], capture_output=True, text=True,
                          timeout=120)
    if done.returncode != 0:
        systest.fail(f"gdaldem slope: {done.stderr.strip()}")
    if gdal.Open(slope).GetProjectionRef() == gdal.Open(dem).GetProjectionRef():
        systest.fail("gdaldem's slope CRS text equals the DEM's: this check would not test anything")
    words = ["-A", dem, "-B", slope, "--calc=A*(B>10)", "--type=Float32"]
    ours, theirs = os.path.join(tmp, "steep.tif"), os.path.join(tmp, "steep_gdal.tif")
    tessera_calc(args, words + ["--outfile", ours])
    gdal_calc(words + ["--outfile", theirs])
    got, want = cells(ours), cells(theirs)
    # Where the DEM is NaN (it declares no nodata) the slope is nodata; gdal_calc.py then writes
    # NaN (its nodata mask multiplies the NaN result by 0), tessera the output's nodata.
    nan = np.isnan(want[0])
    if (got[1:] != want[1:] or not np.array_equal(got[0][~nan], want[0][~nan])
            or not np.all(got[0][nan] == got[1])):
        systest.fail(f"A*(B>10) of a DEM and its own slope: nodata {got[1]} vs {want[1]}, "
                     f"{int(np.count_nonzero(got[0][~nan] != want[0][~nan]))} cells differ")
    moved = os.path.join(tmp, "dem_12n.tif")
    gdal.Translate(moved, dem, outputSRS="EPSG:32612")
    expect_error(args, ["-A", dem, "-B", moved, "--calc=A+B", "--outfile", os.path.join(tmp, "z.tif")],
                 "input 'B' is not on the grid of input 'A': crs differs")
    print("own output: a DEM with its slope equals gdal_calc.py; another CRS is refused")


def check_errors(args, tmp):
    red = os.path.join(args.data, "landsat_b4.tif")
    l7 = os.path.join(args.data, "L7_ETMs.tif")
    existing = os.path.join(tmp, "ndvi.tif")
    expect_error(args, ["-A", red, "--calc=A", "--outfile", existing],
                 f"--outfile: '{existing}' exists (use --overwrite to replace it)")
    expect_error(args, ["-A", red, "--calc=(A+", "--outfile", os.path.join(tmp, "x.tif")],
                 "--calc: column 4: expected a number, a name or '(' but found the end of the "
                 "expression")
    expect_error(args, ["-A", red, "-B", l7, "--calc=A+B", "--outfile", os.path.join(tmp, "y.tif")],
                 "input 'B' is not on the grid of input 'A': size 349 x 352 vs 1128 x 1428; "
                 "geotransform (")
    print("errors: existing outfile, expression column, grid mismatch")


def check_help(args):
    """--help and -h print gdal_calc.py's and gdaldem's own usage with every flag, and succeed."""
    for words, first, flag in ((["calc", "--help"], "Usage: tessera calc", "--NoDataValue"),
                               (["calc", "-h"], "Usage: tessera calc", "--calc EXPR"),
                               (["dem", "--help"], "Usage: tessera dem", "-compute_edges"),
                               (["dem", "-h"], "Usage: tessera dem", "-alg")):
        done = systest.tessera(args, words)
        if done.returncode != 0 or not done.stdout.startswith(first) or flag not in done.stdout:
            systest.fail("tessera %s: expected its usage with %s, exit 0\n%s" %
                         (" ".join(words), flag, done.describe()))
    print("help: tessera calc and tessera dem print their usage with --help and -h")


def main():
    args = systest.parse_args(__doc__)
    args.data = os.path.abspath(args.data)
    tmp = tempfile.mkdtemp(prefix="tessera-calc-")
    try:
        check_help(args)
        check_ndvi(args, tmp)
        check_l7(args, tmp)
        check_hdf5(args, tmp)
        check_default_type(args, tmp)
        check_own_output(args, tmp)
        check_errors(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
