# System test: bad inputs (and a full disk) fail cleanly alone and under mpirun: one clear message, the right exit
# status, no hang, no output file, and an earlier output at the path left as it was.
import contextlib
import os
import queue
import re
import shutil
import stat
import subprocess
import sys
import tempfile

import systest
from osgeo import ogr

# Lines Open MPI's mpirun adds when a rank exits non-zero, and the one its MPI-IO layer prints
# when a write fails; everything else on stderr is tessera's.
MPIRUN_NOISE = re.compile(
    r"^(-+|\s*|Primary job\s+terminated normally.*|a non-zero exit code\..*|(mpirun|mpiexec|orterun) detected that.*"
    r"|the job to be terminated\..*|\s*Process name:.*|\s*Exit code:.*|mca_fbtl_posix_pwritev: error in .*)$")


def one_step_job(dem, out, step_id, step_lines, more=""):
    """A job of the DEM, one step `step_id` given by its TOML lines, written to `out` (and `more`,
    further TOML, after it)."""
    return (f'[input.dem]\npath = "{dem}"\n\n[[step]]\nid = "{step_id}"\n{step_lines}\n\n'
            f'[[output]]\nfrom = ["{step_id}"]\npath = "{out}"\n{more}')


def focal_chain_job(dem, out, steps):
    """A job of `steps` focal means, each of the one before: its halo grows by one a step."""
    text = f'[input.dem]\npath = "{dem}"\n'
    for i in range(steps):
        text += f'\n[[step]]\nid = "f{i}"\nop = "focal.mean"\nin = "{"f%d" % (i - 1) if i else "dem"}"\nradius = 1\n'
    return text + f'\n[[output]]\nfrom = ["f{steps - 1}"]\npath = "{out}"\n'


# A syntax error: the op's string is not closed.
BAD_STEP = 'op = "hillshade\nin = "dem"'
# A nodata a Byte output cannot hold: its nodata cells would be stored as 255, valid data.
NODATA_STEP = 'op = "calc"\nexpr = "where(dem > 1500, nodata, dem)"\ntype = "byte"\nnodata = 300'

# A raw control character in a message (an echoed escape sequence drives the terminal).
CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# A library's words the user cannot act on (libtiff's "TIFFAppendToStrip: Write error at scanline
# 4294967295" before a full disk's "No space left on device").
LIBRARY_NOISE = re.compile(r"\bTIFF(Append|Write)\w*|scanline")

# Nesting past the parser's limit of 256 crashed tessera on its stack (SIGSEGV in every rank).
TOO_DEEP = r"column 257: nesting deeper than 256 levels"

class Case:
    """One bad invocation: tessera words, expected status, a regex the message must match, the output path."""

    def __init__(self, name, words, status, culprit, output, existing=None, kept=False, env=None,
                 address_space=None, folders=(), fill_up=False):
        self.name, self.words, self.status = name, words, status
        self.folders = folders  # more folders whose listing must not change (a scratch folder)
        self.culprit, self.output = re.compile(culprit), output
        self.existing = existing  # text of a file already at the output path, which must survive
        self.kept = kept  # what is at the output path (a device, an input...) must stay as it was
        self.env = env  # variables added to the environment (Slurm's)
        self.address_space = address_space  # bytes each process may map, to run out of memory
        self.fill_up = fill_up  # the output's disk is filled to the last byte before the run


