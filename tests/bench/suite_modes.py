"""suite.py --modes: every gdaldem mode and the flags that change its arithmetic, gdaldem against
tessera at 2 ranks x 1 thread on one DEM (the largest of --sizes), alternating, medians of --runs.

Each repetition reads the DEM into the page cache, then for each mode runs the two tools in turn
(gdaldem first in even repetitions, tessera first in odd ones), each after a `sync` with its
output deleted first. The table gives both medians, the speed-up (gdaldem / tessera) and whether
it reaches the target of 10x, and the median CPU seconds of each tool (user + system of the
command and every process it waited for: mpirun's ranks); with --baseline BINARY that binary
runs as base-2x1 beside them, the three in a rotating order, and the table gives its median and
CPU seconds too. After each mode's tools, the 2-rank I/O floor (tests/bench/io_floor.c under the
same launch: start-up, each rank reading its half of the DEM once and writing its half of
tessera's output byte count into one file, nothing else): gdaldem's time over it is the ceiling
no 2-rank tool passes on this host, and a mode whose ceiling is under the target is "unreachable
here". The JSON (--json, default DIR/modes.json) holds every run."""
import resource
import json
import os
import statistics
import subprocess
import sys
import time

import inputs  # tests/bench/inputs.py
from suite_tools import build_io_floor, io_floor_seconds, mpi_env, warm

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


def children_cpu():
    """User + system seconds of every child process waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd, env, out, timeout, cpu=None, sizes=None):
    """Wall seconds of one run after a sync, its output deleted first and after; its CPU seconds
    appended to `cpu` and its output's bytes to `sizes` when given."""
    if os.path.exists(out):
        os.remove(out)
    os.sync()
    cpu_before = children_cpu()
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - start
    if cpu is not None:
        cpu.append(children_cpu() - cpu_before)
    if done.returncode != 0:
        sys.exit(f"suite: failed ({done.returncode}): {' '.join(cmd)}\n{done.stdout}{done.stderr}")
    if sizes is not None:
        sizes.append(os.path.getsize(out))
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
    baseline = getattr(args, "baseline", None)
    order = ["gdaldem", "tessera-2x1"] + (["base-2x1"] if baseline else [])
    binary = {"tessera-2x1": args.tessera, "base-2x1": baseline}
    program = build_io_floor(args, work)
    for run in range(args.runs):
        warm([dem])
        for name in names:
            out = os.path.join(work, f"{name}.tif")
            shift = run % len(order)
            tools = order[shift:] + order[:shift] if baseline else (order if run % 2 == 0 else order[::-1])
            out_bytes = []
            for tool in tools:
                cpu = []
                if tool == "gdaldem":
                    wall = timed(["gdaldem"] + words(name, dem, out), dict(os.environ), out, args.timeout, cpu)
                else:
                    cmd = [args.mpiexec, "-n", "2", "--bind-to", "none", binary[tool], "dem"]
                    wall = timed(cmd + words(name, dem, out), mpi_env(1), out, args.timeout, cpu,
                                 out_bytes if tool == "tessera-2x1" else None)
                runs.append({"mode": name, "tool": tool, "run": run, "wall_s": wall, "cpu_s": cpu[0],
                             "load": os.getloadavg()[0]})
                print(f"  {size} {name:28} {tool:12} {wall:7.2f} s  cpu {cpu[0]:6.2f} s", file=sys.stderr,
                      flush=True)
            if program:
                wall = io_floor_seconds(args, program, [dem], out_bytes[0], work, args.floor_tries)
                runs.append({"mode": name, "tool": "io-floor", "run": run, "wall_s": wall, "out_bytes": out_bytes[0],
                             "load": os.getloadavg()[0]})
                print(f"  {size} {name:28} {'io-floor':12} {wall:7.2f} s", file=sys.stderr, flush=True)
    load_end = os.getloadavg()
    rows = summarise(names, runs)
    print_table(size, args.runs, rows, load_start, load_end)
    path = args.json or os.path.join(args.dir, "modes.json")
    with open(path, "w") as f:
        json.dump({"size": size, "runs": runs, "rows": rows, "target": TARGET, "tessera": args.tessera,
                   "free_memory_held": args.hold_free_memory,
                   "load_start": load_start, "load_end": load_end,
                   "started": time.strftime("%Y-%m-%dT%H:%M:%S")}, f, indent=1)
    print(f"wrote {path}")
    return rows


