"""Smoke test of tests/bench/suite.py at a tiny size: every row, target, check and the chart are there,
and the Python peers compute what tessera computes (so the suite cannot rot unnoticed); then
--baseline, with tessera as its own baseline on one task; then --modes on two modes; then
tests/bench/io_floor.c alone (the bytes it writes, a missing input)."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import results  # noqa: E402  (tests/bench/results.py)
import suite_tools  # noqa: E402

# Largest difference from tessera 2x1's cells each way may show (float32 arithmetic, rounding).
# stats: gdalinfo's mean and standard deviation, accumulated in doubles and kept to 14 digits.
# zonal: relative; numpy's and GRASS's standard deviations from sums of squares in doubles.
TOLERANCE = {"hillshade": 1.0, "hillshade-zstd": 1.0, "hillshade-cog": 1.0, "slope": 1e-3, "ndvi": 1e-6,
             "stats": 1e-9, "zonal-raster": 1e-6, "zonal-polygons": 1e-6}
# The --baseline run: one task, and base-2x1 beside tessera-2x1 (which always runs), to stay cheap.
BASELINE_ONLY = "hillshade,base-2x1"
# The focal run: five focal tasks against r.neighbors (when installed) and scipy, whole and under
# dask; each peer's largest difference from tessera 2x1's cells (None: not compared, scipy's
# median_filter takes the nearest cell at the edges where tessera leaves cells out).
FOCAL_TASKS = ("focal-mean-3", "focal-mean-51", "focal-stddev-3", "focal-max-3", "focal-median-3")
FOCAL_TOLERANCE = {"mean": 1e-3, "stddev": 1e-2, "max": 0.0, "median": 0.0}


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--tessera", required=True)
    p.add_argument("--mpiexec", default="mpirun")
    p.add_argument("--size", type=int, default=600)
    args = p.parse_args()
    work = tempfile.mkdtemp(prefix="suite-smoke.")
    try:
        problems = run_and_check(args, work)
        problems += run_baseline(args, work)
        problems += run_focal(args, work)
        problems += run_modes(args, work)
        problems += run_io_floor(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if problems:
        sys.exit("FAILED:\n  " + "\n  ".join(problems))
    print("suite smoke test: every row, target, check and the PNG present; --baseline side by side")


def run_and_check(args, work):
    out_json, out_png = os.path.join(work, "suite.json"), os.path.join(work, "suite.png")
    cmd = [sys.executable, os.path.join(HERE, "suite.py"), "--sizes", str(args.size), "--runs", "1",
           "--floor-tries", "1",
           "--dir", work, "--tessera", args.tessera, "--mpiexec", args.mpiexec,
           "--json", out_json, "--png", out_png, "--peers-zstd"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    print(done.stdout)
    if done.returncode != 0:
        return [f"{' '.join(cmd)} exited {done.returncode}:\n{done.stderr}"]
    doc = json.load(open(out_json))
    problems = check_rows(doc, args.size) + check_targets(doc) + check_outputs(doc) + check_page(doc)
    with open(out_png, "rb") as f:
        if f.read(8) != b"\x89PNG\r\n\x1a\n":
            problems.append(f"{out_png} is not a PNG")
    return problems


def run_modes(args, work):
    """suite.py --modes on two modes, one run: a row each with both medians, the speed-up, the
    2-rank I/O floor (not above tessera's time) and the ceiling it sets."""
    out_json = os.path.join(work, "modes.json")
    names = ["hillshade-igor", "color-relief-alpha"]
    cmd = [sys.executable, os.path.join(HERE, "suite.py"), "--modes", ",".join(names), "--sizes", str(args.size),
           "--runs", "1", "--floor-tries", "1", "--dir", work, "--tessera", args.tessera, "--mpiexec", args.mpiexec,
           "--json", out_json]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    print(done.stdout)
    if done.returncode != 0:
        return [f"{' '.join(cmd)} exited {done.returncode}:\n{done.stderr}"]
    rows = json.load(open(out_json))["rows"]
    if [r["mode"] for r in rows] != names:
        return [f"--modes: rows {[r['mode'] for r in rows]}, expected {names}"]
    return [f"--modes {r['mode']}: bad figures {r}" for r in rows
            if not (r["gdaldem_s"] > 0 and r["tessera_s"] > 0 and r["speedup"] > 0
                    and 0 < r.get("io_floor_s", 0) <= 1.5 * r["tessera_s"]
                    and abs(r["ceiling"] - r["gdaldem_s"] / r["io_floor_s"]) < 1e-9)]


def run_io_floor(args, work):
    """tests/bench/io_floor.c at 2 ranks: its output holds exactly the bytes asked for (an odd
    count, split unevenly between the ranks), every one written; a missing input ends it with
    a line naming the path and a non-zero status."""
    program = suite_tools.build_io_floor(args, work)
    if not program:
        return ["io_floor.c not built (no mpicc)"]
    source = os.path.join(work, "in.bin")
    with open(source, "wb") as f:
        f.write(os.urandom(3 * 4096 + 100))
    out, size = os.path.join(work, "floor.bin"), 3 * (1 << 20) + 12345
    launch = [args.mpiexec, "-n", "2", "--bind-to", "none", program]
    env = suite_tools.mpi_env(1)
    done = subprocess.run(launch + [out, str(size), "2", source], env=env, capture_output=True, text=True,
                          timeout=60)
    problems = []
    if done.returncode != 0 or not os.path.exists(out) or os.path.getsize(out) != size:
        problems.append(f"io_floor: exit {done.returncode}, output {os.path.exists(out) and os.path.getsize(out)} "
                        f"bytes, {size} asked: {done.stderr}")
    else:
        with open(out, "rb") as f:
            data = f.read()
        holes = [at for at in range(0, size, 4096) if not any(data[at:at + 4096])]
        if holes:
            problems.append(f"io_floor: {len(holes)} pages of its output never written (first at {holes[0]})")
    missing = os.path.join(work, "no such input.bin")
    done = subprocess.run(launch + [out, "10", "1", missing], env=env, capture_output=True, text=True, timeout=60)
    if done.returncode == 0 or missing not in done.stderr:
        problems.append(f"io_floor with a missing input: exit {done.returncode}, stderr {done.stderr!r}")
    return problems


def run_baseline(args, work):
    """suite.py --baseline with tessera as the baseline, on hillshade, one run, at the size (and on
    the inputs) of the first run; that without --baseline the base tools are refused; and the order
    of the tools in the repetitions (tessera first in the even ones, base first in the odd ones)."""
    cmd = [sys.executable, os.path.join(HERE, "suite.py"), "--sizes", str(args.size), "--dir", work,
           "--tessera", args.tessera, "--mpiexec", args.mpiexec, "--only", BASELINE_ONLY]
    refused = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    problems = [] if refused.returncode == 2 and "need --baseline" in refused.stderr else [
        f"--only {BASELINE_ONLY} without --baseline: exit {refused.returncode}, {refused.stderr}"]
    tools = ["tessera-1x1", "base-1x1", "tessera-2x1", "base-2x1", "gdal"]
    orders = [suite_tools.run_order(tools, run) for run in (0, 1)]
    if orders != [tools, ["base-1x1", "tessera-1x1", "base-2x1", "tessera-2x1", "gdal"]]:
        problems.append(f"tessera and base not alternating between repetitions: {orders}")
    out_json = os.path.join(work, "baseline.json")
    cmd += ["--runs", "1", "--floor-tries", "1", "--baseline", args.tessera, "--json", out_json,
            "--png", os.path.join(work, "baseline.png")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    print(done.stdout)
    if done.returncode != 0:
        return problems + [f"{' '.join(cmd)} exited {done.returncode}:\n{done.stderr}"]
    return problems + check_baseline(json.load(open(out_json)), done.stdout)


def run_focal(args, work):
    """suite.py on the focal tasks: rows for every tool, the outputs within FOCAL_TOLERANCE of
    tessera 2x1's, the targets (10x over each peer, size 51 against size 3) present."""
    out_json = os.path.join(work, "focal.json")
    tools = ["tessera-2x1", "numpy", "dask"] + (["gdal"] if shutil.which("grass") else [])
    cmd = [sys.executable, os.path.join(HERE, "suite.py"), "--sizes", str(args.size), "--runs", "1",
           "--floor-tries", "1",
           "--dir", work, "--tessera", args.tessera, "--mpiexec", args.mpiexec,
           "--only", ",".join(FOCAL_TASKS + tuple(tools)), "--json", out_json,
           "--png", os.path.join(work, "focal.png")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    print(done.stdout)
    if done.returncode != 0:
        return [f"{' '.join(cmd)} exited {done.returncode}:\n{done.stderr}"]
    doc = json.load(open(out_json))
    problems = []
    rows = {(r["task"], r["tool"]) for r in doc["rows"]}
    checks = {(c["task"], c["tool"]): c for c in doc["checks"]}
    for task in FOCAL_TASKS:
        method = task.split("-")[1]
        for tool in tools:
            if (task, tool) not in rows:
                problems.append(f"no row for {task} {tool}")
            if tool == suite_tools.REFERENCE or (method == "median" and tool != "gdal"):
                continue
            c = checks.get((task, tool))
            if c is None or "error" in c or c["max_abs_diff"] > FOCAL_TOLERANCE[method]:
                problems.append(f"{task} {tool}: output differs from tessera 2x1's: {c}")
    names = [t["target"] for t in doc["targets"]]
    wanted = len(FOCAL_TASKS) * (len(tools) - 1) - len(FOCAL_TASKS) * ("numpy" in tools) + 2
    if len(names) != wanted or not any("at size 51" in n for n in names):
        problems.append(f"focal targets: expected {wanted} with the size-51 one, got {names}")
    return problems


def check_baseline(doc, stdout):
    """base-2x1's row (RSS of both ranks) and output (tessera 2x1's cells: the same binary), run
    after tessera 2x1, and the side-by-side pair in the JSON, on stdout and the page."""
    problems = []
    r = next((r for r in doc["rows"] if r["tool"] == "base-2x1"), None)
    if r is None or not r["wall_s_median"] > 0 or len(r["peak_rss_mb"]) != 2:
        problems.append(f"base-2x1: no row, time or peak RSS of both ranks: {r}")
    c = next((c for c in doc["checks"] if c["tool"] == "base-2x1"), None)
    if c is None or "error" in c or c["max_abs_diff"] or c["nodata_in_one_only"]:
        problems.append(f"base-2x1: output differs from tessera 2x1's (the same binary): {c}")
    if [r["tool"] for r in doc["raw"]] != ["tessera-2x1", "base-2x1"]:
        problems.append(f"expected tessera 2x1 then base 2x1, ran {[r['tool'] for r in doc['raw']]}")
    pairs = doc.get("baseline", {}).get("pairs", [])
    spreads = [p[k] for p in pairs for k in ("tessera_s", "base_s")]
    if ([(p["task"], p["config"]) for p in pairs] != [("hillshade", "2x1")]
            or any(not 0 < s["min"] <= s["median"] <= s["max"] for s in spreads)
            or any(not p["ratio"] > 0 for p in pairs)):
        problems.append(f"side-by-side pairs: expected hillshade 2x1 with its spreads, got {pairs}")
    if "tessera against the baseline" not in stdout:
        problems.append("no side-by-side table on stdout")
    page = results.render(dict(doc, json="baseline.json"), "smoke", "")
    if "## Against the baseline" not in page or f"--baseline {doc['baseline']['binary']}" not in page:
        problems.append("results.py: no side-by-side table or no --baseline in the command")
    return problems


def check_page(doc):
    """tests/bench/results.py renders the JSON as a results page holding every target."""
    page = results.render(dict(doc, json="suite.json"), "smoke", "")
    return [f"results.py: target missing from the page: {t['target']}"
            for t in doc["targets"] if t["target"] not in page]


def check_rows(doc, size):
    problems = []
    have = {(r["size"], r["task"], r["tool"]): r for r in doc["rows"]}
    for task in suite_tools.TASKS:
        for tool in suite_tools.tools_of(task, suite_tools.TOOLS):
            r = have.get((size, task, tool))
            if r is None:
                problems.append(f"no row for {task} {tool}")
            elif not (r["wall_s_median"] > 0 and r["peak_rss_mb_max"] > 0):
                problems.append(f"{task} {tool}: no time or RSS: {r}")
            elif tool in suite_tools.TESSERA_CONFIGS and not r["floor_s"] > 0:
                problems.append(f"{task} {tool}: no floor")
    if not doc["mpirun_startup_s_median"] > 0:
        problems.append("no mpirun start-up time")
    return problems


def check_targets(doc):
    names = [t["target"] for t in doc["targets"]]
    # Speed-up and rank scaling per task, RSS per rank, hillshade-cog's time against its floor,
    # and each zonal task's Python peer.
    expected = 2 * len(suite_tools.TASKS) + 2 + len(suite_tools.ZONAL_TASKS)
    if len(names) != expected or any(not isinstance(t["pass"], bool) for t in doc["targets"]):
        return [f"expected {expected} targets with PASS/FAIL, got {names}"]
    scaling = [t for t in doc["targets"] if "2 ranks" in t["target"]]
    if any(not 0 < t.get("bound", 0) < 2 for t in scaling):
        return [f"a 2-over-1 target without its start-up bound (above 0, under 2): {scaling}"]
    # Every speed-up against a peer carries the 2-rank I/O floor's bound, and a floor is never far
    # above tessera 2x1's own time (it does a part of tessera's work under the same launch).
    speedups = [t for t in doc["targets"] if " faster than " in t["target"] and "2 ranks" not in t["target"]]
    if any(not t.get("io_bound", 0) > 0 or t["unreachable"] != (t["io_bound"] < t["speedup_target"])
           for t in speedups):
        return [f"a speed-up target without its 2-rank I/O floor's bound: {speedups}"]
    refs = [r for r in doc["rows"] if r["tool"] == suite_tools.REFERENCE]
    if any(not 0 < (r.get("io_floor_s") or 0) <= 1.5 * r["wall_s_median"] for r in refs):
        return [f"a task without its 2-rank I/O floor, or one above 1.5x tessera 2x1's time: "
                f"{[(r['task'], r.get('io_floor_s'), r['wall_s_median']) for r in refs]}"]
    if not doc.get("cpu"):
        return ["no cpu description"]
    return []


def check_outputs(doc):
    problems = []
    have = {(c["task"], c["tool"]): c for c in doc["checks"]}
    for task in suite_tools.TASKS:
        for tool in suite_tools.tools_of(task, suite_tools.TOOLS):
            if tool == suite_tools.REFERENCE:
                continue
            c = have.get((task, tool))
            if c is None:
                problems.append(f"no output check for {task} {tool}")
            elif "error" in c or c["max_abs_diff"] > TOLERANCE[task] or c["nodata_in_one_only"] or not c["same_type"]:
                problems.append(f"{task} {tool}: output differs from tessera 2x1's: {c}")
    return problems


if __name__ == "__main__":
    main()
