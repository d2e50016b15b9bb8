# System test: `tessera zonal` with polygon zones, against rasterstats' published results and
# numpy over GDAL's whole-raster rasterisation, and its bad inputs.
"""tessera zonal --zones POLYGONS [--layer L] [--id FIELD] [--all-touched] --values R --out T:

- rasterstats' own test data (slope.tif, slope_classes.tif, polygons.shp): the counts, mean and
  class counts its test suite expects (tests/data/PROVENANCE.md);
- polygons drawn here in longitude and latitude (so reprojected into the raster's UTM), some
  overlapping, one with a hole, a multipolygon, one half off the raster and one wholly off it,
  over the Landsat-8 red band (UInt16, nodata 65535), at the cell-centre rule and --all-touched:
  every statistic against numpy over each polygon's mask as GDAL rasterises it on the whole
  raster (gdal.RasterizeLayer, the rasteriser rasterio and rasterstats call), compared as text;
- the Zion park boundary (zion.gpkg) over the NLCD classes: class counts and majority, the same
  way;
- the CSV, GeoPackage, Shapefile and GeoJSON tables agree; the CSV is the same bytes at 1 rank
  and at 3 ranks x 2 threads with small tiles.

A job whose outputs are zonal tables of computed steps (a GeoPackage of polygons, a CSV of raster
zones with two bands) gives the numbers tessera zonal gives of the same steps written to GeoTIFF;
job mistakes (a .csv without zones, an unknown statistic, compression of a table, a table key on
a raster, missing zones) are one line at their place.

Bad inputs: no such layer, no such id field, an empty layer, lines instead of polygons, a vector
table for raster zones, --all-touched for raster zones, a percentile above 100: one line, non-zero
exit, no table and no temporary file left.
"""
import csv
import math
import os
import re
import shutil
import tempfile

import numpy as np
from osgeo import gdal, ogr, osr

import systest
import zonal_cli

gdal.UseExceptions()
ogr.UseExceptions()

STATS = ["count", "nodata", "sum", "mean", "min", "max", "range", "std", "variance", "median",
         "percentile_25", "majority", "minority", "variety"]


def run_zonal(args, words, ranks=2, threads=1):
    return systest.tessera(args, ["zonal"] + words, ranks=ranks, threads=threads)


def rows_of(path):
    return list(csv.reader(open(path, newline="")))


def rasterstats_data(args, work, errors):
    polygons = os.path.join(args.data, "polygons.shp")
    table = os.path.join(work, "slope.csv")
    outcome = run_zonal(args, ["--zones", polygons, "--id", "id", "--values",
                               os.path.join(args.data, "slope.tif"), "--stats", "count,mean",
                               "--out", table])
    if outcome.returncode != 0:
        errors.append(outcome.describe())
        return
    rows = rows_of(table)
    got = [(r[0], int(r[1]), round(float(r[2]), 2)) for r in rows[1:]]
    if rows[0] != ["id", "count", "mean"] or got[0] != ("1", 75, 14.66) or got[1][:2] != ("2", 50):
        errors.append("rasterstats slope.tif: %r, expected zone 1 count 75 mean 14.66, zone 2 "
                      "count 50" % rows)
    table = os.path.join(work, "classes.csv")
    outcome = run_zonal(args, ["--zones", polygons, "--id", "id", "--values",
                               os.path.join(args.data, "slope_classes.tif"), "--stats", "count",
                               "--categorical", "--out", table])
    if outcome.returncode != 0:
        errors.append(outcome.describe())
        return
    rows = rows_of(table)
    want = [["id", "count", "class_1", "class_2", "class_5"], ["1", "75", "75", "0", "0"],
            ["2", "50", "1", "9", "40"]]
    if rows != want:
        errors.append("rasterstats slope_classes.tif: %r, expected %r" % (rows, want))


