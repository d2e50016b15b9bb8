"""The suite's summary (tests/bench/suite.py): one row of medians per size, task and tool, the
targets with their PASS/FAIL and bounds, tessera against the baseline side by side, and the report
printed on stdout."""
import os
import platform
import statistics

from suite_tools import (ALL_TOOLS, BASE_TOOLS, FLOOR_SWEEPS, FOCAL_SIZES, FOCAL_TASKS,
                         REFERENCE, TESSERA_CONFIGS, ZSTD_LEVEL, focal_task, mpi_config, tool_label)

TARGET_SPEEDUP = {"hillshade": 8.0, "slope": 8.0, "hillshade-zstd": 4.0, "hillshade-cog": 3.0, "ndvi": 8.0,
                  "stats": 10.0, "zonal-raster": 10.0, "zonal-polygons": 10.0,
                  **{task: 10.0 for task in FOCAL_TASKS}, "fill": 10.0, "flowacc": 10.0, "flowdir": 5.0,
                  "watershed": 10.0}
# Focal statistics whose cost must not grow with the window: largest size / smallest size.
TARGET_FOCAL_RADIUS_RATIO = 2.0
RADIUS_FREE_METHODS = ("mean", "stddev", "max")
TARGET_RSS_MB = 300.0
# Tasks whose time must stay within this factor of their own floor: start-up plus the run's encode
# thread-seconds (overview tiles included) spread over the ranks.
TARGET_ENCODE_FLOOR = {"hillshade-cog": 1.2}
TARGET_RANK_SCALING = 1.8


def summarise(args, m):
    """One row per size, task and tool: medians, ratio to tessera 2x1, per-process RSS, floor."""
    rows = []
    for size in args.sizes:
        for task in args.tasks:
            floors = [f["read_s"] + f["write_s"] for f in m.floors if f["size"] == size and f["task"] == task]
            io_floors = [f["io_floor_s"] for f in m.floors
                         if f["size"] == size and f["task"] == task and "io_floor_s" in f]
            for tool in ALL_TOOLS:
                sel = [r for r in m.runs if (r["size"], r["task"], r["tool"]) == (size, task, tool)]
                if not sel:
                    continue
                walls = [r["wall_s"] for r in sel]
                # Runs stopped at --timeout: their seconds are lower bounds, and so is a median
                # that reaches one of them.
                stopped = [r["wall_s"] for r in sel if r.get("timed_out")]
                rss = [statistics.median(col) for col in zip(*(r["rss_mb"] for r in sel))]
                encodes = [r["encode_s"] for r in sel if r.get("encode_s") is not None]
                rows.append({"size": size, "task": task, "tool": tool, "label": tool_label(tool, task),
                             "wall_s": walls, "wall_s_median": statistics.median(walls),
                             "lower_bound": bool(stopped) and statistics.median(walls) >= min(stopped),
                             "cpu_s_median": statistics.median(r.get("cpu_s", 0.0) for r in sel),
                             "encode_s_median": statistics.median(encodes) if encodes else None,
                             "peak_rss_mb": [round(v, 1) for v in rss], "peak_rss_mb_max": round(max(rss), 1),
                             "floor_s": statistics.median(floors) if mpi_config(tool) else None,
                             "io_floor_s": statistics.median(io_floors) if io_floors and tool == REFERENCE
                             else None,
                             "io_floor_sweeps": FLOOR_SWEEPS.get(task, 1)})
            reference = row(rows, size, task, REFERENCE)
            for r in rows:
                if (r["size"], r["task"]) == (size, task):
                    r["ratio_to_tessera_2x1"] = r["wall_s_median"] / reference["wall_s_median"]
    return rows


def encode_bound(goal, peer, ref, startup):
    """`goal` with the speed-up tessera 2x1 could reach if it did nothing but start up and encode
    (its encode thread-seconds spread over both ranks), where encoding is most of its work."""
    encode = ref.get("encode_s_median")
    ranks = TESSERA_CONFIGS[REFERENCE][0]
    if not encode or encode < 0.5 * ranks * ref["wall_s_median"]:
        return goal
    bound = peer["wall_s_median"] / (startup + encode / ranks)
    goal["measured"] += f" (at most {bound:.2f}x: {startup:.2f} s start-up + {encode:.2f} s of encoding / {ranks})"
    goal["bound"] = bound
    return goal


