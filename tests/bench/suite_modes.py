"""suite.py --modes: every gdaldem mode and the flags that change its arithmetic, gdaldem against
tessera at 2 ranks x 1 thread on one DEM (the largest of --sizes), alternating, medians of --runs.

Each repetition reads the DEM into the page cache, then for each mode runs the two tools in turn
(gdaldem first in even repetitions, tessera first in odd ones), each after a `sync` with its
output deleted first. The table gives both medians, the speed-up (gdaldem / tessera) and whether
it reaches the target of 10x; the JSON (--json, default DIR/modes.json) holds every run."""
import json
import os
import statistics
import subprocess
import sys
import time

import inputs  # tests/bench/inputs.py
from suite_tools import mpi_env, warm

HERE = os.path.dirname(os.path.abspath(__file__))
COLOR_FILE = os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "data", "color_file.txt")
TARGET = 10.0

# name: (mode, flags); color-relief modes take the colour file after the input.
MODES = {
    "hillshade": ("hillshade", []),
    "hillshade-combined": ("hillshade", ["-combined"]),
    "hillshade-multidirectional": ("hillshade", ["-multidirectional"]),
    "hillshade-igor": ("hillshade", ["-igor"]),
    "hillshade-zt": ("hillshade", ["-alg", "ZevenbergenThorne"]),
    "slope": ("slope", []),
    "slope-p": ("slope", ["-p"]),
    "slope-zt": ("slope", ["-alg", "ZevenbergenThorne"]),
    "aspect": ("aspect", []),
    "aspect-trigonometric": ("aspect", ["-trigonometric"]),
    "aspect-zero_for_flat": ("aspect", ["-zero_for_flat"]),
    "TRI": ("TRI", []),
    "TRI-wilson": ("TRI", ["-alg", "Wilson"]),
    "TPI": ("TPI", []),
    "roughness": ("roughness", []),
    "color-relief": ("color-relief", []),
    "color-relief-alpha": ("color-relief", ["-alpha"]),
    "color-relief-exact": ("color-relief", ["-exact_color_entry"]),
    "color-relief-nearest": ("color-relief", ["-nearest_color_entry"]),
}


def parse_modes(text):
    """The mode names of --modes (all for "all" or empty); exits naming an unknown one."""
    names = [n for n in text.split(",") if n and n != "all"]
    unknown = [n for n in names if n not in MODES]
    if unknown:
        sys.exit(f"suite: --modes: unknown {', '.join(unknown)} (modes: {', '.join(MODES)})")
    return names or list(MODES)


def words(name, dem, out):
    """gdaldem's arguments after the program name, which tessera dem takes too."""
    mode, flags = MODES[name]
    middle = [COLOR_FILE] if mode == "color-relief" else []
    return [mode, dem] + middle + [out] + flags + ["-q"]


def timed(cmd, env, out, timeout):
    """Wall seconds of one run after a sync, its output deleted first and after."""
    if os.path.exists(out):
        os.remove(out)
    os.sync()
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"suite: failed ({done.returncode}): {' '.join(cmd)}\n{done.stdout}{done.stderr}")
    os.remove(out)
    return wall


def run_modes(args, work):
    """Times every selected mode; prints the table and writes the JSON."""
    size = args.sizes[-1]
    dem = inputs.dem_path(args.dir, size)
    if not os.path.exists(dem):
        inputs.make_dem(args.dir, size, args.tessera, mpiexec=args.mpiexec)
    names = parse_modes(args.modes)
    load_start = os.getloadavg()
    runs = []
    for run in range(args.runs):
        warm([dem])
        for name in names:
            out = os.path.join(work, f"{name}.tif")
            tools = ["gdaldem", "tessera-2x1"] if run % 2 == 0 else ["tessera-2x1", "gdaldem"]
            for tool in tools:
                if tool == "gdaldem":
                    wall = timed(["gdaldem"] + words(name, dem, out), dict(os.environ), out, args.timeout)
                else:
                    cmd = [args.mpiexec, "-n", "2", "--bind-to", "none", args.tessera, "dem"]
                    wall = timed(cmd + words(name, dem, out), mpi_env(1), out, args.timeout)
                runs.append({"mode": name, "tool": tool, "run": run, "wall_s": wall})
                print(f"  {size} {name:28} {tool:12} {wall:7.2f} s", file=sys.stderr, flush=True)
    load_end = os.getloadavg()
    rows = summarise(names, runs)
    print_table(size, args.runs, rows, load_start, load_end)
    path = args.json or os.path.join(args.dir, "modes.json")
    with open(path, "w") as f:
        json.dump({"size": size, "runs": runs, "rows": rows, "target": TARGET, "tessera": args.tessera,
                   "load_start": load_start, "load_end": load_end,
                   "started": time.strftime("%Y-%m-%dT%H:%M:%S")}, f, indent=1)
    print(f"wrote {path}")
    return rows


def summarise(names, runs):
    """Per mode: the two medians and the speed-up."""
    rows = []
    for name in names:
        med = {tool: statistics.median(r["wall_s"] for r in runs if r["mode"] == name and r["tool"] == tool)
               for tool in ("gdaldem", "tessera-2x1")}
        rows.append({"mode": name, "flags": " ".join(MODES[name][1]), "gdaldem_s": med["gdaldem"],
                     "tessera_s": med["tessera-2x1"], "speedup": med["gdaldem"] / med["tessera-2x1"]})
    return rows


def print_table(size, n_runs, rows, load_start, load_end):
    print(f"\ngdaldem against tessera dem at 2 ranks x 1 thread, {size} x {size} Float32 DEM, "
          f"wall s, median of {n_runs}; load average {load_start[0]:.2f} at the start, "
          f"{load_end[0]:.2f} at the end")
    print(f"{'mode':28} {'flags':22} {'gdaldem':>8} {'tessera':>8} {'speed-up':>9}  target {TARGET:g}x")
    for r in rows:
        verdict = "PASS" if r["speedup"] >= TARGET else "FAIL"
        print(f"{r['mode']:28} {r['flags']:22} {r['gdaldem_s']:8.2f} {r['tessera_s']:8.2f} "
              f"{r['speedup']:8.1f}x  {verdict}")
