"""The suite's tasks and tools (tests/bench/suite.py): each tool's command line, one timed run of it
with its peak RSS, the page-cache warm-up, the copy floor, mpirun's start-up, and the comparison
of an output with the reference's."""
import json
import os
import shlex
import resource
import shutil
import signal
import subprocess
import sys
import time

import inputs  # tests/bench/inputs.py

HERE = os.path.dirname(os.path.abspath(__file__))

TASKS = ("hillshade", "slope", "hillshade-zstd", "hillshade-cog", "ndvi", "stats", "zonal-raster",
         "zonal-polygons")
# Reads of the input a task's 2-rank I/O floor makes: an exact histogram of a floating band needs
# the band's extremes before its buckets, so `stats --hist` reads it twice (as gdalinfo -stats
# -hist does); one read would need memory for every distinct value.
FLOOR_SWEEPS = {"stats": 2}
# Zonal statistics of the DEM by 1000 zones, as a raster and as polygons (inputs.make_zones).
ZONAL_TASKS = ("zonal-raster", "zonal-polygons")
ZONAL_STATS = "count,min,max,mean,std"
# Focal statistics, run when --only names them (or "focal" for all): focal-METHOD-SIZE on the DEM.
FOCAL_METHODS = ("mean", "stddev", "max", "median")
FOCAL_SIZES = (3, 15, 51)
FOCAL_TASKS = tuple(f"focal-{m}-{s}" for m in FOCAL_METHODS for s in FOCAL_SIZES)
GRASS_METHODS = {"mean": "average", "stddev": "stddev", "max": "maximum", "median": "median"}
# Hydrology, run when --only names them (or "hydro" for all three): tessera hydro TASK against
# TauDEM's tool at mpirun -n 2 (the "gdal" tool of these tasks). Each: tessera's input and output
# flags, TauDEM's tool, its input and output flags and any more words.
HYDRO = {"fill": ("-z", "-fel", "pitremove", "-z", "-fel", []),
         "flowdir": ("-fel", "-p", "d8flowdir", "-fel", "-p", ["-sd8"]),
         "flowacc": ("-p", "-ad8", "aread8", "-p", "-ad8", ["-nc"]),
         "watershed": ("-p", "-gw", "gagewatershed", "-p", "-gw", ["-o"])}
# watershed's outlets: this many cells of the directions, picked at random (a fixed seed).
WATERSHED_OUTLETS = 200
HYDRO_TASKS = tuple(HYDRO)
# fill with epsilon = true (tessera hydro fill -z DEM -fel OUT --epsilon: four passes), run when
# --only names it: tessera at 1 and 2 ranks and, when built, the serial Priority-Floods + epsilon
# (whole DEM in memory, one core): Barnes 2014 Algorithm 3 (another surface: its pit queue runs
# ahead of the priority queue's order, docs/hydrology.md) and Algorithm 1 with the same raise
# (the least surface, equal to tessera's).
EPSILON_TASK = "fill-epsilon"
TESSERA_CONFIGS = {"tessera-1x1": (1, 1), "tessera-1x2": (1, 2), "tessera-2x1": (2, 1)}
# The serial Priority-Flood fills of the literature (tests/bench/serial_fill.cpp), one core, on
# the fill task only: each tool's algorithm.
SERIAL_FILL = {"pf-barnes": "improved", "pf-zhou": "zhou"}
# ... and on the fill-epsilon task.
SERIAL_EPSILON = {"pf-eps-barnes": "epsilon", "pf-eps-least": "least"}
SERIAL_TOOLS = {**SERIAL_FILL, **SERIAL_EPSILON}
SERIAL_LABELS = {"pf-barnes": "Barnes 2014 PF 1 core", "pf-zhou": "Zhou 2016 PF 1 core",
                 "pf-eps-barnes": "Barnes 2014 PF+eps", "pf-eps-least": "least PF+eps 1 core"}
