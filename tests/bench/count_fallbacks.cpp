// How often the terrain ops' vector passes hand a cell to their exact fallback, on a whole DEM:
// every gdaldem mode and flag mix run through Op::run strip by strip (256 rows, one thread),
// counting terrain::fallback_cells. Prints, per mode, the cells and the fallbacks.
// Run: build/src/count_fallbacks DEM.tif
#include <gdal.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "terrain_rows.hpp"
#include "tessera/core/tile_buffer.hpp"
#include "tessera/ops/op.hpp"

namespace {

namespace ops = tessera::ops;
using ops::OptionValue;

constexpr int64_t kStrip = 256;

struct Mode {
  const char* name;
  const char* op;
  ops::Options options;
};

/// The modes whose arithmetic has a fallback, or that may (every mode with a vector pass).
std::vector<Mode> modes() {
  const auto text = [](const char* v) { return OptionValue(std::string(v)); };
  return {
      {"hillshade", "hillshade", {}},
      {"hillshade -combined", "hillshade", {{"combined", OptionValue(true)}}},
      {"hillshade -igor", "hillshade", {{"igor", OptionValue(true)}}},
      {"hillshade -multidirectional", "hillshade", {{"multidirectional", OptionValue(true)}}},
      {"hillshade -alg ZevenbergenThorne", "hillshade", {{"alg", text("ZevenbergenThorne")}}},
      {"slope", "slope", {}},
      {"slope -alg ZevenbergenThorne", "slope", {{"alg", text("ZevenbergenThorne")}}},
      {"slope -p", "slope", {{"units", text("percent")}}},
      {"aspect", "aspect", {}},
      {"aspect -trigonometric", "aspect", {{"trigonometric", OptionValue(true)}}},
      {"aspect -alg ZevenbergenThorne", "aspect", {{"alg", text("ZevenbergenThorne")}}},
  };
}

/// One strip of the DEM grown by a cell on every side, cells outside the raster set to nodata.
struct Strip {
  std::vector<float> cells;
  ops::TileIn in;
};

Strip read_strip(GDALRasterBandH band, const ops::TileIn& shape, int64_t y0, int64_t rows) {
  const int64_t width = shape.raster.width, height = shape.raster.height;
  Strip s;
  s.in = shape;
  s.in.owned = {0, y0, width, rows};
  s.in.halo = 1;
  const int64_t grown_w = width + 2, grown_h = rows + 2;
  s.cells.assign(static_cast<size_t>(grown_w * grown_h), static_cast<float>(*shape.nodata));
  const int64_t first = y0 == 0 ? 0 : y0 - 1;
  const int64_t last = std::min(height, y0 + rows + 1);
  float* at = &s.cells[static_cast<size_t>((first - (y0 - 1)) * grown_w + 1)];
  if (GDALRasterIO(band, GF_Read, 0, static_cast<int>(first), static_cast<int>(width),
                   static_cast<int>(last - first), at, static_cast<int>(width),
                   static_cast<int>(last - first), GDT_Float32, 0,
                   static_cast<GSpacing>(grown_w * 4)) != CE_None)
    throw std::runtime_error("cannot read rows " + std::to_string(first));
  s.in.cells = tessera::ConstView<float>(s.cells.data(), grown_w, grown_h);
  return s;
}

int count(const char* path) {
  GDALAllRegister();
  GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
  if (!ds) throw std::runtime_error(std::string("cannot open ") + path);
  GDALRasterBandH band = GDALGetRasterBand(ds, 1);
  double gt[6];
  GDALGetGeoTransform(ds, gt);
  int has_nodata = 0;
  const double nodata = GDALGetRasterNoDataValue(band, &has_nodata);
  ops::TileIn shape;
  shape.raster = {GDALGetRasterXSize(ds), GDALGetRasterYSize(ds)};
  shape.nodata = has_nodata ? nodata : -9999.0;  // outside cells only, when it has none
  shape.source_type = tessera::PixelType::Float32;
  shape.ewres = gt[1];
  shape.nsres = gt[5];
  const auto all = modes();
  std::vector<std::unique_ptr<ops::Op>> built;
  std::vector<int64_t> fallbacks(all.size(), 0);
  std::vector<tessera::TileBuffer> outs;  // one strip of each mode's output, reused
  for (const Mode& m : all) {
    built.push_back(ops::make_op(m.op, m.options, {}));
    outs.emplace_back(built.back()->output_type(), shape.raster.width, kStrip);
  }
  for (int64_t y = 0; y < shape.raster.height; y += kStrip) {
    const int64_t rows = std::min(kStrip, shape.raster.height - y);
    Strip s = read_strip(band, shape, y, rows);
    if (!has_nodata) s.in.nodata.reset();
    for (size_t k = 0; k < all.size(); ++k) {
      tessera::TileBuffer last(built[k]->output_type(), shape.raster.width, rows);
      const ops::TileOut views{{rows == kStrip ? outs[k].view() : last.view()}};
      ops::terrain::fallback_cells = 0;
      built[k]->run(s.in, views);
      fallbacks[k] += ops::terrain::fallback_cells;
    }
  }
  GDALClose(ds);
  const double cells = double(shape.raster.width) * double(shape.raster.height);
  std::printf("%s: %lld x %lld cells\n%-36s %14s %12s\n", path,
              static_cast<long long>(shape.raster.width),
              static_cast<long long>(shape.raster.height), "mode", "fallback cells", "fraction");
  for (size_t k = 0; k < all.size(); ++k)
    std::printf("%-36s %14lld %12.3g\n", all[k].name, static_cast<long long>(fallbacks[k]),
                double(fallbacks[k]) / cells);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: count_fallbacks DEM.tif\n");
    return 2;
  }
  try {
    return count(argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "count_fallbacks: %s\n", e.what());
    return 1;
  }
}