def summarise(names, runs):
    """Per mode: the medians (wall and CPU) of each tool run, and the speed-up."""
    rows = []
    tools = [t for t in ("gdaldem", "tessera-2x1", "base-2x1") if any(r["tool"] == t for r in runs)]
    for name in names:
        med = {tool: statistics.median(r["wall_s"] for r in runs if r["mode"] == name and r["tool"] == tool)
               for tool in tools}
        cpu = {tool: statistics.median(r["cpu_s"] for r in runs if r["mode"] == name and r["tool"] == tool)
               for tool in tools}
        row = {"mode": name, "flags": " ".join(MODES[name][1]), "gdaldem_s": med["gdaldem"],
               "tessera_s": med["tessera-2x1"], "speedup": med["gdaldem"] / med["tessera-2x1"],
               "gdaldem_cpu_s": cpu["gdaldem"], "tessera_cpu_s": cpu["tessera-2x1"]}
        floors = [r["wall_s"] for r in runs if r["mode"] == name and r["tool"] == "io-floor"]
        if floors:
            row.update({"io_floor_s": statistics.median(floors),
                        "ceiling": med["gdaldem"] / statistics.median(floors)})
        if "base-2x1" in med:
            row.update({"base_s": med["base-2x1"], "base_cpu_s": cpu["base-2x1"],
                        "base_speedup": med["gdaldem"] / med["base-2x1"]})
        rows.append(row)
    return rows


def print_table(size, n_runs, rows, load_start, load_end):
    print(f"\ngdaldem against tessera dem at 2 ranks x 1 thread, {size} x {size} Float32 DEM, "
          f"wall s, median of {n_runs}; load average {load_start[0]:.2f} at the start, "
          f"{load_end[0]:.2f} at the end")
    base = bool(rows) and "base_s" in rows[0]
    floor = bool(rows) and "io_floor_s" in rows[0]
    if floor:
        print("floor: the 2-rank I/O floor (tests/bench/io_floor.c: start-up, GDAL loaded and the DEM "
              "opened through it, reading the DEM, writing tessera's output bytes, nothing else); "
              "ceiling = gdaldem / floor, the most any 2-rank GDAL tool reaches here; FAIL* = the target is above the ceiling (unreachable here)")
    print(f"{'mode':28} {'flags':22} {'gdaldem':>8} {'tessera':>8} {'speed-up':>9}  target {TARGET:g}x"
          + f"{'floor':>7} {'ceiling':>8}" * floor
          + f"{'  base  base x':>14}" * base + "  CPU s: gdaldem tessera" + " base" * base)
    for r in rows:
        verdict = "PASS " if r["speedup"] >= TARGET else "FAIL*" if r.get("ceiling", TARGET) < TARGET else "FAIL "
        line = (f"{r['mode']:28} {r['flags']:22} {r['gdaldem_s']:8.2f} {r['tessera_s']:8.2f} "
                f"{r['speedup']:8.1f}x  {verdict}   ")
        if floor:
            line += f"{r['io_floor_s']:7.2f} {r['ceiling']:7.1f}x"
        if base:
            line += f" {r['base_s']:8.2f} {r['base_speedup']:5.1f}x"
        line += f"  {r['gdaldem_cpu_s']:7.2f} {r['tessera_cpu_s']:7.2f}"
        if base:
            line += f" {r['base_cpu_s']:7.2f}"
        print(line)
