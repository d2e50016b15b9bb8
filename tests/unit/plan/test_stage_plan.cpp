// Stages: steps reading a tile-graph step's result read it from the file its pass writes (the
// job's own output holding it, or a scratch raster), in a later pass.
#include <gtest/gtest.h>

#include <string>

#include "plan_fixture.hpp"
#include "tessera/core/hidden_name.hpp"
#include "tessera/plan/plan.hpp"

namespace tessera::plan {
namespace {

using test::contains;

constexpr const char* kInput = test::kDemInput;
using test::job_step;

std::string output(const std::string& from, const std::string& path) {
  return "[[output]]\nfrom = " + from + "\npath = \"" + path + "\"\n\n";
}

Plan plan_of(const std::string& text) {
  return make_plan(job::parse_job_text(text, "chain.toml", "/jobs"), {test::dem({300, 200})});
}

size_t index_of(const Plan& plan, const std::string& id) { return plan.step_index.at(id); }

TEST(StagePlan, AStepReadsFillFromTheOutputHoldingIt) {
  const Plan plan = plan_of(std::string(kInput) + job_step("fel", "fill", "dem") +
                            job_step("slope", "slope", "fel") + output("[\"fel\"]", "out/fel.tif") +
                            output("\"slope\"", "out/slope.tif"));
  ASSERT_EQ(plan.passes.size(), 2u);
  EXPECT_EQ(plan.passes[0].kind, PassKind::TileGraph);
  EXPECT_EQ(plan.passes[1].kind, PassKind::Streaming);
  EXPECT_EQ(plan.passes[1].reads_passes, std::vector<size_t>{0});
  ASSERT_EQ(plan.stages.size(), 1u);
  const StageResult& stage = plan.stages[0];
  EXPECT_EQ(stage.output, 0u);  // no scratch raster: the job's output holds it
  EXPECT_EQ(plan.outputs.size(), 2u);
  EXPECT_TRUE(plan.is_stage_input(stage.input));
  EXPECT_FALSE(plan.is_stage_input(0));
  EXPECT_EQ(plan.inputs[stage.input].path, "/jobs/out/fel.tif");
  EXPECT_EQ(plan.inputs[stage.input].type, PixelType::Float32);
  const PlannedStep& slope = plan.steps[index_of(plan, "slope")];
  EXPECT_EQ(slope.input, stage.input);
  EXPECT_FALSE(slope.source.has_value());
  EXPECT_TRUE(slope.reads_input_cells());
  EXPECT_EQ(slope.results, std::vector<size_t>{index_of(plan, "fel")});
  EXPECT_EQ(slope.halo, 1);  // read from a file: fill's own halo does not add up
}

TEST(StagePlan, ResultsNoOutputHoldsGoToScratchRasters) {
  const Plan plan = plan_of(
      std::string(kInput) + job_step("fel", "fill", "dem") + job_step("p", "flowdir", "fel") +
      job_step("acc", "flowacc", "p") + job_step("streams", "calc", "", "expr = \"acc > 1000\"\n") +
      output("\"streams\"", "out/streams.tif") + "[run]\ntile = 64\nscratch = \"tmp\"\n");
  ASSERT_EQ(plan.passes.size(), 4u);  // fill, flowdir, flowacc, then the calc
  EXPECT_EQ(plan.stages.size(), 3u);
  ASSERT_EQ(plan.outputs.size(), 4u);
  EXPECT_FALSE(plan.outputs[0].scratch);
  for (size_t o = 1; o < 4; ++o) EXPECT_TRUE(plan.outputs[o].scratch);
  // In a scratch folder other jobs may share, the name carries a hash of the first output's path.
  const std::string fel_stage =
      "/jobs/tmp/.streams.tif.fel." + name_hash("/jobs/out/streams.tif") + ".stage.tif";
  EXPECT_EQ(plan.outputs[1].spec.path, fel_stage);
  EXPECT_EQ(plan.outputs[2].spec.type, PixelType::Int16);  // flowdir's directions
  EXPECT_EQ(plan.outputs[2].spec.options.compression, Compression::Zstd);
  for (size_t p = 0; p < 3; ++p) {
    EXPECT_EQ(plan.passes[p].kind, PassKind::TileGraph);
    EXPECT_EQ(plan.passes[p].outputs, std::vector<size_t>{p + 1});  // each writes its result
  }
  const PlannedStep& streams = plan.steps[index_of(plan, "streams")];
  ASSERT_EQ(streams.bands.size(), 1u);
  EXPECT_TRUE(plan.is_stage_input(plan.bands[streams.bands[0]].input));
  EXPECT_EQ(plan.passes[3].reads_passes, std::vector<size_t>{2});
  const std::string text = plan.describe(2, 1);
  EXPECT_TRUE(contains(text, "stage results:\n  fel (fill): written once by pass 1 to " +
                                 fel_stage + " band 1 (a scratch raster"))
      << text;
  EXPECT_TRUE(contains(text, "p (flowdir): written once by pass 2")) << text;
  EXPECT_TRUE(contains(text, "read as an input by pass 4")) << text;
  EXPECT_TRUE(contains(text, "op flowacc reads the result of p as Int32")) << text;
}

// In the first output's folder the first output's name alone keeps the name apart from other
// jobs'; a step id or an output name too long for a file name is cut and hashed.
TEST(StagePlan, ScratchRastersBesideTheFirstOutput) {
  const std::string steps = std::string(kInput) + job_step("fel", "fill", "dem") +
                            job_step("p", "flowdir", "fel") + job_step("acc", "flowacc", "p");
  const Plan plain = plan_of(steps + output("\"acc\"", "out/acc.tif"));
  ASSERT_EQ(plain.outputs.size(), 3u);
  EXPECT_EQ(plain.outputs[1].spec.path, "/jobs/out/.acc.tif.fel.stage.tif");
  EXPECT_EQ(plain.outputs[2].spec.path, "/jobs/out/.acc.tif.p.stage.tif");
  const std::string long_name = std::string(250, 'a');
  const Plan long_one = plan_of(steps + output("\"acc\"", "out/" + long_name + ".tif"));
  const std::string name = long_one.outputs[1].spec.path.substr(std::string("/jobs/out/").size());
  EXPECT_EQ(name, hidden_stem(long_name + ".tif.fel") + ".stage.tif");
  EXPECT_LE(name.size(), file_name_bytes);
}

// Jobs sharing a scratch folder (a Slurm array's tasks) whose first outputs have the same name
// in different folders wrote, read and removed each other's stage rasters: one failed with "no
// such file", the other read the other's directions (a cycle across tiles).
TEST(StagePlan, JobsSharingAScratchFolderNameTheirStagesApart) {
  const std::string steps = std::string(kInput) + job_step("fel", "fill", "dem") +
                            job_step("p", "flowdir", "fel") + job_step("acc", "flowacc", "p");
  const std::string scratch = "[run]\nscratch = \"/scratch\"\n";
  const Plan a = plan_of(steps + output("\"acc\"", "a/acc.tif") + scratch);
  const Plan b = plan_of(steps + output("\"acc\"", "b/acc.tif") + scratch);
  ASSERT_EQ(a.outputs.size(), 3u);
  ASSERT_EQ(b.outputs.size(), 3u);
  for (size_t o = 1; o < 3; ++o) {
    EXPECT_EQ(a.outputs[o].spec.path.rfind("/scratch/.acc.tif.", 0), 0u) << a.outputs[o].spec.path;
    EXPECT_NE(a.outputs[o].spec.path, b.outputs[o].spec.path);
  }
  EXPECT_EQ(a.outputs[1].spec.path, plan_of(steps + output("\"acc\"", "a/acc.tif") + scratch)
                                        .outputs[1]
                                        .spec.path);  // the same on resuming
}

TEST(StagePlan, MemoryIsThatOfTheLargestPass) {
  const std::string steps = std::string(kInput) + job_step("fel", "fill", "dem") +
                            job_step("slope", "slope", "fel") + output("\"fel\"", "out/fel.tif") +
                            output("\"slope\"", "out/slope.tif");
  const Plan chained = plan_of(steps);
  const Plan fill_alone = plan_of(std::string(kInput) + job_step("fel", "fill", "dem") +
                                  output("\"fel\"", "out/fel.tif"));
  EXPECT_EQ(chained.bytes_per_thread(), fill_alone.bytes_per_thread());  // fill's pass is larger
  EXPECT_EQ(chained.mapped_bytes_per_thread(), mapped_bytes_per_reader);
}

TEST(StagePlan, AnOutputOfStepsOfTwoPassesIsRefusedAtIt) {
  const std::string message = test::message_of([] {
    plan_of(std::string(kInput) + job_step("fel", "fill", "dem") +
            job_step("again", "fill", "fel") + output("[\"fel\", \"again\"]", "out/both.tif"));
  });
  EXPECT_TRUE(contains(message,
                       "chain.toml:15:8: output '/jobs/out/both.tif': steps 'fel' and "
                       "'again' are computed in different passes"))
      << message;
}

TEST(StagePlan, StatisticsOfATileGraphResultAreReducedFromItsFileAfterItsPass) {
  const Plan plan = plan_of(std::string(kInput) + job_step("fel", "fill", "dem") +
                            job_step("st", "stretch", "fel") + output("\"st\"", "out/st.tif"));
  ASSERT_EQ(plan.passes.size(), 3u);  // fill, the reduction of its result, then the stretch
  EXPECT_EQ(plan.passes[0].kind, PassKind::TileGraph);
  EXPECT_EQ(plan.passes[1].kind, PassKind::Reduction);
  EXPECT_EQ(plan.passes[2].kind, PassKind::Streaming);
  ASSERT_EQ(plan.stages.size(), 1u);
  ASSERT_EQ(plan.reduced.size(), 1u);
  const ReducedBand& band = plan.reduced[0];
  EXPECT_EQ(band.kind, BandSource::Kind::Input);  // the stage file, read as an input
  EXPECT_EQ(band.index, plan.stages[0].input);
  EXPECT_EQ(band.type, PixelType::Float32);
  EXPECT_EQ(plan.passes[1].reduced, std::vector<size_t>{0});
  EXPECT_TRUE(plan.passes[1].steps.empty());  // fill is not computed again: its file is read
  EXPECT_EQ(plan.passes[1].reads_passes, std::vector<size_t>{0});
  EXPECT_EQ(plan.passes[2].reads_passes, (std::vector<size_t>{0, 1}));
  EXPECT_TRUE(plan.outputs.back().scratch);
  const std::string text = plan.describe(1, 1);
  EXPECT_TRUE(contains(text,
                       "pass 2 (reduction): steps none; writes none; reads the results of pass 1; "
                       "statistics of fel (count, min, max, mean, std, percentiles 2, 98)"))
      << text;
  EXPECT_TRUE(contains(text, "read as an input by pass 2, 3")) << text;
}

TEST(StagePlan, AReductionAfterTheLastTileGraphPassComputesTheStepsReadingItsResult) {
  // acc's maximum and 99th percentile, and the percentiles of log(acc + 1), a step reading acc.
  const Plan plan = plan_of(
      std::string(kInput) + job_step("p", "flowdir", "dem") + job_step("acc", "flowacc", "p") +
      job_step("scaled", "calc", "", "expr = \"log(acc + 1) / log(max(acc) + 1)\"\n") +
      job_step("hot", "calc", "", "expr = \"acc > percentile(acc, 99)\"\ntype = \"uint8\"\n") +
      job_step("lg", "calc", "", "expr = \"log(acc + 1)\"\n") + job_step("st", "stretch", "lg") +
      output("\"scaled\"", "out/scaled.tif") + output("\"hot\"", "out/hot.tif") +
      output("\"st\"", "out/st.tif"));
  ASSERT_EQ(plan.passes.size(), 4u);
  EXPECT_EQ(plan.passes[0].kind, PassKind::TileGraph);
  EXPECT_EQ(plan.passes[1].kind, PassKind::TileGraph);
  const Pass& reduction = plan.passes[2];
  EXPECT_EQ(reduction.kind, PassKind::Reduction);
  EXPECT_EQ(reduction.steps, std::vector<size_t>{index_of(plan, "lg")});
  EXPECT_EQ(reduction.reads_passes, std::vector<size_t>{1});
  ASSERT_EQ(reduction.reduced.size(), 2u);
  const ReducedBand& acc = plan.reduced[reduction.reduced[0]];
  EXPECT_EQ(acc.label, "acc");
  EXPECT_EQ(acc.percentiles, std::vector<double>{99});
  EXPECT_EQ(plan.reduced[reduction.reduced[1]].label, "lg");
  EXPECT_EQ(plan.passes[3].kind, PassKind::Streaming);
  EXPECT_EQ(plan.passes[3].reads_passes, (std::vector<size_t>{1, 2}));
  EXPECT_EQ(plan.passes[3].outputs, (std::vector<size_t>{0, 1, 2}));
}

}  // namespace
}  // namespace tessera::plan
