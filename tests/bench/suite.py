"""tessera against its peers, in one run: gdaldem, gdal_calc.py, and numpy, rasterio + concurrent.futures
and dask.array as Python users write them. Prints a table and the targets, writes JSON and a PNG chart.

    /usr/bin/python3 tests/bench/suite.py [--runs 3] [--sizes 8000,16000] [--dir /tmp/tessera-bench]
        [--only TASK|TOOL,...] [--tessera build/src/tessera] [--check-size 1000] [--json F] [--png F]

Inputs are generated once and cached by size in --dir (tests/bench/inputs.py): a Float32 DEM
by `tessera generate` and two UInt16 bands (nir, red; nodata 65535). At the largest size every
tool runs every task; at the other sizes tessera 2x1 runs every task, for the peak RSS per rank
at each size. In each of --runs repetitions the tasks and tools are interleaved: the task's
inputs are read once into the page cache (cat > /dev/null), then each tool runs after a `sync`
with its output deleted first. Figures are medians over the repetitions.

Tasks (gdaldem's and gdal_calc.py's defaults):
  hillshade       gdaldem hillshade DEM OUT            (Byte, nodata 0)
  slope           gdaldem slope DEM OUT                (Float32 degrees, nodata -9999)
  hillshade-zstd  gdaldem hillshade DEM OUT -co TILED=YES -co COMPRESS=ZSTD -co PREDICTOR=2
                  -co ZSTD_LEVEL=9 (9 is GDAL's default ZSTD level; every tool writes the same)
  ndvi            gdal_calc.py -A nir -B red --calc="(A.astype(float)-B)/(A.astype(float)+B)"
                  --type=Float32 (nodata where either input is 65535)
Tools:
  tessera-1x1, tessera-1x2, tessera-2x1   tessera dem / tessera calc under
                  `mpirun -n RANKS --bind-to none` with OMP_NUM_THREADS=THREADS; its peak RSS per
                  rank from --report (dem) or the summary's min/max rows (calc)
  gdal            gdaldem or gdal_calc.py
  numpy, rasterio, dask   tests/bench/peers.py (whole array; block windows on a 2-thread
                  ThreadPoolExecutor; map_overlap depth 1 on 2 threads); same formulas;
                  on hillshade-zstd only with --peers-zstd (it adds GDAL's ZSTD encoder, which
                  gdaldem's row measures already, to their hillshade times)
Peak RSS of every process but tessera's ranks is /usr/bin/time's %M.

Also measured in each repetition: mpirun's start-up (`mpirun -n 2 --bind-to none tessera --help`,
included in tessera's times) and this machine's copy speed, which gives each task's floor: the
seconds to read the task's input bytes from the page cache and write tessera's output byte
count to a new file in the same folder. At --check-size every tool's output is compared with
tessera 2x1's (largest difference over cells valid in both, and cells where only one is nodata).
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import inputs  # noqa: E402  (tests/bench/inputs.py)

ROOT = os.path.dirname(os.path.dirname(HERE))
TASKS = ("hillshade", "slope", "hillshade-zstd", "ndvi")
TESSERA_CONFIGS = {"tessera-1x1": (1, 1), "tessera-1x2": (1, 2), "tessera-2x1": (2, 1)}
TOOLS = ("tessera-1x1", "tessera-1x2", "tessera-2x1", "gdal", "numpy", "rasterio", "dask")
PYTHON_PEERS = ("numpy", "rasterio", "dask")
REFERENCE = "tessera-2x1"
ZSTD_LEVEL = 9
ZSTD_CO = ["-co", "TILED=YES", "-co", "COMPRESS=ZSTD", "-co", "PREDICTOR=2", "-co", f"ZSTD_LEVEL={ZSTD_LEVEL}"]
NDVI_EXPR = "(A.astype(float)-B)/(A.astype(float)+B)"
TARGET_SPEEDUP = {"hillshade": 8.0, "slope": 8.0, "hillshade-zstd": 4.0, "ndvi": 8.0}
TARGET_RSS_MB = 300.0
TARGET_RANK_SCALING = 1.8


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3, help="repetitions; figures are medians (default 3)")
    p.add_argument("--sizes", default="8000,16000",
                   help="raster sides in cells, comma-separated; all tools run at the largest, "
                        "tessera 2x1 at every size (default 8000,16000)")
    p.add_argument("--dir", default=os.environ.get("TESSERA_BENCH_DIR", "/tmp/tessera-bench"),
                   help="cache of generated inputs and where outputs go (default /tmp/tessera-bench)")
    p.add_argument("--only", default="", help="comma-separated tasks and/or tools to run "
                   f"(tasks: {', '.join(TASKS)}; tools: {', '.join(TOOLS)}); tessera-2x1 always runs")
    p.add_argument("--tessera", default=os.path.join(ROOT, "build", "src", "tessera"))
    p.add_argument("--mpiexec", default="mpirun")
    p.add_argument("--peers-zstd", action="store_true",
                   help="run the Python peers on hillshade-zstd too (about 2 more minutes a "
                        "repetition at 16000: they write through GDAL's ZSTD as gdaldem does)")
    p.add_argument("--check-size", type=int, default=1000,
                   help="side at which outputs are compared with tessera 2x1's (default 1000, "
                        "or the largest size if smaller; 0 skips the comparison)")
    p.add_argument("--rss-tolerance", type=float, default=0.10,
                   help="peak RSS per rank counts as the same across sizes within this fraction (0.10)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds before one command counts as hung")
    p.add_argument("--json", help="default DIR/suite.json")
    p.add_argument("--png", help="default DIR/suite.png")
    args = p.parse_args()
    args.sizes = sorted({int(s) for s in args.sizes.split(",") if s})
    names = [n for n in args.only.split(",") if n]
    unknown = [n for n in names if n not in TASKS + TOOLS]
    if unknown:
        p.error(f"--only: unknown {', '.join(unknown)} (tasks: {', '.join(TASKS)}; tools: {', '.join(TOOLS)})")
    args.tasks = [t for t in TASKS if t in names] or list(TASKS)
    args.tools = [t for t in TOOLS if t in names or t == REFERENCE] if set(names) & set(TOOLS) else list(TOOLS)
    if args.check_size:
        args.check_size = min(args.check_size, args.sizes[-1])
    args.json = args.json or os.path.join(args.dir, "suite.json")
    args.png = args.png or os.path.join(args.dir, "suite.png")
    if not os.access(args.tessera, os.X_OK):
        p.error(f"no tessera at {args.tessera} (build it or pass --tessera)")
    return args


def mpi_env(threads=1):
    return dict(os.environ, OMP_NUM_THREADS=str(threads), **inputs.MPI_ENV)


def tool_label(tool, task):
    if tool == "gdal":
        return "gdal_calc.py" if task == "ndvi" else "gdaldem"
    return {"rasterio": "rasterio+futures", "dask": "dask map_overlap" if task != "ndvi" else "dask.array",
            "numpy": "numpy whole array"}.get(tool, tool.replace("-", " "))


class Inputs:
    """The cached inputs of one size."""

    def __init__(self, args, size):
        self.dem = inputs.make_dem(args.dir, size, args.tessera, mpiexec=args.mpiexec)
        self.nir, self.red = inputs.make_bands(args.dir, size)

    def of(self, task):
        return [self.nir, self.red] if task == "ndvi" else [self.dem]


def tessera_command(args, tool, task, files, out, report):
    """The command line and environment of one tessera run; --report only where it is taken."""
    ranks, threads = TESSERA_CONFIGS[tool]
    launch = [args.mpiexec, "-n", str(ranks), "--bind-to", "none", args.tessera]
    if task == "ndvi":
        cmd = launch + ["calc", "-A", files[0], "-B", files[1], f"--calc={NDVI_EXPR}", "--type=Float32",
                        "--outfile", out]
    else:
        mode = "slope" if task == "slope" else "hillshade"
        cmd = launch + ["dem", mode, files[0], out, "-q", "--report", report]
        cmd += ZSTD_CO if task == "hillshade-zstd" else []
    return cmd, mpi_env(threads)


def peer_command(tool, task, files, out):
    """The command line of one peer run (gdaldem, gdal_calc.py or tests/bench/peers.py)."""
    if tool == "gdal" and task == "ndvi":
        gdal_calc = shutil.which("gdal_calc.py") or "/usr/bin/gdal_calc.py"
        return [sys.executable, gdal_calc, "-A", files[0], "-B", files[1], f"--calc={NDVI_EXPR}",
                "--type=Float32", "--outfile", out, "--quiet"]
    if tool == "gdal":
        mode = "slope" if task == "slope" else "hillshade"
        return ["gdaldem", mode, files[0], out, "-q"] + (ZSTD_CO if task == "hillshade-zstd" else [])
    return [sys.executable, os.path.join(HERE, "peers.py"), tool, task, out] + files


def run_checked(cmd, env, timeout):
    """Runs cmd; its wall seconds and output; a failure stops the suite with the command's stderr."""
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"suite: failed ({done.returncode}): {' '.join(cmd)}\n{done.stdout}{done.stderr}")
    return wall, done.stdout


