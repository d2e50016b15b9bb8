# System test: `tessera dem` against gdaldem on the real DEMs of tests/data and on two rough synthetic ones, every mode and the flags that change results: 0 differing cells, bit for bit.
import os
import sys
import tempfile
import time

import numpy as np
from osgeo import gdal

import systest

# Inputs and the flags each needs (n43.tif is in degrees: -s 111120 for hillshade and slope).
DEMS = {
    "n43.tif": ["-s", "111120"],
    "srtm.tif": [],
    "nz_elev.tif": [],
    "chiprofiler_dem.tif": [],
}
# Uncompressed copies, which tessera reads straight from the file rather than through GDAL:
# tiles (partial edge tiles; pread into its block slots) and strips (mapped). Made in the
# test's temporary folder from the input named.
COPIES = {
    "nz_elev_tiles.tif": ("nz_elev.tif", ["TILED=YES", "BLOCKXSIZE=64", "BLOCKYSIZE=32"]),
    "srtm_strips.tif": ("srtm.tif", ["BLOCKYSIZE=5"]),
}
DEMS.update({copy: DEMS[source] for copy, (source, _) in COPIES.items()})
# Synthetic rasters made in the temporary folder: noise whose amplitude changes by orders of
# magnitude from row to row, so slopes, aspects and shades cover their whole range densely and
# many cells land near a rounding boundary of the vector paths; with nodata cells and a NaN.
SYNTHETIC = {"rough_float32.tif": "Float32", "rough_int16.tif": "Int16"}
DEMS.update({name: [] for name in SYNTHETIC})
SCALED_MODES = {"hillshade", "slope"}

CASES = [
    ("hillshade", []),
    ("hillshade", ["-combined"]),
    ("hillshade", ["-multidirectional"]),
    ("hillshade", ["-igor"]),
    ("hillshade", ["-alg", "ZevenbergenThorne"]),
    ("hillshade", ["-combined", "-alg", "ZevenbergenThorne"]),
    ("hillshade", ["-multidirectional", "-alg", "ZevenbergenThorne"]),
    ("hillshade", ["-igor", "-alg", "ZevenbergenThorne"]),
    ("hillshade", ["-compute_edges"]),
    ("hillshade", ["-z", "2", "-az", "200", "-alt", "30"]),
    ("slope", []),
    ("slope", ["-p"]),
    ("slope", ["-alg", "ZevenbergenThorne"]),
    ("slope", ["-p", "-alg", "ZevenbergenThorne"]),
    ("slope", ["-compute_edges"]),
    ("aspect", []),
    ("aspect", ["-trigonometric"]),
    ("aspect", ["-zero_for_flat"]),
    ("aspect", ["-alg", "ZevenbergenThorne"]),
    ("aspect", ["-trigonometric", "-zero_for_flat"]),
    ("TRI", []),
    ("TRI", ["-alg", "Wilson"]),
    ("TPI", []),
    ("roughness", []),
    ("color-relief", []),
    ("color-relief", ["-alpha"]),
    ("color-relief", ["-exact_color_entry"]),
    ("color-relief", ["-nearest_color_entry"]),
    ("color-relief", ["-alpha", "-exact_color_entry"]),
]

RTOL = 0.0


def make_rough(path, type_name, width=700, height=400, seed=21):
    """A rough synthetic DEM (see SYNTHETIC), tiled 128 x 128, nodata -9999."""
    rng = np.random.default_rng(seed)
    float_cells = type_name == "Float32"
    amplitude = (10.0 ** rng.uniform(-3, 4, (height, 1)) if float_cells
                 else 1 + 3000 * rng.random((height, 1)) * rng.random((height, 1)))
    cells = 200 + 300 * rng.random((height, 1)) + amplitude * rng.random((height, width))
    cells[rng.random((height, width)) < 0.002] = -9999
    cells[50:60, 100:130] = 321  # a flat
    if float_cells:
        cells[7, 9] = np.nan
    cells = cells.astype(np.float32 if float_cells else np.int16)
    gtype = gdal.GDT_Float32 if float_cells else gdal.GDT_Int16
    ds = gdal.GetDriverByName("GTiff").Create(path, width, height, 1, gtype,
                                              ["TILED=YES", "BLOCKXSIZE=128", "BLOCKYSIZE=128"])
    ds.SetGeoTransform((500000, 30, 0, 4500000, 0, -30))
    band = ds.GetRasterBand(1)
    band.SetNoDataValue(-9999)
    band.WriteArray(cells)
    ds = None


