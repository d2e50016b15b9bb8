# System test: COG outputs and overviews inside GeoTIFFs end to end: GDAL's COG validator, full
# resolution equal to tessera's GeoTIFF, overviews equal to gdaladdo's (every method; at odd sizes
# and for kernels, away from tiles' edges), the same bytes at 1-3 ranks x 1-2 threads, a job's
# format = "cog" and overviews = [...], tessera calc -of COG.
"""COG outputs: validated by GDAL's validator, overviews as gdaladdo's, the same bytes at any ranks."""
import hashlib
import os
import shutil
import subprocess
import tempfile

import numpy as np
import systest
from osgeo import gdal
from osgeo_utils.samples.validate_cloud_optimized_geotiff import validate

JOB = """[input.dem]
path = "{dem}"

[[step]]
id = "hs"
op = "hillshade"
in = "dem"

[[output]]
from = "hs"
path = "{out}/hs_cog.tif"
format = "cog"
compress = "zstd"
level = 9
predictor = 2
resampling = "mode"

[[output]]
from = "hs"
path = "{out}/hs_overviews.tif"
overviews = [2, 4, 8]
resampling = "nearest"

[run]
tile = 128
"""


def run_tessera(args, words, ranks=2, threads=1):
    done = systest.tessera(args, words + ["-q"], ranks=ranks, threads=threads)
    if done.returncode != 0:
        systest.fail(f"tessera {' '.join(words)}: {done.stderr.strip()}")


def crop(args, name, work, width, height):
    """The upper-left width x height cells of tests/data/NAME, tiled: sizes that halve evenly."""
    out = os.path.join(work, f"crop_{name}")
    tool = os.path.join(os.path.dirname(args.gdaldem), "gdal_translate")
    systest.run([tool, "-q", "-srcwin", "0", "0", str(width), str(height), "-co", "TILED=YES",
                 os.path.join(args.data, name), out], args.timeout)
    return out


def check_cog(path, levels):
    """The validator's full check passes and the file has `levels` overviews; the validator's
    details (IFD and data offsets)."""
    _, errors, details = validate(path, full_check=True)  # warnings, errors, details
    if errors:
        systest.fail(f"{path}: not a COG: {errors}")
    ds = gdal.Open(path)  # referenced while its band is used
    count = ds.GetRasterBand(1).GetOverviewCount()
    if count != levels:
        systest.fail(f"{path}: {count} overviews, expected {levels}")
    return details


def gdaladdo_reference(args, tiff, method, levels, work):
    """A copy of `tiff` with gdaladdo -r METHOD 2 4 ... 2^levels."""
    copy = os.path.join(work, f"ref_{method}_{os.path.basename(tiff)}")
    shutil.copyfile(tiff, copy)
    tool = os.path.join(os.path.dirname(args.gdaldem), "gdaladdo")
    factors = [str(2 ** k) for k in range(1, levels + 1)]
    done = systest.run([tool, "-q", "-r", method, copy] + factors, args.timeout)
    if done.returncode != 0:
        systest.fail(f"gdaladdo: {done.stderr.strip()}")
    return copy


def overview_differences(path, reference):
    """Per level (0 the full resolution): cells that differ (NaN equal to NaN), and cells."""
    got, want = gdal.Open(path), gdal.Open(reference)
    out = []
    for band in range(1, got.RasterCount + 1):
        g, w = got.GetRasterBand(band), want.GetRasterBand(band)
        pairs = [(g, w)] + [(g.GetOverview(k), w.GetOverview(k)) for k in range(g.GetOverviewCount())]
        for a, b in pairs:
            x, y = a.ReadAsArray(), b.ReadAsArray()
            if x.shape != y.shape:
                systest.fail(f"{path}: a level is {x.shape}, gdaladdo's {y.shape}")
            same = (x == y) | (np.isnan(x) & np.isnan(y)) if x.dtype.kind == "f" else x == y
            out.append((int((~same).sum()), x.size))
    return out


