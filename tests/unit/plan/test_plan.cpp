// The plan from synthetic input metadata: tile grids, grid checks, outputs, halos, memory.
#include <gtest/gtest.h>

#include <string>

#include "plan_fixture.hpp"
#include "tessera/core/error.hpp"
#include "tessera/plan/plan.hpp"

namespace tessera::plan {
namespace {

using test::contains;
using test::dem;

constexpr std::string_view kSteps = R"([input.dem]
path = "dem.tif"

[[step]]
id = "hs"
op = "hillshade"
in = "dem"

[[step]]
id = "slope"
op = "slope"
in = "dem"

[[step]]
id = "aspect"
op = "aspect"
in = "dem"
)";

job::JobSpec parse(std::string_view outputs, std::string_view steps = kSteps) {
  return job::parse_job_text(std::string(steps) + std::string(outputs), "t.toml", "");
}

constexpr std::string_view kSlopeOutput = "[[output]]\nfrom = \"slope\"\npath = \"s.tif\"\n";

std::string plan_error(const job::JobSpec& job, const std::vector<RasterInfo>& inputs) {
  return test::message_of([&] { make_plan(job, inputs); });
}

TEST(ChooseGrid, DefaultTileOnALargeRaster) {
  const TileGrid grid = choose_grid({1000, 700}, std::nullopt);
  EXPECT_EQ(grid.tile_width(), 512);
  EXPECT_EQ(grid.tile_height(), 512);
  EXPECT_EQ(grid.across(), 2);
  EXPECT_EQ(grid.down(), 2);
}

TEST(ChooseGrid, AskedTileThatDoesNotDivideTheRaster) {
  const TileGrid grid = choose_grid({1000, 700}, 256);
  EXPECT_EQ(grid.tile_width(), 256);
  EXPECT_EQ(grid.count(), 4 * 3);
  EXPECT_EQ(grid.owned(11), (Window{768, 512, 232, 188}));
}

TEST(ChooseGrid, OneCellRasterGetsOneSixteenCellTile) {
  const TileGrid grid = choose_grid({1, 1}, std::nullopt);
  EXPECT_EQ(grid.tile_width(), 16);
  EXPECT_EQ(grid.tile_height(), 16);
  EXPECT_EQ(grid.count(), 1);
  EXPECT_EQ(grid.owned(0), (Window{0, 0, 1, 1}));
}

TEST(ChooseGrid, OneColumnAndOneRowRasters) {
  const TileGrid column = choose_grid({1, 1000}, std::nullopt);
  EXPECT_EQ(column.tile_width(), 16);
  EXPECT_EQ(column.tile_height(), 512);
  EXPECT_EQ(column.across(), 1);
  EXPECT_EQ(column.down(), 2);
  const TileGrid row = choose_grid({1000, 1}, std::nullopt);
  EXPECT_EQ(row.tile_width(), 512);
  EXPECT_EQ(row.tile_height(), 16);
  EXPECT_EQ(row.count(), 2);
}

TEST(ChooseGrid, SidesClampToTheRasterRoundedUpTo16) {
  const TileGrid grid = choose_grid({600, 40}, std::nullopt);
  EXPECT_EQ(grid.tile_width(), 512);
  EXPECT_EQ(grid.tile_height(), 48);
  EXPECT_EQ(grid.count(), 2);
}

TEST(ChooseGrid, RefusesTilesThatAreNotMultiplesOf16) {
  EXPECT_THROW(choose_grid({100, 100}, 500), Error);
  EXPECT_THROW(choose_grid({100, 100}, 0), Error);
}

TEST(Plan, StepsGetTheirOpsInputsCellTypesAndHalos) {
  const Plan plan = make_plan(parse(kSlopeOutput), {dem({100, 80}, PixelType::Int16)});
  ASSERT_EQ(plan.steps.size(), 3u);
  for (const PlannedStep& step : plan.steps) {
    ASSERT_NE(step.impl, nullptr);
    EXPECT_EQ(step.input, 0u);
    EXPECT_EQ(step.cells, ops::CellType::Int32);
    EXPECT_EQ(step.halo, 1);
  }
  EXPECT_EQ(plan.steps[1].id, "slope");
  EXPECT_EQ(plan.halo, 1);
  EXPECT_EQ(plan.input_names, std::vector<std::string>{"dem"});
  EXPECT_EQ(make_plan(parse(kSlopeOutput), {dem({100, 80})}).steps[0].cells,
            ops::CellType::Float32);
}

TEST(Plan, OneCellRasterPlans) {
  const Plan plan = make_plan(parse(kSlopeOutput), {dem({1, 1})});
  EXPECT_EQ(plan.grid.count(), 1);
  EXPECT_EQ(plan.outputs[0].spec.tile_width, 16);
  EXPECT_EQ(plan.outputs[0].spec.tile_height, 16);
}

TEST(Plan, RunTileSetsTheGridAndTheOutputBlocks) {
  const Plan plan =
      make_plan(parse(std::string(kSlopeOutput) + "[run]\ntile = 64\n"), {dem({100, 80})});
  EXPECT_EQ(plan.grid.tile_width(), 64);
  EXPECT_EQ(plan.grid.count(), 4);
  EXPECT_EQ(plan.outputs[0].spec.tile_width, 64);
  EXPECT_EQ(plan.outputs[0].spec.tile_height, 64);
}

TEST(Plan, OutputsTakeBandsTypesNodataAndGeoreferencing) {
  const Plan plan = make_plan(parse(R"(
[[output]]
from = ["slope", "aspect"]
path = "sa.tif"
compress = "zstd"
predictor = 3

[[output]]
from = "hs"
path = "hs.tif"
)"),
                              {dem({100, 80})});
  ASSERT_EQ(plan.outputs.size(), 2u);
  const OutputSpec& sa = plan.outputs[0].spec;
  EXPECT_EQ(plan.outputs[0].steps, (std::vector<size_t>{1, 2}));
  EXPECT_EQ(sa.path, "sa.tif");
  EXPECT_EQ(sa.size, (Extent{100, 80}));
  EXPECT_EQ(sa.bands, 2);
  EXPECT_EQ(sa.type, PixelType::Float32);
  EXPECT_EQ(sa.nodata, -9999.0);
  EXPECT_EQ(sa.band_descriptions, (std::vector<std::string>{"slope", "aspect"}));
  EXPECT_TRUE(sa.has_geotransform);
  EXPECT_EQ(sa.geotransform, dem({1, 1}).geotransform);
  EXPECT_EQ(sa.crs_wkt, dem({1, 1}).crs_wkt);
  EXPECT_EQ(sa.options.compression, Compression::Zstd);
  EXPECT_EQ(sa.options.predictor, 3);
  const OutputSpec& hs = plan.outputs[1].spec;
  EXPECT_EQ(hs.bands, 1);
  EXPECT_EQ(hs.type, PixelType::Byte);
  EXPECT_EQ(hs.nodata, 0.0);
  EXPECT_EQ(hs.options.compression, Compression::None);
}

TEST(Plan, ColourBandsAreNamedAfterTheirColour) {
  const std::string steps =
      "[input.dem]\npath = \"dem.tif\"\n"
      "[[step]]\nid = \"relief\"\nop = \"color-relief\"\nin = \"dem\"\n"
      "color_file = \"color_file.txt\"\n"
      "[[step]]\nid = \"rgba\"\nop = \"color-relief\"\nin = \"dem\"\n"
      "color_file = \"color_file.txt\"\nalpha = true\n";
  const std::string outputs = "[[output]]\nfrom = [\"relief\", \"rgba\"]\npath = \"r.tif\"\n";
  const auto job = job::parse_job_text(steps + outputs, "t.toml", TESSERA_TEST_DATA);
  const Plan plan = make_plan(job, {dem({10, 10})});
  const OutputSpec& spec = plan.outputs[0].spec;
  EXPECT_EQ(spec.bands, 7);
  EXPECT_EQ(spec.type, PixelType::Byte);
  EXPECT_EQ(spec.band_descriptions,
            (std::vector<std::string>{"relief_red", "relief_green", "relief_blue", "rgba_red",
                                      "rgba_green", "rgba_blue", "rgba_alpha"}));
}

TEST(Plan, StepsOfOneOutputMustShareTheirType) {
  EXPECT_EQ(
      plan_error(parse("\n[[output]]\nfrom = [\"hs\", \"slope\"]\npath = \"x.tif\"\n"),
                 {dem({10, 10})}),
      "t.toml:20:8: output 'x.tif': steps give different pixel types (hs: Byte, slope: Float32); "
      "write them to separate outputs");
}

TEST(Plan, BlockSizeInCoMustMatchTheTile) {
  const auto job = parse(std::string(kSlopeOutput) + "co = [\"BLOCKXSIZE=128\"]\n");
  EXPECT_EQ(plan_error(job, {dem({1000, 1000})}),
            "t.toml:18:1: output 's.tif': co: BLOCKXSIZE and BLOCKYSIZE must equal the tile size "
            "(512 x 512); "
            "set [run] tile instead");
}

constexpr std::string_view kTwoInputs = R"([input.a]
path = "a.tif"
[input.b]
path = "b.tif"

[[step]]
id = "sa"
op = "slope"
in = "a"

[[step]]
id = "sb"
op = "slope"
in = "b"
)";

