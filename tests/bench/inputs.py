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


ZONE_COLUMNS, ZONE_ROWS = 40, 25  # 1000 zones


def zone_paths(folder, size):
    """(zones raster, zone polygons): the zonal statistics' zones on the DEM's grid."""
    return os.path.join(folder, f"zones_{size}.tif"), os.path.join(folder, f"zones_{size}.gpkg")


def zone_lattice(size):
    """The corners of the 40 x 25 zones, in cells: a lattice jittered deterministically (the
    raster's edges stay straight), so that the zones are irregular quadrilaterals that tile the
    raster without overlapping."""
    import numpy as np

    rows, cols = np.mgrid[0:ZONE_ROWS + 1, 0:ZONE_COLUMNS + 1]
    step_x, step_y = size / ZONE_COLUMNS, size / ZONE_ROWS
    jitter_x = ((cols * 7919 + rows * 104729) % 1000 / 1000 - 0.5) * 0.6 * step_x
    jitter_y = ((cols * 15485863 + rows * 32452843) % 1000 / 1000 - 0.5) * 0.6 * step_y
    x = cols * step_x + np.where((cols == 0) | (cols == ZONE_COLUMNS), 0, jitter_x)
    y = rows * step_y + np.where((rows == 0) | (rows == ZONE_ROWS), 0, jitter_y)
    return x, y


def make_zones(folder, size, dem):
    """The 1000 zones of zone_lattice() as a UInt16 raster on the DEM's grid (ids 1..1000, each
    cell the zone whose polygon holds its centre, as GDAL rasterises them) and as a GeoPackage of
    polygons (field `zone`), both made once."""
    from osgeo import gdal, ogr, osr

    gdal.UseExceptions()
    raster_path, vector_path = zone_paths(folder, size)
    if os.path.exists(raster_path) and os.path.exists(vector_path):
        return raster_path, vector_path
    src = gdal.Open(dem)
    gt = src.GetGeoTransform()
    srs = osr.SpatialReference(wkt=src.GetProjection())
    x, y = zone_lattice(size)
    tmp = vector_path + ".part.gpkg"
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(tmp)
    layer = ds.CreateLayer("zones", srs, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("zone", ogr.OFTInteger))
    layer.StartTransaction()
    for r in range(ZONE_ROWS):
        for c in range(ZONE_COLUMNS):
            ring = ogr.Geometry(ogr.wkbLinearRing)
            for rr, cc in ((r, c), (r, c + 1), (r + 1, c + 1), (r + 1, c), (r, c)):
                ring.AddPoint_2D(gt[0] + x[rr, cc] * gt[1], gt[3] + y[rr, cc] * gt[5])
            polygon = ogr.Geometry(ogr.wkbPolygon)
            polygon.AddGeometry(ring)
            feature = ogr.Feature(layer.GetLayerDefn())
            feature.SetField("zone", 1 + r * ZONE_COLUMNS + c)
            feature.SetGeometry(polygon)
            layer.CreateFeature(feature)
    layer.CommitTransaction()
    ds = None
    raster_tmp = raster_path + ".part"
    out = gdal.GetDriverByName("GTiff").Create(raster_tmp, size, size, 1, gdal.GDT_UInt16,
                                              ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256"])
    out.SetGeoTransform(gt)
    out.SetProjection(src.GetProjection())
    out.GetRasterBand(1).SetNoDataValue(0)
    vectors = ogr.Open(tmp)
    gdal.RasterizeLayer(out, [1], vectors.GetLayer(0), options=["ATTRIBUTE=zone"])
    out = vectors = None
    os.replace(raster_tmp, raster_path)
    os.replace(tmp, vector_path)
    return raster_path, vector_path


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