def undefined_crs(args, work, errors):
    """rasterstats' polygons copied into a GeoPackage layer made without a CRS, which GDAL reads
    back as "Undefined geographic SRS": taken in the raster's CRS, as a layer without one, the same
    rows (it was "feature 1 cannot be reprojected into the CRS of slope.tif")."""
    copy = os.path.join(work, "no_crs.gpkg")
    source = ogr.Open(os.path.join(args.data, "polygons.shp"))
    target = ogr.GetDriverByName("GPKG").CreateDataSource(copy)
    layer = target.CreateLayer("zones", None, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("id", ogr.OFTInteger))
    for feature in source.GetLayer(0):
        made = ogr.Feature(layer.GetLayerDefn())
        made.SetField("id", feature.GetField("id"))
        made.SetGeometry(feature.GetGeometryRef().Clone())
        layer.CreateFeature(made)
    layer = target = source = None
    tables = []
    for zones in (os.path.join(args.data, "polygons.shp"), copy):
        tables.append(os.path.join(work, os.path.basename(zones) + ".csv"))
        outcome = run_zonal(args, ["--zones", zones, "--id", "id", "--values",
                                   os.path.join(args.data, "slope.tif"), "--out", tables[-1]], ranks=0)
        if outcome.returncode != 0:
            errors.append(outcome.describe())
            return
    if rows_of(tables[0]) != rows_of(tables[1]):
        errors.append("a layer without a CRS: %r, expected %r" % (rows_of(tables[1]), rows_of(tables[0])))


def lonlat_polygons(path):
    """Polygons in EPSG:4326 over the Landsat scene (UTM 12N): their WKT by name."""
    shapes = {
        "west": "POLYGON ((-113.24 37.18, -113.17 37.18, -113.17 37.24, -113.24 37.24, -113.24 37.18))",
        "overlap": "POLYGON ((-113.19 37.21, -113.12 37.215, -113.13 37.27, -113.2 37.26, -113.19 37.21))",
        "holed": "POLYGON ((-113.10 37.30, -113.02 37.30, -113.02 37.37, -113.10 37.37, -113.10 37.30),"
                 " (-113.08 37.32, -113.04 37.32, -113.04 37.35, -113.08 37.35, -113.08 37.32))",
        "pair": "MULTIPOLYGON (((-113.0 37.15, -112.98 37.15, -112.99 37.17, -113.0 37.15)),"
                " ((-112.96 37.2, -112.93 37.2, -112.93 37.23, -112.96 37.23, -112.96 37.2)))",
        "sliver": "POLYGON ((-113.15 37.33, -113.149 37.33, -113.1485 37.40, -113.15 37.33))",
        "edge": "POLYGON ((-113.40 37.25, -113.22 37.25, -113.22 37.30, -113.40 37.30, -113.40 37.25))",
        "away": "POLYGON ((-100.0 40.0, -99.9 40.0, -99.9 40.1, -100.0 40.0))",
    }
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    layer = ds.CreateLayer("drawn", srs, ogr.wkbUnknown)
    layer.CreateField(ogr.FieldDefn("name", ogr.OFTString))
    for name, wkt in shapes.items():
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("name", name)
        feature.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        layer.CreateFeature(feature)
    ds = None
    return list(shapes)


def masks(polygons_path, layer_name, raster_path, all_touched):
    """Each feature's mask on the raster as GDAL rasterises the feature, reprojected into the
    raster's CRS, on the whole raster: the reference tessera's per-tile rasterisation must equal."""
    raster = gdal.Open(raster_path)
    to = osr.SpatialReference(wkt=raster.GetProjection())
    to.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    src = ogr.Open(polygons_path)
    layer = src.GetLayerByName(layer_name)
    frm = layer.GetSpatialRef().Clone()
    frm.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    transform = None if frm.IsSame(to) else osr.CoordinateTransformation(frm, to)
    out = []
    for feature in layer:
        geometry = feature.GetGeometryRef().Clone()
        if transform:
            geometry.Transform(transform)
        mem = ogr.GetDriverByName("Memory").CreateDataSource("")
        one = mem.CreateLayer("one", to, ogr.wkbUnknown)
        f = ogr.Feature(one.GetLayerDefn())
        f.SetGeometry(geometry)
        one.CreateFeature(f)
        canvas = gdal.GetDriverByName("MEM").Create("", raster.RasterXSize, raster.RasterYSize, 1,
                                                   gdal.GDT_Byte)
        canvas.SetGeoTransform(raster.GetGeoTransform())
        canvas.SetProjection(raster.GetProjection())
        options = ["ALL_TOUCHED=TRUE"] if all_touched else []
        gdal.RasterizeLayer(canvas, [1], one, burn_values=[1], options=options)
        out.append(canvas.GetRasterBand(1).ReadAsArray().astype(bool))
    return out


