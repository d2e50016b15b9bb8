# System test: the run report (--report JSON, the summary table) and progress lines in a log, on 2 ranks.
import json
import math
import os
import re
import sys
import tempfile

from osgeo import gdal

import systest

TILE = 32
PROGRESS = re.compile(r"^tessera: \d+/\d+ tiles +\d+%, [0-9.]+ Mcells/s, ETA ", re.M)


def write_job(folder, dem):
    text = f"""[input.dem]
path = "{dem}"

[[step]]
id = "hillshade"
op = "hillshade"
in = "dem"

[[step]]
id = "slope"
op = "slope"
in = "dem"

[[output]]
from = "hillshade"
path = "{folder}/hs.tif"
compress = "deflate"

[[output]]
from = "slope"
path = "{folder}/slope.tif"

[run]
tile = {TILE}
"""
    path = os.path.join(folder, "job.toml")
    with open(path, "w") as f:
        f.write(text)
    return path


def tile_bytes(path):
    """The bytes of every tile in a tiled GeoTIFF, from its TileByteCounts."""
    ds = gdal.Open(path)
    band = ds.GetRasterBand(1)
    bx, by = band.GetBlockSize()
    total = 0
    for y in range(math.ceil(ds.RasterYSize / by)):
        for x in range(math.ceil(ds.RasterXSize / bx)):
            total += int(band.GetMetadataItem(f"BLOCK_SIZE_{x}_{y}", "TIFF"))
    return total


def input_bytes(width, height, halo, cell_bytes):
    """What tiles of TILE cells read: each tile grown by the halo, clipped to the raster."""
    total = 0
    for ty in range(math.ceil(height / TILE)):
        for tx in range(math.ceil(width / TILE)):
            x0, y0 = max(0, tx * TILE - halo), max(0, ty * TILE - halo)
            x1 = min(width, min(width, (tx + 1) * TILE) + halo)
            y1 = min(height, min(height, (ty + 1) * TILE) + halo)
            total += (x1 - x0) * (y1 - y0) * cell_bytes
    return total


def check_report(path, ranks, width, height, tile):
    """Problems with the JSON report: ranks, tile counts, times, bytes and the summary."""
    with open(path) as f:
        report = json.load(f)
    problems = []
    tiles = math.ceil(width / tile) * math.ceil(height / tile)
    per_rank = report["per_rank"]
    if report["ranks"] != ranks or [r["rank"] for r in per_rank] != list(range(ranks)):
        problems.append(f"ranks {report['ranks']}, per_rank {[r['rank'] for r in per_rank]}")
    if report["tiles"] != tiles or sum(r["tiles"] for r in per_rank) != tiles:
        problems.append(f"tiles {report['tiles']} / {sum(r['tiles'] for r in per_rank)}, want {tiles}")
    for r in per_rank:
        for key in ("read_s", "compute_s", "encode_s", "communicate_s", "write_s", "wait_s"):
            if not r[key] >= 0:
                problems.append(f"rank {r['rank']} {key} = {r[key]}")
        if not 0 < r["start_s"] < 60:  # 0: main did not mark the process start
            problems.append(f"rank {r['rank']} start_s = {r['start_s']}")
        if r["peak_rss_mb"] <= 0:
            problems.append(f"rank {r['rank']} peak RSS {r['peak_rss_mb']}")
    sent = sum(r["bytes_sent"] for r in per_rank[1:])
    if per_rank[0]["bytes_sent"] != 0 or sent != per_rank[0]["bytes_received"]:
        problems.append(f"sent {sent} by ranks > 0, rank 0 received {per_rank[0]['bytes_received']}")
    for key, stats in report["summary"].items():
        values = [r[key] for r in per_rank]
        mean = sum(values) / len(values)
        if not math.isclose(stats["min"], min(values), rel_tol=1e-5, abs_tol=1e-9) or \
           not math.isclose(stats["max"], max(values), rel_tol=1e-5, abs_tol=1e-9):
            problems.append(f"summary {key} {stats} against {values}")
        if mean > 0 and not math.isclose(stats["imbalance"], max(values) / mean, rel_tol=1e-4):
            problems.append(f"summary {key} imbalance {stats['imbalance']}")
    return report, problems


def check_run(args, work, dem):
    ds = gdal.Open(dem)
    width, height = ds.RasterXSize, ds.RasterYSize
    job = write_job(work, dem)
    report_path = os.path.join(work, "run.json")
    out = systest.tessera(args, ["run", job, "--report", report_path], ranks=2)
    if out.returncode != 0:
        systest.fail(out.describe())
    report, problems = check_report(report_path, 2, width, height, TILE)
    # The deflated hillshade goes through rank 0; the uncompressed slope is written in place by
    # the rank that computed each tile (both ranks are on this node).
    written = tile_bytes(os.path.join(work, "hs.tif")) + tile_bytes(os.path.join(work, "slope.tif"))
    by_rank = [r["bytes_written"] for r in report["per_rank"]]
    if sum(by_rank) != written:
        problems.append(f"ranks wrote {by_rank} bytes, files hold {written}")
    slope_tiles = tile_bytes(os.path.join(work, "slope.tif"))
    if report["per_rank"][0]["bytes_received"] > written - slope_tiles:
        problems.append(f"rank 0 received {report['per_rank'][0]['bytes_received']} bytes, more "
                        f"than the deflated hillshade holds ({written - slope_tiles})")
    cell_bytes = gdal.GetDataTypeSize(ds.GetRasterBand(1).DataType) // 8
    want_read = input_bytes(width, height, 1, cell_bytes)
    if sum(r["bytes_read"] for r in report["per_rank"]) != want_read:
        problems.append(f"bytes read {[r['bytes_read'] for r in report['per_rank']]}, want {want_read} in all")
    for row in ("min", "max", "imbalance"):
        if not re.search(rf"^  {row} ", out.stdout, re.M):
            problems.append(f"no '{row}' row in the summary:\n{out.stdout}")
    quiet = systest.tessera(args, ["run", job, "-q"], ranks=2)
    if quiet.returncode != 0 or quiet.stdout.strip():
        problems.append(f"-q still printed: {quiet.stdout!r}")
    return problems


