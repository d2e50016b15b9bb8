"""The Python peers of tests/bench/suite.py: the ways Python users compute what tessera computes.

    python3 tests/bench/peers.py WAY TASK OUTPUT INPUT [INPUT2] [--workers 2] [--chunk 2048]

WAY is one of
  numpy     the whole raster read into one array with rasterio, computed, written at once;
  rasterio  the output's blocks as windows (read with a 1-cell halo for terrain), computed by a
            concurrent.futures.ThreadPoolExecutor of --workers threads, reads and writes under
            locks: the pattern of rasterio's own concurrency example;
  dask      the input as a lazy dask.array (chunks read through rasterio), map_overlap with
            depth 1 for terrain (plain array arithmetic for NDVI), da.store into the GeoTIFF,
            the threaded scheduler with --workers workers.
TASK is hillshade, slope, hillshade-zstd (ZSTD level 9, PREDICTOR=2), ndvi (INPUT = nir,
INPUT2 = red) or focal-METHOD-SIZE (METHOD mean, stddev, max or median, scipy.ndimage's
filters over a SIZE x SIZE window; numpy and dask only, dask with an overlap of SIZE // 2). The formulas are gdaldem's (Horn gradient, default z, azimuth and altitude,
first and last rows and columns nodata) and gdal_calc.py's NDVI with its nodata rule, computed
in float32 as numpy users write it; outputs have gdaldem's and tessera calc's types and nodata.
"""
import argparse
import math
import warnings

import numpy as np

HILLSHADE_NODATA = 0
SLOPE_NODATA = -9999.0
NDVI_NODATA = float(np.finfo(np.float32).max)  # gdal_calc.py's default for Float32
BAND_NODATA = 65535
ZSTD_LEVEL = 9  # GDAL's default ZSTD_LEVEL
TASKS = ("hillshade", "slope", "hillshade-zstd", "ndvi")
FOCAL_NODATA = -9999.0


def horn(z, ewres, nsres):
    """gdaldem's Horn gradient (x, y) of the cells of z that have all 8 neighbours."""
    x = ((z[:-2, :-2] + 2 * z[1:-1, :-2] + z[2:, :-2]) -
         (z[:-2, 2:] + 2 * z[1:-1, 2:] + z[2:, 2:])) / ewres
    y = ((z[2:, :-2] + 2 * z[2:, 1:-1] + z[2:, 2:]) -
         (z[:-2, :-2] + 2 * z[:-2, 1:-1] + z[:-2, 2:])) / nsres
    return x, y


def hillshade(z, ewres, nsres, zfactor=1.0, azimuth=315.0, altitude=45.0):
    """gdaldem hillshade's Byte cells; the outer ring of z (no full window) is nodata."""
    x, y = horn(z, ewres, nsres)
    az, alt = math.radians(azimuth), math.radians(altitude)
    zf = zfactor / 8
    shade = (254 * math.sin(alt) - 254 * zf * math.cos(alt) * (y * math.cos(az) - x * math.sin(az))) \
        / np.sqrt(1 + zf * zf * (x * x + y * y))
    out = np.full(z.shape, HILLSHADE_NODATA, dtype=np.uint8)
    out[1:-1, 1:-1] = np.rint(np.where(shade <= 0, 1, 1 + shade))
    return out


def slope(z, ewres, nsres):
    """gdaldem slope's degrees as Float32; the outer ring of z is nodata."""
    x, y = horn(z, ewres, nsres)
    out = np.full(z.shape, SLOPE_NODATA, dtype=np.float32)
    out[1:-1, 1:-1] = np.degrees(np.arctan(np.sqrt(x * x + y * y) / 8))
    return out


def ndvi(nir, red):
    """(nir - red) / (nir + red) as Float32; nodata where either input is. Works on numpy and
    dask arrays alike."""
    nir, red = nir.astype(np.float32), red.astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = (nir - red) / (nir + red)
    return np.where((nir == BAND_NODATA) | (red == BAND_NODATA), np.float32(NDVI_NODATA), value)