TOOLS = ("tessera-1x1", "tessera-1x2", "tessera-2x1", "gdal", "numpy", "rasterio", "dask") + tuple(SERIAL_TOOLS)
PYTHON_PEERS = ("numpy", "rasterio", "dask")
# With --baseline: each base tool runs the command line of the tessera tool it mirrors with the
# baseline's binary. ALL_TOOLS is the order of running and printing: each next to its mirror.
BASE_TOOLS = {"base-1x1": "tessera-1x1", "base-2x1": "tessera-2x1"}
ALL_TOOLS = ("tessera-1x1", "base-1x1", "tessera-1x2", "tessera-2x1", "base-2x1") + TOOLS[3:]
REFERENCE = "tessera-2x1"
# The tasks whose peers are GDAL's tools alone: the Python peers write rasters, stats writes none,
# and none of them writes a COG.
GDAL_ONLY_TASKS = ("stats", "hillshade-cog")
ZSTD_LEVEL = 9
ZSTD_CO = ["-co", "TILED=YES", "-co", "COMPRESS=ZSTD", "-co", "PREDICTOR=2", "-co", f"ZSTD_LEVEL={ZSTD_LEVEL}"]
# hillshade-cog: a ZSTD COG with AVERAGE overviews, the COG driver's options on both sides.
COG_CO = ["-co", "COMPRESS=ZSTD", "-co", f"LEVEL={ZSTD_LEVEL}", "-co", "PREDICTOR=YES", "-co", "RESAMPLING=AVERAGE"]
NDVI_EXPR = "(A.astype(float)-B)/(A.astype(float)+B)"


def mpi_env(threads=1):
    """The environment of an mpirun launch: OMP_NUM_THREADS=threads, running as root allowed."""
    return dict(os.environ, OMP_NUM_THREADS=str(threads), **inputs.MPI_ENV)


def tools_of(task, tools=ALL_TOOLS):
    """The tools among `tools` that run `task` (no dask on zonal tasks)."""
    return [t for t in tools if not (task in GDAL_ONLY_TASKS and t in PYTHON_PEERS)
            and not (task in ZONAL_TASKS and t == "dask") and not (task != "fill" and t in SERIAL_FILL)
            and not (task != EPSILON_TASK and t in SERIAL_EPSILON)]


def focal_task(task):
    """(method, size) of a focal task, or None."""
    if not task.startswith("focal-"):
        return None
    _, method, size = task.split("-")
    return method, int(size)


def tool_label(tool, task):
    """The name a tool is shown by on `task` (gdal is gdaldem, gdal_calc.py or gdalinfo; on focal
    tasks GRASS r.neighbors, and numpy and dask run scipy.ndimage; on hydrology tasks TauDEM)."""
    if task in HYDRO and tool == "gdal":
        return f"TauDEM {HYDRO[task][2]} -n 2"
    if tool in SERIAL_TOOLS:
        return SERIAL_LABELS[tool]
    if focal_task(task):
        return {"gdal": "r.neighbors", "numpy": "scipy whole array",
                "dask": "scipy dask overlap"}.get(tool, tool.replace("-", " "))
    if task in ZONAL_TASKS:
        return {"gdal": "GRASS r.univar -t", "numpy": "numpy bincount whole",
                "rasterio": "rasterio+futures bincount"}.get(tool, tool.replace("-", " "))
    if tool == "gdal":
        return {"ndvi": "gdal_calc.py", "stats": "gdalinfo -stats",
                "hillshade-cog": "gdaldem+translate"}.get(task, "gdaldem")
    return {"rasterio": "rasterio+futures", "dask": "dask map_overlap" if task != "ndvi" else "dask.array",
            "numpy": "numpy whole array"}.get(tool, tool.replace("-", " "))


def mpi_config(tool):
    """(ranks, threads) of a tool run under mpirun (tessera's or the baseline's), else None."""
    return TESSERA_CONFIGS.get(BASE_TOOLS.get(tool, tool))


def run_order(tools, run):
    """`tools` in the order of repetition `run`: in the odd ones each base tool runs before the
    tessera tool it mirrors, so that neither of the two always runs first."""
    order = list(tools)
    if run % 2:
        for base, mirrored in BASE_TOOLS.items():
            if base in order and mirrored in order:
                i, j = order.index(mirrored), order.index(base)
                order[i], order[j] = order[j], order[i]
    return order