def make_cases(args, work):
    """Builds the bad files under `work` and returns the cases; outputs go to work/out/."""
    dem = os.path.join(args.data, "chiprofiler_dem.tif")
    out_dir = os.path.join(work, "out")
    os.makedirs(out_dir)
    out = os.path.join(out_dir, "result.tif")
    text = os.path.join(work, "notaraster.tif")
    with open(text, "w") as f:
        f.write("this is a text file, not a GeoTIFF\n" * 20)
    truncated = os.path.join(work, "truncated.tif")
    shutil.copyfile(dem, truncated)
    os.truncate(truncated, os.path.getsize(dem) // 2)
    # Header first, tiles after: opens fine, then only the ranks reading the lost tiles fail.
    cut_tiles = os.path.join(work, "cut_tiles.tif")
    systest.gdal.Translate(cut_tiles, dem, creationOptions=["TILED=YES", "BLOCKXSIZE=128", "BLOCKYSIZE=128"])
    os.truncate(cut_tiles, os.path.getsize(cut_tiles) // 2)
    afile = os.path.join(work, "afile")
    with open(afile, "w") as f:
        f.write("a regular file where a folder is expected\n")
    job = os.path.join(work, "bad.toml")
    with open(job, "w") as f:
        f.write(one_step_job(dem, out, "hs", BAD_STEP))
    nodata_job = os.path.join(work, "nodata.toml")
    with open(nodata_job, "w") as f:
        f.write(one_step_job(dem, out, "c", NODATA_STEP))
    deep_job = os.path.join(work, "deep.toml")
    with open(deep_job, "w") as f:
        f.write(one_step_job(dem, out, "deep", 'op = "calc"\nexpr = "%s"' % ("(" * 5000 + "dem" + ")" * 5000)))
    missing = os.path.join(work, "missing_dem.tif")
    nofolder_in_job = os.path.join(work, "nofolder_in.toml")
    with open(nofolder_in_job, "w") as f:
        f.write(one_step_job(os.path.join(work, "nodir", "dem.tif"), out, "s", 'op = "slope"\nin = "dem"'))
    nofolder_out_job = os.path.join(work, "nofolder_out.toml")
    with open(nofolder_out_job, "w") as f:
        f.write(one_step_job(dem, os.path.join(work, "nodir", "out.tif"), "s", 'op = "slope"\nin = "dem"'))
    chain_job = os.path.join(work, "chain.toml")
    with open(chain_job, "w") as f:
        f.write(focal_chain_job(dem, out, 3000))
    weights = os.path.join(work, "weights.txt")
    with open(weights, "w") as f:
        f.write("1 1 1\n1 x 1\n1 1 1\n")
    short_weights = os.path.join(work, "short.txt")
    with open(short_weights, "w") as f:
        f.write("1 1 1\n1 1 1\n")
    focal_job = os.path.join(work, "focal.toml")
    with open(focal_job, "w") as f:
        f.write(one_step_job(dem, out, "m", 'op = "focal.mean"\nin = "dem"\nsize = 4'))
    no_overviews_job = os.path.join(work, "no_overviews.toml")
    with open(no_overviews_job, "w") as f:
        f.write(one_step_job(dem, out, "hs", 'op = "hillshade"\nin = "dem"',
                             'format = "cog"\nco = ["OVERVIEWS=NONE"]\noverviews = [2]\n'))
    slash_job = os.path.join(work, "slash.toml")
    with open(slash_job, "w") as f:
        f.write(one_step_job(dem, out, "./../up", 'op = "slope"\nin = "dem"'))
    scratch_job = os.path.join(work, "scratch.toml")
    with open(scratch_job, "w") as f:
        f.write(one_step_job(dem, out, "s", 'op = "slope"\nin = "dem"', '\n[run]\nscratch = ""\n'))
    focal = ["focal", "mean", dem, out]
    calc = ["calc", "-A", dem, "--calc", "where(A>1500, nodata, A)", "--type", "Byte", "--outfile", out]
    return [
        Case("missing input", ["dem", "hillshade", missing, out], 1, r"missing_dem\.tif", out),
        Case("input path with a newline and an escape", ["dem", "slope", work + "/no\n\x1b[2Jsuch.tif", out], 1,
             r"/no\\x0a\\x1b\[2Jsuch\.tif: no such file", out),
        Case("calc syntax error names --calc", ["calc", "-A", dem, "--calc", "A+", "--outfile", out], 1,
             r"error: --calc: column 3: expected a number", out),
        Case("calc escape sequence in --calc", ["calc", "-A", dem, "--calc", "A\x1b[31m", "--outfile", out], 1,
             r"error: --calc: column 2: unexpected character '\\x1b'", out),
        Case("calc --type Foo", ["calc", "-A", dem, "--calc", "A", "--type", "Foo", "--outfile", out], 1,
             r"error: --type: unknown pixel type 'Foo'", out),
        Case("dem -s 0", ["dem", "slope", dem, out, "-s", "0"], 1, r"error: -s: must not be zero", out),
        # Taken without a word, while a COG's LEVEL with NONE is refused.
        Case("GeoTIFF: ZLEVEL with COMPRESS=NONE", ["dem", "slope", dem, out, "-co", "COMPRESS=NONE",
                                                     "-co", "ZLEVEL=3"], 1,
             r"ZLEVEL=3: COMPRESS=NONE takes no ZLEVEL", out),
        # run and zonal took --quiet=false (progress shown), dem refused it.
        Case("run --quiet=false", ["run", job, "--quiet=false"], 2, r"run: --quiet takes no value", out),
        Case("zonal --quiet=false", ["zonal", dem, dem, "--quiet=false"], 2,
             r"zonal: --quiet takes no value", out),
        Case("dem --quiet=false", ["dem", "slope", dem, out, "--quiet=false"], 2,
             r"dem: --quiet takes no value", out),
        Case("hydro --resume=yes", ["hydro", "fill", "-z", dem, "-fel", out, "--resume=yes"], 2,
             r"hydro: --resume takes no value", out),
        Case("calc -q=1", ["calc", "-A", dem, "--calc", "A", "--outfile", out, "-q=1"], 2,
             r"calc: -q takes no value", out),
        Case("COG: a GeoTIFF option", ["dem", "slope", dem, out, "-of", "COG", "-co", "ZSTD_LEVEL=9"], 1,
             r"unknown COG creation option 'ZSTD_LEVEL'", out),
        # LEVEL=22 with DEFLATE was taken as 12 without a word (GDAL warns and takes its default).
        Case("COG: a DEFLATE level past 12", ["dem", "slope", dem, out, "-of", "COG", "-co", "LEVEL=22",
                                               "-co", "COMPRESS=DEFLATE"], 1,
             r"LEVEL=22: expected 1 to 12 for DEFLATE", out),
        Case("COG: more overviews than the raster has", ["dem", "slope", dem, out, "-of", "COG", "-co",
                                                          "OVERVIEW_COUNT=12"], 1,
             r"12 overview level\(s\): 9 at most here \(the raster, 558 x 897, has 10, the last 1 x 1; "
             r"a 512-cell tile gives 9", out),
        Case("COG: as many overview levels as the raster has, more than its tiles give",
             ["dem", "hillshade", dem, out, "-of", "COG", "-co", "OVERVIEW_COUNT=10"], 1,
             r"10 overview level\(s\): 9 at most here", out),
        Case("COG: lanczos overviews", ["dem", "slope", dem, out, "-of", "COG", "-co", "RESAMPLING=LANCZOS"], 1,
             r"RESAMPLING=LANCZOS: tessera makes overviews by NEAREST, AVERAGE, MODE, BILINEAR or CUBIC only",
             out),
        Case("--overviews 2,3", ["dem", "slope", dem, out, "--overviews", "2,3"], 2,
             r"--overviews 2,3: expected the factors 2, 4, 8", out),
        Case("dem -co BLOCKXSIZE=17", ["dem", "slope", dem, out, "-co", "BLOCKXSIZE=17"], 1,
             r"error: -co BLOCKXSIZE: expected a positive multiple of 16, found 17", out),
        Case("job file: input folder missing", ["run", nofolder_in_job], 1,
             r"nofolder_in\.toml:2:8: .*nodir/dem\.tif: no such file", out),
        Case("job file: output folder missing", ["run", nofolder_out_job], 1,
             r"nofolder_out\.toml:11:8: .*nodir/out\.tif: cannot create: no folder", out),
        Case("plan: 3,000 focal steps beyond memory", ["plan", chain_job], 1,
             r"the plan needs [\d.]+ GiB a rank at \d thread\(s\) .* but a rank has .*: use smaller tiles", out),
        Case("run: 3,000 focal steps beyond memory", ["run", chain_job], 1,
             r"the plan needs [\d.]+ GiB a rank .* but a rank has", out),
        Case("Slurm's --mem too small", ["dem", "slope", dem, out], 1,
             r"but a rank has [\d.]+ MiB \(Slurm's --mem 100\.0 MiB / \d rank\(s\) on this node\)", out,
             env={"SLURM_MEM_PER_NODE": "100"}),
        Case("--memory not a size", ["dem", "slope", dem, out, "--memory", "lots"], 2,
             r"--memory expects a size such as 4G", out),
        Case("out of memory while computing tiles", ["run", chain_job, "--memory", "1000G"], 1,
             r"out of memory in computing tiles: smaller tiles", out, address_space=4 << 30),
        Case("missing raster in a zip", ["dem", "slope", f"/vsizip/{work}/none.zip/x.tif", out], 1,
             r"/vsizip/.*none\.zip/x\.tif: not a raster GDAL can read: .*does not exist", out),
        Case("text file named .tif", ["dem", "slope", text, out], 1, r"notaraster\.tif", out),
        Case("truncated GeoTIFF", ["dem", "hillshade", truncated, out], 1, r"truncated\.tif", out),
        Case("tiled GeoTIFF cut in half", ["dem", "slope", cut_tiles, out], 1, r"cut_tiles\.tif", out),
        Case("unknown subcommand", ["bogus", dem, out], 2, r"bogus", out),
        Case("unknown mode", ["dem", "shine", dem, out], 2, r"shine", out),
        Case("unknown flag", ["dem", "hillshade", dem, out, "-zz", "3"], 2, r"-zz", out),
        Case("output under a regular file", ["dem", "hillshade", dem, os.path.join(afile, "out.tif")], 1,
             r"afile", os.path.join(afile, "out.tif")),
        Case("output folder missing", ["dem", "aspect", dem, os.path.join(work, "nodir", "out.tif")], 1,
             r"nodir", os.path.join(work, "nodir", "out.tif")),
        Case("job file syntax error", ["run", job], 1, r"bad\.toml:\d+", out),
        Case("calc --NoDataValue 2.5 for Byte", calc + ["--NoDataValue", "2.5"], 1,
             r"error: --NoDataValue: 2\.5 does not fit a Byte output", out),
        Case("calc --NoDataValue 300 for Byte", calc + ["--NoDataValue=300"], 1,
             r"error: --NoDataValue: 300 does not fit a Byte output", out),
        Case("generate --nodata 300 for Byte", ["generate", out, "--size", "64x64", "--type", "Byte",
                                                "--nodata", "300", "-q"], 1,
             r"generate: --nodata 300 does not fit a Byte output", out),
        Case("job file nodata 300 for Byte", ["run", nodata_job], 1,
             r"nodata\.toml:9:1: step 'c': option 'nodata': 300 does not fit a Byte output", out),
        Case("job: overviews beside OVERVIEWS=NONE", ["run", no_overviews_job], 1,
             r"no_overviews\.toml:14:13: .*overviews: OVERVIEWS=NONE asks for none", out),
        Case("dem: --overviews of an HDF5 output", ["dem", "slope", dem, os.path.join(out_dir, "slope.h5"),
                                                    "--overviews", "2"], 1,
             r"--overviews: HDF5 outputs hold no overviews", os.path.join(out_dir, "slope.h5")),
        Case("calc: 5,000 nested parentheses", ["calc", "-A", dem, "--calc", "(" * 5000 + "A" + ")" * 5000,
                                                "--outfile", out], 1, TOO_DEEP, out),
        Case("calc: 30,000 unary minus", ["calc", "-A", dem, "--calc=" + "-" * 30000 + "A", "--outfile", out], 1,
             TOO_DEEP, out),
        Case("plan: expr nested 5,000 deep", ["plan", deep_job], 1, r"deep\.toml:7:\d+: .*" + TOO_DEEP, out),
        Case("run: expr nested 5,000 deep", ["run", deep_job], 1, r"deep\.toml:7:\d+: .*" + TOO_DEEP, out),
        Case("focal: even size", focal + ["--size", "4"], 1,
             r"error: --size: must be an odd integer", out),
        Case("focal: radius 0", focal + ["--radius", "0"], 1,
             r"error: --radius: must be an integer from 1", out),
        Case("focal: radius beyond the raster", focal + ["--radius", "900"], 1,
             r"focal\.mean: a radius of 900 reaches past the whole 558 x 897 raster", out),
        Case("focal: weights file with a word", focal + ["--size", "3", "--weights", weights], 1,
             r"weights\.txt:2: 'x' is not a number", out),
        Case("focal: weights file short of rows", focal + ["--size", "3", "--weights", short_weights], 1,
             r"short\.txt:2: expected 3 rows of weights, found 2", out),
        Case("focal: weights file of another size", focal + ["--size", "5", "--weights", weights], 1,
             r"weights\.txt:1: expected 5 weights", out),
        Case("focal: weights file without end", focal + ["--size", "3", "--weights", "/dev/zero"], 1,
             r"/dev/zero: more than \d+ bytes, longer than 3 rows of weights can be", out),
        Case("focal: weights file is a folder", focal + ["--size", "3", "--weights", work], 1,
             r"tessera-bad-\w+: is a folder, not a weights file", out),
        Case("hydro --tile 16.5", ["hydro", "fill", "-z", dem, "-fel", out, "--tile", "16.5"], 2,
             r"--tile expects a whole number, got '16\.5'", out),
        # Taken, and no effect: only fill keeps tiles in a scratch folder.
        Case("hydro flowdir --scratch", ["hydro", "flowdir", "-fel", dem, "-p", out, "--scratch", work], 2,
             r"--scratch: hydro flowdir keeps no tiles between passes \(only hydro fill does\)", out),
        # The last was taken: the output named first was never written.
        Case("hydro -fel twice", ["hydro", "fill", "-z", dem, "-fel", out, "-fel", out + ".2.tif"], 2,
             r"-fel given twice \('.*result\.tif', '.*result\.tif\.2\.tif'\): a raster each, given once", out),
        # A '/' made scratch files' and stage rasters' names paths (fill's kept tiles two folders up).
        Case("job file: a step id with a '/'", ["run", slash_job], 1,
             r"slash\.toml:\d+:\d+: step '\./\.\./up': id: a '/' cannot be in an id", out),
        # Taken as no scratch folder, while --scratch '' is a usage error.
        Case("job file: an empty scratch folder", ["run", scratch_job], 1,
             r'scratch\.toml:\d+:\d+: run: scratch: expected a folder, found ""', out),
        Case("--overviews 2.9,4", ["dem", "slope", dem, out, "--overviews", "2.9,4"], 2,
             r"--overviews expects a whole number, got '2\.9'", out),
        Case("--report in a missing folder", ["dem", "slope", dem, out, "--report",
                                              os.path.join(work, "nodir", "r.json")], 1,
             r"--report .*nodir/r\.json: cannot create: no folder", out),
        Case("focal: mode of a Float32 DEM", ["focal", "mode", dem, out, "--size", "3"], 1,
             r"focal\.mode: applies to integer rasters of classes, not to Float32", out),
        Case("focal: unknown method", ["focal", "blur", dem, out, "--size", "3"], 2,
             r"unknown focal method 'blur'", out),
        Case("focal: no window", focal, 2, r"--size N \(odd\) or --radius R", out),
        Case("focal job: even size", ["run", focal_job], 1,
             r"focal\.toml:8:1: step 'm': option 'size' must be an odd integer", out),
        Case("tiled GeoTIFF cut in half, over an earlier output", ["dem", "slope", cut_tiles, out], 1,
             r"cut_tiles\.tif", out, existing="an earlier run's output\n"),
    ]


def hydro_cases(args, work):
    """tessera hydro and the hydrology ops: voids without nodata, bad flow directions (a code that
    is none, a cycle inside a tile and one across tiles), an area its type cannot hold, a weight
    that is not finite, weights off the directions' grid, an outlet id that is no integer, and a
    step reading a tile-graph step's result."""
    np = systest.np
    out = os.path.join(work, "out", "hydro.tif")
    dem = os.path.join(args.data, "chiprofiler_dem.tif")  # NaN voids, no nodata value

    def directions(name, cells, kind=systest.gdal.GDT_Int16, nodata=-32768):
        path = os.path.join(work, name)
        d = systest.gdal.GetDriverByName("GTiff").Create(path, cells.shape[1], cells.shape[0], 1,
                                                           kind)
        if nodata is not None:
            d.GetRasterBand(1).SetNoDataValue(nodata)
        d.GetRasterBand(1).WriteArray(cells)
        d = None
        return path

    south = np.full((300, 300), 7, np.int16)  # every column flows south, the last row east
    south[-1, :] = 1
    bad_code = south.copy()
    bad_code[4, 3] = 9
    loop = south.copy()
    loop[40, 40], loop[40, 41] = 1, 5  # east, then west: a cycle inside a tile
    seam = south.copy()
    seam[40, 47], seam[40, 48] = 1, 5  # the same across the seam of 16-cell tiles
    srtm = os.path.abspath(os.path.join(args.data, "srtm.tif"))

    def chain_job(name, steps, outputs):
        """A job file of fill and the steps after it (`steps`: (id, op, in) each) into `out`."""
        path = os.path.join(work, name)
        with open(path, "w") as f:
            f.write(f'[input.dem]\npath = "{srtm}"\n\n')
            for step, op, source in steps:
                f.write(f'[[step]]\nid = "{step}"\nop = "{op}"\nin = "{source}"\n\n')
            f.write(f'[[output]]\nfrom = {outputs}\npath = "{out}"\n')
        return path

    one_file = chain_job("chain_one_file.toml", [("fel", "fill", "dem"), ("again", "fill", "fel")],
                         '["fel", "again"]')
    cycle = chain_job("chain_cycle.toml", [("fel", "fill", "s"), ("s", "slope", "fel")], '["s"]')
    unknown = chain_job("chain_unknown.toml", [("fel", "fill", "dem"), ("p", "flowdir", "fell")],
                        '["p"]')
    stretched = chain_job("chain_stretch.toml", [("fel", "fill", "dem"), ("st", "stretch", "fel")],
                          '["st"]')
    with open(stretched, "a") as f:  # fel's statistics after fel, and fel after them: a cycle
        f.write('\n[[step]]\nid = "hi"\nop = "calc"\nexpr = "dem / max(fel)"\n')
    with open(stretched) as f:
        text = f.read().replace('in = "dem"', 'in = "hi"', 1)
    with open(stretched, "w") as f:
        f.write(text)
    acc = lambda path, *more: ["hydro", "flowacc", "-p", path, "-ad8", out, "--tile", "48"] + list(more)
    weights = np.ones((300, 300), np.float32)
    weights[7, 5] = np.inf
    outlets = np.zeros((300, 300), np.float32)
    outlets[4, 3] = 2.5
    f32 = systest.gdal.GDT_Float32
    nan_code = south.astype(np.float32)
    nan_code[6, 2] = np.nan
    wide_code = south.astype(np.int32)
    wide_code[8, 1] = 2147483647
    big = np.full((20, 20), 100.0)
    big[3, 5] = 1e300
    tiny_nodata = np.full((20, 20), 100.0)  # nodata 1e-50, which is 0 as Float32
    tiny_nodata[10:14, 10:14] = 1e-50
    tiny_nodata[2, 3] = 0.0
    return [
        # Read as a void: NaN is one only in directions with a nodata value (as in a DEM for fill).
        Case("hydro flowacc: NaN in directions without nodata",
             acc(directions("nan_code.tif", nan_code, f32, None)), 1,
             r"flowacc: cell 2, 6 holds NaN, which is not a D8 code, and the directions have no "
             r"nodata value", out),
        Case("hydro watershed: NaN in directions without nodata",
             ["hydro", "watershed", "-p", directions("nan_code.tif", nan_code, f32, None), "-gw", out],
             1, r"watershed: cell 2, 6 holds NaN, which is not a D8 code", out),
        # Read as Float32 and named as 2.14748365e+09.
        Case("hydro flowacc: an Int32 code past the codes",
             acc(directions("wide_code.tif", wide_code, systest.gdal.GDT_Int32, None)), 1,
             r"flowacc: cell 1, 8 holds 2147483647, which is not a D8 code", out),
        # Written as inf in every cell, exit 0.
        Case("hydro fill: a Float64 DEM past Float32's range",
             ["hydro", "fill", "-z", directions("f64big.tif", big, systest.gdal.GDT_Float64, -9999),
              "-fel", out], 1,
             r"f64big\.tif: cell 5, 3 holds 1\.0+1?e\+300, past Float32's range", out),
        # Its 0 cells, read as Float32 as the nodata value's 0, were taken as voids and written
        # as nodata, exit 0.
        Case("hydro fill: a Float64 DEM whose nodata Float32 cannot hold",
             ["hydro", "fill", "-z", directions("f64tiny.tif", tiny_nodata, systest.gdal.GDT_Float64, 1e-50),
              "-fel", out], 1,
             r"f64tiny\.tif: cell 3, 2 holds 0, which Float32 .* makes 0, as it makes the nodata value 1e-50", out),
        Case("hydro fill: voids without nodata", ["hydro", "fill", "-z", dem, "-fel", out], 1,
             r"fill: the DEM has voids \(NaN at cell \d+, \d+\) but no nodata value", out,
             existing="an earlier run's output\n"),
        Case("hydro flowacc: a code that is none", acc(directions("code.tif", bad_code)), 1,
             r"flowacc: cell 3, 4 holds 9, which is not a D8 code of the taudem \(1-8\)", out),
        Case("hydro flowacc: area past uint16", acc(directions("south.tif", south), "--type", "uint16"),
             1, r"flowacc: the area at cell \d+, 299 \(\d+ cells\) does not fit option type 'UInt16'",
             out),
        Case("hydro flowacc: cycle in a tile", acc(directions("loop.tif", loop)), 1,
             r"flowacc: the flow directions form a cycle through cell 4[01], 40", out),
        Case("hydro flowacc: cycle across tiles",
             ["hydro", "flowacc", "-p", directions("seam.tif", seam), "-ad8", out, "--tile", "16"], 1,
             r"flowacc: the flow directions form a cycle across tiles, through cell 4[78], 40 or upstream", out),
        Case("hydro flowacc: an infinite weight",
             acc(directions("south.tif", south), "-wg", directions("inf.tif", weights, f32, -1)), 1,
             r"flowacc: the weight at cell 5, 7 \(inf\) is not a finite number below 2\^160", out),
        # Every sum of 2e38 weights past the first is past Float32's range: it was written as inf.
        Case("hydro flowacc: a weighted area past float32",
             acc(directions("south.tif", south), "-wg", directions("big.tif", np.full((300, 300), 2e38, np.float32), f32, -1)),
             1, r"flowacc: the area at cell \d+, \d+ \([\d.]+e\+\d+\) does not fit option type 'Float32'; use type = \"float64\"",
             out),
        Case("hydro flowacc: weights off the grid",
             acc(directions("south.tif", south), "-wg", directions("small.tif", weights[:9], f32, -1)),
             1, r"-wg: input 'weight' is not on the grid of input 'input': size 300 x 9 vs 300 x 300",
             out),
        Case("hydro watershed: an outlet id that is no integer",
             ["hydro", "watershed", "-p", directions("south.tif", south), "-gw", out, "-o",
              directions("outlets.tif", outlets, f32, -1)], 1,
             r"watershed: the outlet at cell 3, 4 holds 2\.5, which is not an integer id", out),
        Case("hydro: fill and a step reading it in one file", ["run", one_file], 1,
             r"chain_one_file\.toml:\d+:\d+: output '.*': steps 'fel' and 'again' are computed in "
             r"different passes", out),
        Case("hydro: fill and slope in a cycle", ["run", cycle], 1,
             r"chain_cycle\.toml:\d+:\d+: step '(fel|s)': in: steps read each other in a cycle", out),
        Case("hydro: flowdir of an unknown step", ["run", unknown], 1,
             r"chain_unknown\.toml:\d+:\d+: step 'p': in: 'fell' names no input or step", out),
        Case("hydro: a fill of a step taking the fill's statistics", ["run", stretched], 1,
             r"chain_stretch\.toml:\d+:\d+: step '(fel|hi)': (in|expr): steps read each other in a "
             r"cycle: (fel -> hi -> fel|hi -> fel -> hi)", out),
        Case("hydro fill: no such scratch folder",
             ["hydro", "fill", "-z", os.path.join(args.data, "srtm.tif"), "-fel", out, "--scratch",
              os.path.join(work, "nowhere")], 1,
             r"nowhere: scratch folder of step 'fill': cannot create its file: No such file or directory",
             out),
    ]


def stats_cases(args, work):
    """tessera stats: bad flags and bad rasters; no JSON and no .aux.xml may appear."""
    dem = os.path.abspath(os.path.join(args.data, "chiprofiler_dem.tif"))  # job files name it
    folder = os.path.join(work, "stats")
    os.makedirs(folder)
    out = os.path.join(folder, "stats.json")
    cut = os.path.join(folder, "cut_strips.tif")
    systest.gdal.Translate(cut, dem, creationOptions=["TILED=YES", "BLOCKXSIZE=64", "BLOCKYSIZE=64"])
    os.truncate(cut, os.path.getsize(cut) // 2)
    text = os.path.join(folder, "notaraster.tif")
    with open(text, "w") as f:
        f.write("this is a text file, not a GeoTIFF\n" * 20)
    json_words = ["--json", out]
    tif = os.path.join(folder, "stretched.tif")

    def job(name, lines, more=""):
        path = os.path.join(folder, name + ".toml")
        with open(path, "w") as f:
            f.write(one_step_job(dem, tif, "s", lines, more))
        return path

    fields = os.path.join(folder, "fields.gpkg")  # a layer with a field named "count"
    source = ogr.GetDriverByName("GPKG").CreateDataSource(fields)
    layer = source.CreateLayer("zones", None, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("count", ogr.OFTInteger))
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(ogr.CreateGeometryFromWkt("POLYGON((0 0,0 -100,100 -100,100 0,0 0))"))
    layer.CreateFeature(feature)
    layer = feature = source = None
    table = os.path.join(folder, "table.gpkg")
    low = job("low", 'op = "stretch"\nin = "dem"\nlow = 120')
    pct = job("pct", 'op = "calc"\nexpr = "dem > percentile(dem, 101)"')
    twice = job("twice", 'op = "stretch"\nin = "dem"',
                '\n[[step]]\nid = "again"\nop = "calc"\nexpr = "s - mean(s[2])"\n\n'
                '[[output]]\nfrom = ["again"]\npath = "again.tif"\n')
    typed = job("typed", 'op = "normalize"\nin = "dem"\ntype = "int16"')
    band = job("band", 'op = "calc"\nexpr = "dem - mean(dem[2])"')
    return [
        Case("job: stretch low = 120", ["run", low], 1,
             r"low\.toml:\d+:\d+: step 's': option 'low': 120 is not a percentile", tif),
        Case("job: percentile(dem, 101)", ["run", pct], 1,
             r"pct\.toml:\d+:\d+: .*percentile takes a number from 0 to 100", tif),
        Case("job: statistics of a second band of a step", ["run", twice], 1,
             r"twice\.toml:\d+:\d+: step 'again': statistics of step 's' take its one band", tif),
        Case("job: normalize to int16", ["run", typed], 1,
             r"typed\.toml:\d+:\d+: step 's': option 'type': expected float32 or float64", tif),
        Case("job: mean of a band the file lacks", ["run", band], 1,
             r"band\.toml:\d+:\d+: step 's': dem\[2\]: band 2 does not exist", tif),
        Case("zonal: a field of the layer named as a column",
             ["zonal", "--zones", fields, "--values", dem, "--out", table, "--stats", "count,mean"], 1,
             r"zonal: .*table\.gpkg: layer 'zones' of .*fields\.gpkg has a field 'count' already", table),
        Case("stats: percentile 101", ["stats", "--percentiles", "2,101"] + json_words + [dem], 1,
             r"stats: --percentiles: 101 is not between 0 and 100", out),
        Case("stats: percentile -1", ["stats", "--percentiles=-1"] + json_words + [dem], 1,
             r"stats: --percentiles: -1 is not between 0 and 100", out),
        Case("stats: no band 3", ["stats", "-b", "3"] + json_words + [dem], 1,
             r"chiprofiler_dem\.tif: no band 3", out),
        Case("stats: --buckets without --range", ["stats", "--buckets", "10"] + json_words + [dem], 2,
             r"stats: --buckets and --range go together", out),
        Case("stats: empty range", ["stats", "--buckets", "10", "--range", "5", "5"] + json_words + [dem],
             1, r"stats: --range: 5 5 is not a range", out),
        Case("stats: infinite range", ["stats", "--buckets", "10", "--range", "0", "inf"] + json_words + [dem],
             1, r"stats: --range: 0 inf is not a finite range", out),
        Case("stats: range wider than a double",
             ["stats", "--buckets", "3", "--range", "-1e308", "1.7e308"] + json_words + [dem],
             1, r"stats: --range: -1e\+308 1\.7e\+308 is not a finite range \(MAX - MIN is inf\)", out),
        Case("stats: not a raster", ["stats", "--hist"] + json_words + [text], 1, r"notaraster\.tif", out),
        Case("stats: tiled GeoTIFF cut in half", ["stats", "--hist"] + json_words + [cut], 1,
             r"cut_strips\.tif", out),
        Case("stats: --json naming the input", ["stats", "--json", cut, cut], 1,
             r"stats: .*cut_strips\.tif is the input", cut, kept=True),
    ]


def write_job(path, dem, out, more_out=None):
    """A slope job of `dem` written to `out` (and to `more_out` too when given)."""
    more = f'\n[[output]]\nfrom = ["s"]\npath = "{more_out}"\n' if more_out else ""
    with open(path, "w") as f:
        f.write(one_step_job(dem, out, "s", 'op = "slope"\nin = "dem"', more))
    return path


def output_path_cases(args, work):
    """Outputs that are not regular files, or are an input's file however spelt: refused before
    any work, the thing at the path left as it was."""
    folder = os.path.join(work, "paths")
    os.makedirs(os.path.join(folder, "folder.tif"))
    os.mkfifo(os.path.join(folder, "fifo.tif"))
    dem = os.path.join(folder, "dem.tif")
    shutil.copyfile(os.path.join(args.data, "chiprofiler_dem.tif"), dem)
    dotted, link, hard = os.path.join(folder, ".", "dem.tif"), os.path.join(folder, "link.tif"), \
        os.path.join(folder, "hard.tif")
    os.symlink(dem, link)
    os.link(dem, hard)
    first, second = os.path.join(folder, "o.tif"), os.path.join(folder, "o_hard.tif")
    with open(first, "w") as f:
        f.write("an earlier output\n")
    os.link(first, second)
    same = write_job(os.path.join(work, "same.toml"), dem, dotted)
    twice = write_job(os.path.join(work, "twice.toml"), dem, first, second)
    into_folder = write_job(os.path.join(work, "into_folder.toml"), dem, os.path.join(folder, "folder.tif"))
    report_job = write_job(os.path.join(work, "report.toml"), dem, os.path.join(folder, "j.tif"))
    same_input = r"dem\.tif: is the same file as the input .*dem\.tif"
    cases = [
        Case("output is a fifo", ["dem", "slope", dem, os.path.join(folder, "fifo.tif")], 1,
             r"fifo\.tif: is a fifo", os.path.join(folder, "fifo.tif"), kept=True),
        Case("generate onto a fifo", ["generate", os.path.join(folder, "fifo.tif"), "--size", "64x64", "-q"], 1,
             r"fifo\.tif: is a fifo", os.path.join(folder, "fifo.tif"), kept=True),
        Case("output is a folder", ["dem", "slope", dem, os.path.join(folder, "folder.tif")], 1,
             r"folder\.tif: is a folder", os.path.join(folder, "folder.tif"), kept=True),
        Case("output is the input", ["dem", "slope", dem, dem], 1, same_input, dem, kept=True),
        Case("output is the input, spelt ./", ["dem", "slope", dem, dotted], 1, same_input, dem, kept=True),
        Case("output is a symbolic link to the input", ["dem", "slope", dem, link], 1,
             r"link\.tif: is the same file as the input", link, kept=True),
        Case("output is a hard link of the input", ["dem", "slope", dem, hard], 1,
             r"hard\.tif: is the same file as the input", hard, kept=True),
        Case("calc output is the input, with --overwrite",
             ["calc", "-A", dem, "--calc=A*2", "--outfile", dotted, "--overwrite", "-q"], 1, same_input, dem,
             kept=True),
        Case("job output is the input", ["run", "-q", same], 1, r"same\.toml:\d+:\d+: .*" + same_input, dem,
             kept=True),
        Case("plan of a job whose output is the input", ["plan", same], 1, r"same\.toml:\d+:\d+: .*" + same_input,
             dem, kept=True),
        Case("job outputs are one file", ["run", "-q", twice], 1,
             r"twice\.toml:\d+:\d+: .*o_hard\.tif: is the same file as the output .*o\.tif", first, kept=True),
        Case("--report is the input", ["dem", "slope", dem, os.path.join(folder, "s.tif"), "--report", dotted],
             1, r"--report .*dem\.tif: is the same file as the input .*dem\.tif", dem, kept=True),
        Case("--report is the output", ["dem", "slope", dem, first, "--report", second], 1,
             r"--report .*o_hard\.tif: is the same file as the output .*o\.tif", first, kept=True),
        Case("run --report is the job file", ["run", "-q", report_job, "--report", report_job], 1,
             r"--report .*report\.toml: is the job file", report_job, kept=True),
        Case("plan of a job whose output is a folder", ["plan", into_folder], 1,
             r"into_folder\.toml:\d+:\d+: .*folder\.tif: is a folder", os.path.join(folder, "folder.tif"),
             kept=True),
    ]
    if os.geteuid() == 0:
        os.mknod(os.path.join(folder, "null"), 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        cases.insert(0, Case("output is a character device", ["dem", "slope", dem, os.path.join(folder, "null")],
                             1, r"null: is a character device", os.path.join(folder, "null"), kept=True))
    return cases


def mount_full_disk(work):
    """A 256 KiB tmpfs at work/full, too small for the outputs below; None when it cannot be
    mounted (not root, or no mount in this container)."""
    folder = os.path.join(work, "full")
    os.makedirs(folder)
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", folder],
                         capture_output=True, text=True)
    if res.returncode != 0:
        print(f"skip full-disk cases: cannot mount a small tmpfs ({res.stderr.strip()})", flush=True)
        return None
    return folder


def full_disk_cases(args, folder):
    """Outputs larger than the disk: uncompressed (every rank writes its tiles in place) and
    deflated (rank 0 appends them); and fill's tiles kept in a scratch folder on that disk (at
    16-cell tiles, each tile's row takes at least 4 bytes: over 400 KB) while its output goes
    elsewhere, which must not be made."""
    dem = os.path.join(args.data, "chiprofiler_dem.tif")
    plain = os.path.join(folder, "slope.tif")
    packed = os.path.join(folder, "slope_deflate.tif")
    h5 = os.path.join(folder, "slope.h5")
    cog = os.path.join(folder, "slope_cog.tif")
    fel = os.path.join(os.path.dirname(folder), "out", "fel_full.tif")
    return [
        # Uncompressed tiles are allocated before anything is computed.
        Case("full disk, uncompressed", ["dem", "slope", dem, plain], 1,
             r"full/slope\.tif: cannot allocate the tiles' \d+ bytes: No space left on device", plain),
        Case("full disk, deflate", ["dem", "slope", dem, packed, "-co", "COMPRESS=DEFLATE"], 1,
             r"full/slope_deflate\.tif.*No space left on device", packed),
        Case("full disk, over an earlier output", ["dem", "slope", dem, plain], 1,
             r"full/slope\.tif: cannot allocate the tiles' \d+ bytes: No space left on device", plain,
             existing="an earlier run's output\n"),
        # HDF5 crashed at MPI_Finalize on a file it could not close, and at 2 ranks hung in it.
        Case("full disk, COG", ["dem", "slope", dem, cog, "-of", "COG"], 1,
             r"full/slope_cog\.tif: .*No space left on device", cog),
        Case("full disk, HDF5", ["dem", "slope", dem, h5, "-of", "HDF5"], 1,
             r"full/slope\.h5: .*No space left on device", h5),
        Case("full disk, HDF5 deflate", ["dem", "slope", dem, h5, "-of", "HDF5", "-co", "COMPRESS=DEFLATE"], 1,
             r"full/slope\.h5: .*No space left on device", h5),
        # The journal was made and not written: the next run, on a disk with room, was refused as
        # one to resume ("an interrupted run's journal is beside it").
        Case("full disk before the journal", ["dem", "slope", dem, plain], 1,
             r"full/\.slope\.tif\.journal-\d: cannot write the journal: No space left on device", plain,
             fill_up=True),
        Case("full disk, fill's scratch folder",
             ["hydro", "fill", "-z", os.path.join(args.data, "nz_elev.tif"), "-fel", fel, "--tile", "16",
              "--scratch", folder], 1,
             r"full: scratch folder of step 'fill': cannot write: No space left on device", fel,
             folders=(folder,)),
    ]


def tessera_lines(stderr, ranks):
    lines = stderr.splitlines()
    if ranks:
        lines = [line for line in lines if not MPIRUN_NOISE.match(line)]
    return lines


def what_is_at(path):
    """What a kept path must still be: its kind, device, inode and, for a file, its bytes."""
    st = os.lstat(path)
    data = None
    if stat.S_ISREG(os.stat(path).st_mode):
        with open(path, "rb") as f:
            data = f.read()
    return stat.S_IFMT(st.st_mode), st.st_rdev, st.st_ino, data


def snapshot(folder):
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else None


def check(args, case, ranks, work):
    """A list of problems with one run of one case (empty when it failed as it should)."""
    if case.existing is not None:
        with open(case.output, "w") as f:
            f.write(case.existing)
    filler = systest.fill_disk(os.path.dirname(case.output)) if case.fill_up else None
    before = {d: snapshot(d) for d in (work, os.path.join(work, "out"), os.path.dirname(case.output))
              + tuple(case.folders)}
    kept = what_is_at(case.output) if case.kept else None
    res = systest.tessera(args, case.words, ranks, env=case.env, address_space=case.address_space)
    problems = []
    if res.hung:
        return [f"hung for {args.timeout:g} s"]
    if res.returncode != case.status:
        problems.append(f"exit status {res.returncode}, expected {case.status}")
    lines = tessera_lines(res.stderr, ranks)
    if len(lines) != 1 or not lines[0].startswith("tessera: error: "):
        problems.append(f"expected one line 'tessera: error: ...', got {lines!r}")
    elif not case.culprit.search(lines[0]):
        problems.append(f"message does not name the culprit /{case.culprit.pattern}/: {lines[0]!r}")
    elif CONTROL.search(lines[0]):
        problems.append(f"the message holds a raw control character: {lines[0]!r}")
    elif LIBRARY_NOISE.search(lines[0]):  # libtiff's own words before the system's reason
        problems.append(f"the message holds a library's noise: {lines[0]!r}")
    if case.existing is not None:
        problems += earlier_output_problems(case)
    elif kept is not None:
        if not os.path.lexists(case.output) or what_is_at(case.output) != kept:
            problems.append(f"what was at {case.output} changed")
    elif os.path.lexists(case.output):
        problems.append(f"a file exists at the output path {case.output}")
    for folder, listing in before.items():
        if snapshot(folder) != listing:
            problems.append(f"{folder} changed: {listing} -> {snapshot(folder)}")
    if case.existing is not None and os.path.lexists(case.output):
        os.remove(case.output)
    if filler:
        os.remove(filler)
    return problems


def earlier_output_problems(case):
    """The file that was at the output path must be there as it was."""
    if not os.path.isfile(case.output):
        return [f"the earlier output at {case.output} is gone"]
    with open(case.output) as f:
        text = f.read()
    return [] if text == case.existing else [f"the earlier output at {case.output} changed: {text[:40]!r}"]


def report_on_a_full_disk(args, folder, work, ranks):
    """A --report whose disk fills between the check before the run and the report's writing:
    the run's output is in place and whole, one warning line, status 0, nothing left beside the
    report (a run that failed for its report had a batch system throw away or redo its outputs)."""
    dem = os.path.join(args.data, "chiprofiler_dem.tif")
    out = os.path.join(work, "out", "report_full.tif")
    report = os.path.join(folder, "r.json")
    filler = systest.fill_disk(folder)
    try:
        res = systest.tessera(args, ["dem", "slope", dem, out, "-q", "--report", report], ranks)
        left = sorted(set(os.listdir(folder)) - {"filler"})
    finally:
        os.remove(filler)
    problems = []
    if res.hung:
        return [f"hung for {args.timeout:g} s"]
    if res.returncode != 0:
        problems.append(f"exit status {res.returncode}, expected 0")
    lines = tessera_lines(res.stderr, ranks)
    wanted = re.compile(r"^tessera: warning: --report .*full/r\.json: cannot write the report: No space "
                        r"left on device; the run's outputs are written$")
    if len(lines) != 1 or not wanted.match(lines[0]):
        problems.append(f"expected one warning /{wanted.pattern}/, got {lines!r}")
    ds = systest.gdal.Open(out) if os.path.isfile(out) else None
    if ds is None or ds.GetRasterBand(1).Checksum() < 0:
        problems.append(f"the output {out} is not whole")
    ds = None
    if left:
        problems.append(f"left beside the report: {left}")
    if os.path.lexists(out):
        os.remove(out)
    return problems


def flag_like_paths(args, work, ranks):
    """A value that looks like a flag given a value (`--quiet=x.tif` after -fel) is the flag's
    value, not a flag: the refusal of `--quiet=false` reads only the words in a flag's place. Each
    command writes the file so named (in a folder of its own) with status 0."""
    folder = os.path.join(work, "flag_like")
    os.makedirs(folder, exist_ok=True)
    dem = os.path.join(args.data, "chiprofiler_dem.tif")
    job = write_job(os.path.join(folder, "j.toml"), dem, os.path.join(folder, "j.tif"))
    runs = [(["hydro", "flowdir", "-fel", dem, "-p", "--quiet=p.tif", "-q"], "--quiet=p.tif"),
            (["dem", "slope", dem, "s.tif", "-q", "--report", "--restart=s.json"], "--restart=s.json"),
            (["calc", "-A", dem, "--calc", "A", "--outfile", "-q=c.tif", "-q"], "-q=c.tif"),
            (["run", job, "-q", "--report", "--quiet=r.json"], "--quiet=r.json")]
    problems = []
    for words, made in runs:
        cmd = systest.mpi_prefix(args, ranks) + [args.tessera] + words
        res = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, env=systest.environment(1),
                             timeout=args.timeout)
        if res.returncode != 0 or not os.path.isfile(os.path.join(folder, made)):
            problems.append(f"{' '.join(words[:2])} ... {made}: exit {res.returncode}, "
                            f"{res.stderr.strip()[-300:]!r}")
    shutil.rmtree(folder)
    return problems


def part_option(text):
    """--part K/N: the K-th of N shares of the cases (every N-th case from the K-th)."""
    k, n = (int(v) for v in text.split("/"))
    if not 1 <= k <= n:
        raise ValueError(text)
    return k, n


def make_lane(args, stack, part, parts):
    """A work folder of its own (its bad files, its small tmpfs) and the cases of this share in
    it: runs in different lanes touch nothing in common, so they can go at once."""
    work = stack.enter_context(tempfile.TemporaryDirectory(prefix="tessera-bad-"))
    cases = (make_cases(args, work) + output_path_cases(args, work) + stats_cases(args, work)
             + hydro_cases(args, work))
    full = mount_full_disk(work)
    if full:
        stack.callback(subprocess.run, ["umount", full], check=False)
        cases += full_disk_cases(args, full)
    return work, full, cases[part - 1::parts]


def main():
    args = systest.parse_args(
        "tessera on bad inputs, alone and under mpirun",
        lambda p: (p.set_defaults(timeout=60.0),
                   p.add_argument("--part", type=part_option, default=(1, 1),
                                  help="K/N: run the K-th of N shares of the cases (ctest runs "
                                       "each share as a test of its own)")))
    part, parts = args.part
    failures = []
    with contextlib.ExitStack() as stack:
        # Each run is a tessera start-up that fails early, under mpirun mostly mpirun's wait
        # after a rank's non-zero exit (its kill sequence: 1-2 s of a 2.1 s run, 0.1 s of CPU):
        # lanes, each with its own copy of the files, take the runs as they come free; the
        # results are reported in the runs' order.
        lanes = [make_lane(args, stack, part, parts) for _ in range(systest.workers(waiting=True))]
        work, full, cases = lanes[0]
        if any([c.name for c in lane[2]] != [c.name for c in cases] for lane in lanes):
            systest.fail("the lanes' work folders do not hold the same cases (a tmpfs not mounted?)")
        runs = [(i, r) for i in range(len(cases)) for r in (0, 2)]
        runs += [(i, 3) for i, c in enumerate(cases)
                 if c.name in ("tiled GeoTIFF cut in half", "job file syntax error", "full disk, uncompressed",
                               "full disk, HDF5")]
        run_cases(args, lanes, runs, failures)
        for ranks in ((0, 2) if part == 1 else ()):
            label = f"paths that look like flags given values [{f'np={ranks}' if ranks else 'alone'}]"
            problems = flag_like_paths(args, work, ranks)
            report(label, problems, failures)
        for ranks in ((0, 2) if full and part == 1 else ()):
            label = f"--report on a disk full by the run's end [{f'np={ranks}' if ranks else 'alone'}]"
            problems = report_on_a_full_disk(args, full, work, ranks)
            report(label, problems, failures)
    if failures:
        systest.fail(f"{len(failures)} of {len(runs)} runs misbehaved: {', '.join(failures)}")
    print(f"{len(runs)} bad-input runs failed cleanly")


def report(label, problems, failures):
    """One line for a run: ok, or FAIL with its problems (its label then added to `failures`)."""
    print(f"{'ok  ' if not problems else 'FAIL'} {label}" + (f": {'; '.join(problems)}" if problems else ""),
          flush=True)
    if problems:
        failures.append(label)


def run_cases(args, lanes, runs, failures):
    """Each run (case index, ranks) in a lane that is free, as many at once as there are lanes."""
    free = queue.Queue()
    for lane in lanes:
        free.put(lane)

    def in_a_free_lane(index, ranks):
        lane = free.get()
        try:
            work, _, cases = lane
            return check(args, cases[index], ranks, work)
        finally:
            free.put(lane)

    cases = lanes[0][2]
    with systest.Pool(len(lanes)) as pool:
        # The runs that fill memory (seconds each, most of a share's time) first, so that the
        # others go beside them.
        first = sorted(range(len(runs)), key=lambda k: cases[runs[k][0]].address_space is None)
        started = {k: pool.submit(in_a_free_lane, *runs[k]) for k in first}
        for k, (index, ranks) in enumerate(runs):
            problems = started[k].result()
            label = f"{cases[index].name} [{f'np={ranks}' if ranks else 'alone'}]"
            report(label, problems, failures)


if __name__ == "__main__":
    sys.exit(main())