TEST(Plan, InputsOnDifferentGridsAreAnError) {
  const auto job =
      parse(kSlopeOutput,
            std::string(kTwoInputs) + "[[step]]\nid = \"slope\"\nop = \"slope\"\nin = \"a\"\n");
  EXPECT_NO_THROW(make_plan(job, {dem({10, 10}), dem({10, 10})}));
  RasterInfo other = dem({20, 10});
  other.geotransform[0] = 1030;
  other.crs_wkt = "GEOGCRS[\"WGS 84\"]";
  EXPECT_EQ(plan_error(job, {dem({10, 10}), other}),
            "t.toml:3:1: input 'b' is not on the grid of input 'a' (t.toml:1:1): size 20 x 10 vs "
            "10 x 10; "
            "geotransform (1030.000000, 30.000000, 0.000000, 5000.000000, 0.000000, -30.000000) vs "
            "(1000.000000, 30.000000, 0.000000, 5000.000000, 0.000000, -30.000000); crs differs");
}

TEST(Plan, UnusedInputsNeedNotMatch) {
  const std::string steps =
      "[input.a]\npath = \"a.tif\"\n[input.b]\npath = \"b.tif\"\n"
      "[[step]]\nid = \"slope\"\nop = \"slope\"\nin = \"a\"\n";
  EXPECT_NO_THROW(make_plan(parse(kSlopeOutput, steps), {dem({10, 10}), dem({30, 30})}));
}