class Inputs:
    """The cached inputs of one size."""

    def __init__(self, args, size):
        self.args = args
        self.dem = inputs.make_dem(args.dir, size, args.tessera, mpiexec=args.mpiexec)
        self.nir, self.red = inputs.make_bands(args.dir, size)

        self.zones, self.polygons = inputs.make_zones(args.dir, size, self.dem)

    def of(self, task):
        if task in ZONAL_TASKS:
            return [self.dem, self.zones if task == "zonal-raster" else self.polygons]
        if task in ("flowdir", "flowacc"):
            return [hydro_input(self.args, self.dem, task)]
        if task == "watershed":
            p = hydro_input(self.args, self.dem, "flowacc")
            return [p, *outlets_of(p)]
        return [self.nir, self.red] if task == "ndvi" else [self.dem]


def taudem_bin(args):
    """TauDEM's binaries: --taudem, else built once into DIR/taudem from the source beside the
    project (../shared/peers/build_taudem.sh, see its README)."""
    if args.taudem:
        return args.taudem
    dest = os.path.join(args.dir, "taudem")
    if not os.access(os.path.join(dest, "bin", "aread8"), os.X_OK):
        script = os.path.join(os.path.dirname(os.path.dirname(HERE)), "..", "shared", "peers",
                              "build_taudem.sh")
        if not os.path.exists(script):
            sys.exit(f"suite: TauDEM is not in {dest} and its source ({script}) is not here: "
                     "pass --taudem BIN_DIR")
        print(f"building TauDEM into {dest} (about 3 minutes)", file=sys.stderr, flush=True)
        subprocess.run(["bash", script, dest], check=True, stdout=subprocess.DEVNULL)
    args.taudem = os.path.join(dest, "bin")
    return args.taudem


def serial_fill_bin(args):
    """The serial Priority-Flood peer (tests/bench/serial_fill.cpp): --serial-fill, else beside
    the build's tessera (build/src/serial_fill), else None."""
    if args.serial_fill:
        return args.serial_fill
    path = os.path.join(os.path.dirname(os.path.dirname(HERE)), "build", "src", "serial_fill")
    return path if os.access(path, os.X_OK) else None


def hydro_input(args, dem, task):
    """The cached input of a hydrology task: flowdir reads the filled DEM (tessera's fill, which
    equals pitremove's), flowacc tessera's flow directions of it, flats resolved (cached under a
    name of their own, so that directions cached before flats were resolved are not read), with
    any 0 code (a flat without an outlet; none on a filled DEM) made nodata (aread8 misreads a 0
    as a flow into a neighbour; both tools stop flow at nodata)."""
    fel = dem.replace(".tif", "_fel.tif")
    if not os.path.exists(fel):
        run_checked([args.mpiexec, "-n", "2", "--bind-to", "none", args.tessera, "hydro", "fill",
                     "-z", dem, "-fel", fel + ".part.tif", "-q"], mpi_env(), args.timeout)
        os.rename(fel + ".part.tif", fel)
    if task == "flowdir":
        return fel
    p = dem.replace(".tif", "_pflats.tif")
    if not os.path.exists(p):
        raw = p + ".raw.tif"
        run_checked([args.mpiexec, "-n", "2", "--bind-to", "none", args.tessera, "hydro", "flowdir",
                     "-fel", fel, "-p", raw, "-q"], mpi_env(), args.timeout)
        zeros_as_nodata(raw)
        os.rename(raw, p)
    return p