def check_methods(args, dem, work):
    """Hillshade (Byte) and slope (Float32, nodata) to COGs by AVERAGE, NEAREST and MODE on 2
    ranks: valid COGs whose full resolution is the GeoTIFF's and whose overviews are gdaladdo's
    on that GeoTIFF, cell for cell."""
    for mode in ("hillshade", "slope"):
        tiff = os.path.join(work, f"{mode}.tif")
        run_tessera(args, ["dem", mode, dem, tiff, "-co", "BLOCKXSIZE=128", "-co", "BLOCKYSIZE=128"])
        for method in ("average", "nearest", "mode"):
            cog = os.path.join(work, f"{mode}_{method}.tif")
            run_tessera(args, ["dem", mode, dem, cog, "-of", "COG", "-co", "BLOCKSIZE=128",
                               "-co", f"RESAMPLING={method}", "-co", "COMPRESS=DEFLATE"])
            check_cog(cog, 4)
            diffs = overview_differences(cog, gdaladdo_reference(args, tiff, method, 4, work))
            if any(d for d, _ in diffs):
                systest.fail(f"{mode} {method}: cells differing per level (0 full) {diffs}")
        print(f"{mode}: COG by average, nearest, mode: valid; full resolution and 4 overviews as gdaladdo's")


def check_ranks(args, dem, work):
    """The same bytes at 1, 2 and 3 ranks, 1 and 2 threads."""
    sums = set()
    for ranks, threads in ((0, 1), (1, 2), (2, 1), (2, 2), (3, 1)):
        out = os.path.join(work, f"ranks_{ranks}_{threads}.tif")
        run_tessera(args, ["dem", "hillshade", dem, out, "-of", "COG", "-co", "BLOCKSIZE=128",
                           "-co", "COMPRESS=ZSTD"], ranks=ranks, threads=threads)
        with open(out, "rb") as f:
            sums.add(hashlib.sha256(f.read()).hexdigest())
    if len(sums) != 1:
        systest.fail(f"COG bytes differ between ranks and threads: {len(sums)} different files")
    print("COG: the same bytes at 1, 2, 3 ranks and 1, 2 threads")


def check_job(args, dem, work):
    """A job writing a ZSTD COG (mode) and a GeoTIFF with overviews = [2, 4, 8] (nearest)."""
    out = os.path.join(work, "job")
    os.makedirs(out)
    job = os.path.join(work, "job.toml")
    with open(job, "w") as f:
        f.write(JOB.format(dem=dem, out=out))
    run_tessera(args, ["run", job])
    cog = os.path.join(out, "hs_cog.tif")
    check_cog(cog, 4)
    if gdal.Open(cog).GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE") != "ZSTD":
        systest.fail("job: format = \"cog\" with compress = \"zstd\" is not ZSTD")
    plain = os.path.join(out, "hs_overviews.tif")
    details = check_cog(plain, 3)
    if details["ifd_offsets"]["main"] != 8:
        systest.fail(f"job: a GeoTIFF with overviews starts its directory at {details['ifd_offsets']['main']}")
    tiff = os.path.join(work, "hillshade.tif")
    for path, method, levels in ((cog, "mode", 4), (plain, "nearest", 3)):
        diffs = overview_differences(path, gdaladdo_reference(args, tiff, method, levels, work))
        if any(d for d, _ in diffs):
            systest.fail(f"job {os.path.basename(path)}: cells differing per level {diffs}")
    print("job: format = \"cog\" (zstd, mode) and overviews = [2, 4, 8] (nearest), as gdaladdo's")


def check_calc(args, work):
    """tessera calc -of COG on UInt16 bands (no nodata): average overviews as gdaladdo's."""
    b4 = crop(args, "landsat_b4.tif", work, 1024, 1408)
    tiff, cog = os.path.join(work, "calc.tif"), os.path.join(work, "calc_cog.tif")
    common = ["calc", "-A", b4, "--calc", "A*2", "--type", "UInt16", "--co", "BLOCKSIZE=128"]
    run_tessera(args, common[:-2] + ["--co", "BLOCKXSIZE=128", "--outfile", tiff])
    run_tessera(args, common + ["-of", "COG", "--co", "PREDICTOR=YES", "--co", "RESAMPLING=AVERAGE",
                               "--outfile", cog])
    check_cog(cog, 4)
    diffs = overview_differences(cog, gdaladdo_reference(args, tiff, "average", 4, work))
    if any(d for d, _ in diffs):
        systest.fail(f"calc -of COG: cells differing per level {diffs}")
    print("calc -of COG (UInt16): valid; overviews as gdaladdo's")