TEST(Plan, BandMustExist) {
  const auto job = parse(kSlopeOutput,
                         "[input.dem]\npath = \"dem.tif\"\nband = 2\n"
                         "[[step]]\nid = \"slope\"\nop = \"slope\"\nin = \"dem\"\n");
  EXPECT_EQ(plan_error(job, {dem({10, 10})}),
            "t.toml:1:1: input 'dem': band 2 does not exist in 'dem.tif' (it has 1)");
}

TEST(Plan, MetadataCountMustMatchTheInputs) {
  EXPECT_THROW(make_plan(parse(kSlopeOutput), {}), Error);
}

/// A job built in code, as the dem command does: no file, so messages have no position.
job::JobSpec chained_job() {
  job::JobSpec job;
  job.inputs.push_back({"dem", "dem.tif", 1, {}, {}});
  const auto step = [](std::string id, std::string in) {
    job::StepSpec s;
    s.id = std::move(id);
    s.op = "slope";
    s.in = std::move(in);
    return s;
  };
  job.steps = {step("a", "dem"), step("b", "a"), step("c", "b"), step("d", "dem")};
  job::OutputFileSpec output;
  output.from = {"c"};
  output.path = "c.tif";
  job.outputs.push_back(output);
  return job;
}

TEST(PathHalos, HalosAddUpAlongAChain) {
  // a <- b <- c, and d alone.
  EXPECT_EQ(path_halos({{}, {0}, {1}, {}}, {2, 1, 1, 1}), (std::vector<int64_t>{2, 3, 4, 1}));
}

TEST(PathHalos, TheWidestPathWins) {
  // d reads a (halo 2) and c (a 1 + 1 + 1 path of 3): d needs 3 + its own 0.
  EXPECT_EQ(path_halos({{}, {}, {1}, {0, 2}}, {2, 1, 2, 0}), (std::vector<int64_t>{2, 1, 3, 3}));
}

TEST(PathHalos, ReadingItselfOrALaterStepIsAnError) {
  EXPECT_THROW(path_halos({{}, {1}}, {1, 1}), Error);
  EXPECT_THROW(path_halos({{1}, {}}, {1, 1}), Error);
  EXPECT_THROW(path_halos({{}, {0}}, {1}), Error);
}

TEST(Plan, InNamingNothingIsAnError) {
  job::JobSpec job = chained_job();
  job.steps[1].in = "z";
  EXPECT_EQ(plan_error(job, {dem({10, 10})}),
            "step 'b': in: 'z' names no input or step (inputs: dem; steps: a, b, c, d)");
}