def io_bound(goal, peer, ref, target):
    """`goal` with the speed-up no 2-rank tool can pass on this host: the peer's time over the
    2-rank I/O floor (tests/bench/io_floor.c: start-up, GDAL loaded and the inputs opened through
    it, reading the input once, twice for stats (FLOOR_SWEEPS), writing the output into one file,
    nothing else); a target above it is marked unreachable here."""
    floor = ref.get("io_floor_s")
    if not floor:
        return goal
    bound = peer["wall_s_median"] / floor
    reads = " (two reads)" if ref.get("io_floor_sweeps", 1) == 2 else ""
    goal["measured"] += f" (at most {bound:.2f}x: the 2-rank I/O floor{reads} {floor:.2f} s)"
    goal["bound"] = min(bound, goal.get("bound", bound))
    goal["io_bound"], goal["speedup_target"] = bound, target
    goal["unreachable"] = bound < target
    return goal


def verdict(goal):
    """PASS, FAIL, or FAIL (unreachable here) for a target above its 2-rank I/O floor's bound."""
    if goal["pass"]:
        return "PASS"
    return "FAIL (unreachable here)" if goal.get("unreachable") else "FAIL"


def at_least(peer, figure):
    """`figure` marked as a lower bound when the peer's median is a run stopped at --timeout."""
    return f">= {figure} (stopped at --timeout)" if peer.get("lower_bound") else figure


def row(rows, size, task, tool):
    """The row of `tool` on `task` at `size`, or None."""
    return next((r for r in rows if (r["size"], r["task"], r["tool"]) == (size, task, tool)), None)


def targets(args, rows, startup):
    """The issue's targets at the largest size, each with its measured figure and PASS/FAIL, and
    where it applies the bound that `startup` (mpirun's, inside every tessera time) and the
    run's own encoding set on it whatever the rest of tessera does."""
    size, out = args.sizes[-1], []
    for task in args.tasks:
        peer, ref = row(rows, size, task, "gdal"), row(rows, size, task, REFERENCE)
        if peer:
            ratio = peer["wall_s_median"] / ref["wall_s_median"]
            goal = {"target": f"{task}: tessera 2x1 >= {TARGET_SPEEDUP[task]:g}x faster than {peer['label']}",
                    "measured": at_least(peer, f"{ratio:.2f}x"), "value": ratio,
                    "pass": ratio >= TARGET_SPEEDUP[task]}
            out.append(io_bound(encode_bound(goal, peer, ref, startup), peer, ref, TARGET_SPEEDUP[task]))
    out += encode_floor_targets(args, rows, size, startup)
    out += focal_targets(args, rows, size)
    out += zonal_targets(args, rows, size)
    for task in args.tasks:
        one, ref = row(rows, size, task, "tessera-1x1"), row(rows, size, task, REFERENCE)
        if one:
            ratio = one["wall_s_median"] / ref["wall_s_median"]
            # Two ranks at best halve what is not start-up.
            bound = one["wall_s_median"] / (startup + (one["wall_s_median"] - startup) / 2)
            out.append({"target": f"{task}: 2 ranks >= {TARGET_RANK_SCALING:g}x faster than 1 rank",
                        "measured": f"{ratio:.2f}x (at most {bound:.2f}x: {startup:.2f} s start-up, "
                                    "the rest halved)",
                        "value": ratio, "bound": bound, "pass": ratio >= TARGET_RANK_SCALING})
    peaks = {s: max(r["peak_rss_mb_max"] for r in rows if r["size"] == s and r["tool"] == REFERENCE)
             for s in args.sizes}
    shown = ", ".join(f"{s}: {v:.0f} MB" for s, v in peaks.items())
    out.append({"target": f"peak RSS per rank <= {TARGET_RSS_MB:g} MB (tessera 2x1, every task and size)",
                "measured": shown, "value": max(peaks.values()), "pass": max(peaks.values()) <= TARGET_RSS_MB})
    if len(peaks) > 1:
        growth = peaks[args.sizes[-1]] / peaks[args.sizes[0]] - 1
        out.append({"target": f"peak RSS per rank the same at {args.sizes[0]} and {args.sizes[-1]} "
                              f"(within {args.rss_tolerance:.0%})",
                    "measured": f"{growth:+.1%}", "value": growth, "pass": abs(growth) <= args.rss_tolerance})
    return out


def zonal_targets(args, rows, size):
    """Zonal tasks: tessera 2x1 >= 10x faster than the faster of the Python peers (GRASS is the
    gdal row's target)."""
    out = []
    for task in args.tasks:
        peers = [r for r in (row(rows, size, task, t) for t in ("numpy", "rasterio")) if r]
        ref = row(rows, size, task, REFERENCE)
        if task.startswith("zonal-") and peers:
            peer = min(peers, key=lambda r: r["wall_s_median"])
            ratio = peer["wall_s_median"] / ref["wall_s_median"]
            goal = {"target": f"{task}: tessera 2x1 >= {TARGET_SPEEDUP[task]:g}x faster than "
                              f"{peer['label']} (the faster Python peer)",
                    "measured": f"{ratio:.2f}x", "value": ratio, "pass": ratio >= TARGET_SPEEDUP[task]}
            out.append(io_bound(goal, peer, ref, TARGET_SPEEDUP[task]))
    return out