def summary_rss(stdout):
    """The peak RSS (MB) of the min and max rows of tessera's summary table (its last column):
    on 2 ranks, the two ranks' figures (tessera calc takes no --report)."""
    rows = [line.split() for line in stdout.splitlines()]
    return sorted(float(r[-1]) for r in rows if r and r[0] in ("min", "max"))


def time_tool(args, work, tool, task, files):
    """One timed run after a sync, output deleted first: (wall s, peak RSS MB per process, output,
    tessera's encode thread-seconds summed over its ranks when its --report gives them)."""
    out = os.path.join(work, f"{task}.{tool}.tif")
    report = os.path.join(work, "report.json")
    for path in (out, report):
        if os.path.exists(path):
            os.remove(path)
    os.sync()
    if tool in TESSERA_CONFIGS:
        cmd, env = tessera_command(args, tool, task, files, out, report)
        wall, stdout = run_checked(cmd, env, args.timeout)
        if os.path.exists(report):
            ranks = json.load(open(report))["per_rank"]
            return wall, [r["peak_rss_mb"] for r in ranks], out, sum(r["encode_s"] for r in ranks)
        return wall, summary_rss(stdout)[-TESSERA_CONFIGS[tool][0]:], out, None
    rss_file = os.path.join(work, "rss")
    cmd = ["/usr/bin/time", "-f", "%M", "-o", rss_file] + peer_command(tool, task, files, out)
    wall, _ = run_checked(cmd, dict(os.environ), args.timeout)
    return wall, [int(open(rss_file).read().split()[-1]) / 1024], out, None


