"""Renders the JSON of one tests/bench/suite.py run as a dated results page (Markdown).

    python3 tests/bench/results.py SUITE_JSON [--rev REV] > docs/results/DATE-REV.md

DATE is the run's day (the JSON's `date`); REV is the tessera commit that was measured. The
suite's JSON does not record it: give --rev, or the page names the checkout's HEAD at the time of
rendering and says so. The page holds the command (rebuilt from what the JSON records), the
host's CPU and load, mpirun's start-up, the copy speed, a table of the largest size (with
--baseline, tessera against the baseline side by side), every row, the targets and the output
checks. Notes on what the figures mean are added by hand below it.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import suite_tools  # noqa: E402  (tests/bench/suite_tools.py: task and tool names)
from suite_report import verdict  # noqa: E402  (PASS, FAIL, or FAIL (unreachable here))


def checkout_head():
    """The short hash of the checkout's HEAD, or None outside a git checkout."""
    done = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def command(doc):
    """The suite's command line as far as the JSON records it."""
    cmd = ["/usr/bin/python3", "tests/bench/suite.py", "--runs", str(doc["runs"]),
           "--sizes", ",".join(str(s) for s in doc["sizes"])]
    if "baseline" in doc:
        cmd += ["--baseline", doc["baseline"]["binary"]]
    known = suite_tools.ALL_TOOLS if "baseline" in doc else suite_tools.TOOLS
    tasks = [t for t in suite_tools.TASKS if t in doc["tasks"]]
    tools = [t for t in known if t in doc["tools"]]
    only = (tasks if tasks != list(suite_tools.TASKS) else []) + (tools if tools != list(known) else [])
    if only:
        cmd += ["--only", ",".join(only)]
    largest = doc["sizes"][-1]
    if any(r["size"] == largest and r["task"] == "hillshade-zstd" and r["tool"] in suite_tools.PYTHON_PEERS
           for r in doc["rows"]):
        cmd.append("--peers-zstd")
    if doc.get("free_memory_held"):
        cmd.append("--hold-free-memory")
    if not doc["checks"]:
        cmd += ["--check-size", "0"]
    elif doc["checks"][0]["size"] != min(1000, largest):
        cmd += ["--check-size", str(doc["checks"][0]["size"])]
    return " ".join(cmd)


def at_least(row):
    """'>= ' before a median that is a run stopped at --timeout (a lower bound)."""
    return ">= " if row.get("lower_bound") else ""


def seconds(values):
    return ", ".join(f"{v:.2f}" for v in values)


def largest_table(doc):
    """Tasks down, tools across, at the largest size: median seconds; tessera 2x1 with its floor."""
    size = doc["sizes"][-1]
    rows = {(r["task"], r["tool"]): r for r in doc["rows"] if r["size"] == size}
    tools = [t for t in suite_tools.ALL_TOOLS if any(tool == t for _, tool in rows)]
    head = ["task"] + [suite_tools.tool_label(t, "hillshade") if t != "gdal" else "gdaldem / gdal_calc.py"
                       for t in tools]
    if "gdal" in tools:
        head.append("speed-up of 2x1 over gdal")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for task in doc["tasks"]:
        cells = [task]
        for tool in tools:
            r = rows.get((task, tool))
            if r is None:
                cells.append("")
            elif tool == suite_tools.REFERENCE and r.get("floor_s"):
                cells.append(f"{r['wall_s_median']:.2f} ({r['floor_s']:.2f})")
            else:
                cells.append(f"{at_least(r)}{r['wall_s_median']:.2f}")
        if "gdal" in tools:
            peer, ref = rows.get((task, "gdal")), rows.get((task, suite_tools.REFERENCE))
            cells.append(f"{at_least(peer)}{peer['wall_s_median'] / ref['wall_s_median']:.1f}x"
                         if peer and ref else "")
        lines.append("| " + " | ".join(cells) + " |")
    return size, lines


def baseline_table(doc):
    """With --baseline: per task, tessera's and the baseline's median (min-max) seconds at 1x1 and
    2x1, and the ratio of the medians new/base."""
    base = doc["baseline"]
    configs = [c for c in ("1x1", "2x1") if any(p["config"] == c for p in base["pairs"])]
    lines = [f"tessera (`{base['tessera']}`) against the baseline (`{base['binary']}`) at {base['size']} x "
             f"{base['size']} cells: median seconds (min-max over the runs); new/base under 1: tessera "
             "is faster.", "",
             "| task | " + " | ".join(f"tessera {c} | base {c} | new/base" for c in configs) + " |",
             "|---|" + "---|---|---|" * len(configs)]
    for task in doc["tasks"]:
        cells = [task]
        for c in configs:
            p = next((p for p in base["pairs"] if (p["task"], p["config"]) == (task, c)), None)
            cells += [spread(p["tessera_s"]), spread(p["base_s"]), f"{p['ratio']:.2f}"] if p else ["", "", ""]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def spread(seconds):
    """Median (min-max) of a side-by-side pair's seconds."""
    return f"{seconds['median']:.2f} ({seconds['min']:.2f}-{seconds['max']:.2f})"