def encode_floor_targets(args, rows, size, startup):
    """tessera 2x1 within TARGET_ENCODE_FLOOR of start-up + its encode thread-seconds / ranks."""
    out = []
    for task in args.tasks:
        ref = row(rows, size, task, REFERENCE)
        if task not in TARGET_ENCODE_FLOOR or not ref or not ref.get("encode_s_median"):
            continue
        ranks = TESSERA_CONFIGS[REFERENCE][0]
        floor = startup + ref["encode_s_median"] / ranks
        ratio = ref["wall_s_median"] / floor
        out.append({"target": f"{task}: tessera 2x1 <= {TARGET_ENCODE_FLOOR[task]:g}x its floor "
                              "(start-up + encode thread-seconds / ranks)",
                    "measured": f"{ratio:.2f}x ({ref['wall_s_median']:.2f} s against {startup:.2f} s + "
                                f"{ref['encode_s_median']:.2f} s / {ranks})",
                    "value": ratio, "pass": ratio <= TARGET_ENCODE_FLOOR[task]})
    return out


def focal_targets(args, rows, size):
    """Focal tasks: tessera 2x1 >= 10x faster than scipy under dask on 2 threads, and (mean,
    stddev, max) no more than 2x slower at size 51 than at size 3."""
    out = []
    for task in args.tasks:
        peer, ref = row(rows, size, task, "dask"), row(rows, size, task, REFERENCE)
        if focal_task(task) and peer:
            ratio = peer["wall_s_median"] / ref["wall_s_median"]
            goal = {"target": f"{task}: tessera 2x1 >= {TARGET_SPEEDUP[task]:g}x faster than "
                              f"{peer['label']}", "measured": at_least(peer, f"{ratio:.2f}x"), "value": ratio,
                    "pass": ratio >= TARGET_SPEEDUP[task]}
            out.append(io_bound(goal, peer, ref, TARGET_SPEEDUP[task]))
    small, large = FOCAL_SIZES[0], FOCAL_SIZES[-1]
    for method in RADIUS_FREE_METHODS:
        a = row(rows, size, f"focal-{method}-{small}", REFERENCE)
        b = row(rows, size, f"focal-{method}-{large}", REFERENCE)
        if a and b:
            ratio = b["wall_s_median"] / a["wall_s_median"]
            out.append({"target": f"focal {method}: tessera 2x1 at size {large} <= "
                                  f"{TARGET_FOCAL_RADIUS_RATIO:g}x its time at size {small}",
                        "measured": f"{ratio:.2f}x", "value": ratio,
                        "pass": ratio <= TARGET_FOCAL_RADIUS_RATIO})
    return out


def print_report(args, m, rows, goals):
    cores = os.cpu_count()
    print(f"tessera bench suite: medians of {args.runs} run(s), {cores} cores, load average "
          f"{os.getloadavg()[0]:.2f}; ZSTD level {ZSTD_LEVEL} with PREDICTOR=2")
    print(f"cpu: {cpu_description()}")
    print(f"mpirun -n 2 --bind-to none tessera --help (start-up, inside tessera's times): "
          f"{statistics.median(m.startups):.2f} s")
    speeds = copy_speeds(m)
    print(f"copy speed (one stream, 1 MiB buffer): read from page cache {speeds['read_gb_s']:.2f} GB/s, "
          f"write to a new file {speeds['write_gb_s']:.2f} GB/s; floor = input bytes read + tessera's "
          f"output bytes written at these speeds")
    print("2-rank I/O floor = tests/bench/io_floor.c under tessera 2x1's launch: start-up, each rank "
          "loading GDAL and opening the inputs through it, reading its share of the input once (twice "
          "for stats) and writing its share of the output into one file")
    print(f"{'size':>6} {'task':15} {'tool':18} {'wall s':>8} {'/2x1':>6} {'CPU s':>8} {'peak RSS MB':>16} "
          f"{'floor s':>8} {'/floor':>7} {'2-rank I/O floor s':>19}")
    for r in rows:
        rss = "/".join(f"{v:.0f}" for v in r["peak_rss_mb"])
        floor = f"{r['floor_s']:8.3f} {r['wall_s_median'] / r['floor_s']:6.1f}x" if r["floor_s"] else ""
        wall = f">={r['wall_s_median']:6.0f}" if r.get("lower_bound") else f"{r['wall_s_median']:8.2f}"
        io_floor = f" {r['io_floor_s']:19.3f}" if r.get("io_floor_s") else ""
        print(f"{r['size']:>6} {r['task']:15} {r['label']:18} {wall} "
              f"{r['ratio_to_tessera_2x1']:6.2f} {r['cpu_s_median']:8.2f} {rss:>16} {floor}{io_floor}")
    if args.baseline:
        print_side_by_side(args, side_by_side(args, rows))
    print("targets (largest size, medians, same run):")
    for g in goals:
        print(f"  {verdict(g)}  {g['target']}: {g['measured']}")
    if m.checks:
        print(f"outputs against tessera 2x1's at {m.checks[0]['size']} cells "
              "(largest difference where both valid; cells nodata in one only):")
        for c in m.checks:
            if "error" in c:
                print(f"  {c['task']:15} {tool_label(c['tool'], c['task']):18} {c['error']}")
                continue
            print(f"  {c['task']:15} {tool_label(c['tool'], c['task']):18} {c['max_abs_diff']:.3g} "
                  f"{c['nodata_in_one_only']:>8} {c['type']}{'' if c['same_type'] else ' (type differs)'}")