def focal(z, method, size):
    """scipy.ndimage's focal statistics as a user writes them, leaving out cells beyond the edge
    as tessera does where scipy can (a constant mode and a count of the cells that exist; the
    median filter takes the nearest cell instead). Float32, as tessera's output."""
    import scipy.ndimage as ndi

    z = z.astype(np.float64)
    if method == "max":
        return ndi.maximum_filter(z, size, mode="constant", cval=-np.inf).astype(np.float32)
    if method == "median":
        return ndi.median_filter(z, size, mode="nearest").astype(np.float32)
    n = ndi.uniform_filter(np.ones_like(z), size, mode="constant", cval=0.0)
    mean = ndi.uniform_filter(z, size, mode="constant", cval=0.0) / n
    if method == "mean":
        return mean.astype(np.float32)
    squares = ndi.uniform_filter(z * z, size, mode="constant", cval=0.0) / n
    return np.sqrt(np.maximum(0.0, squares - mean * mean)).astype(np.float32)


def focal_of(task):
    """(method, size) of a focal task (focal-METHOD-SIZE)."""
    _, method, size = task.split("-")
    return method, int(size)


def terrain_kernel(task):
    if task.startswith("focal-"):
        method, size = focal_of(task)
        return lambda z, ewres, nsres: focal(z, method, size)
    return hillshade if task.startswith("hillshade") else slope


def halo(task):
    """The cells a block needs on each side."""
    return focal_of(task)[1] // 2 if task.startswith("focal-") else 1


def output_profile(src, task):
    """The input's profile (size, georeferencing, 256 x 256 tiles) with the task's type, nodata
    and compression, as users derive an output profile from the input's."""
    profile = src.profile.copy()
    profile.update(count=1, tiled=True, blockxsize=256, blockysize=256, compress=None)
    if task.startswith("hillshade"):
        profile.update(dtype="uint8", nodata=HILLSHADE_NODATA)
    elif task == "slope":
        profile.update(dtype="float32", nodata=SLOPE_NODATA)
    elif task.startswith("focal-"):
        profile.update(dtype="float32", nodata=FOCAL_NODATA)
    else:
        profile.update(dtype="float32", nodata=NDVI_NODATA)
    if task == "hillshade-zstd":
        profile.update(compress="zstd", predictor=2, zstd_level=ZSTD_LEVEL)
    return profile


def resolution(src):
    return src.transform.a, src.transform.e


def whole_array(task, output, inputs, args):
    """numpy on the whole raster."""
    import rasterio

    srcs = [rasterio.open(p) for p in inputs]
    profile = output_profile(srcs[0], task)
    if task == "ndvi":
        result = ndvi(srcs[0].read(1), srcs[1].read(1))
    else:
        result = terrain_kernel(task)(srcs[0].read(1), *resolution(srcs[0]))
    with rasterio.open(output, "w", **profile) as dst:
        dst.write(result, 1)


def read_with_halo(src, window, halo):
    """The window grown by `halo` cells on each side, clipped to the raster, and where the
    window's cells start inside it."""
    from rasterio.windows import Window

    row0, col0 = max(window.row_off - halo, 0), max(window.col_off - halo, 0)
    row1 = min(window.row_off + window.height + halo, src.height)
    col1 = min(window.col_off + window.width + halo, src.width)
    cells = src.read(1, window=Window(col0, row0, col1 - col0, row1 - row0))
    return cells, window.row_off - row0, window.col_off - col0