def warm(paths):
    """Reads the files into the page cache, as `cat FILES > /dev/null`."""
    subprocess.run(["cat"] + paths, stdout=subprocess.DEVNULL, check=True)


def copy_floor(files, out_bytes, work):
    """Seconds to read `files` from the page cache and to write `out_bytes` to a new file in
    `work`, one stream through a reused 1 MiB buffer: this machine's copy speed."""
    buf = bytearray(1 << 20)
    os.sync()
    start = time.perf_counter()
    read_bytes = 0
    for path in files:
        with open(path, "rb", buffering=0) as f:
            while (n := f.readinto(buf)):
                read_bytes += n
    read_s = time.perf_counter() - start
    target = os.path.join(work, "floor.bin")
    block = memoryview(bytes(range(256)) * 4096)
    start = time.perf_counter()
    with open(target, "wb", buffering=0) as f:
        left = out_bytes
        while left > 0:
            left -= f.write(block[:min(left, len(block))])
    write_s = time.perf_counter() - start
    os.remove(target)
    return {"read_s": read_s, "write_s": write_s, "read_bytes": read_bytes, "write_bytes": out_bytes}


def startup_seconds(args):
    """Wall seconds of `mpirun -n 2 --bind-to none tessera --help`: launching and MPI_Init."""
    cmd = [args.mpiexec, "-n", "2", "--bind-to", "none", args.tessera, "--help"]
    wall, _ = run_checked(cmd, mpi_env(), args.timeout)
    return wall


def compare(path, reference):
    """How far `path`'s cells are from `reference`'s: the largest difference over cells valid in
    both, and the cells that are nodata in one only. Read in strips of rows."""
    import numpy as np
    from osgeo import gdal

    gdal.UseExceptions()
    a, b = gdal.Open(path), gdal.Open(reference)
    if (a.RasterXSize, a.RasterYSize) != (b.RasterXSize, b.RasterYSize):
        return {"error": "sizes differ"}
    band_a, band_b = a.GetRasterBand(1), b.GetRasterBand(1)
    worst, one_only = 0.0, 0
    for y0 in range(0, a.RasterYSize, 512):
        rows = min(512, a.RasterYSize - y0)
        cells_a = band_a.ReadAsArray(0, y0, a.RasterXSize, rows)
        cells_b = band_b.ReadAsArray(0, y0, b.RasterXSize, rows)
        valid_a, valid_b = valid(cells_a, band_a.GetNoDataValue()), valid(cells_b, band_b.GetNoDataValue())
        both = valid_a & valid_b
        if both.any():
            diff = np.abs(cells_a[both].astype(np.float64) - cells_b[both].astype(np.float64))
            worst = max(worst, float(diff.max()))
        one_only += int((valid_a != valid_b).sum())
    return {"max_abs_diff": worst, "nodata_in_one_only": one_only,
            "type": gdal.GetDataTypeName(band_a.DataType),
            "same_type": band_a.DataType == band_b.DataType}