def differing_bits(ref, got):
    """Cells whose bits differ, over every band, where both are not NaN (NaN is compared as
    nodata by compare_pixels), and a note on the first."""
    total, note = 0, ""
    for i, (rb, gb) in enumerate(zip(ref.bands, got.bands), start=1):
        a, b = rb["array"], gb["array"]
        if not np.issubdtype(a.dtype, np.floating):
            continue
        nan = np.isnan(a) | np.isnan(b)
        bits = a.view(np.uint32 if a.itemsize == 4 else np.uint64)
        got_bits = b.view(bits.dtype)
        differ = (bits != got_bits) & ~nan
        n = int(np.count_nonzero(differ))
        if n and not note:
            y, x = np.argwhere(differ)[0]
            note = f"band {i}: {n} cells differ in their bits (first at {x},{y}: {b[y, x]!r} vs {a[y, x]!r})"
        total += n
    return total, note


def input_path(args, tmp, dem):
    """The input's path: in tests/data, or for a copy in `tmp`, made on first use."""
    if dem not in COPIES and dem not in SYNTHETIC:
        return os.path.join(args.data, dem)
    path = os.path.join(tmp, dem)
    if dem in SYNTHETIC:
        if not os.path.exists(path):
            make_rough(path, SYNTHETIC[dem])
        return path
    if not os.path.exists(path):
        source, options = COPIES[dem]
        systest.gdal.Translate(path, os.path.join(args.data, source), creationOptions=options)
    return path


def case_words(args, tmp, mode, flags, dem, out):
    """gdaldem's argument list (after the program name) for one case."""
    src = input_path(args, tmp, dem)
    extra = DEMS[dem] if mode in SCALED_MODES else []
    middle = [os.path.join(args.data, "color_file.txt")] if mode == "color-relief" else []
    return [mode, src] + middle + [out] + flags + extra + ["-q"]


def run_case(args, tmp, index, mode, flags, dem):
    """(score, line): runs both tools and compares; every third case runs tessera on 2 ranks."""
    ranks = 2 if index % 3 == 0 else 0
    ref_path = os.path.join(tmp, f"ref{index}.tif")
    got_path = os.path.join(tmp, f"got{index}.tif")
    label = f"{dem} {mode} {' '.join(flags) or '(default)'} [{'np=2' if ranks else 'alone'}]"
    ref_run = systest.run([args.gdaldem] + case_words(args, tmp, mode, flags, dem, ref_path), args.timeout)
    if ref_run.returncode != 0:
        return 1e9, f"FAIL {label}: gdaldem failed: {ref_run.describe()}"
    got_run = systest.tessera(args, ["dem"] + case_words(args, tmp, mode, flags, dem, got_path), ranks)
    if got_run.returncode != 0:
        return 1e9, f"FAIL {label}: tessera failed: {got_run.describe()}"
    if not os.path.exists(got_path):
        return 1e9, f"FAIL {label}: tessera exited 0 but wrote no {got_path}"
    ref, got = systest.Raster(ref_path), systest.Raster(got_path)
    problems = systest.compare_metadata(ref, got)
    if not got.is_tiled():
        problems.append(f"output not tiled (block {got.bands[0]['block']})")
    if problems:
        return 1e8, f"FAIL {label}: {'; '.join(problems)}"
    score, text = systest.compare_pixels(ref, got, RTOL)
    bits, note = differing_bits(ref, got)
    if bits:
        score, text = max(score, 1e6 + bits), f"{text}; {note}"
    for p in (ref_path, got_path):
        os.remove(p)
    return score, f"{'ok  ' if score == 0 else 'FAIL'} {label}: {text}"


def main():
    args = systest.parse_args("tessera dem against gdaldem", lambda p: p.add_argument(
        "--dem", action="append", choices=sorted(DEMS), help="only these inputs (default: all)"))
    dems = args.dem or list(DEMS)
    worst = (0.0, None)
    failures = 0
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tessera-cmp-") as tmp:
        index = 0
        for dem in dems:
            for mode, flags in CASES:
                score, line = run_case(args, tmp, index, mode, flags, dem)
                print(line, flush=True)
                index += 1
                failures += score > 0
                if score > worst[0]:
                    worst = (score, line)
    print(f"{index} cases, {failures} failed, {time.monotonic() - start:.1f} s")
    if failures:
        systest.fail(f"worst case: {worst[1]}")


if __name__ == "__main__":
    sys.exit(main())