def reference_rows(values, nodata, feature_masks, stats):
    """Each feature's statistics as tessera prints them, from numpy."""
    bad = np.isnan(values) if values.dtype.kind == "f" else np.zeros(values.shape, bool)
    if nodata is not None:
        bad |= values == values.dtype.type(nodata)
    rows = []
    for mask in feature_masks:
        v = values[mask & ~bad]
        row = {"count": int(v.size), "nodata": int((mask & bad).sum()), "sum": 0.0, "variety": 0}
        if v.size:
            total, mean, variance = zonal_cli.exact(v)
            uniq, counts = np.unique(v, return_counts=True)
            row.update(sum=total, mean=mean, min=float(v.min()), max=float(v.max()),
                       range=float(v.max()) - float(v.min()), std=math.sqrt(variance),
                       variance=variance, median=float(np.median(v.astype(np.float64))),
                       percentile_25=float(np.percentile(v.astype(np.float64), 25)),
                       majority=float(uniq[np.argmax(counts)]),
                       minority=float(uniq[np.argmin(counts)]), variety=int(uniq.size))
        rows.append([zonal_cli.shortest(row.get(s, float("nan"))) for s in stats])
    return rows


def drawn(args, work, names, errors):
    gpkg = os.path.join(work, "drawn.gpkg")
    red_path = os.path.join(args.data, "landsat_b4.tif")
    red, red_nd = zonal_cli.read(red_path)
    tables = {}
    for touched in (False, True):
        words = ["--zones", gpkg, "--id", "name", "--values", red_path, "--stats", ",".join(STATS)]
        words += ["--all-touched"] if touched else []
        table = os.path.join(work, "drawn%s.csv" % ("-touched" if touched else ""))
        outcome = run_zonal(args, words + ["--out", table])
        if outcome.returncode != 0:
            errors.append(outcome.describe())
            continue
        refs = reference_rows(red, red_nd, masks(gpkg, "drawn", red_path, touched), STATS)
        rows = rows_of(table)
        want = [["name"] + STATS] + [[n] + r for n, r in zip(names, refs)]
        for got, expected in zip(rows, want):
            if got != expected:
                errors.append("drawn polygons%s: %r, numpy %r" %
                              (" (all touched)" if touched else "", got, expected))
        if len(rows) != len(want):
            errors.append("drawn polygons: %d rows, expected %d" % (len(rows), len(want)))
        tables[touched] = (words, table)
    if False not in tables:
        return
    words, table = tables[False]
    # The same table at one process and at 3 ranks x 2 threads on small tiles.
    for ranks, threads, tile in ((0, 1, []), (3, 2, ["--tile", "64"])):
        again = os.path.join(work, "again.csv")
        outcome = run_zonal(args, words + tile + ["--out", again], ranks=ranks, threads=threads)
        if outcome.returncode != 0 or open(again, "rb").read() != open(table, "rb").read():
            errors.append("drawn polygons at %d ranks x %d threads %s: not the same table\n%s" %
                          (ranks, threads, tile, outcome.describe()))
    # The vector tables hold the same numbers as fields beside the layer's own.
    csv_rows = rows_of(table)
    for extension in (".gpkg", ".shp", ".geojson"):
        out = os.path.join(work, "drawn-out" + extension)
        outcome = run_zonal(args, words + ["--out", out])
        if outcome.returncode != 0:
            errors.append(outcome.describe())
            continue
        ds = ogr.Open(out)
        layer = ds.GetLayer(0)
        fields = [layer.GetLayerDefn().GetFieldDefn(k).GetName()
                  for k in range(layer.GetLayerDefn().GetFieldCount())]
        got = []
        for feature in layer:
            row = [feature.GetField(0)]
            for k in range(1, len(fields)):
                v = feature.GetField(k) if feature.IsFieldSetAndNotNull(k) else None
                row.append("" if v is None else zonal_cli.shortest(v))
            got.append(row)
        if got != csv_rows[1:] or feature_count(layer) != len(names):
            errors.append("%s table %r, CSV %r" % (extension, got, csv_rows[1:]))
        ds = None