def outlets_of(p):
    """watershed's outlets beside directions `p` (cached): a raster of ids (Int32, 0 elsewhere,
    sparse) for tessera and the same points, at the cells' centres, as a shapefile for TauDEM
    (field "id")."""
    from osgeo import gdal, ogr
    import numpy as np

    gdal.UseExceptions()
    raster, layer_path = p.replace(".tif", "_outlets.tif"), p.replace(".tif", "_outlets.shp")
    if os.path.exists(raster) and os.path.exists(layer_path):
        return [raster, layer_path]
    ds = gdal.Open(p)
    band = ds.GetRasterBand(1)
    gt = ds.GetGeoTransform()
    rng = np.random.default_rng(20261206)
    cells = {}
    while len(cells) < WATERSHED_OUTLETS:
        x, y = (int(v) for v in rng.integers(0, [ds.RasterXSize, ds.RasterYSize]))
        if band.ReadAsArray(x, y, 1, 1)[0, 0] != band.GetNoDataValue():
            cells.setdefault((x, y), len(cells) + 1)
    out = gdal.GetDriverByName("GTiff").Create(raster + ".part.tif", ds.RasterXSize, ds.RasterYSize,
                                               1, gdal.GDT_Int32,
                                               ["TILED=YES", "COMPRESS=DEFLATE", "SPARSE_OK=TRUE"])
    out.SetGeoTransform(gt)
    out.SetProjection(ds.GetProjection())
    out.GetRasterBand(1).SetNoDataValue(0)
    source = ogr.GetDriverByName("ESRI Shapefile").CreateDataSource(layer_path)
    layer = source.CreateLayer("outlets", geom_type=ogr.wkbPoint)
    layer.CreateField(ogr.FieldDefn("id", ogr.OFTInteger))
    for (x, y), ident in cells.items():
        out.GetRasterBand(1).WriteArray(np.array([[ident]], np.int32), x, y)
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("id", ident)
        point = ogr.Geometry(ogr.wkbPoint)
        point.AddPoint_2D(gt[0] + (x + 0.5) * gt[1], gt[3] + (y + 0.5) * gt[5])
        feature.SetGeometry(point)
        layer.CreateFeature(feature)
    source = out = None
    os.rename(raster + ".part.tif", raster)
    return [raster, layer_path]


def zeros_as_nodata(path):
    """Sets the 0 codes of a flow-direction raster to its nodata value, in place, strip by strip."""
    from osgeo import gdal

    gdal.UseExceptions()
    ds = gdal.Open(path, gdal.GA_Update)
    band = ds.GetRasterBand(1)
    nodata = band.GetNoDataValue()
    for y0 in range(0, ds.RasterYSize, 512):
        rows = min(512, ds.RasterYSize - y0)
        cells = band.ReadAsArray(0, y0, ds.RasterXSize, rows)
        cells[cells == 0] = nodata
        band.WriteArray(cells, 0, y0)
    ds = None


def tessera_command(args, tool, task, files, out, report):
    """The command line and environment of one run of tessera or of the baseline (a base tool);
    --report only where it is taken."""
    ranks, threads = mpi_config(tool)
    binary = args.baseline if tool in BASE_TOOLS else args.tessera
    launch = [args.mpiexec, "-n", str(ranks), "--bind-to", "none", binary]
    if task in HYDRO:
        flag_in, flag_out = HYDRO[task][:2]
        cmd = launch + ["hydro", task, flag_in, files[0], flag_out, out, "-q", "--report", report]
        cmd += ["-o", files[1]] if task == "watershed" else []
    elif task == EPSILON_TASK:
        cmd = launch + ["hydro", "fill", "-z", files[0], "-fel", out, "--epsilon", "-q", "--report",
                        report]
    elif focal_task(task):
        method, size = focal_task(task)
        cmd = launch + ["focal", method, files[0], out, "--size", str(size), "-q", "--report", report]
    elif task == "ndvi":
        cmd = launch + ["calc", "-A", files[0], "-B", files[1], f"--calc={NDVI_EXPR}", "--type=Float32",
                        "--outfile", out]
    elif task == "stats":
        cmd = launch + ["stats", "--hist", "--no-aux", "-q", "--json", out, "--report", report, files[0]]
    elif task in ZONAL_TASKS:
        cmd = launch + ["zonal", "--zones", files[1], "--values", files[0], "--stats", ZONAL_STATS,
                        "--out", out, "--report", report]
        cmd += ["--id", "zone"] if task == "zonal-polygons" else []
    else:
        mode = "slope" if task == "slope" else "hillshade"
        cmd = launch + ["dem", mode, files[0], out, "-q", "--report", report]
        cmd += ZSTD_CO if task == "hillshade-zstd" else []
        cmd += ["-of", "COG"] + COG_CO if task == "hillshade-cog" else []
    return cmd, mpi_env(threads)


