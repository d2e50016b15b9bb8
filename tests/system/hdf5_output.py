# System test: HDF5 outputs end to end: `tessera dem -of HDF5` read back by gdalinfo, a job that writes several steps into one HDF5 file and a GeoTIFF beside it, that file read back by tessera as an input, a rejected option.
"""HDF5 outputs end to end: gdalinfo reads them georeferenced, jobs mix them with GeoTIFFs."""
import json
import os
import subprocess
import sys
import tempfile

import systest
from osgeo import gdal, osr

JOB = """[input.dem]
path = "{dem}"

[[step]]
id = "slope"
op = "slope"
in = "dem"

[[step]]
id = "aspect"
op = "aspect"
in = "dem"

[[output]]
from = ["slope", "aspect"]
path = "{out}/terrain.h5"
compress = "deflate"

[[output]]
from = "slope"
path = "{out}/slope.tif"
"""


def gdalinfo(args, name):
    """gdalinfo -json of `name`, through the command-line tool a user would run."""
    tool = os.path.join(os.path.dirname(args.gdaldem), "gdalinfo")
    done = subprocess.run([tool, "-json", name], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        systest.fail(f"gdalinfo {name}: {done.stderr.strip()}")
    return json.loads(done.stdout)


def check_cli(args, dem, work):
    """-of HDF5 on 2 ranks: gdalinfo shows the input's CRS, origin, pixel size; slope's nodata;
    the cells are gdaldem's."""
    out = os.path.join(work, "slope.h5")
    done = systest.tessera(args, ["dem", "slope", dem, out, "-of", "HDF5", "-co", "COMPRESS=DEFLATE", "-q"], ranks=2)
    if done.returncode != 0:
        systest.fail(f"tessera dem slope -of HDF5: {done.stderr.strip()}")
    info = gdalinfo(args, f'NETCDF:"{out}":slope')
    source = gdal.Open(dem)
    want_srs, got_srs = osr.SpatialReference(wkt=source.GetProjection()), osr.SpatialReference(wkt=info["coordinateSystem"]["wkt"])
    problems = [] if want_srs.IsSame(got_srs) else ["CRS differs"]
    gt, want = info["geoTransform"], source.GetGeoTransform()
    if any(abs(a - b) > 1e-9 * max(1.0, abs(b)) for a, b in zip(gt, want)):
        problems.append(f"geotransform {gt} != {want}")
    if info["bands"][0].get("noDataValue") != -9999 or info["bands"][0]["type"] != "Float32":
        problems.append(f"band {info['bands'][0]}")
    reference = os.path.join(work, "gdaldem_slope.tif")
    systest.run([args.gdaldem, "slope", dem, reference, "-q"], args.timeout)
    score, text = systest.compare_pixels(systest.Raster(reference), systest.Raster(f'HDF5:"{out}"://slope'), 1e-4)
    if score:
        problems.append(f"cells vs gdaldem: {text}")
    if problems:
        systest.fail("dem slope -of HDF5: " + "; ".join(problems))
    print(f"dem slope -of HDF5 on 2 ranks: CRS, origin, pixel size, nodata as the input; cells as gdaldem ({text})")


def check_job(args, dem, work):
    """Two steps in one HDF5 file and a GeoTIFF beside it, in one run on 2 ranks."""
    out = os.path.join(work, "job")
    os.makedirs(out)
    job = os.path.join(work, "job.toml")
    with open(job, "w") as f:
        f.write(JOB.format(dem=dem, out=out))
    done = systest.tessera(args, ["run", job, "-q"], ranks=2)
    if done.returncode != 0:
        systest.fail(f"tessera run with an HDF5 output: {done.stderr.strip()}")
    names = sorted(os.listdir(out))
    if names != ["slope.tif", "terrain.h5"]:
        systest.fail(f"job wrote {names}, expected slope.tif and terrain.h5")
    subsets = gdalinfo(args, os.path.join(out, "terrain.h5")).get("metadata", {}).get("SUBDATASETS", {})
    datasets = sorted(v.split(":")[-1].lstrip("/") for k, v in subsets.items() if k.endswith("_NAME"))
    if datasets != ["aspect", "slope"]:
        systest.fail(f"terrain.h5 holds {datasets}, expected aspect and slope")
    score, text = systest.compare_pixels(systest.Raster(os.path.join(out, "slope.tif")),
                                         systest.Raster(f'HDF5:"{out}/terrain.h5"://slope'), 0)
    if score:
        systest.fail(f"terrain.h5 slope differs from slope.tif: {text}")
    print("job: slope and aspect in terrain.h5, slope.tif beside it, same cells")


# The input names the HDF5 file relative to the job's folder, inside GDAL's quotes.
AS_INPUT_JOB = ("[input.slope]\npath = 'NETCDF:\"terrain.h5\":slope'\n"
                "[[step]]\nid = \"hs\"\nop = \"hillshade\"\nin = \"slope\"\n"
                "[[output]]\nfrom = \"hs\"\npath = \"hs_job.tif\"\n")


def check_as_input(args, work):
    """tessera reads its own HDF5 output: the hillshade of terrain.h5's slope (NETCDF:"...":slope,
    and a job naming it relative to the job's folder) equals the hillshade of slope.tif."""
    out = os.path.join(work, "job")
    # Not HDF5:"...":slope: GDAL's HDF5 driver reads no CF georeferencing, so that route's cells
    # are 1 x 1 and its hillshade another.
    routes = {"GeoTIFF": os.path.join(out, "slope.tif"), "NETCDF": f'NETCDF:"{out}/terrain.h5":slope'}
    made = {}
    for name, source in routes.items():
        made[name] = os.path.join(out, f"hs_{name}.tif")
        done = systest.tessera(args, ["dem", "hillshade", source, made[name], "-q"], ranks=2)
        if done.returncode != 0:
            systest.fail(f"tessera dem hillshade {source}: {done.stderr.strip()}")
    job = os.path.join(out, "as_input.toml")
    with open(job, "w") as f:
        f.write(AS_INPUT_JOB)
    done = systest.tessera(args, ["run", job, "-q"], ranks=2)
    if done.returncode != 0:
        systest.fail(f"tessera run with input 'NETCDF:\"terrain.h5\":slope': {done.stderr.strip()}")
    made["job"] = os.path.join(out, "hs_job.tif")
    want = systest.Raster(made["GeoTIFF"])
    for name in ("NETCDF", "job"):
        got = systest.Raster(made[name])
        score, text = systest.compare_pixels(want, got, 0)
        if score or gdal.Open(made[name]).GetGeoTransform() != gdal.Open(made["GeoTIFF"]).GetGeoTransform():
            systest.fail(f"hillshade of the {name} route differs from the GeoTIFF route: {text}")
    print("HDF5 as input: hillshade of NETCDF: and a job's relative NETCDF: name equal the GeoTIFF route")


def check_rejected(args, dem, work):
    out = os.path.join(work, "zstd.h5")
    done = systest.tessera(args, ["dem", "slope", dem, out, "-co", "COMPRESS=ZSTD"], ranks=2)
    if done.returncode != 1 or "-co: HDF5 outputs compress with DEFLATE or NONE only" not in done.stderr \
            or os.path.exists(out):
        systest.fail(f"COMPRESS=ZSTD for HDF5: exit {done.returncode}, {done.stderr.strip()!r}")
    print("COMPRESS=ZSTD for HDF5 refused: " + done.stderr.strip().splitlines()[0])


def main():
    args = systest.parse_args(__doc__)
    dem = os.path.abspath(os.path.join(args.data, "n43.tif"))
    with tempfile.TemporaryDirectory() as work:
        check_cli(args, dem, work)
        check_job(args, dem, work)
        check_as_input(args, work)
        check_rejected(args, dem, work)


if __name__ == "__main__":
    sys.exit(main())
