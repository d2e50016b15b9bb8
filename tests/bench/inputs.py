"""The benchmarks' generated inputs, made once and cached by size: a Float32 DEM and two UInt16 bands.

Used by tests/bench/suite.py (imported) and by bench_hillshade.sh and bench_calc.sh (command line):

    python3 tests/bench/inputs.py dem DIR SIZE --tessera build/src/tessera [--ranks 2]
    python3 tests/bench/inputs.py bands DIR SIZE

Each prints the path(s) it made or found. A file is written under a temporary name and renamed
when complete, so an interrupted run never leaves a truncated input in the cache.
"""
import argparse
import os
import subprocess
import sys

MPI_ENV = {
    "OMPI_ALLOW_RUN_AS_ROOT": "1",
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    "OMPI_MCA_rmaps_base_oversubscribe": "1",
}
BANDS_NODATA = 65535


def dem_path(folder, size):
    return os.path.join(folder, f"dem_generated_{size}.tif")


def band_paths(folder, size):
    """(nir, red): the NDVI inputs."""
    return os.path.join(folder, f"nir_{size}.tif"), os.path.join(folder, f"red_{size}.tif")


def make_dem(folder, size, tessera, ranks=2, mpiexec="mpirun"):
    """A deterministic SIZE x SIZE Float32 DEM (256 x 256 tiles, 30 m cells, UTM 11N) from
    `tessera generate` on `ranks` ranks (the file's bytes do not depend on the ranks)."""
    path = dem_path(folder, size)
    if os.path.exists(path):
        return path
    os.makedirs(folder, exist_ok=True)
    cmd = [mpiexec, "-n", str(ranks), "--bind-to", "none", tessera, "generate", path,
           "--size", f"{size}x{size}", "--seed", "20261101", "--cell", "30",
           "--origin", "300000,4500000", "-co", "BLOCKXSIZE=256", "-co", "BLOCKYSIZE=256", "-q"]
    subprocess.run(cmd, check=True, env=dict(os.environ, OMP_NUM_THREADS="1", **MPI_ENV))
    return path


def make_bands(folder, size):
    """Two deterministic SIZE x SIZE UInt16 bands (nir, red; 256 x 256 tiles, nodata 65535):
    smooth fields plus a hashed texture, a 1000-cell nodata square in nir when the size reaches it."""
    import numpy as np
    from osgeo import gdal

    gdal.UseExceptions()
    paths = band_paths(folder, size)
    if all(os.path.exists(p) and os.path.getsize(p) > 0 for p in paths):
        return paths
    os.makedirs(folder, exist_ok=True)
    drv = gdal.GetDriverByName("GTiff")
    for salt, path in enumerate(paths):
        tmp = path + ".part"
        ds = drv.Create(tmp, size, size, 1, gdal.GDT_UInt16,
                        ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "BIGTIFF=IF_SAFER"])
        band = ds.GetRasterBand(1)
        band.SetNoDataValue(BANDS_NODATA)
        x = np.arange(size, dtype=np.int64)
        for y0 in range(0, size, 512):
            y = np.arange(y0, min(size, y0 + 512), dtype=np.int64)[:, None]
            hashed = (x * 2654435761 + y * 40503 + salt * 97) % 1009
            cells = 3000 + (1 - salt) * 2000 + ((x // 97 + y // 131) % 7) * 300 + hashed
            if salt == 0:
                cells = np.where((y // 1000 == 3) & (x // 1000 == 5), BANDS_NODATA, cells)
            band.WriteArray(cells.astype(np.uint16), 0, y0)
        ds = None
        os.replace(tmp, path)
    return paths


def main():
    p = argparse.ArgumentParser(description="Makes (once) and prints the benchmarks' generated inputs.")
    p.add_argument("kind", choices=["dem", "bands"])
    p.add_argument("dir", help="the cache folder")
    p.add_argument("size", type=int, help="width and height in cells")
    p.add_argument("--tessera", help="tessera executable (for dem)")
    p.add_argument("--ranks", type=int, default=2, help="ranks of tessera generate (for dem)")
    args = p.parse_args()
    if args.kind == "dem":
        if not args.tessera:
            sys.exit("inputs.py dem: --tessera is required")
        print(make_dem(args.dir, args.size, args.tessera, args.ranks))
    else:
        print("\n".join(make_bands(args.dir, args.size)))


if __name__ == "__main__":
    main()