def check_integer_nodata(args, work):
    """Int16, Int32 and UInt32 COGs whose nodata (3000) lies among the cells, so that 2 x 2
    averages land on it exactly: AVERAGE overviews as gdaladdo's, which writes such a cell as the
    next integer (3001), not as nodata; one tile, so every cell compares."""
    b4 = crop(args, "landsat_b4.tif", work, 512, 512)
    for typ in ("Int16", "Int32", "UInt32"):
        tiff, cog = os.path.join(work, f"nd_{typ}.tif"), os.path.join(work, f"nd_{typ}_cog.tif")
        common = ["calc", "-A", b4, "--calc", "A/3", "--type", typ, "--NoDataValue", "3000"]
        run_tessera(args, common + ["--outfile", tiff])
        run_tessera(args, common + ["-of", "COG", "--co", "RESAMPLING=AVERAGE", "--co", "BLOCKSIZE=512",
                                   "--co", "OVERVIEW_COUNT=2", "--outfile", cog])
        check_cog(cog, 2)
        diffs = overview_differences(cog, gdaladdo_reference(args, tiff, "average", 2, work))
        if any(d for d, _ in diffs):
            systest.fail(f"calc -of COG ({typ}, nodata 3000): cells differing per level {diffs}")
        hits = int((gdal.Open(tiff).ReadAsArray() == 3000).sum())
        if hits == 0:
            systest.fail(f"calc ({typ}): no cell is 3000, nothing tested")
    print("calc -of COG (Int16, Int32, UInt32, nodata among the cells): overviews as gdaladdo's")


def check_block_larger_than_raster(args, work):
    """-co BLOCKSIZE=512 and 1024 on srtm.tif (465 x 457), as the COG driver takes them: blocks of
    that size (not refused, not shrunk to the raster), a valid COG, the cells of the default's."""
    dem = os.path.join(args.data, "srtm.tif")
    default = os.path.join(work, "hs_default.tif")
    run_tessera(args, ["dem", "hillshade", dem, default, "-of", "COG"])
    for size in (512, 1024):
        cog = os.path.join(work, f"hs_block{size}.tif")
        run_tessera(args, ["dem", "hillshade", dem, cog, "-of", "COG", "-co", f"BLOCKSIZE={size}"])
        _, errors, _ = validate(cog, full_check=True)
        ds = gdal.Open(cog)
        block = ds.GetRasterBand(1).GetBlockSize()
        if errors or block != [size, size]:
            systest.fail(f"{cog}: blocks {block}, validator {errors}")
        if not (ds.ReadAsArray() == gdal.Open(default).ReadAsArray()).all():
            systest.fail(f"{cog}: cells unlike the default tile's")
    print("BLOCKSIZE=512 and 1024 on a 465 x 457 raster: blocks of that size, valid, the same cells")


def cell_differences(path, reference):
    """Per overview level: the (row, column) arrays of cells that differ from the reference's."""
    got, want = gdal.Open(path), gdal.Open(reference)
    g, w = got.GetRasterBand(1), want.GetRasterBand(1)
    out = []
    for k in range(g.GetOverviewCount()):
        x, y = g.GetOverview(k).ReadAsArray(), w.GetOverview(k).ReadAsArray()
        same = (x == y) | (np.isnan(x) & np.isnan(y)) if x.dtype.kind == "f" else x == y
        out.append(np.nonzero(~same))
    return out


def ghost(path):
    """GDAL's structural metadata after the TIFF header: its first line and the size it gives."""
    with open(path, "rb") as f:
        head = f.read(8 + 43 + 1000)[8:]
    size = int(head[30:36])
    return head[:43 + size]


