"""The suite's files (tests/bench/suite.py): the JSON of every run, median, target and check (and
with --baseline the side-by-side pairs), and the PNG chart of the largest size."""
import json
import os
import platform
import statistics

from suite_report import TARGET_RSS_MB, copy_speeds, cpu_description, row, side_by_side
from suite_tools import ALL_TOOLS, NDVI_EXPR, REFERENCE, ZSTD_CO, tool_label


def write_json(args, m, rows, goals, started, load_start):
    """The run as JSON at --json: settings, CPU and load, every raw run, the rows, targets and checks."""
    doc = {
        "suite": "tests/bench/suite.py", "date": started, "host": platform.node(),
        "cpu": cpu_description(), "cores": os.cpu_count(), "load_average_start": load_start, "load_average_end": os.getloadavg()[0],
        "runs": args.runs, "sizes": args.sizes, "tasks": args.tasks, "tools": args.tools,
        "zstd_creation_options": ZSTD_CO[1::2], "ndvi_expression": NDVI_EXPR,
        "mpirun_startup_s": m.startups, "mpirun_startup_s_median": statistics.median(m.startups),
        "copy_speed": copy_speeds(m), "floors": m.floors, "rows": rows, "targets": goals,
        "checks": m.checks, "raw": m.runs, "free_memory_held": args.hold_free_memory,
    }
    if args.baseline:
        doc["baseline"] = {"binary": args.baseline, "tessera": args.tessera, "size": args.sizes[-1],
                           "pairs": side_by_side(args, rows)}
    with open(args.json, "w") as f:
        json.dump(doc, f, indent=1)


def write_png(args, rows):
    """Bars of wall time (log scale) and peak RSS per process at the largest size, by task and tool."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = args.sizes[-1]
    shown = [r for r in rows if r["size"] == size]
    tools = [t for t in ALL_TOOLS if any(r["tool"] == t for r in shown)]
    fig, axes = plt.subplots(2, 1, figsize=(13, 8), sharex=True)
    width = 0.8 / len(tools)
    for i, tool in enumerate(tools):
        xs, walls, rss = [], [], []
        for j, task in enumerate(args.tasks):
            r = row(rows, size, task, tool)
            if r:
                xs.append(j + (i - (len(tools) - 1) / 2) * width)
                walls.append(r["wall_s_median"])
                rss.append(r["peak_rss_mb_max"])
        label = "gdaldem / gdal_calc.py" if tool == "gdal" else tool_label(tool, "hillshade")
        bars = axes[0].bar(xs, walls, width, label=label)
        axes[0].bar_label(bars, fmt="%.1f", fontsize=6)
        axes[1].bar_label(axes[1].bar(xs, rss, width, label=label), fmt="%.0f", fontsize=6)
        if tool == REFERENCE:
            floors = [row(rows, size, task, tool)["floor_s"] for task in args.tasks]
            axes[0].hlines(floors, [x - width / 2 for x in xs], [x + width / 2 for x in xs], colors="black",
                           label="copy floor (under tessera 2x1)")
    axes[0].set_yscale("log")
    axes[0].set_ylabel("wall time, s (median, log scale)")
    axes[1].set_yscale("log")
    axes[1].set_ylabel("peak RSS per process or rank, MB")
    axes[1].axhline(TARGET_RSS_MB, color="grey", linestyle="--", linewidth=1)
    axes[1].set_xticks(range(len(args.tasks)))
    axes[1].set_xticklabels(args.tasks)
    axes[0].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    axes[0].set_title(f"tessera and its peers, {size} x {size} cells, medians of {args.runs} run(s), "
                      f"{os.cpu_count()} cores\n{cpu_description()}", fontsize=10)
    fig.tight_layout()
    fig.savefig(args.png, dpi=100)
    plt.close(fig)
