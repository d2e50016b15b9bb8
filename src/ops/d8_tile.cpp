// The tile of flow directions and the perimeter numbering flowacc and watershed share.
#include "d8_tile.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace tessera::ops {

std::string number_text(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", v);
  return text;
}

std::string cell_text(double v) {
  if (v != v || static_cast<double>(static_cast<float>(v)) == v) return number_text(v);
  char text[32];
  for (int digits = 10; digits <= 17; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, v);
    if (std::strtod(text, nullptr) == v) break;
  }
  return text;
}

CellType direction_cells(PixelType source) {
  if (is_integer(source) && size_of(source) <= 2) return CellType::Int32;
  return source == PixelType::Float32 ? CellType::Float32 : CellType::Float64;
}

namespace {

/// The direction index (kD8Dx's) of each number from 0 to 128 in `encoding` (0: kD8None), -3 for
/// a number that is not one of its codes.
std::array<int8_t, 129> direction_table(D8Encoding encoding) {
  std::array<int8_t, 129> table{};
  for (int code = 0; code <= 128; ++code)
    table[static_cast<size_t>(code)] = static_cast<int8_t>(d8_index(code, encoding));
  return table;
}

}  // namespace

void read_directions(const TileIn& in, D8Encoding encoding, const std::string& op, D8Tile& t) {
  t.width = in.owned.width;
  t.height = in.owned.height;
  t.dir.resize(static_cast<size_t>(t.width * t.height));
  static const std::array<std::array<int8_t, 129>, 2> tables = {direction_table(D8Encoding::TauDem),
                                                                direction_table(D8Encoding::Esri)};
  const auto& table = tables[encoding == D8Encoding::Esri ? 1 : 0];
  const bool has_nodata = in.nodata.has_value();
  const double nodata = in.nodata.value_or(0.0);
  std::visit(
      [&](const auto& cells) {
        for (int64_t y = 0; y < t.height; ++y) {
          const auto* row = cells.row(y + in.halo) + in.halo;
          int8_t* dir = t.dir.data() + y * t.width;
          for (int64_t x = 0; x < t.width; ++x) {
            const double v = row[x];
            if ((std::isnan(v) && has_nodata) || (has_nodata && v == nodata)) {
              dir[x] = kD8Void;
              continue;
            }
            if (std::isnan(v))
              throw Error(op + ": cell " + std::to_string(in.owned.x + x) + ", " +
                          std::to_string(in.owned.y + y) +
                          " holds NaN, which is not a D8 code, and the directions have no nodata "
                          "value to make it a void; give them one (gdal_edit.py -a_nodata VALUE)");
            // Every code of either encoding is an integer from 0 to 128.
            const bool small = v >= 0 && v <= 128 && v == static_cast<double>(static_cast<int>(v));
            dir[x] = small ? table[static_cast<size_t>(v)] : int8_t{-3};
            if (dir[x] == -3)
              throw Error(op + ": cell " + std::to_string(in.owned.x + x) + ", " +
                          std::to_string(in.owned.y + y) + " holds " + cell_text(v) +
                          ", which is not a D8 code of the " +
                          (encoding == D8Encoding::Esri ? "esri (1-128)" : "taudem (1-8)") +
                          " encoding, 0 or the raster's nodata");
          }
        }
      },
      in.cells);
}

bool flows_on(const TileIn& in, const D8Tile& t, int64_t x, int64_t y, int k) {
  const int64_t nx = x + kD8Dx[k];
  const int64_t ny = y + kD8Dy[k];
  if (nx >= 0 && ny >= 0 && nx < t.width && ny < t.height)
    return t.dir[static_cast<size_t>(ny * t.width + nx)] != kD8Void;
  const int64_t gx = in.owned.x + nx;
  const int64_t gy = in.owned.y + ny;
  if (gx < 0 || gy < 0 || gx >= in.raster.width || gy >= in.raster.height) return false;
  return std::visit(
      [&](const auto& cells) {
        const double v = cells(nx + in.halo, ny + in.halo);
        return !(std::isnan(v) || (in.nodata && v == *in.nodata));
      },
      in.cells);
}

int64_t tile_of(const TileGrid& grid, const Window& owned) {
  return (owned.y / grid.tile_height()) * grid.across() + owned.x / grid.tile_width();
}

PerimeterNodes::PerimeterNodes(const TileGrid& grid) : grid_(grid) {
  first_.reserve(static_cast<size_t>(grid.count()) + 1);
  first_.push_back(0);
  for (int64_t t = 0; t < grid.count(); ++t) {
    const Window w = grid.owned(t);
    first_.push_back(first_.back() + perimeter_count(w.width, w.height));
  }
}

int64_t PerimeterNodes::node(int64_t gx, int64_t gy) const {
  const int64_t t = (gy / grid_.tile_height()) * grid_.across() + gx / grid_.tile_width();
  const Window w = grid_.owned(t);
  return first(t) + perimeter_index(gx - w.x, gy - w.y, w.width, w.height);
}

int64_t PerimeterNodes::tile(int64_t n) const {
  return static_cast<int64_t>(std::upper_bound(first_.begin(), first_.end(), n) - first_.begin() -
                              1);
}

std::pair<int64_t, int64_t> PerimeterNodes::cell(int64_t n) const {
  const int64_t t = tile(n);
  const Window w = grid_.owned(t);
  const auto [x, y] = place_cell(n - first(t), w.width, w.height);
  return {w.x + x, w.y + y};
}

std::pair<int64_t, int64_t> PerimeterNodes::place_cell(int64_t p, int64_t w, int64_t h) {
  if (p < w) return {p, 0};
  if (h > 1 && p < 2 * w) return {p - w, h - 1};
  const int64_t side = h - 2;
  const int64_t rest = p - (h > 1 ? 2 * w : w);
  if (rest < side) return {0, 1 + rest};
  return {w - 1, 1 + rest - side};
}

}  // namespace tessera::ops