def all_rows(doc):
    lines = ["| size | task | tool | median s | runs s | / 2x1 | peak RSS MB per process | floor s |",
             "|---|---|---|---|---|---|---|---|"]
    for r in doc["rows"]:
        floor = f"{r['floor_s']:.3f}" if r.get("floor_s") else ""
        rss = " / ".join(f"{v:.0f}" for v in r["peak_rss_mb"])
        lines.append(f"| {r['size']} | {r['task']} | {r['label']} | {at_least(r)}{r['wall_s_median']:.2f} | "
                     f"{seconds(r['wall_s'])} | {r['ratio_to_tessera_2x1']:.2f} | {rss} | {floor} |")
    return lines


def checks(doc):
    if not doc["checks"]:
        return ["Outputs were not compared in this run."]
    lines = [f"At {doc['checks'][0]['size']} x {doc['checks'][0]['size']} cells, each tool's output "
             "against tessera 2x1's: the largest difference over cells valid in both, and the cells "
             "that are nodata in one only.", "",
             "| task | tool | largest difference | nodata in one only | type |", "|---|---|---|---|---|"]
    for c in doc["checks"]:
        label = suite_tools.tool_label(c["tool"], c["task"])
        if "error" in c:
            lines.append(f"| {c['task']} | {label} | {c['error']} | | |")
            continue
        kind = c["type"] + ("" if c["same_type"] else " (type differs)")
        lines.append(f"| {c['task']} | {label} | {c['max_abs_diff']:.3g} | {c['nodata_in_one_only']} | {kind} |")
    return lines


def render(doc, rev, rev_note):
    day = doc["date"][:10]
    speed = doc["copy_speed"]
    size, table = largest_table(doc)
    out = [f"# Benchmark suite, {day}, tessera {rev}", "",
           f"Generated by `tests/bench/results.py` from `{os.path.basename(doc.get('json', 'suite.json'))}` "
           f"of `tests/bench/suite.py` ([method](../benchmarks.md)).", "",
           "```", command(doc), "```", "",
           f"- tessera: {rev}{rev_note}",
           f"- started: {doc['date']}, host `{doc['host']}`",
           f"- cpu: {doc['cpu']}; {doc['cores']} cores; load average {doc['load_average_start']:.2f} "
           f"at the start, {doc['load_average_end']:.2f} at the end",
           f"- `mpirun -n 2 --bind-to none tessera --help` (start-up, inside tessera's times): median "
           f"{doc['mpirun_startup_s_median']:.2f} s (runs: {seconds(doc['mpirun_startup_s'])})",
           f"- copy speed, one stream: read from the page cache {speed['read_gb_s']:.2f} GB/s, write to a "
           f"new file {speed['write_gb_s']:.2f} GB/s",
           f"- ZSTD creation options: {' '.join(doc['zstd_creation_options'])}; NDVI: "
           f"`{doc['ndvi_expression']}` to Float32", "",
           f"## {size} x {size} cells", "",
           f"Medians of {doc['runs']} run(s), seconds; tessera 2x1's copy floor in brackets.", ""]
    out += table
    if "baseline" in doc:
        out += ["", "## Against the baseline", ""] + baseline_table(doc)
    out += ["", "## Targets", "", "At the largest size, medians of the same run.", ""]
    out += [f"- {verdict(g)}: {g['target']}: {g['measured']}" for g in doc["targets"]]
    out += ["", "## Every row", ""] + all_rows(doc)
    out += ["", "## Outputs", ""] + checks(doc)
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("json", help="the suite's JSON (suite.py --json, default DIR/suite.json)")
    p.add_argument("--rev", help="the tessera commit measured (default: the checkout's HEAD, marked as such)")
    args = p.parse_args()
    with open(args.json) as f:
        doc = json.load(f)
    doc["json"] = args.json
    rev, note = args.rev, ""
    if not rev:
        rev = checkout_head() or "unknown"
        note = " (the checkout's HEAD when this page was made; the suite's JSON does not record the build)"
    sys.stdout.write(render(doc, rev, note))


if __name__ == "__main__":
    main()