def corner_polygons(args, work, errors):
    """--all-touched with polygons whose edges pass exactly through cells' corners (slopes 4/3,
    1/3, 5/7 in a 10 m grid), where GDAL's walk along each edge, in floating point from its
    canvas's edge, touches such a cell or not by where its canvas starts: the same table at every
    tile size, rank and thread count, on a raster of one lattice block (PolygonBurner::lattice) and
    on one across lattice lines. (GDAL on the whole raster can differ in those cells: its canvas
    starts elsewhere.)"""
    rng = np.random.default_rng(7)
    for width, height in ((71, 53), (700, 530)):
        x0, y0 = 1000.0, 5000.0 + 10 * height
        values = os.path.join(work, "corner-%d.tif" % width)
        ds = gdal.GetDriverByName("GTiff").Create(values, width, height, 1, gdal.GDT_Float32)
        ds.SetGeoTransform((x0, 10, 0, y0, 0, -10))
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(32633)
        ds.SetProjection(srs.ExportToWkt())
        ds.GetRasterBand(1).WriteArray(rng.uniform(0, 100, (height, width)).astype(np.float32))
        ds = None
        gpkg = os.path.join(work, "corner-%d.gpkg" % width)
        out = ogr.GetDriverByName("GPKG").CreateDataSource(gpkg)
        layer = out.CreateLayer("corners", srs, ogr.wkbPolygon)
        layer.CreateField(ogr.FieldDefn("name", ogr.OFTString))
        scale = width // 71
        shapes = [[(20, 20), (35, 40), (50, 20)], [(3, 5), (33, 15), (63, 5), (33, 45)],
                  [(10, 48), (45, 23), (60, 48)], [(0, 0), (70, 52), (0, 52)]]
        for k, shape in enumerate(shapes):
            ring = ogr.Geometry(ogr.wkbLinearRing)
            for cx, cy in shape + shape[:1]:
                ring.AddPoint_2D(x0 + 10 * cx * scale, y0 - 10 * cy * scale)
            polygon = ogr.Geometry(ogr.wkbPolygon)
            polygon.AddGeometry(ring)
            feature = ogr.Feature(layer.GetLayerDefn())
            feature.SetField("name", "c%d" % k)
            feature.SetGeometry(polygon)
            layer.CreateFeature(feature)
        out = None
        words = ["--zones", gpkg, "--id", "name", "--values", values, "--all-touched",
                 "--stats", "count,sum"]
        tables = []
        for ranks, threads, tile in ((0, 1, []), (2, 1, ["--tile", "16"]), (3, 2, ["--tile", "48"]),
                                     (2, 2, ["--tile", "272"])):
            table = os.path.join(work, "corner-%d-%d.csv" % (width, len(tables)))
            outcome = run_zonal(args, words + tile + ["--out", table], ranks=ranks, threads=threads)
            if outcome.returncode != 0:
                errors.append(outcome.describe())
                return
            tables.append(rows_of(table))
            if tables[-1] != tables[0]:
                errors.append("corner polygons on %d x %d, all touched, at %d ranks x %d threads %s: "
                              "%r, at one process %r" % (width, height, ranks, threads, tile,
                                                         tables[-1], tables[0]))


