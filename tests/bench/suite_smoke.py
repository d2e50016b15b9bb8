"""Smoke test of tests/bench/suite.py at a tiny size: every row, target, check and the chart are there,
and the Python peers compute what tessera computes (so the suite cannot rot unnoticed)."""
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
TOLERANCE = {"hillshade": 1.0, "hillshade-zstd": 1.0, "slope": 1e-3, "ndvi": 1e-6}


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--tessera", required=True)
    p.add_argument("--mpiexec", default="mpirun")
    p.add_argument("--size", type=int, default=600)
    args = p.parse_args()
    work = tempfile.mkdtemp(prefix="suite-smoke.")
    try:
        problems = run_and_check(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if problems:
        sys.exit("FAILED:\n  " + "\n  ".join(problems))
    print("suite smoke test: every row, target, check and the PNG present")


def run_and_check(args, work):
    out_json, out_png = os.path.join(work, "suite.json"), os.path.join(work, "suite.png")
    cmd = [sys.executable, os.path.join(HERE, "suite.py"), "--sizes", str(args.size), "--runs", "1",
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


def check_page(doc):
    """tests/bench/results.py renders the JSON as a results page holding every target."""
    page = results.render(dict(doc, json="suite.json"), "smoke", "")
    return [f"results.py: target missing from the page: {t['target']}"
            for t in doc["targets"] if t["target"] not in page]


def check_rows(doc, size):
    problems = []
    have = {(r["size"], r["task"], r["tool"]): r for r in doc["rows"]}
    for task in suite_tools.TASKS:
        for tool in suite_tools.TOOLS:
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
    expected = 2 * len(suite_tools.TASKS) + 1  # speed-up and rank scaling per task, RSS per rank
    if len(names) != expected or any(not isinstance(t["pass"], bool) for t in doc["targets"]):
        return [f"expected {expected} targets with PASS/FAIL, got {names}"]
    scaling = [t for t in doc["targets"] if "2 ranks" in t["target"]]
    if any(not 0 < t.get("bound", 0) < 2 for t in scaling):
        return [f"a 2-over-1 target without its start-up bound (above 0, under 2): {scaling}"]
    if not doc.get("cpu"):
        return ["no cpu description"]
    return []


def check_outputs(doc):
    problems = []
    have = {(c["task"], c["tool"]): c for c in doc["checks"]}
    for task in suite_tools.TASKS:
        for tool in suite_tools.TOOLS:
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