def peer_command(args, tool, task, files, out):
    """The command line of one peer run (gdaldem, gdal_calc.py, gdalinfo, GRASS r.neighbors,
    TauDEM at mpirun -n 2 or tests/bench/peers.py)."""
    if tool == "gdal" and task in HYDRO:
        _, _, name, flag_in, flag_out, more = HYDRO[task]
        # d8flowdir writes a slope too; gagewatershed reads the outlets, the task's last file.
        extra = list(more)
        if more and more[0] == "-sd8":
            extra = [more[0], out + ".sd8.tif"]
        elif more and more[0] == "-o":
            extra = [more[0], files[-1]]
        return [args.mpiexec, "-n", "2", os.path.join(taudem_bin(args), name), flag_in, files[0],
                flag_out, out] + extra
    if tool in SERIAL_TOOLS:
        return [serial_fill_bin(args), SERIAL_TOOLS[tool], files[0], out]
    if tool == "gdal" and task == "stats":
        return ["gdalinfo", "-stats", "-hist", files[0]]
    if task in ZONAL_TASKS:
        way = "grass" if tool == "gdal" else tool
        return [sys.executable, os.path.join(HERE, "zonal_peers.py"), way, files[1], files[0], out]
    if tool == "gdal" and focal_task(task):
        method, size = focal_task(task)
        # A user's run: link the GeoTIFF into a temporary location, r.neighbors, write a GeoTIFF.
        script = (f"r.external -o input={files[0]} output=dem --quiet && "
                  f"r.neighbors input=dem output=f method={GRASS_METHODS[method]} size={size} nprocs=2 --quiet && "
                  f"r.out.gdal -f input=f output={out} format=GTiff type=Float32 createopt=TILED=YES --quiet")
        return ["grass", "--tmp-location", files[0], "--exec", "bash", "-c", script]
    if tool == "gdal" and task == "ndvi":
        gdal_calc = shutil.which("gdal_calc.py") or "/usr/bin/gdal_calc.py"
        return [sys.executable, gdal_calc, "-A", files[0], "-B", files[1], f"--calc={NDVI_EXPR}",
                "--type=Float32", "--outfile", out, "--quiet"]
    if tool == "gdal" and task == "hillshade-cog":
        # What a user does today: gdaldem, then gdal_translate -of COG on 2 threads.
        plain = out + ".gdaldem.tif"
        translate = ["gdal_translate", "-q", "-of", "COG"] + COG_CO + ["-co", "NUM_THREADS=2", plain, out]
        script = (f"gdaldem hillshade {shlex.quote(files[0])} {shlex.quote(plain)} -q && "
                  f"{shlex.join(translate)}; status=$?; rm -f {shlex.quote(plain)}; exit $status")
        return ["bash", "-c", script]
    if tool == "gdal":
        mode = "slope" if task == "slope" else "hillshade"
        return ["gdaldem", mode, files[0], out, "-q"] + (ZSTD_CO if task == "hillshade-zstd" else [])
    return [sys.executable, os.path.join(HERE, "peers.py"), tool, task, out] + files


def children_cpu():
    """CPU seconds (user + system) of this process's finished children and the descendants they
    waited for (mpirun's ranks, GRASS's modules, dask's threads)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# The CPU seconds of the last command run_checked or run_bounded ran.
last_cpu = {"s": 0.0}


def run_checked(cmd, env, timeout):
    """Runs cmd; its wall seconds and output; a failure or a run past `timeout` stops the suite
    with the command's stderr."""
    cpu = children_cpu()
    start = time.perf_counter()
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        sys.exit(f"suite: still running after {timeout:g} s: {' '.join(cmd)}")
    wall = time.perf_counter() - start
    last_cpu["s"] = children_cpu() - cpu
    if done.returncode != 0:
        sys.exit(f"suite: failed ({done.returncode}): {' '.join(cmd)}\n{done.stdout}{done.stderr}")
    return wall, done.stdout