def feature_count(layer):
    return layer.GetFeatureCount()


def zion(args, work, errors):
    gpkg = os.path.join(args.data, "zion.gpkg")
    nlcd_path = os.path.join(args.data, "nlcd.tif")
    classes, nd = zonal_cli.read(nlcd_path)
    table = os.path.join(work, "zion.csv")
    outcome = run_zonal(args, ["--zones", gpkg, "--id", "UNIT_CODE", "--values", nlcd_path,
                               "--stats", "count,nodata,majority,variety", "--categorical",
                               "--out", table])
    if outcome.returncode != 0:
        errors.append(outcome.describe())
        return
    mask = masks(gpkg, "zion", nlcd_path, False)[0]
    v = classes[mask & (classes != nd)]
    uniq, counts = np.unique(v, return_counts=True)
    want = [["UNIT_CODE", "count", "nodata", "majority", "variety"] +
            ["class_%d" % c for c in uniq.tolist()],
            ["ZION", str(v.size), str(int((mask & (classes == nd)).sum())),
             str(int(uniq[np.argmax(counts)])), str(uniq.size)] + [str(c) for c in counts.tolist()]]
    if rows_of(table) != want:
        errors.append("zion over nlcd: %r, numpy %r" % (rows_of(table), want))


JOB = """[input.dem]
path = "{dem}"

[[step]]
id = "slope"
op = "slope"
in = "dem"
scale = 111120

[[step]]
id = "smooth"
op = "focal.mean"
in = "dem"
size = 5

[[output]]
from = ["slope", "smooth"]
path = "terrain.tif"

[[output]]
from = "slope"
path = "parks.gpkg"
zones = "{zones}"
id = "UNIT_CODE"
stats = ["count", "mean", "max", "percentile_90"]

[[output]]
from = ["slope", "smooth"]
path = "bands.csv"
zones = "bands.tif"
stats = ["count", "mean", "std", "median"]
"""