TEST(Plan, ChainedStepsComputeMarginsForTheStepsThatReadThem) {
  const Plan plan = make_plan(chained_job(), {dem({100, 100})});
  EXPECT_EQ(plan.halo, 3);
  ASSERT_EQ(plan.steps.size(), 4u);
  EXPECT_EQ(plan.steps[0].margin, 2);  // c reads b reads a: a computes 2 cells beyond the tile
  EXPECT_EQ(plan.steps[1].margin, 1);
  EXPECT_EQ(plan.steps[2].margin, 0);
  EXPECT_EQ(plan.steps[3].margin, 0);
  EXPECT_EQ(plan.steps[1].source, 0u);
  EXPECT_EQ(plan.steps[2].source, 1u);
  EXPECT_FALSE(plan.steps[3].source.has_value());
  EXPECT_EQ(plan.steps[2].cells, ops::CellType::Float32);  // slope gives Float32
  EXPECT_NE(plan.describe(1, 1).find("  c: op slope reads step b as Float32, margin 0, halo 3"),
            std::string::npos)
      << plan.describe(1, 1);
}

TEST(Plan, TodaysOpsMakeOneStreamingPassOfEveryStep) {
  const Plan plan = make_plan(chained_job(), {dem({100, 100})});
  ASSERT_EQ(plan.passes.size(), 1u);
  EXPECT_EQ(plan.passes[0].kind, PassKind::Streaming);
  EXPECT_EQ(plan.passes[0].steps, (std::vector<size_t>{0, 1, 2, 3}));  // d, read by nothing, too
  EXPECT_EQ(plan.passes[0].outputs, std::vector<size_t>{0});
  EXPECT_TRUE(plan.passes[0].reads_passes.empty());
  ASSERT_EQ(plan.passes[0].phases.size(), 1u);
  EXPECT_EQ(plan.passes[0].phases[0].kind, PhaseKind::Tiles);
}

TEST(Plan, AStepReadsOnlyOneBandOfByteFloat32OrFloat64) {
  job::JobSpec job = chained_job();
  job.steps[0].op = "color-relief";
  job.steps[0].options["color_file"] = std::string(TESSERA_TEST_DATA) + "/color_file.txt";
  EXPECT_EQ(plan_error(job, {dem({10, 10})}),
            "step 'b': in: step 'a' gives 3 band(s) of Byte; a step reads one band of Byte, "
            "Float32 or Float64");
}

TEST(Plan, BytesPerThreadCountInputsStepsAndEncoders) {
  const Plan plan = make_plan(parse(kSlopeOutput), {dem({10, 10})});
  const int64_t input = 18 * 18 * 4;  // one 16 x 16 tile and a halo of 1, 4-byte cells
  const int64_t steps = 256 * 1 + 256 * 4 + 256 * 4;  // hillshade Byte, slope and aspect Float32
  const int64_t encoder = 2 * 256 * 4;                // the slope output's one Float32 band
  const int64_t run = (tiles_per_run - 1) * 256 * 4;  // the band-tiles of the rest of a run
  EXPECT_EQ(plan.bytes_per_thread(), input + steps + encoder + run);
  EXPECT_EQ(plan.mapped_bytes_per_thread(), mapped_bytes_per_reader);  // one input
  EXPECT_EQ(plan.bytes_per_rank(3), 3 * (plan.bytes_per_thread() + mapped_bytes_per_reader) +
                                        gdal_cache_bytes + rank_overhead_bytes);
}

TEST(Plan, DescribeNamesGridHaloStepsOutputsAndMemory) {
  const Plan plan =
      make_plan(parse(std::string(kSlopeOutput) + "compress = \"zstd\"\npredictor = 3\n"),
                {dem({1000, 700})});
  const std::string text = plan.describe(2, 4);
  EXPECT_TRUE(contains(text, "raster: 1000 x 700 cells\n")) << text;
  EXPECT_TRUE(contains(text, "  dem: dem.tif band 1, 1000 x 700 Float32\n")) << text;
  EXPECT_TRUE(contains(text, "tiles: 512 x 512 cells, 2 across x 2 down = 4\n")) << text;
  EXPECT_TRUE(contains(text, "halo: 1\n")) << text;
  EXPECT_TRUE(contains(
      text, "  slope: op slope reads dem as Float32, halo 1, gives 1 band(s) of Float32\n"))
      << text;
  EXPECT_TRUE(
      contains(text, "  s.tif: 1 band(s) of Float32, ZSTD level 9, predictor 3, classic TIFF\n"))
      << text;
  EXPECT_TRUE(contains(text,
                       "passes:\n  pass 1 (streaming): steps hs, slope, aspect; writes s.tif\n"
                       "    phase 1 (tiles): compute each tile and write it\n"))
      << text;
  EXPECT_TRUE(contains(text, "run: 2 rank(s) x 4 thread(s)\n")) << text;
  EXPECT_TRUE(contains(text, "memory per rank: 4 threads x ")) << text;
  EXPECT_TRUE(contains(text, "+ 64.0 MiB GDAL block cache + 32.0 MiB overhead = ")) << text;
}

}  // namespace
}  // namespace tessera::plan
