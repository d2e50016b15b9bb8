// The plan of a tile-graph step: where its tiles are kept between the phases (a scratch folder,
// by default the output's, or none), what that takes on disk, and the global solve's estimate.
#include <gtest/gtest.h>

#include <string>

#include "plan_fixture.hpp"
#include "tessera/plan/plan.hpp"

namespace tessera::plan {
namespace {

using test::contains;

/// A fill job writing out/fel.tif; `run` is the job's [run] table's keys.
Plan fill_plan(Extent size, const std::string& run) {
  const std::string text =
      "[input.dem]\npath = \"dem.tif\"\n\n[[step]]\nid = \"fel\"\nop = \"fill\"\nin = \"dem\"\n\n"
      "[[output]]\nfrom = \"fel\"\npath = \"out/fel.tif\"\n\n[run]\n" +
      run;
  return make_plan(job::parse_job_text(text, "fill.toml", "/jobs"), {test::dem(size)});
}

TEST(TileGraphPlan, KeepsTilesInTheOutputsFolderByDefault) {
  const Plan plan = fill_plan({16000, 16000}, "");
  EXPECT_EQ(plan.scratch, "/jobs/out");
  // 2 bytes a cell at most, 1024 tiles of 512 x 512 cells (and the region count of each).
  EXPECT_EQ(plan.scratch_bytes(), (4 + 2 * 512 * 512) * 1024);
  const std::string text = plan.describe(2, 1);
  EXPECT_TRUE(contains(text,
                       "between the phases each tile's result is kept in scratch files in "
                       "/jobs/out (at most 512.0 MiB on disk"))
      << text;
}

TEST(TileGraphPlan, ComputesTilesAgainWithoutAScratchFolder) {
  const Plan plan = fill_plan({16000, 16000}, "scratch = false\n");
  EXPECT_EQ(plan.scratch, "");
  EXPECT_EQ(plan.scratch_bytes(), 0);
  EXPECT_TRUE(contains(plan.describe(2, 1),
                       "between the phases each tile is read and computed again (no scratch "
                       "folder)"));
  EXPECT_LT(plan.graph_bytes(), fill_plan({16000, 16000}, "").graph_bytes());  // no tile places
  EXPECT_EQ(fill_plan({100, 100}, "scratch = \"tmp\"\n").scratch, "/jobs/tmp");
}

TEST(TileGraphPlan, ScratchIsAFolderOrFalse) {
  EXPECT_TRUE(contains(test::message_of([] {
                         fill_plan({100, 100}, "scratch = true\n");
                       }),
                       "fill.toml:14:11: run: scratch: expected a folder (a string) or false"));
}

// The tile-graph ops number a tile's cells with their ring in 32 bits: a tile of 65536 x 65536
// cells was planned (and, given the memory, run with its cells' numbers wrapping).
TEST(TileGraphPlan, RefusesTilesItsStepsCannotNumber) {
  EXPECT_EQ(test::message_of([] {
              fill_plan({70000, 50000}, "tile = 65536\n");
            }),
            "fill.toml:14:8: run: tile: tiles of 65536 x 50000 cells are more than step 'fel' "
            "(fill) numbers; a tile-graph step takes tiles of at most 46336 x 46336 cells");
  EXPECT_EQ(fill_plan({70000, 50000}, "tile = 46336\n").grid.tile_width(), 46336);
  EXPECT_EQ(fill_plan({46336, 46336}, "tile = 65536\n").grid.tile_width(), 46336);
}

// fill's, flowdir's and fill_epsilon's solves number the perimeter cells in 32 bits: a 300000 x
// 300000 raster at 16-cell tiles (21 billion perimeter cells) was refused only by the solve,
// after the first phase had read the whole raster.
TEST(TileGraphPlan, RefusesMorePerimeterCellsThanTheSolveNumbers) {
  EXPECT_EQ(test::message_of([] {
              fill_plan({300000, 300000}, "tile = 16\n");
            }),
            "fill.toml:14:8: run: tile: the tile graph of step 'fel' (fill) would have "
            "21093750000 perimeter cells, more than its global solve numbers (4294967294); use "
            "larger tiles");
  EXPECT_EQ(fill_plan({300000, 300000}, "tile = 256\n").grid.tile_width(), 256);
}

TEST(TileGraphPlan, EstimatesTheSolveOfA100000CellRasterAt256CellTiles) {
  const std::string text = fill_plan({100000, 100000}, "tile = 256\n").describe(2, 1);
  EXPECT_TRUE(contains(text,
                       "fel (fill): 152881 tiles, 155788476 perimeter cells; global solve "
                       "about 11885.7 MiB and 93.5 s on rank 0"))
      << text;
}

}  // namespace
}  // namespace tessera::plan
