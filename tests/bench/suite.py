"""tessera against its peers, in one run: gdaldem, gdal_calc.py, and numpy, rasterio + concurrent.futures
and dask.array as Python users write them. Prints a table and the targets, writes JSON and a PNG chart.

    /usr/bin/python3 tests/bench/suite.py [--runs 3] [--sizes 8000,16000] [--dir /tmp/tessera-bench]
        [--only TASK|TOOL,...] [--tessera build/src/tessera] [--baseline BINARY] [--check-size 1000]
        [--json F] [--png F] [--modes [all|MODE,...]]

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
  hillshade-cog   gdaldem hillshade DEM TMP, then gdal_translate -of COG TMP OUT -co COMPRESS=ZSTD
                  -co LEVEL=9 -co PREDICTOR=YES -co RESAMPLING=AVERAGE -co NUM_THREADS=2 (what a
                  user does today), against tessera dem hillshade -of COG with the same options;
                  no Python peers
  ndvi            gdal_calc.py -A nir -B red --calc="(A.astype(float)-B)/(A.astype(float)+B)"
                  --type=Float32 (nodata where either input is 65535)
  stats           gdalinfo -stats -hist DEM (exact statistics and GDAL's default histogram; the
                  .aux.xml of an earlier run removed first, as gdalinfo would reuse it) against
                  tessera stats --hist --no-aux --json OUT (exact too); no Python peers
  zonal-raster, zonal-polygons   count, min, max, mean, std of the DEM per zone of 1000 zones
                  (tests/bench/inputs.py make_zones: a UInt16 raster, and the same zones as
                  GeoPackage polygons): tessera zonal; gdal is GRASS r.univar -t zones= (r.external,
                  polygons v.in.ogr + v.to.rast, the import's seconds logged apart), numpy and
                  rasterio are np.bincount over the whole arrays or over windows on 2 threads
                  (rasterio.features.rasterize for the polygons; tests/bench/zonal_peers.py)
  focal-METHOD-SIZE   only when --only names it (or `focal`, all twelve): tessera focal METHOD DEM
                  OUT --size SIZE, METHOD mean, stddev, max or median, SIZE 3, 15 or 51; gdal is
                  GRASS r.neighbors (r.external, r.neighbors, r.out.gdal in a temporary location;
                  when grass is installed), numpy and dask run scipy.ndimage (tests/bench/peers.py),
                  rasterio does not run
  fill, flowdir, flowacc, watershed   only when --only names them (or `hydro`, all four):
                  tessera hydro TASK against TauDEM 5.3 at mpirun -n 2 (pitremove -z DEM;
                  d8flowdir -fel FEL (it writes its -sd8 slope too); aread8 -nc -p P;
                  gagewatershed -p P -o OUTLETS.shp, tessera -o OUTLETS.tif: 200 random cells);
                  flowdir reads the filled DEM, flowacc and watershed tessera's directions of it
                  (flats resolved; a 0 code, a flat without an outlet, as nodata; cached in --dir
                  as DEM_pflats.tif); the "gdal" tool of
                  these tasks is TauDEM, whose peak RSS is /usr/bin/time's %M of mpirun (its
                  largest process); tessera runs at 1 and 2 ranks; on fill also the serial
                  Priority-Floods of the literature at one core (tools pf-barnes: Barnes et al.
                  2014 Algorithm 2; pf-zhou: Zhou et al. 2016; tests/bench/serial_fill.cpp, whole
                  DEM in memory; their own split of read, fill and write is logged)
  fill-epsilon    only when --only names it: tessera hydro fill -z DEM -fel OUT --epsilon (four
                  passes: fill, flowdir, the bound, the epsilon pass) at 1 and 2 ranks; the serial
                  Priority-Floods + epsilon at one core (tools pf-eps-barnes: Barnes et al. 2014
                  Algorithm 3, another surface; pf-eps-least: Algorithm 1 with the same raise,
                  tessera's least surface; tests/bench/serial_fill.cpp)
Tools:
  tessera-1x1, tessera-1x2, tessera-2x1   tessera dem / tessera calc under
                  `mpirun -n RANKS --bind-to none` with OMP_NUM_THREADS=THREADS; its peak RSS per
                  rank from --report (dem) or the summary's min/max rows (calc)
  gdal            gdaldem or gdal_calc.py
  base-1x1, base-2x1   with --baseline BINARY: tessera-1x1's and tessera-2x1's command lines with
                  BINARY (another build of tessera), each run next to its tessera tool, base first
                  in every other repetition; a side-by-side table gives each pair's medians, their
                  ratio new/base and their spread (min-max over the repetitions)
  numpy, rasterio, dask   tests/bench/peers.py (whole array; block windows on a 2-thread
                  ThreadPoolExecutor; map_overlap depth 1 on 2 threads); same formulas;
                  on hillshade-zstd only with --peers-zstd (it adds GDAL's ZSTD encoder, which
                  gdaldem's row measures already, to their hillshade times)
Peak RSS of every process but tessera's ranks is /usr/bin/time's %M.

On a VM that reports its free memory to the host (virtio-balloon free page reporting), a tool's
output is written into memory the host must fault back in, and short runs slow down 2-3x by
chance (suite_tools.hold_free_memory). The suite says so after a run during which the guest
reported memory; --hold-free-memory (root) holds the reporting for the run and restores it after.

--modes times every gdaldem mode and the flags that change its arithmetic (tests/bench/
suite_modes.py; all by default, or the names given) against tessera 2x1 at the largest of
--sizes instead of the tasks above, and writes DIR/modes.json (or --json).

Also measured in each repetition: mpirun's start-up (`mpirun -n 2 --bind-to none tessera --help`,
included in tessera's times) and this machine's copy speed, which gives each task's floor: the
seconds to read the task's input bytes from the page cache and write tessera's output byte
count to a new file in the same folder. And the 2-rank I/O floor (tests/bench/io_floor.c, built
with mpicc and GDAL): the same launch as tessera 2x1, each rank loading GDAL and opening the inputs
through it, reading its share of the input once (twice for stats) and writing its share of
tessera's output byte count into one file, nothing else. A peer's time over it is the most any
2-rank tool that reads through GDAL can gain on this host; a target above it says "unreachable
here".
At --check-size every tool's output is compared with tessera 2x1's (largest difference over cells
valid in both, and cells where only one is nodata).
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from suite_output import write_json, write_png  # noqa: E402  (tests/bench/suite_output.py)
import suite_tools  # noqa: E402
from suite_modes import run_modes  # noqa: E402
from suite_report import print_report, summarise, targets  # noqa: E402
from suite_tools import (ALL_TOOLS, BASE_TOOLS, EPSILON_TASK, FLOOR_SWEEPS, FOCAL_TASKS,  # noqa: E402
                         HYDRO_TASKS, PYTHON_PEERS, REFERENCE, SERIAL_EPSILON, SERIAL_FILL, TASKS, TOOLS,
                         ZONAL_TASKS, serial_fill_bin, Inputs, build_io_floor, compare, copy_floor, focal_task, hold_free_memory,
                         io_floor_seconds, release_free_memory, reported_kib, reporting_note, run_order,
                         startup_seconds, time_tool, tool_label, tools_of, warm)

ROOT = os.path.dirname(os.path.dirname(HERE))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3, help="repetitions; figures are medians (default 3)")
    p.add_argument("--sizes", default="8000,16000",
                   help="raster sides in cells, comma-separated; all tools run at the largest, "
                        "tessera 2x1 at every size (default 8000,16000)")
    p.add_argument("--dir", default=os.environ.get("TESSERA_BENCH_DIR", "/tmp/tessera-bench"),
                   help="cache of generated inputs and where outputs go (default /tmp/tessera-bench)")
    p.add_argument("--only", default="", help="comma-separated tasks and/or tools to run "
                   f"(tasks: {', '.join(TASKS)}; focal-METHOD-SIZE, METHOD mean, stddev, max or "
                   "median, SIZE 3, 15 or 51, or focal for all twelve; tools: "
                   f"{', '.join(TOOLS)}; with --baseline also {', '.join(BASE_TOOLS)}); "
                   "tessera-2x1 always runs")
    p.add_argument("--tessera", default=os.path.join(ROOT, "build", "src", "tessera"))
    p.add_argument("--baseline", metavar="BINARY",
                   help="another tessera binary, timed in the same run as base-1x1 and base-2x1 "
                        "beside tessera-1x1 and tessera-2x1 (the same command lines)")
    p.add_argument("--mpiexec", default="mpirun")
    p.add_argument("--taudem", metavar="BIN_DIR",
                   help="TauDEM's binaries for the hydrology tasks (default: built once into "
                        "DIR/taudem from ../shared/peers, see its README)")
    p.add_argument("--serial-fill", metavar="BINARY",
                   help="the serial Priority-Flood peers of the fill and fill-epsilon tasks "
                        "(tools pf-barnes, pf-zhou, pf-eps-barnes, pf-eps-least; default "
                        "build/src/serial_fill, skipped when not built)")
    p.add_argument("--peers-zstd", action="store_true",
                   help="run the Python peers on hillshade-zstd too (about 2 more minutes a "
                        "repetition at 16000: they write through GDAL's ZSTD as gdaldem does)")
    p.add_argument("--check-size", type=int, default=1000,
                   help="side at which outputs are compared with tessera 2x1's (default 1000, "
                        "or the largest size if smaller; 0 skips the comparison)")
    p.add_argument("--rss-tolerance", type=float, default=0.10,
                   help="peak RSS per rank counts as the same across sizes within this fraction (0.10)")
    p.add_argument("--timeout", type=float, default=1800,
                   help="seconds after which tessera counts as hung, and a peer is stopped unless "
                        "--peer-timeout says otherwise (1800)")
    p.add_argument("--peer-timeout", type=float,
                   help="seconds after which a peer is stopped and its time counts as at least this "
                        "(a lower bound, shown as >=); default --timeout")
    p.add_argument("--json", help="default DIR/suite.json")
    p.add_argument("--png", help="default DIR/suite.png")
    p.add_argument("--modes", nargs="?", const="all", metavar="all|MODE,...",
                   help="time every gdaldem mode and flag mix (or those named) against tessera "
                        "2x1 at the largest size instead of the tasks (tests/bench/suite_modes.py)")
    p.add_argument("--floor-tries", type=int, default=3,
                   help="runs of the 2-rank I/O floor per task and repetition, the least kept (3)")
    p.add_argument("--hold-free-memory", action="store_true",
                   help="on a VM reporting free memory to its host: hold the reporting for the run "
                        "(root; restored after) and touch 6 GiB once, so that tools write into "
                        "memory the host backs")
    args = p.parse_args()
    args.peer_timeout = args.peer_timeout or args.timeout
    if args.floor_tries < 1:
        p.error(f"--floor-tries: {args.floor_tries}: at least 1")
    args.sizes = sorted({int(s) for s in args.sizes.split(",") if s})
    names = [n for n in args.only.split(",") if n]
    tools = ALL_TOOLS if args.baseline else TOOLS
    unknown = [n for n in names
               if n not in TASKS + FOCAL_TASKS + ("focal",) + HYDRO_TASKS + ("hydro", EPSILON_TASK) + tools]
    if unknown:
        needs = " (base tools need --baseline)" if set(unknown) & set(BASE_TOOLS) else ""
        p.error(f"--only: unknown {', '.join(unknown)}{needs} (tasks: {', '.join(TASKS)}; "
                f"tools: {', '.join(tools)})")
    args.tasks = [t for t in TASKS + FOCAL_TASKS + HYDRO_TASKS + (EPSILON_TASK,)
                  if t in names or ("focal" in names and t in FOCAL_TASKS)
                  or ("hydro" in names and t in HYDRO_TASKS)] or list(TASKS)
    args.tools = [t for t in tools if t in names or t == REFERENCE] if set(names) & set(tools) else list(tools)
    if args.check_size:
        args.check_size = min(args.check_size, args.sizes[-1])
    if args.modes is None:
        args.json = args.json or os.path.join(args.dir, "suite.json")
    args.png = args.png or os.path.join(args.dir, "suite.png")
    if not os.access(args.tessera, os.X_OK):
        p.error(f"no tessera at {args.tessera} (build it or pass --tessera)")
    if args.baseline and not os.access(args.baseline, os.X_OK):
        p.error(f"--baseline: {args.baseline} is not an executable")
    return args


def log(text):
    """One line of progress on stderr."""
    print(text, file=sys.stderr, flush=True)


class Measurements:
    """Everything one suite run measures, as flat records."""

    def __init__(self):
        self.runs = []      # size, task, tool, run, wall_s, rss_mb (per process or rank)
        self.floors = []    # size, task, run, read_s, write_s, read_bytes, write_bytes, io_floor_s
        self.io_floor = None  # tests/bench/io_floor.c built, or None without mpicc
        self.startups = []  # wall seconds of mpirun -n 2 tessera --help
        self.checks = []    # size, task, tool, max_abs_diff, nodata_in_one_only, type, same_type


def tools_for(args, size, task):
    """The tools that run `task` at `size`: every selected one at the largest size (the Python
    peers on hillshade-zstd only with --peers-zstd), tessera 2x1 at the others."""
    if size != args.sizes[-1]:
        return [REFERENCE]
    skip = PYTHON_PEERS if task == "hillshade-zstd" and not args.peers_zstd else ()
    if focal_task(task):  # r.neighbors when GRASS is installed; scipy whole and under dask
        skip = ("rasterio",) + (() if shutil.which("grass") else ("gdal",))
    if task in ZONAL_TASKS:  # GRASS r.univar when installed
        skip = () if shutil.which("grass") else ("gdal",)
    if task in HYDRO_TASKS:  # TauDEM at mpirun -n 2; tessera at 1 and 2 ranks; on fill the
        # serial Priority-Floods when built
        skip = PYTHON_PEERS + ("tessera-1x2",) + (() if serial_fill_bin(args) else tuple(SERIAL_FILL))
    if task == EPSILON_TASK:  # tessera at 1 and 2 ranks, the serial Priority-Floods + epsilon
        skip = PYTHON_PEERS + ("tessera-1x2", "gdal") + (() if serial_fill_bin(args) else tuple(SERIAL_EPSILON))
    return [t for t in tools_of(task, args.tools) if t not in skip]


def run_task(args, work, m, size, files, task, tools, run, keep):
    """Every tool on one task, interleaved (in the order of repetition `run`), then the copy floor
    and the 2-rank I/O floor; the outputs when `keep`."""
    warm(files)
    outs = {}
    for tool in run_order(tools, run):
        wall, rss, out, encode, timed_out = time_tool(args, work, tool, task, files)
        cpu = suite_tools.last_cpu["s"]
        shown = f">= {wall:.0f} s (stopped at --timeout)" if timed_out else f"{wall:7.2f} s"
        log(f"  {size} {task:15} {tool_label(tool, task):18} {shown}  CPU {cpu:7.2f} s  "
            f"RSS MB {[round(r) if r == r else r for r in rss]}  load {os.getloadavg()[0]:.1f}")
        m.runs.append({"size": size, "task": task, "tool": tool, "run": run, "wall_s": wall, "rss_mb": rss,
                       "encode_s": encode, "timed_out": timed_out, "cpu_s": cpu,
                       "load": os.getloadavg()[0]})
        if tool == REFERENCE:
            out_bytes = os.path.getsize(out)
        if timed_out:
            continue
        outs[tool] = out
        if not keep and tool != REFERENCE:
            os.remove(out)
    m.floors.append({"size": size, "task": task, "run": run, **copy_floor(files, out_bytes, work)})
    if m.io_floor:
        sweeps = FLOOR_SWEEPS.get(task, 1)
        m.floors[-1]["io_floor_s"] = io_floor_seconds(args, m.io_floor, files, out_bytes, work, args.floor_tries,
                                                      sweeps)
        m.floors[-1]["io_floor_sweeps"] = sweeps
    if keep:
        check_outputs(m, size, task, {tool: outs[tool] for tool in tools if tool in outs})
    for out in outs.values():
        if os.path.exists(out):
            os.remove(out)


def check_outputs(m, size, task, outs):
    """Compares every output but the reference's with the reference's."""
    for tool, out in outs.items():
        if tool != REFERENCE:
            m.checks.append({"size": size, "task": task, "tool": tool, **compare(out, outs[REFERENCE])})


def measure(args, work):
    """Every repetition at every size, then the output checks (at --check-size, in a run of their
    own when it is not the largest size)."""
    m = Measurements()
    m.io_floor = build_io_floor(args, work)
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


def main():
    args = parse_args()
    started, load_start = time.strftime("%Y-%m-%dT%H:%M:%S"), os.getloadavg()[0]
    os.makedirs(args.dir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="suite.", dir=args.dir)
    held = hold_free_memory() if args.hold_free_memory else None
    reported = reported_kib()
    try:
        if args.modes is not None:
            run_modes(args, work)
        else:
            m = measure(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        release_free_memory(held)
    note = reporting_note(reported)
    if note:
        print(note)
    if args.modes is not None:
        return
    rows = summarise(args, m)
    goals = targets(args, rows, statistics.median(m.startups))
    print_report(args, m, rows, goals)
    write_json(args, m, rows, goals, started, load_start)
    write_png(args, rows)
    print(f"wrote {args.json} and {args.png}")


if __name__ == "__main__":
    main()