def valid(cells, nodata):
    """Cells that are not nodata, the nodata value taken in the cells' own type."""
    import numpy as np

    if nodata is None:
        return np.ones(cells.shape, dtype=bool)
    return cells != np.array(nodata).astype(cells.dtype)


def log(text):
    print(text, file=sys.stderr, flush=True)


class Measurements:
    """Everything one suite run measures, as flat records."""

    def __init__(self):
        self.runs = []      # size, task, tool, run, wall_s, rss_mb (per process or rank)
        self.floors = []    # size, task, run, read_s, write_s, read_bytes, write_bytes
        self.startups = []  # wall seconds of mpirun -n 2 tessera --help
        self.checks = []    # size, task, tool, max_abs_diff, nodata_in_one_only, type, same_type


def tools_for(args, size, task):
    """The tools that run `task` at `size`: every selected one at the largest size (the Python
    peers on hillshade-zstd only with --peers-zstd), tessera 2x1 at the others."""
    if size != args.sizes[-1]:
        return [REFERENCE]
    skip = PYTHON_PEERS if task == "hillshade-zstd" and not args.peers_zstd else ()
    return [t for t in args.tools if t not in skip]


def run_task(args, work, m, size, files, task, tools, run, keep):
    """Every tool on one task, interleaved, then the copy floor; the outputs when `keep`."""
    warm(files)
    outs = {}
    for tool in tools:
        wall, rss, out, encode = time_tool(args, work, tool, task, files)
        log(f"  {size} {task:15} {tool_label(tool, task):18} {wall:7.2f} s  RSS MB {[round(r) for r in rss]}")
        m.runs.append({"size": size, "task": task, "tool": tool, "run": run, "wall_s": wall, "rss_mb": rss,
                       "encode_s": encode})
        if tool == REFERENCE:
            out_bytes = os.path.getsize(out)
        outs[tool] = out
        if not keep and tool != REFERENCE:
            os.remove(out)
    m.floors.append({"size": size, "task": task, "run": run, **copy_floor(files, out_bytes, work)})
    if keep:
        check_outputs(m, size, task, outs)
    for out in outs.values():
        if os.path.exists(out):
            os.remove(out)


def check_outputs(m, size, task, outs):
    for tool, out in outs.items():
        if tool != REFERENCE:
            m.checks.append({"size": size, "task": task, "tool": tool, **compare(out, outs[REFERENCE])})


def measure(args, work):
    m = Measurements()
    sets = {size: Inputs(args, size) for size in args.sizes}
    largest = args.sizes[-1]
    for run in range(args.runs):
        m.startups.append(startup_seconds(args))
        log(f"run {run + 1}/{args.runs}: mpirun -n 2 tessera --help {m.startups[-1]:.2f} s")
        for size in args.sizes:
            keep = run == args.runs - 1 and size == args.check_size == largest
            for task in args.tasks:
                tools = tools_for(args, size, task)
                run_task(args, work, m, size, sets[size].of(task), task, tools, run, keep)
    if args.check_size and args.check_size != largest:
        log(f"outputs compared at {args.check_size} cells")
        checked = Inputs(args, args.check_size)
        scratch = Measurements()
        for task in args.tasks:
            tools = tools_for(args, largest, task)
            run_task(args, work, scratch, args.check_size, checked.of(task), task, tools, 0, True)
        m.checks = scratch.checks
    return m


