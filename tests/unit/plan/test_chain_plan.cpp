// Plans of chained steps where a calc expression names steps: edges of the step graph, halos
// along every path, margins, errors naming the step, and the memory the chain holds per thread.
#include <gtest/gtest.h>

#include <string>

#include "plan_fixture.hpp"
#include "tessera/core/error.hpp"
#include "tessera/plan/plan.hpp"

namespace tessera::plan {
namespace {

RasterInfo dem() {
  RasterInfo info = test::dem();
  info.nodata = -9999;
  return info;
}

/// DESIGN.md's job: slope of a radius-2 mean, thresholded by a calc naming the slope step.
constexpr std::string_view kTerrain = R"([input.dem]
path = "dem.tif"

[[step]]
id = "smooth"
op = "focal.mean"
in = "dem"
radius = 2

[[step]]
id = "slope"
op = "slope"
in = "smooth"

[[step]]
id = "steep"
op = "calc"
expr = "slope > 30"
type = "uint8"
)";

constexpr std::string_view kOutputs = R"(
[[output]]
from = "slope"
path = "slope.tif"

[[output]]
from = "steep"
path = "steep.tif"

[run]
tile = 16
)";

job::JobSpec parse(std::string_view steps, std::string_view outputs = kOutputs) {
  return job::parse_job_text(std::string(steps) + std::string(outputs), "t.toml", "");
}

std::string plan_error(std::string_view steps, std::string_view outputs = kOutputs) {
  return test::message_of([&] { make_plan(parse(steps, outputs), {dem()}); });
}

const PlannedStep& step_named(const Plan& plan, const std::string& id) {
  for (const auto& step : plan.steps)
    if (step.id == id) return step;
  throw Error("no step " + id);
}

TEST(ChainPlan, ACalcNamingAStepReadsItFusedWithHalosAddingUp) {
  const Plan plan = make_plan(parse(kTerrain), {dem()});
  ASSERT_EQ(plan.steps.size(), 3u);
  const PlannedStep& steep = plan.steps[2];
  EXPECT_EQ(steep.reads, (std::vector<BandSource>{{BandSource::Kind::Step, 1}}));
  EXPECT_EQ(steep.sources, std::vector<size_t>{1});
  EXPECT_TRUE(steep.bands.empty());
  EXPECT_EQ(steep.input, 0u);
  EXPECT_EQ(plan.steps[0].halo, 2);  // the mean's radius
  EXPECT_EQ(plan.steps[1].halo, 3);  // slope of the mean: 2 + 1
  EXPECT_EQ(steep.halo, 3);          // calc adds none
  EXPECT_EQ(plan.halo, 3);
  EXPECT_EQ(plan.steps[0].margin, 1);  // slope reads one cell around each cell of the mean
  EXPECT_EQ(plan.steps[1].margin, 0);  // calc reads the slope of its own cells
  EXPECT_EQ(steep.margin, 0);
  const std::string text = plan.describe(1, 1);
  EXPECT_NE(text.find("  steep: op calc reads step slope (Float32), halo 3, gives 1 band(s) of "
                      "Byte"),
            std::string::npos)
      << text;
}

TEST(ChainPlan, TheWidestPathThroughAnExpressionSetsHalosAndMargins) {
  // mix reads the mean (halo 2) and the slope of the mean (halo 3) and the input; TPI of mix
  // needs one more cell of mix, so of the slope and of the mean, which slope also reads.
  const std::string steps = std::string(kTerrain) + R"toml(
[[step]]
id = "mix"
op = "calc"
expr = "where(dem > 0, slope, smooth)"

[[step]]
id = "tpi"
op = "TPI"
in = "mix"
)toml";
  const Plan plan =
      make_plan(parse(steps, "[[output]]\nfrom = \"tpi\"\npath = \"t.tif\"\n"), {dem()});
  const PlannedStep& mix = step_named(plan, "mix");
  EXPECT_EQ(mix.halo, 3);
  EXPECT_EQ(step_named(plan, "tpi").halo, 4);
  EXPECT_EQ(plan.halo, 4);
  EXPECT_EQ(mix.margin, 1);
  EXPECT_EQ(step_named(plan, "slope").margin, 1);
  EXPECT_EQ(step_named(plan, "smooth").margin, 2);  // slope's margin 1 + its halo 1
  ASSERT_EQ(mix.reads.size(), 3u);
  EXPECT_EQ(mix.reads[0].kind, BandSource::Kind::Input);
  EXPECT_EQ(mix.reads[1], (BandSource{BandSource::Kind::Step, 1}));
  EXPECT_EQ(mix.reads[2], (BandSource{BandSource::Kind::Step, 0}));
  EXPECT_EQ(mix.sources, (std::vector<size_t>{1, 0}));
  EXPECT_EQ(mix.bands, std::vector<size_t>{0});
}