def side_by_side(args, rows):
    """With --baseline, at the largest size: for each task and each tessera tool that ran with the
    base tool mirroring it, the wall seconds of both (median, min and max over the repetitions)
    and the ratio of the medians new/base (under 1: tessera is faster than the baseline)."""
    size, pairs = args.sizes[-1], []
    for task in args.tasks:
        for base, new in BASE_TOOLS.items():
            ours, theirs = row(rows, size, task, new), row(rows, size, task, base)
            if ours and theirs:
                pairs.append({"task": task, "config": new.split("-")[1], "tessera_s": spread(ours),
                              "base_s": spread(theirs), "ratio": ours["wall_s_median"] / theirs["wall_s_median"]})
    return pairs


def spread(r):
    """A row's wall seconds: the median and the range over the repetitions."""
    return {"median": r["wall_s_median"], "min": min(r["wall_s"]), "max": max(r["wall_s"])}


def print_side_by_side(args, pairs):
    """One line per task: for 1x1 and 2x1, tessera's and the baseline's median (min-max), new/base."""
    configs = [c for c in ("1x1", "2x1") if any(p["config"] == c for p in pairs)]
    size = args.sizes[-1]
    print(f"tessera against the baseline at {size} x {size} cells, wall s: median (min-max) of {args.runs} "
          "run(s); new/base under 1: tessera is faster")
    print(f"  tessera: {args.tessera}\n  base:    {args.baseline}")
    print(f"{'task':15}" + "".join(f" {'tessera ' + c:>22} {'base ' + c:>22} {'new/base':>9}"
                                   for c in configs))
    for task in args.tasks:
        line = f"{task:15}"
        for c in configs:
            p = next((p for p in pairs if (p["task"], p["config"]) == (task, c)), None)
            line += f" {shown(p['tessera_s']):>22} {shown(p['base_s']):>22} {p['ratio']:9.2f}" if p else " " * 56
        print(line.rstrip())


def shown(seconds):
    """A spread() as `median (min-max)`."""
    return f"{seconds['median']:.2f} ({seconds['min']:.2f}-{seconds['max']:.2f})"


def cpu_description():
    """The CPU the figures were measured on (a VM may land on another host from one day to the
    next): model name, family/model, L2 per core, and the widest vector extension."""
    fields, flags = {}, set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "flags":
                    flags = set(value.split())
                    break
                fields.setdefault(key, value.strip())
        with open("/sys/devices/system/cpu/cpu0/cache/index2/size") as f:
            l2 = f.read().strip()
    except OSError:
        return platform.processor() or "unknown"
    vector = next((v for v in ("avx512f", "avx2", "sse4_2") if v in flags), "none")
    return (f"{fields.get('model name', '?')} (family {fields.get('cpu family', '?')} model "
            f"{fields.get('model', '?')}), L2 {l2} a core, {vector}")


def copy_speeds(m):
    """Read and write speeds (GB/s) over every copy floor measured."""
    read = sum(f["read_bytes"] for f in m.floors) / sum(f["read_s"] for f in m.floors)
    write = sum(f["write_bytes"] for f in m.floors) / sum(f["write_s"] for f in m.floors)
    return {"read_gb_s": read / 1e9, "write_gb_s": write / 1e9}
