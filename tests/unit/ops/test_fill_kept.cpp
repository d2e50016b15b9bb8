// fill's kept tiles: phase 2 finished from what phase 1 kept gives the same bits as a tile flooded
// again, at every tile size, and a kept tile that does not match its tile is refused.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <map>
#include <memory>

#include "raster_fixture.hpp"
#include "tessera/ops/fill.hpp"

namespace tessera::ops {
namespace {

using testing::Raster;

constexpr float kVoid = -9999.0f;

/// Heights from -3 to 3 with signed zeros (a cell raised from -0.0 to 0.0 keeps neither bit
/// pattern by accident) and, with `voids`, a few voids.
Raster<float> signed_terrain(int64_t width, int64_t height, uint32_t seed, bool voids) {
  Raster<float> r;
  r.width = width;
  r.height = height;
  r.nodata = kVoid;
  uint32_t state = seed;
  for (int64_t i = 0; i < width * height; ++i) {
    state = state * 1664525u + 1013904223u;
    float z = static_cast<float>((state >> 24) % 7) - 3.0f;
    if (z == 0.0f && (state >> 12) % 2 == 0) z = -0.0f;
    if (voids && (state >> 8) % 31 == 0) z = kVoid;
    r.cells.push_back(z);
  }
  return r;
}

/// Tiles kept in memory, as the executor's scratch files keep them.
class MemoryKept : public KeptTiles {
 public:
  void keep(int64_t tile, std::span<const std::byte> bytes) override {
    if (!bytes.empty()) tiles_[tile].assign(bytes.begin(), bytes.end());
  }
  bool take(int64_t tile, Bytes& into) const override {
    const auto found = tiles_.find(tile);
    if (found == tiles_.end()) return false;
    into = found->second;
    return true;
  }
  size_t size() const { return tiles_.size(); }

 private:
  std::map<int64_t, Bytes> tiles_;
};

struct TileRead {
  std::vector<float> buffer;
  TileIn in;
};

/// TileIn of tile `t` of `grid` over `r`, read with a halo of 1 (NaN past the raster).
TileRead read_tile(const Raster<float>& r, const TileGrid& grid, int64_t t) {
  TileRead read;
  const Window owned = grid.owned(t);
  const Window g = grow(owned, 1);
  read.buffer.assign(static_cast<size_t>(g.cells()), std::numeric_limits<float>::quiet_NaN());
  for (int64_t y = 0; y < g.height; ++y)
    for (int64_t x = 0; x < g.width; ++x)
      if (whole(grid.raster()).contains(g.x + x, g.y + y))
        read.buffer[static_cast<size_t>(y * g.width + x)] =
            r.cells[static_cast<size_t>((g.y + y) * r.width + g.x + x)];
  read.in.raster = grid.raster();
  read.in.owned = owned;
  read.in.halo = 1;
  read.in.cells = ConstView<float>(read.buffer.data(), g.width, g.height);
  read.in.nodata = r.nodata;
  return read;
}

std::shared_ptr<const TileGraphOp> bound_fill(const Raster<float>& r) {
  return std::dynamic_pointer_cast<const TileGraphOp>(
      make_fill({})->for_source({PixelType::Float32, r.nodata, Extent{r.width, r.height}}));
}

/// The three phases in one process; with `kept`, phase 1 keeps each tile there and phase 2
/// finishes the tiles it holds from it.
std::vector<float> run_fill(const TileGraphOp& op, const Raster<float>& r, int64_t tile,
                            MemoryKept* kept) {
  const TileGrid grid(Extent{r.width, r.height}, tile, tile);
  std::vector<Bytes> summaries;
  Bytes bytes;
  for (int64_t t = 0; t < grid.count(); ++t) {
    const TileRead read = read_tile(r, grid, t);
    if (kept == nullptr) {
      summaries.push_back(op.summarize(read.in, grid));
      continue;
    }
    summaries.push_back(op.summarize_keeping(read.in, grid, bytes));
    kept->keep(t, bytes);
  }
  const auto solution = std::make_shared<const Bytes>(op.solve(grid, summaries_of(summaries)));
  const auto finish =
      kept ? op.with_kept_solution(grid, solution, kept) : op.with_solution(grid, solution);
  return testing::run_tiled<float, float>(*finish, r, tile, tile).at(0);
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(FillKept, FinishesToTheSameBitsAsAFloodAgainAtEveryTileSize) {
  bool some_kept = false;
  bool some_not = false;  // tiles whose runs would pass kKeptBytesPerCell: flooded again
  for (uint32_t seed : {1u, 2u, 3u}) {
    const Raster<float> r = signed_terrain(45, 38, seed, seed != 1);
    const auto op = bound_fill(r);
    for (int64_t tile : {1, 2, 3, 5, 8, 16, 64}) {
      MemoryKept kept;
      const auto want = run_fill(*op, r, tile, nullptr);
      EXPECT_TRUE(same_bits(run_fill(*op, r, tile, &kept), want))
          << "seed " << seed << " tile " << tile;
      const auto tiles = static_cast<size_t>(TileGrid(Extent{45, 38}, tile, tile).count());
      some_kept = some_kept || kept.size() > 0;
      some_not = some_not || kept.size() < tiles;
    }
  }
  EXPECT_TRUE(some_kept);
  EXPECT_TRUE(some_not);
}

/// 16 x 16 cells at 10 around an 8 x 8 bowl of heights from 2 to 5.5.
Raster<float> bowl() {
  Raster<float> r = signed_terrain(16, 16, 4, false);
  for (float& z : r.cells) z = 10;
  for (int64_t y = 4; y < 12; ++y)
    for (int64_t x = 4; x < 12; ++x) r.at(x, y) = static_cast<float>(x + y) / 4;
  return r;
}

TEST(FillKept, ARaisedDepressionTakesOneRunARow) {
  const Raster<float> r = bowl();
  const TileGrid grid(Extent{16, 16}, 16, 16);
  Bytes kept;
  bound_fill(r)->summarize_keeping(read_tile(r, grid, 0).in, grid, kept);
  // The region count, then a run of heights kept a row; across the bowl, a run of 4 kept and one
  // raised to 10 (8 bytes) to the row's end, whose cells at 10 continue it.
  EXPECT_EQ(kept.size(), 4u + 8 * 4 + 8 * (4 + 8));
}

TEST(FillKept, RefusesBytesThatDoNotMatchTheTile) {
  const Raster<float> r = bowl();
  const TileGrid grid(Extent{16, 16}, 16, 16);
  const auto op = bound_fill(r);
  const TileRead read = read_tile(r, grid, 0);
  Bytes kept;
  const Bytes summary = op->summarize_keeping(read.in, grid, kept);
  ASSERT_FALSE(kept.empty());
  const FillSolution solution(solve_fill(grid, {summary}));
  std::vector<float> out(256);
  const View<float> cells(out.data(), 16, 16, 16);
  kept.pop_back();
  EXPECT_THROW(finish_kept(kept, read.in, solution, 0, kVoid, cells), Error);
}

}  // namespace
}  // namespace tessera::ops