TEST(ChainPlan, BandOneOfAStepIsTheStepAndBandTwoIsAnError) {
  std::string one(kTerrain);
  one.replace(one.find("slope > 30"), 10, "slope[1] > 30");
  EXPECT_EQ(plan_error(one), "");
  std::string two(kTerrain);
  two.replace(two.find("slope > 30"), 10, "slope[2] > 30");
  EXPECT_EQ(
      plan_error(two),
      "t.toml:18:1: step 'steep': option 'expr': slope[2]: step 'slope' gives one band (name it "
      "alone or as slope[1])");
}

TEST(ChainPlan, AnExpressionReadsStepsOfOneBand) {
  const std::string steps = std::string(kTerrain) + R"(
[[step]]
id = "relief"
op = "color-relief"
in = "dem"
color_file = ")" + std::string(TESSERA_TEST_DATA) +
                            R"(/color_file.txt"

[[step]]
id = "red"
op = "calc"
expr = "relief * 2"
)";
  EXPECT_EQ(
      plan_error(steps),
      "t.toml:30:1: step 'red': option 'expr': step 'relief' gives 3 bands; an expression reads "
      "steps of one band");
}

TEST(ChainPlan, ACalcReadsStepsOfAnyType) {
  // A Float64 calc read by a calc, read by an Int16 set-type read by a calc: no conversion.
  const std::string steps = R"([input.dem]
path = "dem.tif"

[[step]]
id = "wide"
op = "calc"
expr = "dem * 2"
type = "float64"

[[step]]
id = "int"
op = "set-type"
in = "dem"
type = "int16"

[[step]]
id = "both"
op = "calc"
expr = "wide - int"
type = "float64"
)";
  const Plan plan =
      make_plan(parse(steps, "[[output]]\nfrom = \"both\"\npath = \"b.tif\"\n"), {dem()});
  EXPECT_EQ(plan.steps[2].sources, (std::vector<size_t>{0, 1}));
  EXPECT_EQ(plan.halo, 0);
}

TEST(ChainPlan, ABuiltInCodeJobInAnyOrderIsOrderedByThePlan) {
  job::JobSpec job = parse(kTerrain);
  std::swap(job.steps[1], job.steps[2]);  // steep before slope
  const Plan plan = make_plan(job, {dem()});
  ASSERT_EQ(plan.steps.size(), 3u);
  EXPECT_EQ(plan.steps[1].id, "slope");
  EXPECT_EQ(plan.steps[2].id, "steep");
  EXPECT_EQ(plan.steps[2].sources, std::vector<size_t>{1});
  EXPECT_EQ(plan.outputs[1].steps, std::vector<size_t>{2});  // steep.tif
}

TEST(ChainPlanMemory, EveryStepOfTheChainHoldsItsTileWithItsMargin) {
  const Plan plan = make_plan(parse(kTerrain), {dem()});
  const int64_t input = 22 * 22 * 4;  // a 16 x 16 tile and the plan's halo of 3, Float32
  const int64_t tiles = 256 * 4 + 256 * 4 + 256 * 1;  // smooth, slope (Float32), steep (Byte)
  const int64_t smooth = 18 * 18 * 4;                 // the mean over the tile and its margin of 1
  const int64_t encoders = 2 * 256 * 4 + 2 * 256 * 1;
  const int64_t run = (tiles_per_run - 1) * (256 * 4 + 256 * 1);  // the rest of a run's tiles
  EXPECT_EQ(plan.bytes_per_thread(), input + tiles + smooth + encoders + run);
}

TEST(ChainPlanMemory, ByteStepsReadByOtherStepsAreConvertedOnce) {
  // hillshade (Byte, margin 2) read as Int32 by roughness and as Float32 by focal.mean: its wide
  // Byte band and one converted buffer per cell type.
  const std::string steps = R"([input.dem]
path = "dem.tif"

[[step]]
id = "hs"
op = "hillshade"
in = "dem"

[[step]]
id = "rough"
op = "roughness"
in = "hs"

[[step]]
id = "smooth"
op = "focal.mean"
in = "hs"
radius = 2
)";
  const Plan plan = make_plan(
      parse(steps,
            "[[output]]\nfrom = [\"rough\", \"smooth\"]\npath = \"r.tif\"\n[run]\ntile = 16\n"),
      {dem()});
  EXPECT_EQ(plan.steps[0].margin, 2);
  EXPECT_EQ(plan.halo, 3);
  const int64_t input = 22 * 22 * 4;
  const int64_t tiles = 256 * 1 + 256 * 4 + 256 * 4;
  const int64_t wide = 20 * 20 * 1;           // hs over its tile and margin
  const int64_t converted = 2 * 20 * 20 * 4;  // hs as Int32 (roughness) and Float32 (focal)
  const int64_t encoders = 2 * 256 * 4 * 2;
  const int64_t run = (tiles_per_run - 1) * 256 * 4 * 2;  // the rest of a run's band-tiles
  EXPECT_EQ(plan.bytes_per_thread(), input + tiles + wide + converted + encoders + run);
}

}  // namespace
}  // namespace tessera::plan
