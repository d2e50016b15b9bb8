# Writes a deterministic terrain-like Float32 DEM (octaves of smooth value noise) as a tiled GeoTIFF, strip by strip.
import argparse
import os
import sys
import time

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()

STRIP_ROWS = 512          # rows computed and written at once: memory stays ~ STRIP_ROWS * width * 40 bytes
BLOCK = 256
PIXEL = 30.0              # metres
ORIGIN = (300000.0, 4500000.0)  # UTM zone 11N, upper-left corner
EPSG = 32611


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("output", help="GeoTIFF to write (left alone if it exists)")
    p.add_argument("--size", type=int, default=16000, help="width and height in cells")
    p.add_argument("--seed", type=int, default=20261101)
    p.add_argument("--force", action="store_true", help="rewrite even if the file exists")
    return p.parse_args()


class Octave:
    """One layer of value noise: random heights on a lattice every `spacing` cells, smoothly interpolated."""

    def __init__(self, rng, size, spacing, amplitude):
        n = size // spacing + 2
        self.spacing = spacing
        self.lattice = (rng.random((n, n), dtype=np.float32) * 2 - 1) * amplitude
        cols = np.arange(size, dtype=np.float64) / spacing
        self.col0 = cols.astype(np.int64)
        self.tx = _fade(cols - self.col0).astype(np.float32)

    def rows(self, first, count):
        """The octave's heights for rows [first, first + count), all columns."""
        r = np.arange(first, first + count, dtype=np.float64) / self.spacing
        r0 = r.astype(np.int64)
        ty = _fade(r - r0).astype(np.float32)[:, None]
        along_y = self.lattice[r0] * (1 - ty) + self.lattice[r0 + 1] * ty
        left, right = along_y[:, self.col0], along_y[:, self.col0 + 1]
        return left * (1 - self.tx) + right * self.tx


def _fade(t):
    return t * t * (3 - 2 * t)


def make_octaves(size, seed):
    """Spacings from 2048 down to 8 cells; amplitude 1.5 m per cell of spacing, capped at 900 m:
    slopes of 10-40 degrees at 30 m cells, like mountains, on a few broad ranges."""
    rng = np.random.default_rng(seed)
    octaves, spacing = [], 2048
    while spacing >= 8:
        octaves.append(Octave(rng, size, spacing, min(1.5 * spacing, 900.0)))
        spacing //= 2
    return octaves


def create(path, size):
    driver = gdal.GetDriverByName("GTiff")
    ds = driver.Create(path, size, size, 1, gdal.GDT_Float32,
                       ["TILED=YES", f"BLOCKXSIZE={BLOCK}", f"BLOCKYSIZE={BLOCK}", "COMPRESS=NONE",
                        "BIGTIFF=IF_SAFER"])
    ds.SetGeoTransform((ORIGIN[0], PIXEL, 0.0, ORIGIN[1], 0.0, -PIXEL))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(EPSG)
    ds.SetProjection(srs.ExportToWkt())
    ds.GetRasterBand(1).SetNoDataValue(-9999.0)
    return ds


def write(path, size, seed):
    octaves = make_octaves(size, seed)
    ds = create(path, size)
    band = ds.GetRasterBand(1)
    low, high = np.inf, -np.inf
    for first in range(0, size, STRIP_ROWS):
        count = min(STRIP_ROWS, size - first)
        heights = np.full((count, size), 2000.0, dtype=np.float32)
        for octave in octaves:
            heights += octave.rows(first, count)
        # Flatten the lowlands into valleys and lakes so flat areas and steep ridges both occur.
        np.maximum(heights, 600.0, out=heights)
        band.WriteArray(heights, 0, first)
        band.FlushCache()
        low, high = min(low, float(heights.min())), max(high, float(heights.max()))
    ds = None
    return low, high


def main():
    args = parse_args()
    if os.path.exists(args.output) and not args.force:
        print(f"{args.output}: exists, kept")
        return 0
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    gdal.SetCacheMax(256 * 1024 * 1024)
    partial = args.output + ".partial"
    start = time.monotonic()
    low, high = write(partial, args.size, args.seed)
    os.replace(partial, args.output)
    print(f"{args.output}: {args.size}x{args.size} Float32, {os.path.getsize(args.output) / 2**30:.2f} GiB, "
          f"heights {low:.0f}..{high:.0f} m, {time.monotonic() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