def check_dem(args, work, dem):
    report_path = os.path.join(work, "dem.json")
    out = systest.tessera(args, ["dem", "slope", dem, os.path.join(work, "dem_slope.tif"), "-q",
                                 "--report", report_path], ranks=2)
    if out.returncode != 0:
        systest.fail(out.describe())
    ds = gdal.Open(dem)
    block = gdal.Open(os.path.join(work, "dem_slope.tif")).GetRasterBand(1).GetBlockSize()[0]
    return check_report(report_path, 2, ds.RasterXSize, ds.RasterYSize, block)[1]


def generate(args, work, name, extra, env_seconds):
    env = systest.environment(1)
    env["TESSERA_PROGRESS_SECONDS"] = env_seconds
    cmd = systest.mpi_prefix(args, 2) + [args.tessera, "generate", os.path.join(work, name),
                                          "--size", "4000x3000", "-co", "BLOCKXSIZE=64",
                                          "-co", "BLOCKYSIZE=64", "-co", "COMPRESS=DEFLATE"] + extra
    out = systest.run(cmd, args.timeout, env)
    if out.returncode != 0:
        systest.fail(out.describe())
    return out


def check_generate_and_progress(args, work):
    report_path = os.path.join(work, "generate.json")
    out = generate(args, work, "gen.tif", ["--report", report_path], "0.05")
    report, problems = check_report(report_path, 2, 4000, 3000, 64)
    if any(r["bytes_read"] != 0 for r in report["per_rank"]):
        problems.append("generate read input bytes")
    lines = PROGRESS.findall(out.stderr)
    if len(lines) < 2:
        problems.append(f"{len(lines)} progress lines in a log (stderr not a terminal):\n{out.stderr}")
    if "\r" in out.stderr:
        problems.append("a terminal bar ('\\r') in a log")
    quiet = generate(args, work, "gen_quiet.tif", ["-q"], "0.05")
    if PROGRESS.search(quiet.stderr) or quiet.stdout.strip():
        problems.append(f"-q still printed progress or a summary:\n{quiet.stderr}{quiet.stdout}")
    return problems


def check_parts(args, work, dem):
    """fill --epsilon is four tile-graph passes: the report gives the peak RSS of each one's phases
    per rank, each within the rank's peak of the whole run."""
    report_path = os.path.join(work, "epsilon.json")
    out = systest.tessera(args, ["hydro", "fill", "-z", dem, "-fel", os.path.join(work, "fel.tif"),
                                 "--epsilon", "--tile", "64", "--report", report_path], ranks=2)
    if out.returncode != 0:
        systest.fail(out.describe())
    with open(report_path) as f:
        report = json.load(f)
    problems = []
    want = [(p, phase) for p in (1, 2, 3, 4) for phase in ("summaries", "global", "finish")]
    parts = report.get("parts", [])
    if [(part["pass"], part["phase"]) for part in parts] != want:
        problems.append(f"parts {[(part.get('pass'), part.get('phase')) for part in parts]}, want {want}")
    if report.get("part_peaks") != "each part alone":
        problems.append(f"part_peaks {report.get('part_peaks')!r}")
    steps = [part["steps"] for part in parts[::3]]
    if steps != ["fill.fill", "fill.flowdir", "fill.bound", "fill"]:
        problems.append(f"the passes' steps {steps}")
    for part in parts:
        peaks = part["peak_rss_mb"]
        whole = [r["peak_rss_mb"] for r in report["per_rank"]]
        if len(peaks) != 2 or not all(0 < p <= w + 0.01 for p, w in zip(peaks, whole)):
            problems.append(f"pass {part['pass']} {part['phase']}: peaks {peaks}, the run's {whole}")
    if not re.search(r"^  pass 4 global \(fill\) +[0-9.]+ +[0-9.]+ +[01]$", out.stdout, re.M):
        problems.append(f"no line of pass 4's global phase in the summary:\n{out.stdout}")
    return problems


def main():
    args = systest.parse_args("run report system test")
    dem = os.path.abspath(os.path.join(args.data, "srtm.tif"))
    with tempfile.TemporaryDirectory() as work:
        problems = check_run(args, work, dem)
        problems += check_dem(args, work, dem)
        problems += check_generate_and_progress(args, work)
        problems += check_parts(args, work, dem)
    if problems:
        systest.fail("; ".join(problems))
    print("run report: run, dem and generate on 2 ranks: JSON consistent, summary rows, progress "
          "lines; fill --epsilon: each pass's phases' peak RSS")


if __name__ == "__main__":
    sys.exit(main())