def summarise(args, m):
    """One row per size, task and tool: medians, ratio to tessera 2x1, per-process RSS, floor."""
    rows = []
    for size in args.sizes:
        for task in args.tasks:
            floors = [f["read_s"] + f["write_s"] for f in m.floors if f["size"] == size and f["task"] == task]
            for tool in TOOLS:
                sel = [r for r in m.runs if (r["size"], r["task"], r["tool"]) == (size, task, tool)]
                if not sel:
                    continue
                walls = [r["wall_s"] for r in sel]
                rss = [statistics.median(col) for col in zip(*(r["rss_mb"] for r in sel))]
                encodes = [r["encode_s"] for r in sel if r.get("encode_s") is not None]
                rows.append({"size": size, "task": task, "tool": tool, "label": tool_label(tool, task),
                             "wall_s": walls, "wall_s_median": statistics.median(walls),
                             "encode_s_median": statistics.median(encodes) if encodes else None,
                             "peak_rss_mb": [round(v, 1) for v in rss], "peak_rss_mb_max": round(max(rss), 1),
                             "floor_s": statistics.median(floors) if tool in TESSERA_CONFIGS else None})
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


def row(rows, size, task, tool):
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
                    "measured": f"{ratio:.2f}x", "value": ratio, "pass": ratio >= TARGET_SPEEDUP[task]}
            out.append(encode_bound(goal, peer, ref, startup))
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
    print(f"{'size':>6} {'task':15} {'tool':18} {'wall s':>8} {'/2x1':>6} {'peak RSS MB':>16} "
          f"{'floor s':>8} {'/floor':>7}")
    for r in rows:
        rss = "/".join(f"{v:.0f}" for v in r["peak_rss_mb"])
        floor = f"{r['floor_s']:8.3f} {r['wall_s_median'] / r['floor_s']:6.1f}x" if r["floor_s"] else ""
        print(f"{r['size']:>6} {r['task']:15} {r['label']:18} {r['wall_s_median']:8.2f} "
              f"{r['ratio_to_tessera_2x1']:6.2f} {rss:>16} {floor}")
    print("targets (largest size, medians, same run):")
    for g in goals:
        print(f"  {'PASS' if g['pass'] else 'FAIL'}  {g['target']}: {g['measured']}")
    if m.checks:
        print(f"outputs against tessera 2x1's at {m.checks[0]['size']} cells "
              "(largest difference where both valid; cells nodata in one only):")
        for c in m.checks:
            if "error" in c:
                print(f"  {c['task']:15} {tool_label(c['tool'], c['task']):18} {c['error']}")
                continue
            print(f"  {c['task']:15} {tool_label(c['tool'], c['task']):18} {c['max_abs_diff']:.3g} "
                  f"{c['nodata_in_one_only']:>8} {c['type']}{'' if c['same_type'] else ' (type differs)'}")


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
    read = sum(f["read_bytes"] for f in m.floors) / sum(f["read_s"] for f in m.floors)
    write = sum(f["write_bytes"] for f in m.floors) / sum(f["write_s"] for f in m.floors)
    return {"read_gb_s": read / 1e9, "write_gb_s": write / 1e9}


def write_json(args, m, rows, goals, started, load_start):
    doc = {
        "suite": "tests/bench/suite.py", "date": started, "host": platform.node(),
        "cpu": cpu_description(), "cores": os.cpu_count(), "load_average_start": load_start, "load_average_end": os.getloadavg()[0],
        "runs": args.runs, "sizes": args.sizes, "tasks": args.tasks, "tools": args.tools,
        "zstd_creation_options": ZSTD_CO[1::2], "ndvi_expression": NDVI_EXPR,
        "mpirun_startup_s": m.startups, "mpirun_startup_s_median": statistics.median(m.startups),
        "copy_speed": copy_speeds(m), "floors": m.floors, "rows": rows, "targets": goals,
        "checks": m.checks, "raw": m.runs,
    }
    with open(args.json, "w") as f:
        json.dump(doc, f, indent=1)


def write_png(args, rows):
    """Bars of wall time (log scale) and peak RSS per process at the largest size, by task and tool."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = args.sizes[-1]
    shown = [r for r in rows if r["size"] == size]
    tools = [t for t in TOOLS if any(r["tool"] == t for r in shown)]
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


def main():
    args = parse_args()
    started, load_start = time.strftime("%Y-%m-%dT%H:%M:%S"), os.getloadavg()[0]
    os.makedirs(args.dir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="suite.", dir=args.dir)
    try:
        m = measure(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = summarise(args, m)
    goals = targets(args, rows, statistics.median(m.startups))
    print_report(args, m, rows, goals)
    write_json(args, m, rows, goals, started, load_start)
    write_png(args, rows)
    print(f"wrote {args.json} and {args.png}")


if __name__ == "__main__":
    main()
