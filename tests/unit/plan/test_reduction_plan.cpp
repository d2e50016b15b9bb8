// Plans of steps that need statistics: the reduction pass comes first, computes the steps whose
// bands it reduces, and the streaming pass reads it; each step's statistics point at their band.
#include <gtest/gtest.h>

#include <string>

#include "plan_fixture.hpp"
#include "tessera/job/job_spec.hpp"
#include "tessera/plan/plan.hpp"

namespace tessera::plan {
namespace {

job::JobSpec parse(const std::string& steps, const std::string& outputs) {
  return job::parse_job_text("[input.dem]\npath = \"dem.tif\"\n" + steps + outputs, "t.toml", "");
}

const std::string kSteps = R"(
[[step]]
id = "st"
op = "stretch"
in = "dem"

[[step]]
id = "sm"
op = "focal.mean"
in = "dem"
radius = 1

[[step]]
id = "hot"
op = "calc"
expr = "sm > percentile(sm, 90) + mean(dem) * 0"
type = "uint8"
)";

TEST(ReductionPlan, TheReductionPassComesFirstAndComputesTheStepsItReduces) {
  const Plan plan = make_plan(parse(kSteps, R"(
[[output]]
from = ["st"]
path = "st.tif"
[[output]]
from = ["hot"]
path = "hot.tif"
)"),
                              {test::dem()});
  ASSERT_EQ(plan.passes.size(), 2u);
  EXPECT_EQ(plan.passes[0].kind, PassKind::Reduction);
  EXPECT_EQ(plan.passes[0].steps, (std::vector<size_t>{plan.step_index.at("sm")}));
  EXPECT_TRUE(plan.passes[0].outputs.empty());
  EXPECT_EQ(plan.passes[1].kind, PassKind::Streaming);
  EXPECT_EQ(plan.passes[1].reads_passes, (std::vector<size_t>{0}));
  ASSERT_EQ(plan.reduced.size(), 2u);
  EXPECT_EQ(plan.reduced[0].label, "dem");  // stretch's 2 and 98, and the calc's mean
  EXPECT_EQ(plan.reduced[0].percentiles, (std::vector<double>{2, 98}));
  EXPECT_EQ(plan.reduced[1].label, "sm");
  EXPECT_EQ(plan.reduced[1].kind, BandSource::Kind::Step);
  EXPECT_EQ(plan.reduced[1].percentiles, (std::vector<double>{90}));
  const PlannedStep& hot = plan.steps[plan.step_index.at("hot")];
  EXPECT_EQ(hot.statistics, (std::vector<size_t>{1, 0}));
  EXPECT_NE(plan.describe(1, 1).find("pass 1 (reduction)"), std::string::npos);
}

TEST(ReductionPlan, NoStatisticsNoReductionPass) {
  const Plan plan = make_plan(parse(R"(
[[step]]
id = "sm"
op = "focal.mean"
in = "dem"
radius = 1
)",
                                    "[[output]]\nfrom = [\"sm\"]\npath = \"sm.tif\"\n"),
                              {test::dem()});
  ASSERT_EQ(plan.passes.size(), 1u);
  EXPECT_TRUE(plan.reduced.empty());
}

TEST(ReductionPlan, StatisticsOfAStepThatNeedsStatisticsTakeASecondReductionPass) {
  const Plan plan = make_plan(parse(R"(
[[step]]
id = "st"
op = "stretch"
in = "dem"

[[step]]
id = "again"
op = "stretch"
in = "st"
)",
                                    "[[output]]\nfrom = [\"again\"]\npath = \"a.tif\"\n"),
                              {test::dem()});
  ASSERT_EQ(plan.passes.size(), 3u);
  ASSERT_EQ(plan.reduced.size(), 2u);
  EXPECT_EQ(plan.passes[0].kind, PassKind::Reduction);
  EXPECT_EQ(plan.passes[0].reduced, std::vector<size_t>{0});  // the dem's percentiles
  EXPECT_TRUE(plan.passes[0].steps.empty());
  EXPECT_EQ(plan.passes[1].kind, PassKind::Reduction);
  EXPECT_EQ(plan.passes[1].reduced, std::vector<size_t>{1});  // st's, st computed given the dem's
  EXPECT_EQ(plan.passes[1].steps, std::vector<size_t>{plan.step_index.at("st")});
  EXPECT_EQ(plan.passes[1].reads_passes, std::vector<size_t>{0});
  EXPECT_EQ(plan.passes[2].kind, PassKind::Streaming);
  EXPECT_EQ(plan.passes[2].reads_passes, (std::vector<size_t>{0, 1}));
  EXPECT_EQ(plan.reduced[1].label, "st");
  const std::string text = plan.describe(1, 1);
  EXPECT_NE(text.find("pass 2 (reduction): steps st; writes none; reads the results of pass 1; "
                      "statistics of st (count, min, max, mean, std, percentiles 2, 98)"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace tessera::plan