def run_bounded(cmd, env, timeout):
    """Runs a peer's cmd in a process group of its own: (wall seconds, output, timed_out). A run
    past `timeout` has its whole group killed (GRASS and dask start processes and threads of their
    own) and gives `timeout` as its wall seconds, a lower bound; a failure stops the suite."""
    cpu = children_cpu()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        last_cpu["s"] = children_cpu() - cpu
        return timeout, "", True
    wall = time.perf_counter() - start
    last_cpu["s"] = children_cpu() - cpu
    if proc.returncode != 0:
        sys.exit(f"suite: failed ({proc.returncode}): {' '.join(cmd)}\n{stdout}{stderr}")
    return wall, stdout, False


def summary_rss(stdout):
    """The peak RSS (MB) of the min and max rows of tessera's summary table (its last column):
    on 2 ranks, the two ranks' figures (tessera calc takes no --report)."""
    rows = [line.split() for line in stdout.splitlines()]
    return sorted(float(r[-1]) for r in rows if r and r[0] in ("min", "max"))


def time_tool(args, work, tool, task, files):
    """One timed run after a sync, output deleted first: (wall s, peak RSS MB per process, output,
    tessera's encode thread-seconds summed over its ranks when its --report gives them, whether
    it was stopped at --peer-timeout; the run's CPU seconds are then in last_cpu). A peer stopped at
    --peer-timeout gives those seconds (a lower bound), no output and NaN for its RSS; tessera past
    --timeout stops the suite."""
    ext = "csv" if task in ZONAL_TASKS else "tif" if task != "stats" else "json" if mpi_config(tool) else "aux.xml"
    out = os.path.join(work, f"{task}.{tool}.{ext}")
    report = os.path.join(work, "report.json")
    # gdalinfo -stats reuses the statistics of an earlier run's .aux.xml: none may be there.
    aux = files[0] + ".aux.xml"
    for path in (out, report, aux):
        if os.path.exists(path):
            os.remove(path)
    os.sync()
    if mpi_config(tool):
        cmd, env = tessera_command(args, tool, task, files, out, report)
        wall, stdout = run_checked(cmd, env, args.timeout)
        if os.path.exists(report):
            ranks = json.load(open(report))["per_rank"]
            return wall, [r["peak_rss_mb"] for r in ranks], out, sum(r["encode_s"] for r in ranks), False
        return wall, summary_rss(stdout)[-mpi_config(tool)[0]:], out, None, False
    rss_file = os.path.join(work, "rss")
    cmd = ["/usr/bin/time", "-f", "%M", "-o", rss_file] + peer_command(args, tool, task, files, out)
    env = mpi_env() if task in HYDRO else dict(os.environ)
    wall, stdout, timed_out = run_bounded(cmd, env, args.peer_timeout)
    if timed_out:
        for path in (out, out + ".sd8.tif"):
            if os.path.exists(path):
                os.remove(path)
        return wall, [float("nan")], out, None, True
    for line in stdout.splitlines():
        if line.startswith("steps: "):  # a peer's own split of its time (GRASS: import apart)
            print(f"  {task} {tool_label(tool, task)} {line}", file=sys.stderr, flush=True)
    if os.path.exists(out + ".sd8.tif"):
        os.remove(out + ".sd8.tif")
    if task == "stats":
        shutil.move(aux, out)  # what gdalinfo -stats -hist computed, for compare()
    return wall, [int(open(rss_file).read().split()[-1]) / 1024], out, None, False


# The guest's free page reporting (virtio-balloon): free blocks of 2^order pages are handed back to
# the host, which unmaps them; the guest's next touch of each page then traps to the host.
PAGE_REPORTING = "/sys/module/page_reporting/parameters"
# An order above the largest block (MAX_PAGE_ORDER, 10 on x86-64): no free block is reported.
NO_REPORTING_ORDER = 11
# Free memory touched once when reporting is held, to take back what the host unmapped.
HOLD_TOUCH_BYTES = 6 << 30