def job_tables(args, work, errors):
    """Zonal tables as job outputs of computed steps: the same numbers as tessera zonal gives
    of the steps' GeoTIFF, on 2 ranks; and the mistakes a job file can make with them."""
    folder = os.path.join(work, "job")
    os.mkdir(folder)
    dem = os.path.abspath(os.path.join(args.data, "srtm.tif"))
    heights, _ = zonal_cli.read(dem)
    zonal_cli.write_like(os.path.join(folder, "bands.tif"), dem, (heights // 500).astype(np.uint8),
                         gdal.GDT_Byte, None)
    job = os.path.join(folder, "terrain.toml")
    with open(job, "w") as f:
        f.write(JOB.format(dem=dem, zones=os.path.abspath(os.path.join(args.data, "zion.gpkg"))))
    outcome = systest.tessera(args, ["run", job, "-q"], ranks=2)
    if outcome.returncode != 0:
        errors.append(outcome.describe())
        return
    terrain = os.path.join(folder, "terrain.tif")
    for band, name in ((1, "slope"), (2, "smooth")):
        ds = gdal.Translate(os.path.join(folder, name + ".tif"), terrain, bandList=[band])
        ds = None
    single = os.path.join(folder, "single.gpkg")
    outcome = run_zonal(args, ["--zones", os.path.join(args.data, "zion.gpkg"), "--id", "UNIT_CODE",
                               "--values", os.path.join(folder, "slope.tif"), "--stats",
                               "count,mean,max,percentile_90", "--out", single])
    two = os.path.join(folder, "two.csv")
    outcome2 = run_zonal(args, ["--zones", os.path.join(folder, "bands.tif"), "--values",
                                os.path.join(folder, "slope.tif"), os.path.join(folder, "smooth.tif"),
                                "--stats", "count,mean,std,median", "--out", two])
    if outcome.returncode != 0 or outcome2.returncode != 0:
        errors.append(outcome.describe() + "\n" + outcome2.describe())
        return
    if open(two).read() != open(os.path.join(folder, "bands.csv")).read():
        errors.append("job table bands.csv differs from tessera zonal's:\n%s\n%s" %
                      (open(two).read(), open(os.path.join(folder, "bands.csv")).read()))

    def features(path):
        ds = ogr.Open(path)
        layer = ds.GetLayer(0)
        return [[f.GetField(k) for k in range(f.GetFieldCount())] for f in layer]

    if features(single) != features(os.path.join(folder, "parks.gpkg")):
        errors.append("job table parks.gpkg: %r, tessera zonal %r" %
                      (features(os.path.join(folder, "parks.gpkg")), features(single)))
    plan = systest.tessera(args, ["plan", job])
    if "parks.gpkg: zonal table of 1 band(s)" not in plan.stdout:
        errors.append("tessera plan shows no zonal table:\n" + plan.stdout)
    text = open(job).read()
    cases = [
        (text.replace('path = "bands.csv"\nzones = "bands.tif"\nstats = ["count", "mean", "std", '
                      '"median"]\n', 'path = "bands.csv"\n'),
         r"bad\.toml:\d+:\d+: output 3: path: 'bad\.csv' is a table: a zonal statistics "
         r"table needs zones"),
        (text.replace('stats = ["count", "mean", "std", "median"]', 'stats = ["count", "mode"]'),
         r"bad\.toml:\d+:\d+: output '.*bad\.csv': stats: unknown statistic 'mode'"),
        (text.replace('zones = "bands.tif"\n', 'zones = "bands.tif"\ncompress = "zstd"\n'),
         r"output 3: compress applies to rasters, not to a zonal table"),
        (text.replace('path = "terrain.tif"\n', 'path = "terrain.tif"\nstats = ["mean"]\n'),
         r"output 1: stats belongs to a zonal table, which needs zones"),
        (text.replace('zones = "bands.tif"', 'zones = "none.tif"'),
         r"bad\.toml:\d+:\d+: .*none\.tif: no such file"),
    ]
    def mistake(body, pattern, k):
        """One job mistake, its bad.toml in a folder of its own beside a link of bands.tif (the
        job names it), where no bad.* may be left."""
        place = os.path.join(folder, "mistake%d" % k)
        os.mkdir(place)
        os.link(os.path.join(folder, "bands.tif"), os.path.join(place, "bands.tif"))
        bad = os.path.join(place, "bad.toml")
        with open(bad, "w") as f:
            f.write(body.replace("terrain.tif", "bad.tif").replace("bands.csv", "bad.csv")
                    .replace("parks.gpkg", "bad.gpkg").replace("terrain.toml", "bad.toml"))
        outcome = systest.tessera(args, ["run", bad, "-q"], ranks=2)
        lines = [l for l in outcome.stderr.splitlines() if l.startswith("tessera: error: ")]
        left = [n for n in os.listdir(place) if n.startswith(("bad.", ".bad")) and n != "bad.toml"]
        if outcome.returncode == 0 or len(lines) != 1 or \
                not re.search(pattern, lines[0]) or left != []:
            return ["job mistake %r: %s\nleft %r" % (pattern, outcome.describe(), left)]
        return []

    # Each refusal is mostly mpirun's wait after a rank's non-zero exit: several at a time.
    with systest.Pool(systest.workers(waiting=True)) as pool:
        started = [pool.submit(mistake, body, pattern, k) for k, (body, pattern) in enumerate(cases)]
        for outcome in started:
            errors += outcome.result()


def bad_inputs(args, work, errors):
    gpkg = os.path.join(work, "drawn.gpkg")
    red = os.path.join(args.data, "landsat_b4.tif")
    empty = os.path.join(work, "empty.gpkg")
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(empty)
    ds.CreateLayer("nothing", None, ogr.wkbPolygon)
    ds = None
    lines = os.path.join(work, "lines.geojson")
    with open(lines, "w") as f:
        f.write('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},'
                ' "geometry": {"type": "LineString", "coordinates": [[-113.2, 37.2], [-113.1, 37.3]]}}]}')
    zones = os.path.join(work, "zones.tif")
    src = gdal.Open(red)
    gdal.GetDriverByName("GTiff").CreateCopy(zones, src)
    src = None
    cases = [
        (["--zones", gpkg, "--layer", "roads"], 1, r"drawn\.gpkg: no layer 'roads' \(it has drawn\)"),
        (["--zones", gpkg, "--id", "code"], 1, r"has no field 'code' \(it has name\)"),
        (["--zones", empty], 1, r"layer 'nothing' has no features"),
        (["--zones", lines], 1, r"is a Line String, not a polygon"),
        (["--zones", zones, "--all-touched"], 1, r"--all-touched applies to polygon zones"),
        (["--zones", gpkg, "--stats", "percentile_101"], 2, r"101 is not between 0 and 100"),
        (["--zones", os.path.join(work, "none.gpkg"), "--id", "x"], 1, r"none\.gpkg: no such file"),
    ]
    def refused(words, status, pattern, out, k):
        """One refusal, its table in an empty folder of its own (work/bad/K), which must stay
        empty."""
        folder = os.path.join(work, "bad", str(k))
        os.mkdir(folder)
        outcome = run_zonal(args, words + ["--values", red, "--out", os.path.join(folder, out)])
        found = []
        lines_ = [l for l in outcome.stderr.splitlines() if l.startswith("tessera: error: ")]
        if outcome.returncode != status or len(lines_) != 1 or not re.search(pattern, lines_[0]):
            found.append("bad input %r: %s" % (words, outcome.describe()))
        if os.listdir(folder):
            found.append("bad input %r left %r" % (words, os.listdir(folder)))
        return found

    # Each refusal is mostly mpirun's wait after a rank's non-zero exit (its kill sequence, 1-2
    # s): they go several at a time, in folders of their own.
    runs = [(words, status, pattern, out) for words, status, pattern in cases
            for out in ("bad.csv", "bad.gpkg")]
    with systest.Pool(systest.workers(waiting=True)) as pool:
        started = [pool.submit(refused, *run, k) for k, run in enumerate(runs)]
        vector = pool.submit(run_zonal, args, ["--zones", zones, "--values", red, "--out",
                                               os.path.join(work, "bad", "t.gpkg")])
        for outcome in started:
            errors += outcome.result()
        outcome = vector.result()
    if outcome.returncode != 1 or "a vector table needs polygon zones" not in outcome.stderr:
        errors.append("vector table of raster zones: " + outcome.describe())


def main():
    args = systest.parse_args(__doc__)
    errors = []
    work = tempfile.mkdtemp(prefix="tessera-zonal-polygons-")
    os.mkdir(os.path.join(work, "bad"))
    names = lonlat_polygons(os.path.join(work, "drawn.gpkg"))  # drawn() and bad_inputs() read it
    parts = [lambda e: bad_inputs(args, work, e), lambda e: job_tables(args, work, e),
             lambda e: drawn(args, work, names, e), lambda e: zion(args, work, e),
             lambda e: rasterstats_data(args, work, e), lambda e: undefined_crs(args, work, e),
             lambda e: corner_polygons(args, work, e)]
    try:
        # The parts write files of their own names (bad_inputs() alone writes in work/bad) and
        # mostly wait on mpirun: they go several at a time; their errors in this order.
        with systest.Pool(systest.workers(waiting=True)) as pool:
            found = [[] for _ in parts]
            done = [pool.submit(part, e) for part, e in zip(parts, found)]
            for outcome, e in zip(done, found):
                outcome.result()
                errors += e
    finally:
        shutil.rmtree(work)
    if errors:
        systest.fail("\n".join(errors))
    print("ok")


if __name__ == "__main__":
    main()
