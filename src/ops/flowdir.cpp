// flowdir: D8 steepest descent, as TauDEM's d8flowdir chooses it, with flats resolved towards
// their outlets and away from higher terrain (Barnes, Lehman and Mulla 2014) across tiles as a
// tile graph; and the D8 codes.
#include <cmath>
#include <string>
#include <utility>

#include "d8_tile.hpp"
#include "flats.hpp"
#include "option_reader.hpp"
#include "tessera/ops/d8.hpp"

namespace tessera::ops {
namespace {

constexpr int16_t kEsriCodes[8] = {1, 128, 64, 32, 16, 8, 4, 2};
constexpr double kDirectionNodata = -32768;
/// A row of in-tile distances' runs and escapes after its first, in bytes, received and parsed:
/// on a 4096 x 4096 crop of the benchmark's filled DEM at 512-cell tiles a row took 10.5 bytes
/// of runs and 2.4 escapes on average (docs/results/2026-12-06-flats-2.md); counted with room.
constexpr int64_t kRowBytes = 24;

/// Phase 2: the tile's flats resolved with the global distances at every perimeter cell.
class FinishFlowDir : public Op {
 public:
  FinishFlowDir(D8Encoding encoding, TileGrid grid, std::shared_ptr<const Bytes> solution)
      : encoding_(encoding), grid_(grid), nodes_(grid), solution_(read_flat_solution(*solution)) {}
  int64_t halo() const override { return 2; }
  PixelType output_type() const override { return PixelType::Int16; }
  std::optional<double> output_nodata() const override { return kDirectionNodata; }
  CellType input_cells(PixelType) const override { return CellType::Float32; }
  void run(const TileIn& in, const TileOut& out) const override {
    thread_local FlatTile t;
    analyse_tile(in, t);
    if (t.flat_cells > 0) distances(in, t);
    const View<int16_t> cells = out.bands.at(0).as<int16_t>();
    for (int64_t y = 0; y < t.height; ++y)
      for (int64_t x = 0; x < t.width; ++x) {
        const size_t i = t.at(x, y);
        const int k = t.dir[i] == kD8None ? flat_direction(t, i) : t.dir[i];
        cells(x, y) = k < 0 && k != kD8None ? static_cast<int16_t>(kDirectionNodata)
                      : k == kD8None        ? int16_t{0}
                                            : d8_code(k, encoding_);
      }
  }

 private:
  /// t.low and t.high of the tile's flat cells and of the flat cells of the ring around it.
  void distances(const TileIn& in, FlatTile& t) const {
    t.low.assign(t.z.size(), kFar);
    t.high.assign(t.z.size(), kFar);
    const int64_t tile = tile_of(grid_, in.owned);
    // The ring's cells are perimeter cells of their own tiles: their distances are the solve's.
    for (int64_t y = -1; y <= t.height; ++y)
      for (int64_t x = -1; x <= t.width; x += (y < 0 || y == t.height) ? 1 : t.width + 1) {
        const size_t i = t.at(x, y);
        if (t.dir[i] != kD8None) continue;
        const auto n = static_cast<size_t>(nodes_.node(in.owned.x + x, in.owned.y + y));
        t.low[i] = solution_.low[n];
        t.high[i] = solution_.high[n];
      }
    for (const bool high : {false, true}) {
      thread_local std::vector<Seed> seeds;
      seeds.clear();
      local_seeds(t, high, seeds);
      const auto& global = high ? solution_.high : solution_.low;
      const int64_t count = perimeter_count(t.width, t.height);
      for (int64_t p = 0; p < count; ++p) {
        const auto [x, y] = PerimeterNodes::place_cell(p, t.width, t.height);
        const size_t i = t.at(x, y);
        const uint32_t d = global[static_cast<size_t>(nodes_.first(tile) + p)];
        if (t.flat[i] && d != kFar) seeds.push_back({d, static_cast<uint32_t>(i)});
      }
      spread(t, seeds, high ? t.high : t.low);
    }
  }

  D8Encoding encoding_;
  TileGrid grid_;
  PerimeterNodes nodes_;
  FlatSolution solution_;
};

class FlowDirOp : public TileGraphOp {
 public:
  explicit FlowDirOp(D8Encoding encoding) : encoding_(encoding) {}
  int64_t halo() const override { return 2; }
  PixelType output_type() const override { return PixelType::Int16; }
  std::optional<double> output_nodata() const override { return kDirectionNodata; }
  CellType input_cells(PixelType) const override { return CellType::Float32; }
  /// Heights twice (with their rings), directions, flat marks, two distances, piece labels,
  /// the breadth-first queue and the seeds (38 bytes a cell); a piece's perimeter slots and cells
  /// (8), the three words of a batch of searches level by level (24); the four counts of breaks
  /// along the lines of cells for the straight paths (16); a batch's 64 16-bit distances, its
  /// queue and marks (133); and the distances between a piece's k perimeter cells, 4 k^2
  /// bytes, k at most 4 x the side of a square tile: 64 bytes a cell.
  int64_t work_bytes(int64_t cells) const override { return cells * (38 + 8 + 24 + 16 + 133 + 64); }
  /// Rank 0: each flat perimeter cell received and parsed (place, two distances, 12 bytes
  /// each), its node's piece and slot (8 per perimeter cell), the two distances (8) and the
  /// queue (8: each node at most once, and its place); and each perimeter cell's row of distances
  /// inside its tile, where a flat meets other terrain there (counted at every perimeter cell): its
  /// first run and escape (received and parsed, 16), its first escape (8) and kRowBytes for the
  /// rest. Every rank: two distances per perimeter cell. The summaries as received: the flat
  /// perimeter cells' 12 bytes and their rows (16 + 8 + kRowBytes, parsed parts included).
  GraphMemory graph_memory(const TileGrid& grid) const override {
    const int64_t perimeter = perimeter_cells(grid);
    return {perimeter * (12 + 12 + 8 + 8 + 8 + 16 + 8 + kRowBytes), perimeter * 8,
            perimeter * (12 + 16 + 8 + kRowBytes)};
  }
  Bytes summarize(const TileIn& in, const TileGrid& /*grid*/) const override {
    thread_local FlatTile t;
    analyse_tile(in, t);
    return flats_summary(t);
  }
  Bytes solve(const TileGrid& grid, const Summaries& tiles) const override {
    return solve_flats(grid, tiles);
  }
  std::shared_ptr<const Op> with_solution(const TileGrid& grid,
                                          std::shared_ptr<const Bytes> solution) const override {
    return std::make_shared<FinishFlowDir>(encoding_, grid, std::move(solution));
  }

 private:
  D8Encoding encoding_;
};

}  // namespace

int16_t d8_code(int index, D8Encoding encoding) {
  return encoding == D8Encoding::Esri ? kEsriCodes[index] : static_cast<int16_t>(index + 1);
}

int d8_index(int64_t code, D8Encoding encoding) {
  if (code == 0) return kD8None;
  for (int k = 0; k < 8; ++k)
    if (code == d8_code(k, encoding)) return k;
  return -3;
}

std::unique_ptr<Op> make_flowdir(const Options& options) {
  OptionReader r("flowdir", options, {"encoding"});
  const auto encoding = static_cast<D8Encoding>(r.choice("encoding", {"taudem", "esri"}, 0));
  r.finish();
  return std::make_unique<FlowDirOp>(encoding);
}

}  // namespace tessera::ops