def reported_kib():
    """KiB of free memory the guest has reported to its host since boot, or None (no reporting)."""
    try:
        with open(os.path.join(PAGE_REPORTING, "reported_kib")) as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def hold_free_memory():
    """--hold-free-memory: stops the guest's free page reporting for the suite's run and touches
    6 GiB of free memory once, so that every tool writes into memory the host backs. Why: on such
    a VM (the Firecracker guests the suite was written on report every free block of 2 MiB at
    once) a tool's output pages come from memory the host has taken back, and a run's system time
    grows with how long ago that memory was freed: tessera slope of the 16000 DEM 0.9 s started
    right after the previous output was deleted, 2.3-2.7 s started 3 s later (3.0-3.5 s of system
    time), 0.9-1.2 s with reporting held. Returns the order to restore (release_free_memory), or
    None when there is no reporting or it cannot be changed."""
    path = os.path.join(PAGE_REPORTING, "page_reporting_order")
    try:
        with open(path) as f:
            order = int(f.read())
        with open(path, "w") as f:
            f.write(str(NO_REPORTING_ORDER))
    except (OSError, ValueError) as e:
        print(f"suite: --hold-free-memory: free page reporting not held ({e})", file=sys.stderr)
        return None
    try:
        touched = bytearray(HOLD_TOUCH_BYTES)
        touched[::4096] = b"\x01" * len(range(0, HOLD_TOUCH_BYTES, 4096))
        del touched
    except BaseException:
        release_free_memory(order)
        raise
    return order


def release_free_memory(order):
    """Restores the free page reporting order hold_free_memory() changed."""
    if order is not None:
        with open(os.path.join(PAGE_REPORTING, "page_reporting_order"), "w") as f:
            f.write(str(order))


def reporting_note(kib_before):
    """A line saying how much free memory the guest reported to its host during the run, when it
    did: such a run's times of tools that write much are inflated (see hold_free_memory)."""
    after = reported_kib()
    if kib_before is None or after is None or after == kib_before:
        return None
    return (f"note: the guest reported {(after - kib_before) / 1024:.0f} MiB of free memory to its host "
            f"during this run: times of tools writing large outputs are inflated by the host's page "
            f"faults (--hold-free-memory holds the reporting, as root)")


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


def build_io_floor(args, work):
    """tests/bench/io_floor.c compiled with the mpicc beside --mpiexec (or on PATH) into `work`:
    its path, or None (with a line on stderr) where there is no mpicc."""
    beside = os.path.join(os.path.dirname(args.mpiexec), "mpicc") if os.sep in args.mpiexec else ""
    mpicc = beside if beside and os.access(beside, os.X_OK) else shutil.which("mpicc")
    if not mpicc:
        print("suite: no mpicc: the 2-rank I/O floor is not measured", file=sys.stderr)
        return None
    program = os.path.join(work, "io_floor")
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "io_floor.c")
    # Linked with GDAL where gdal-config is (tessera and the GDAL peers read through it): each rank
    # then pays GDAL's loading and opens the inputs through it, as any such tool does.
    cflags, libs = [], []
    if shutil.which("gdal-config"):
        cflags, libs = (subprocess.run(["gdal-config", option], capture_output=True, text=True,
                                       check=True).stdout.split() for option in ("--cflags", "--libs"))
        cflags.insert(0, "-DIO_FLOOR_GDAL")
    else:
        print("suite: no gdal-config: the 2-rank I/O floor does not load GDAL", file=sys.stderr)
    subprocess.run([mpicc, "-O2", "-march=native", *cflags, "-o", program, source, *libs], check=True)
    return program


def io_floor_seconds(args, program, files, out_bytes, work, tries=3, sweeps=1):
    """Wall seconds of tests/bench/io_floor.c under tessera 2x1's launch (`mpirun -n 2 --bind-to
    none`, one thread a rank): start MPI, each rank read its share of `files` `sweeps` times and
    write its share of `out_bytes` into one new file, stop. No tool that reads the task's input
    that many times and writes its output at 2 ranks on this host is faster. The least of `tries`
    runs: a floor is a lower
    bound (on a VM reporting free memory to its host the first run after a tool's output was
    deleted took 2-4 s against 0.4 s for the next ones; see hold_free_memory)."""
    target = os.path.join(work, "io_floor.bin")
    cmd = [args.mpiexec, "-n", "2", "--bind-to", "none", program, target, str(out_bytes), str(sweeps),
           *files]
    walls = []
    for _ in range(tries):
        os.sync()
        walls.append(run_checked(cmd, mpi_env(1), args.timeout)[0])
        if os.path.exists(target):
            os.remove(target)
    return min(walls)


