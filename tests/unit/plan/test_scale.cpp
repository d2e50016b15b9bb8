// Jobs of many steps: read and planned in time about linear in their size, and a long chain of
// steps plans without recursing once per step.
#include <gtest/gtest.h>

#include <string>

#include "allocation_count.hpp"
#include "plan_fixture.hpp"
#include "tessera/job/job_spec.hpp"
#include "tessera/plan/plan.hpp"

namespace tessera::plan {
namespace {

/// A job of `steps` calc steps, each reading the one before it (the first reads the DEM), and
/// one output of the last.
std::string chain_job(int steps) {
  std::string text = "[input.dem]\npath = \"dem.tif\"\n";
  std::string previous = "dem";
  for (int i = 0; i < steps; ++i) {
    const std::string id = std::string("s").append(std::to_string(i));
    text.append("[[step]]\nid = \"").append(id).append("\"\nop = \"calc\"\nexpr = \"");
    text.append(previous).append(" + 1\"\n");
    previous = id;
  }
  return text.append("[[output]]\nfrom = \"").append(previous).append("\"\npath = \"out.tif\"\n");
}

Plan plan_of(const std::string& text) {
  return make_plan(job::parse_job_text(text, "chain.toml", ""), {test::dem()});
}

void read_and_plan(int steps) { plan_of(chain_job(steps)); }

TEST(Scale, AChainOfStepsIsPlannedInOrder) {
  const Plan plan = plan_of(chain_job(20000));
  ASSERT_EQ(plan.steps.size(), 20000U);
  EXPECT_EQ(plan.steps.back().id, "s19999");
  EXPECT_EQ(plan.steps.back().sources, std::vector<size_t>{19998});
  ASSERT_EQ(plan.passes.size(), 1U);
  EXPECT_EQ(plan.passes[0].steps.size(), 20000U);
}

// Each step was given a copy of every step id: doubling the steps must about double the
// allocations, not quadruple them.
TEST(Scale, PlanningAllocatesInProportionToTheSteps) {
  EXPECT_LT(test::allocation_doubling_ratio(read_and_plan, 2000), 2.5);
}

}  // namespace
}  // namespace tessera::plan
