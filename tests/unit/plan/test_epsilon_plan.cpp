// fill with epsilon = true: planned as four tile-graph passes (fill, flowdir, the bound, the
// epsilon pass) whose results go through stage rasters, with step ids the user did not write.
#include <gtest/gtest.h>

#include <string>

#include "plan_fixture.hpp"
#include "tessera/plan/plan.hpp"
#include "tessera/plan/step_graph.hpp"

namespace tessera::plan {
namespace {

using test::contains;

constexpr const char* kInput = test::kDemInput;
using test::job_step;

std::string output(const std::string& from, const std::string& path) {
  return "[[output]]\nfrom = \"" + from + "\"\npath = \"" + path + "\"\n\n";
}

job::JobSpec parse(const std::string& text) {
  return job::parse_job_text(text, "eps.toml", "/jobs");
}

Plan plan_of(const std::string& text) { return make_plan(parse(text), {test::dem({300, 200})}); }

std::string error_of(const std::string& text) {
  return test::message_of([&] { plan_of(text); });
}

const std::string kEpsilon = std::string(kInput) +
                             job_step("fel", "fill", "dem", "epsilon = true\n") +
                             output("fel", "out/fel.tif") + "[run]\ntile = 64\n";

TEST(EpsilonPlan, FourPassesThroughStageRasters) {
  const Plan plan = plan_of(kEpsilon);
  ASSERT_EQ(plan.steps.size(), 4u);
  const std::vector<std::string> ids{"fel.fill", "fel.flowdir", "fel.bound", "fel"};
  ASSERT_EQ(plan.passes.size(), 4u);
  for (size_t p = 0; p < 4; ++p) {
    EXPECT_EQ(plan.passes[p].kind, PassKind::TileGraph);
    ASSERT_EQ(plan.passes[p].steps.size(), 1u);
    EXPECT_EQ(plan.steps[plan.passes[p].steps[0]].id, ids[p]);
  }
  EXPECT_EQ(plan.passes[1].reads_passes, std::vector<size_t>{0});
  EXPECT_EQ(plan.passes[2].reads_passes, (std::vector<size_t>{0, 1}));
  EXPECT_EQ(plan.passes[3].reads_passes, (std::vector<size_t>{0, 2}));
  // The job's one output, then a scratch raster for each of the three passes before the last.
  ASSERT_EQ(plan.outputs.size(), 4u);
  EXPECT_FALSE(plan.outputs[0].scratch);
  EXPECT_EQ(plan.outputs[0].spec.path, "/jobs/out/fel.tif");
  for (size_t o = 1; o < 4; ++o) EXPECT_TRUE(plan.outputs[o].scratch);
  EXPECT_EQ(plan.outputs[1].spec.path, "/jobs/out/.fel.tif.fel.fill.stage.tif");
  EXPECT_EQ(plan.outputs[2].spec.type, PixelType::Int16);  // flowdir's directions
  EXPECT_EQ(plan.outputs[3].spec.path, "/jobs/out/.fel.tif.fel.bound.stage.tif");
  EXPECT_EQ(plan.outputs[3].spec.type, PixelType::Float32);
  EXPECT_EQ(plan.stages.size(), 3u);
  const std::string text = plan.describe(2, 1);
  EXPECT_TRUE(contains(text, "pass 3 (tile-graph): steps fel.bound;")) << text;
  EXPECT_TRUE(contains(text, "fel.bound: op fill_epsilon_bound reads the result of fel.fill"))
      << text;
}

TEST(EpsilonPlan, ReadersOfTheStepReadTheEpsilonSurface) {
  const Plan plan =
      plan_of(std::string(kInput) + job_step("fel", "fill", "dem", "epsilon = true\n") +
              job_step("p", "flowdir", "fel") + output("p", "out/p.tif"));
  ASSERT_EQ(plan.passes.size(), 5u);
  EXPECT_EQ(plan.steps[plan.passes[4].steps[0]].id, "p");
  EXPECT_EQ(plan.passes[4].reads_passes, std::vector<size_t>{3});
}

TEST(EpsilonPlan, FalseOrAbsentIsFillAlone) {
  for (const char* more : {"epsilon = false\n", "epsilon = \"no\"\n", ""}) {
    const Plan plan = plan_of(std::string(kInput) + job_step("fel", "fill", "dem", more) +
                              output("fel", "out/fel.tif"));
    ASSERT_EQ(plan.steps.size(), 1u) << more;
    EXPECT_EQ(plan.passes.size(), 1u) << more;
  }
}

TEST(EpsilonPlan, CheckJobChecksTheStepsItStandsFor) {
  EXPECT_EQ(check_job(parse(kEpsilon)).ops.size(), 4u);
}

TEST(EpsilonPlan, BadValuesAndNamesOfItsPasses) {
  EXPECT_EQ(error_of(std::string(kInput) + job_step("fel", "fill", "dem", "epsilon = 2\n") +
                     output("fel", "out/fel.tif")),
            "eps.toml:8:1: step 'fel': option 'epsilon' must be true or false");
  EXPECT_EQ(
      error_of(std::string(kInput) +
               job_step("fel", "fill", "dem", "epsilon = true\nzfactor = 2\n") +
               output("fel", "out/fel.tif")),
      "eps.toml:9:1: step 'fel': unknown option 'zfactor' for fill (expected one of: epsilon)");
  EXPECT_EQ(error_of(std::string(kInput) + job_step("fel", "fill", "dem", "epsilon = true\n") +
                     job_step("s", "slope", "fel.fill") + output("s", "out/s.tif")),
            "eps.toml:13:6: step 's': in: 'fel.fill' is a pass that step 'fel' (fill with "
            "epsilon) runs for itself; read 'fel' instead");
  EXPECT_EQ(error_of(std::string(kInput) + job_step("fel", "fill", "dem", "epsilon = true\n") +
                     job_step("a", "flowacc", "dem", "weight = \"fel.bound\"\n") +
                     output("a", "out/a.tif")),
            "eps.toml:14:1: step 'a': weight: 'fel.bound' is a pass that step 'fel' (fill with "
            "epsilon) runs for itself; read 'fel' instead");
  const std::string from_a_pass =
      error_of(std::string(kInput) + job_step("fel", "fill", "dem", "epsilon = true\n") +
               output("fel.flowdir", "out/p.tif"));
  EXPECT_TRUE(contains(from_a_pass, "'fel.flowdir' is a pass that step 'fel'")) << from_a_pass;
  EXPECT_EQ(error_of(std::string(kInput) + job_step("fel", "fill", "dem", "epsilon = true\n") +
                     job_step("fel.flowdir", "slope", "dem") + output("fel", "out/fel.tif")),
            "eps.toml:11:6: step 'fel.flowdir': id: the name of a pass of fill with epsilon; "
            "rename it");
}

TEST(EpsilonPlan, TwoStepsOfOneId) {
  EXPECT_EQ(
      error_of(std::string(kInput) + job_step("fel", "fill", "dem", "epsilon = true\n") +
               job_step("fel", "fill", "dem", "epsilon = true\n") + output("fel", "out/f.tif")),
      "eps.toml:11:6: duplicate step id 'fel'");
}

TEST(EpsilonPlan, ThePassesOpsAreNotListedAsOps) {
  const std::string message =
      error_of(std::string(kInput) + job_step("x", "fil", "dem") + output("x", "out/x.tif"));
  EXPECT_TRUE(contains(message, "unknown op 'fil'")) << message;
  EXPECT_TRUE(contains(message, "watershed")) << message;
  EXPECT_FALSE(contains(message, "fill_epsilon")) << message;
}

}  // namespace
}  // namespace tessera::plan