def check_one_tile(args, work):
    """srtm.tif (465 x 457, odd) in one tile (480 x 464): every level of every method, hillshade
    (Byte, nodata 0) and slope (Float32, nodata -9999), equals gdaladdo's cell for cell: the
    windows of odd sizes (fractional weights), the kernels of BILINEAR and CUBIC, nodata."""
    dem = os.path.join(args.data, "srtm.tif")
    for mode in ("hillshade", "slope"):
        tiff = os.path.join(work, f"one_{mode}.tif")
        run_tessera(args, ["dem", mode, dem, tiff], ranks=0)  # one 480 x 464 tile
        for method in ("average", "nearest", "mode", "bilinear", "cubic"):
            cog = os.path.join(work, f"one_{mode}_{method}.tif")
            run_tessera(args, ["dem", mode, dem, cog, "-of", "COG", "-co", "OVERVIEW_COUNT=3",
                               "-co", f"RESAMPLING={method}"], ranks=0)
            diffs = overview_differences(cog, gdaladdo_reference(args, tiff, method, 3, work))
            if any(d for d, _ in diffs):
                systest.fail(f"one tile, {mode} {method}: cells differing per level (0 full) {diffs}")
    print("odd size 465 x 457 in one tile: every level by average, nearest, mode, bilinear, cubic "
          "as gdaladdo's (Byte and Float32 with nodata)")
    # The ghost header: GDAL's, byte for byte, in one tile and in 8 x 11 tiles (the crop), whose
    # full resolution rank 0 writes row by row (BLOCK_ORDER=ROW_MAJOR).
    tool = os.path.join(os.path.dirname(args.gdaldem), "gdal_translate")
    gdal_cog = os.path.join(work, "gdal_cog.tif")
    systest.run([tool, "-q", "-of", "COG", os.path.join(work, "one_hillshade.tif"), gdal_cog],
                args.timeout)
    if ghost(gdal_cog) != ghost(os.path.join(work, "one_hillshade_cubic.tif")):
        systest.fail(f"ghost header {ghost(os.path.join(work, 'one_hillshade_cubic.tif'))!r}, "
                     f"GDAL's {ghost(gdal_cog)!r}")
    for name in ("ranks_0_1.tif", "ranks_3_1.tif"):
        if ghost(os.path.join(work, name)) != ghost(gdal_cog):
            systest.fail(f"ghost header of 8 x 11 tiles ({name}): {ghost(os.path.join(work, name))!r}")
    print("ghost header: GDAL's (BLOCK_ORDER=ROW_MAJOR), in one tile and in 8 x 11 tiles")


def check_tile_edges(args, work):
    """srtm.tif (odd) and the 1024 x 1408 crop (even) in 128-cell tiles: a cell of an
    overview differs from gdaladdo's only within 4 cells of the edge of a tile's share of its level,
    where GDAL's window reaches into the next tile and tessera's is cut (docs/outputs.md)."""
    cases = [(os.path.join(args.data, "srtm.tif"), "srtm", ("average", "nearest", "mode", "cubic")),
             (crop(args, "nz_elev.tif", work, 1024, 1408), "even", ("bilinear", "cubic"))]
    for dem, name, methods in cases:
        tiff = os.path.join(work, f"edges_{name}.tif")
        run_tessera(args, ["dem", "hillshade", dem, tiff, "-co", "BLOCKXSIZE=128", "-co",
                           "BLOCKYSIZE=128"], ranks=0)
        shares = []
        for method in methods:
            cog = os.path.join(work, f"edges_{name}_{method}.tif")
            run_tessera(args, ["dem", "hillshade", dem, cog, "-of", "COG", "-co", "BLOCKSIZE=128",
                               "-co", f"RESAMPLING={method}"], ranks=0)
            ds = gdal.Open(cog)
            ref = gdaladdo_reference(args, tiff, method, ds.GetRasterBand(1).GetOverviewCount(), work)
            level_shares = []
            for k, (rows, cols) in enumerate(cell_differences(cog, ref), start=1):
                side = 128 >> k
                edge = np.minimum(np.minimum(rows % side, side - 1 - rows % side),
                                  np.minimum(cols % side, side - 1 - cols % side))
                if len(edge) and edge.max() >= 4:
                    systest.fail(f"{name} {method}: level {k} differs from gdaladdo's "
                                 f"{int(edge.max())} cells inside a tile's share")
                o = ds.GetRasterBand(1).GetOverview(k - 1)
                level_shares.append(f"{len(rows) / (o.XSize * o.YSize):.0%}")
            shares.append(f"{method} {'/'.join(level_shares)}")
        print(f"{name}: overview cells unlike gdaladdo's only at tiles' edges: {', '.join(shares)}")


def main():
    args = systest.parse_args(__doc__)
    with tempfile.TemporaryDirectory() as work:
        dem = crop(args, "nz_elev.tif", work, 1024, 1408)
        check_methods(args, dem, work)
        check_ranks(args, dem, work)
        check_job(args, dem, work)
        check_calc(args, work)
        check_integer_nodata(args, work)
        check_block_larger_than_raster(args, work)
        check_one_tile(args, work)
        check_tile_edges(args, work)
    print("cog_output: ok")


if __name__ == "__main__":
    main()