def startup_seconds(args):
    """Wall seconds of `mpirun -n 2 --bind-to none tessera --help`: launching and MPI_Init."""
    cmd = [args.mpiexec, "-n", "2", "--bind-to", "none", args.tessera, "--help"]
    wall, _ = run_checked(cmd, mpi_env(), args.timeout)
    return wall


def compare_stats(aux_xml, reference_json):
    """How far gdalinfo's .aux.xml is from tessera stats' JSON: the largest difference of
    minimum, maximum, mean, standard deviation, the histogram's range and its counts."""
    import xml.etree.ElementTree as ET

    ref = json.load(open(reference_json))
    band = ET.parse(aux_xml).getroot().find("PAMRasterBand")
    items = {m.get("key"): float(m.text) for m in band.iter("MDI")}
    item = band.find("Histograms/HistItem")
    counts = [int(c) for c in item.find("HistCounts").text.split("|")]
    pairs = [(items["STATISTICS_MINIMUM"], ref["minimum"]), (items["STATISTICS_MAXIMUM"], ref["maximum"]),
             (items["STATISTICS_MEAN"], ref["mean"]), (items["STATISTICS_STDDEV"], ref["stddev"]),
             (float(item.find("HistMin").text), ref["histogram"]["min"]),
             (float(item.find("HistMax").text), ref["histogram"]["max"])]
    if len(counts) != len(ref["histogram"]["counts"]):
        return {"error": "bucket counts differ"}
    pairs += list(zip(counts, ref["histogram"]["counts"]))
    return {"max_abs_diff": max(abs(a - b) for a, b in pairs), "nodata_in_one_only": 0,
            "type": "statistics", "same_type": True}


def compare(path, reference):
    """How far `path`'s cells are from `reference`'s: the largest difference over cells valid in
    both, and the cells that are nodata in one only. Read in strips of rows. For statistics
    (JSON references), compare_stats()."""
    if path.endswith(".aux.xml"):
        return compare_stats(path, reference)
    if path.endswith(".csv"):
        return compare_tables(path, reference)
    if path.endswith(".json"):
        return compare_json(path, reference)
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


def compare_tables(path, reference):
    """Two zonal tables (zone,count,min,max,mean,std): the largest relative difference of their
    numbers over the zones of the reference, and the zones only one of them has."""
    import csv

    def rows(p):
        return {r[0]: [float(v) for v in r[1:]] for r in list(csv.reader(open(p)))[1:]}

    a, b = rows(path), rows(reference)
    worst = 0.0
    for zone in set(a) & set(b):
        for x, y in zip(a[zone], b[zone]):
            worst = max(worst, abs(x - y) / max(1.0, abs(y)))
    return {"max_abs_diff": worst, "nodata_in_one_only": len(set(a) ^ set(b)),
            "type": "table (relative)", "same_type": True}


def compare_json(path, reference):
    """Two runs of tessera stats: the largest difference of their numbers and counts."""
    a, b = json.load(open(path)), json.load(open(reference))
    keys = ("minimum", "maximum", "mean", "stddev", "valid_count", "nodata_count")
    pairs = [(a[k], b[k]) for k in keys] + list(zip(a["histogram"]["counts"], b["histogram"]["counts"]))
    return {"max_abs_diff": max(abs(x - y) for x, y in pairs), "nodata_in_one_only": 0,
            "type": "statistics", "same_type": True}


def valid(cells, nodata):
    """Cells that are not nodata, the nodata value taken in the cells' own type."""
    import numpy as np

    if nodata is None:
        return np.ones(cells.shape, dtype=bool)
    return cells != np.array(nodata).astype(cells.dtype)