def rasterio_windows(task, output, inputs, args):
    """The output's blocks computed by a thread pool, as in rasterio's concurrency example."""
    import concurrent.futures
    import threading

    import rasterio

    srcs = [rasterio.open(p) for p in inputs]
    profile = output_profile(srcs[0], task)
    res = resolution(srcs[0])
    read_lock, write_lock = threading.Lock(), threading.Lock()
    with rasterio.open(output, "w", **profile) as dst:

        def process(window):
            if task == "ndvi":
                with read_lock:
                    nir, red = (s.read(1, window=window) for s in srcs)
                result = ndvi(nir, red)
            else:
                with read_lock:
                    z, r, c = read_with_halo(srcs[0], window, 1)
                shaded = terrain_kernel(task)(z, *res)
                result = shaded[r:r + window.height, c:c + window.width]
            with write_lock:
                dst.write(result, 1, window=window)

        windows = [window for _, window in dst.block_windows(1)]
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.workers) as executor:
            list(executor.map(process, windows))


class BandReader:
    """A rasterio band as an array dask can slice lazily (dask's from_array takes any object
    with shape, dtype and __getitem__); reads go through one lock, as a dataset handle is not
    thread-safe."""

    def __init__(self, src, lock):
        self.src, self.lock = src, lock
        self.shape, self.dtype, self.ndim = (src.height, src.width), np.dtype(src.dtypes[0]), 2

    def __getitem__(self, key):
        from rasterio.windows import Window

        rows, cols = (k.indices(n) for k, n in zip(key, self.shape))
        with self.lock:
            return self.src.read(1, window=Window(cols[0], rows[0], cols[1] - cols[0],
                                                  rows[1] - rows[0]))


class BandWriter:
    """The target of da.store: each chunk written as a window of the output band."""

    def __init__(self, dst):
        self.dst = dst

    def __setitem__(self, key, value):
        from rasterio.windows import Window

        rows, cols = key
        self.dst.write(value, 1, window=Window(cols.start, rows.start, value.shape[1], value.shape[0]))


def dask_overlap(task, output, inputs, args):
    """dask.array: map_overlap of the terrain kernel with depth 1, or NDVI as array arithmetic."""
    import threading

    import dask.array as da
    import rasterio

    srcs = [rasterio.open(p) for p in inputs]
    profile = output_profile(srcs[0], task)
    lock = threading.Lock()
    arrays = [da.from_array(BandReader(s, lock), chunks=(args.chunk, args.chunk),
                            meta=np.empty((0, 0), dtype=s.dtypes[0])) for s in srcs]
    if task == "ndvi":
        result = ndvi(*arrays)
    else:
        kernel = terrain_kernel(task)
        result = arrays[0].map_overlap(kernel, depth=halo(task), boundary="none", dtype=profile["dtype"],
                                       ewres=srcs[0].transform.a, nsres=srcs[0].transform.e)
    with rasterio.open(output, "w", **profile) as dst:
        da.store(result, BandWriter(dst), lock=True, scheduler="threads", num_workers=args.workers)


WAYS = {"numpy": whole_array, "rasterio": rasterio_windows, "dask": dask_overlap}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("way", choices=sorted(WAYS))
    p.add_argument("task", help="one of %s, or focal-METHOD-SIZE (METHOD mean, stddev, max or "
                   "median)" % ", ".join(TASKS))
    p.add_argument("output")
    p.add_argument("inputs", nargs="+", help="the DEM, or nir and red for ndvi")
    p.add_argument("--workers", type=int, default=2, help="threads (rasterio, dask); default 2")
    p.add_argument("--chunk", type=int, default=2048, help="dask chunk side in cells; default 2048")
    args = p.parse_args()
    # The generated bands carry no georeferencing; rasterio's warning about it is noise here.
    warnings.filterwarnings("ignore", message=".*(geotransform|identity matrix).*")
    if len(args.inputs) != (2 if args.task == "ndvi" else 1):
        p.error("ndvi takes two inputs (nir, red); terrain tasks one DEM")
    if args.task not in TASKS and not (args.task.startswith("focal-") and args.way != "rasterio"):
        p.error("unknown task %s (rasterio runs no focal task)" % args.task)
    WAYS[args.way](args.task, args.output, args.inputs, args)


if __name__ == "__main__":
    main()
