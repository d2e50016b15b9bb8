# System test: `tessera dem` against gdaldem on the real DEMs of tests/data, every mode and the flags that change results.
import os
import sys
import tempfile
import time

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
SCALED_MODES = {"hillshade", "slope"}

CASES = [
    ("hillshade", []),
    ("hillshade", ["-combined"]),
    ("hillshade", ["-multidirectional"]),
    ("hillshade", ["-igor"]),
    ("hillshade", ["-alg", "ZevenbergenThorne"]),
    ("hillshade", ["-compute_edges"]),
    ("hillshade", ["-z", "2", "-az", "200", "-alt", "30"]),
    ("slope", []),
    ("slope", ["-p"]),
    ("slope", ["-alg", "ZevenbergenThorne"]),
    ("slope", ["-compute_edges"]),
    ("aspect", []),
    ("aspect", ["-trigonometric"]),
    ("aspect", ["-zero_for_flat"]),
    ("aspect", ["-alg", "ZevenbergenThorne"]),
    ("TRI", []),
    ("TRI", ["-alg", "Wilson"]),
    ("TPI", []),
    ("roughness", []),
    ("color-relief", []),
    ("color-relief", ["-alpha"]),
    ("color-relief", ["-exact_color_entry"]),
    ("color-relief", ["-nearest_color_entry"]),
]

RTOL = 1e-4


def input_path(args, tmp, dem):
    """The input's path: in tests/data, or for a copy in `tmp`, made on first use."""
    if dem not in COPIES:
        return os.path.join(args.data, dem)
    path = os.path.join(tmp, dem)
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
