// Grouping steps into passes: synthetic steps of each pass kind give the passes, their order,
// what each reads of the earlier ones, their outputs and their phases.
#include <gtest/gtest.h>

#include <vector>

#include "tessera/core/error.hpp"
#include "tessera/plan/pass.hpp"

namespace tessera::plan {
namespace {

using Steps = std::vector<size_t>;
constexpr PassKind S = PassKind::Streaming;
constexpr PassKind R = PassKind::Reduction;
constexpr PassKind G = PassKind::TileGraph;

std::vector<PhaseKind> phase_kinds(const Pass& pass) {
  std::vector<PhaseKind> kinds;
  for (const Phase& phase : pass.phases) kinds.push_back(phase.kind);
  return kinds;
}

TEST(GroupPasses, StreamingStepsMakeOneStreamingPass) {
  // a, b reads a, c alone; outputs take b and c.
  const auto passes = group_passes({{S, {}}, {S, {0}}, {S, {}}}, {{1}, {2}});
  ASSERT_EQ(passes.size(), 1u);
  EXPECT_EQ(passes[0].kind, PassKind::Streaming);
  EXPECT_EQ(passes[0].steps, (Steps{0, 1, 2}));
  EXPECT_EQ(passes[0].outputs, (Steps{0, 1}));
  EXPECT_TRUE(passes[0].reads_passes.empty());
  EXPECT_EQ(phase_kinds(passes[0]), std::vector<PhaseKind>{PhaseKind::Tiles});
}

TEST(GroupPasses, AReductionReadByAStreamingStepRunsInAPassBeforeIt) {
  // slope; p95 of slope (a reduction); stretch reads slope and p95 and is written.
  const auto passes = group_passes({{S, {}}, {R, {0}}, {S, {0, 1}}}, {{2}});
  ASSERT_EQ(passes.size(), 2u);
  EXPECT_EQ(passes[0].kind, PassKind::Reduction);
  EXPECT_EQ(passes[0].steps, (Steps{0, 1}));  // slope is computed, fused, for the reduction
  EXPECT_TRUE(passes[0].outputs.empty());
  EXPECT_EQ(phase_kinds(passes[0]), (std::vector<PhaseKind>{PhaseKind::Tiles, PhaseKind::Global}));
  EXPECT_EQ(passes[1].kind, PassKind::Streaming);
  EXPECT_EQ(passes[1].steps, (Steps{0, 2}));  // and again for stretch: no intermediate files
  EXPECT_EQ(passes[1].reads_passes, Steps{0});
  EXPECT_EQ(passes[1].outputs, Steps{0});
}

TEST(GroupPasses, ATileGraphStepHasBarnesPhasesAndItsReadersComeAfter) {
  // fill (tile-graph) of the dem, written; flow direction reads the filled dem, written.
  const auto passes = group_passes({{G, {}}, {S, {0}}}, {{0}, {1}});
  ASSERT_EQ(passes.size(), 2u);
  EXPECT_EQ(passes[0].kind, PassKind::TileGraph);
  EXPECT_EQ(passes[0].steps, Steps{0});
  EXPECT_EQ(passes[0].outputs, Steps{0});
  EXPECT_EQ(phase_kinds(passes[0]),
            (std::vector<PhaseKind>{PhaseKind::Tiles, PhaseKind::Global, PhaseKind::Tiles}));
  EXPECT_EQ(passes[1].kind, PassKind::Streaming);
  EXPECT_EQ(passes[1].steps, Steps{1});
  EXPECT_EQ(passes[1].reads_passes, Steps{0});
  EXPECT_EQ(passes[1].outputs, Steps{1});
}

TEST(GroupPasses, StepsOfOneKindAndLevelShareAPass) {
  // two reductions of the dem, a streaming step reading both, a written step of neither.
  const auto passes = group_passes({{R, {}}, {R, {}}, {S, {0, 1}}, {S, {}}}, {{2}, {3}});
  ASSERT_EQ(passes.size(), 2u);
  EXPECT_EQ(passes[0].kind, PassKind::Reduction);
  EXPECT_EQ(passes[0].steps, (Steps{0, 1}));
  EXPECT_EQ(passes[1].kind, PassKind::Streaming);
  EXPECT_EQ(passes[1].steps, (Steps{2, 3}));
  EXPECT_EQ(passes[1].outputs, (Steps{0, 1}));
}

TEST(GroupPasses, AReductionOfAReductionsResultWaitsForIt) {
  // mean; deviation from the mean (streaming) reduced again to its spread; a step reading both.
  const auto passes = group_passes({{R, {}}, {S, {0}}, {R, {1}}, {S, {1, 2}}}, {{3}});
  ASSERT_EQ(passes.size(), 3u);
  EXPECT_EQ(passes[0].steps, Steps{0});
  EXPECT_EQ(passes[1].kind, PassKind::Reduction);
  EXPECT_EQ(passes[1].steps, (Steps{1, 2}));
  EXPECT_EQ(passes[1].reads_passes, Steps{0});
  EXPECT_EQ(passes[2].steps, (Steps{1, 3}));
  EXPECT_EQ(passes[2].reads_passes, (Steps{0, 1}));
  EXPECT_EQ(passes[2].outputs, Steps{0});
}

TEST(GroupPasses, AnOutputOfStepsInTwoPassesIsAnError) {
  EXPECT_THROW(group_passes({{G, {}}, {S, {}}}, {{0, 1}}), Error);
}

TEST(GroupPasses, ASourceThatIsNotEarlierIsAnError) {
  EXPECT_THROW(group_passes({{S, {1}}, {S, {}}}, {}), Error);
  EXPECT_THROW(group_passes({{S, {0}}}, {}), Error);
}

TEST(GroupPasses, NoStepsNoPasses) { EXPECT_TRUE(group_passes({}, {}).empty()); }

TEST(PassKindNames, EachKindHasItsName) {
  EXPECT_EQ(name_of(PassKind::Reduction), "reduction");
  EXPECT_EQ(name_of(PassKind::Streaming), "streaming");
  EXPECT_EQ(name_of(PassKind::TileGraph), "tile-graph");
}

}  // namespace
}  // namespace tessera::plan
