// The rules of the step graph and the checks of a job before any raster opens: names, ops and
// their options, order, cycles, outputs' steps and paths, the tile size; each at FILE:LINE:COLUMN.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../job/job_text.hpp"
#include "plan_fixture.hpp"
#include "tessera/core/error.hpp"
#include "tessera/plan/plan.hpp"
#include "tessera/plan/step_graph.hpp"

namespace tessera::plan {
namespace {

using job::JobSpec;

JobSpec parse(std::string_view text) { return job::parse_job_text(text, "t.toml", "/jobs"); }

/// The message reading and checking `text` fails with, or "" when it does not fail.
std::string error_of(std::string_view text) {
  return test::message_of([&] { check_job(parse(text)); });
}

using test::contains;
using test::dem;
using test::job;
using test::kInput;
using test::kOutput;
using test::kSlopeStep;

TEST(JobChecks, DuplicateStepIds) {
  EXPECT_EQ(error_of(job(kInput, std::string(kSlopeStep) + std::string(kSlopeStep), kOutput)),
            "t.toml:10:6: duplicate step id 'slope' (first at t.toml:4:1)");
}

TEST(JobChecks, StepIdThatIsAnInputName) {
  EXPECT_EQ(
      error_of(job(kInput, "\n[[step]]\nid = \"dem\"\nop = \"slope\"\nin = \"dem\"\n", kOutput)),
      "t.toml:5:6: step 'dem': id is also an input's name");
}

// An id with a '/' made a stage raster's or a scratch file's name a path
// ("out/.p.tif.a/b.stage.tif": "no folder"; "./../y" put fill's kept tiles two folders up) and an
// HDF5 dataset a group.
TEST(JobChecks, StepIdsThatCannotNameAFile) {
  const auto with_id = [](const std::string& id) {
    return job(kInput, "\n[[step]]\nid = \"" + id + "\"\nop = \"slope\"\nin = \"dem\"\n",
               "\n[[output]]\nfrom = \"" + id + "\"\npath = \"out/s.tif\"\n");
  };
  EXPECT_EQ(error_of(with_id("a/b")),
            "t.toml:5:6: step 'a/b': id: a '/' cannot be in an id (ids name HDF5 datasets and "
            "scratch files)");
  EXPECT_EQ(error_of(with_id("..")),
            "t.toml:5:6: step '..': id: '..' names a folder; ids name HDF5 datasets and scratch "
            "files");
  EXPECT_EQ(error_of(with_id("a b.c-ü")), "");
}

TEST(JobChecks, InNamingNothingKnown) {
  EXPECT_EQ(
      error_of(job(kInput, "\n[[step]]\nid = \"s\"\nop = \"slope\"\nin = \"dme\"\n", kOutput)),
      "t.toml:7:6: step 's': in: 'dme' names no input or step (inputs: dem; steps: s)");
}

TEST(StepGraph, AStepMayReadAStepWrittenAfterIt) {
  const std::string steps =
      "\n[[step]]\nid = \"a\"\nop = \"slope\"\nin = \"slope\"\n" + std::string(kSlopeStep);
  const JobSpec spec = parse(job(kInput, steps, kOutput));
  ASSERT_EQ(spec.steps.size(), 2u);
  EXPECT_EQ(spec.steps[0].id, "a");  // the job keeps the file's order
  const StepGraph graph = make_step_graph(spec);
  EXPECT_EQ(graph.order, (std::vector<size_t>{1, 0}));  // what a step reads runs before it
  EXPECT_EQ(graph.reads, (std::vector<std::vector<size_t>>{{1}, {}}));
  const Plan plan = make_plan(spec, {dem()});
  EXPECT_EQ(plan.steps[0].id, "slope");  // the plan's steps are in the graph's order
  EXPECT_EQ(plan.steps[1].source, 0u);
  EXPECT_EQ(plan.outputs[0].steps, std::vector<size_t>{0});
}

TEST(StepGraph, AStepMayReadAnEarlierStep) {
  const std::string steps =
      std::string(kSlopeStep) + "\n[[step]]\nid = \"a\"\nop = \"aspect\"\nin = \"slope\"\n";
  EXPECT_EQ(error_of(job(kInput, steps, kOutput)), "");
  EXPECT_EQ(make_step_graph(parse(job(kInput, steps, kOutput))).order,
            (std::vector<size_t>{0, 1}));  // a file already in order keeps it
}

TEST(JobChecks, StepsReadingEachOtherInACycle) {
  const std::string two =
      "\n[[step]]\nid = \"slope\"\nop = \"slope\"\nin = \"b\"\n"
      "\n[[step]]\nid = \"b\"\nop = \"TPI\"\nin = \"slope\"\n";
  EXPECT_EQ(error_of(job(kInput, two, kOutput)),
            "t.toml:7:6: step 'slope': in: steps read each other in a cycle: slope -> b -> slope");
  const std::string itself = "\n[[step]]\nid = \"slope\"\nop = \"slope\"\nin = \"slope\"\n";
  EXPECT_EQ(error_of(job(kInput, itself, kOutput)),
            "t.toml:7:6: step 'slope': in: steps read each other in a cycle: slope -> slope");
}

TEST(JobChecks, ACycleThroughACalcExpressionPointsAtTheName) {
  // c reads slope in its expr (line 12, column 8 + 7), slope reads c through `in`; x, outside
  // the cycle, reads slope and waits for it.
  const std::string steps =
      "\n[[step]]\nid = \"x\"\nop = \"TPI\"\nin = \"slope\"\n"
      "\n[[step]]\nid = \"c\"\nop = \"calc\"\nexpr = \"dem + slope\"\n"
      "\n[[step]]\nid = \"slope\"\nop = \"slope\"\nin = \"c\"\n";
  EXPECT_EQ(error_of(job(kInput, steps, kOutput)),
            "t.toml:12:15: step 'c': expr: steps read each other in a cycle: c -> slope -> c");
}

TEST(JobChecks, ACalcNamingNothingListsTheInputsAndTheSteps) {
  const std::string steps =
      std::string(kSlopeStep) + "\n[[step]]\nid = \"c\"\nop = \"calc\"\nexpr = \"slpe > 30\"\n";
  EXPECT_EQ(error_of(job(kInput, steps, kOutput)),
            "t.toml:12:9: step 'c': option 'expr': column 1: unknown name 'slpe' (inputs: dem; "
            "steps: slope)");
  // A step is not among the names its own expression may read.
  const std::string itself =
      std::string(kSlopeStep) + "\n[[step]]\nid = \"c\"\nop = \"calc\"\nexpr = \"c + 1\"\n";
  EXPECT_EQ(error_of(job(kInput, itself, kOutput)),
            "t.toml:12:9: step 'c': option 'expr': column 1: unknown name 'c' (inputs: dem; steps: "
            "slope)");
}

TEST(StepGraph, ACalcMayNameStepsWrittenAfterIt) {
  const std::string steps =
      "\n[[step]]\nid = \"steep\"\nop = \"calc\"\n"
      "expr = \"slope > 30\"\ntype = \"uint8\"\n" +
      std::string(kSlopeStep);
  const StepGraph graph = make_step_graph(parse(job(kInput, steps, kOutput)));
  EXPECT_EQ(graph.order, (std::vector<size_t>{1, 0}));
  EXPECT_EQ(graph.reads[0], std::vector<size_t>{1});
}

TEST(StepGraph, AStatisticOfAStepPlacesItBefore) {
  // hi names slope only in max(slope): the whole of slope's band comes before hi runs.
  const std::string steps =
      "\n[[step]]\nid = \"hi\"\nop = \"calc\"\nexpr = \"dem / max(slope)\"\n" +
      std::string(kSlopeStep);
  const StepGraph graph = make_step_graph(parse(job(kInput, steps, kOutput)));
  EXPECT_EQ(graph.order, (std::vector<size_t>{1, 0}));
  EXPECT_EQ(graph.reads[0], std::vector<size_t>{1});
}

TEST(JobChecks, ACycleThroughAStatisticPointsAtTheCall) {
  const std::string steps =
      "\n[[step]]\nid = \"x\"\nop = \"TPI\"\nin = \"slope\"\n"
      "\n[[step]]\nid = \"c\"\nop = \"calc\"\nexpr = \"dem / max(slope)\"\n"
      "\n[[step]]\nid = \"slope\"\nop = \"slope\"\nin = \"c\"\n";
  EXPECT_EQ(error_of(job(kInput, steps, kOutput)),
            "t.toml:12:15: step 'c': expr: steps read each other in a cycle: c -> slope -> c");
}

TEST(JobChecks, UnknownOpListsTheKnownOnes) {
  const std::string message =
      error_of(job(kInput, "\n[[step]]\nid = \"s\"\nop = \"slop\"\nin = \"dem\"\n", kOutput));
  EXPECT_TRUE(message.starts_with("t.toml:6:6: step 's': unknown op 'slop' (expected one of: "))
      << message;
  EXPECT_TRUE(contains(message, "hillshade")) << message;
  EXPECT_TRUE(contains(message, "slope")) << message;
  EXPECT_TRUE(contains(message, "TRI")) << message;
}

TEST(JobChecks, OpOptionErrorsPointAtTheirKey) {
  const std::string bad_value =
      error_of(job(kInput, std::string(kSlopeStep) + "units = \"radians\"\n", kOutput));
  EXPECT_TRUE(bad_value.starts_with("t.toml:8:1: step 'slope': ")) << bad_value;
  EXPECT_TRUE(contains(bad_value, "units")) << bad_value;
  const std::string unknown = error_of(
      job(kInput, std::string(kSlopeStep) + "compute_edges = true\nazimuth = 3\n", kOutput));
  EXPECT_TRUE(unknown.starts_with("t.toml:9:1: step 'slope': ")) << unknown;
  EXPECT_TRUE(contains(unknown, "azimuth")) << unknown;
}

TEST(JobChecks, FromNamingUnknownSteps) {
  EXPECT_EQ(error_of(job(kInput, kSlopeStep,
                         "\n[[output]]\nfrom = [\"slope\", \"hs\"]\npath = \"o.tif\"\n")),
            "t.toml:10:18: output 1: from: 'hs' names no step (steps: slope)");
  EXPECT_EQ(error_of(job(kInput, kSlopeStep, "\n[[output]]\nfrom = []\npath = \"o.tif\"\n")),
            "t.toml:10:8: output 1: from: expected at least one string, found none");
  EXPECT_EQ(error_of(job(kInput, kSlopeStep,
                         "\n[[output]]\nfrom = [\"slope\", \"slope\"]\npath = \"o.tif\"\n")),
            "t.toml:10:18: output 1: from: step 'slope' listed twice");
}

TEST(JobChecks, TwoOutputsWithOnePath) {
  EXPECT_EQ(error_of(job(kInput, kSlopeStep, std::string(kOutput) + std::string(kOutput))),
            "t.toml:13:1: output 2: path '/jobs/out/slope.tif' is also the path of the output at "
            "t.toml:9:1");
}

TEST(JobChecks, TileMustBeAPositiveMultipleOf16) {
  const std::string base = job(kInput, kSlopeStep, kOutput) + "[run]\n";
  EXPECT_EQ(error_of(base + "tile = 500\n"),
            "t.toml:13:8: run: tile: expected a positive multiple of 16, found 500");
  EXPECT_EQ(error_of(base + "tile = 0\n"),
            "t.toml:13:8: run: tile: expected a positive multiple of 16, found 0");
  EXPECT_EQ(error_of(base + "tile = -16\n"),
            "t.toml:13:8: run: tile: expected a positive multiple of 16, found -16");
}

TEST(JobChecks, JobWithoutStepsOrOutputs) {
  EXPECT_EQ(error_of(std::string(kInput) + std::string(kOutput)),
            "t.toml:1:1: job has no [[step]] (expected at least one)");
  EXPECT_EQ(error_of(std::string(kInput) + std::string(kSlopeStep)),
            "t.toml:1:1: job has no [[output]] (expected at least one)");
}

TEST(StepGraph, AStepNoOutputUsesIsFine) {
  const std::string steps =
      std::string(kSlopeStep) + "\n[[step]]\nid = \"unused\"\nop = \"aspect\"\nin = \"dem\"\n";
  EXPECT_EQ(error_of(job(kInput, steps, kOutput)), "");
}

TEST(JobChecks, AnOpOfOneInputNeedsIn) {
  EXPECT_EQ(error_of(job(kInput, "\n[[step]]\nid = \"s\"\nop = \"slope\"\n", kOutput)),
            "t.toml:4:1: step 's': missing key 'in'");
}

TEST(JobChecks, ACalcTakesNoIn) {
  EXPECT_EQ(error_of(job(kInput,
                         "\n[[step]]\nid = \"slope\"\nop = \"calc\"\nin = \"dem\"\n"
                         "expr = \"dem\"\n",
                         kOutput)),
            "t.toml:7:6: step 'slope': in: calc reads the inputs its expr names; remove in");
}

TEST(StepGraph, AStepNamedTwiceInAnExpressionIsReadOnce) {
  const std::string steps =
      std::string(kSlopeStep) +
      "\n[[step]]\nid = \"c\"\nop = \"calc\"\nexpr = \"slope * slope + dem\"\n";
  const StepGraph graph = make_step_graph(parse(job(kInput, steps, kOutput)));
  EXPECT_EQ(graph.reads, (std::vector<std::vector<size_t>>{{}, {0}}));
  ASSERT_EQ(graph.ops.size(), 2u);
  EXPECT_EQ(graph.ops[1]->band_inputs().size(), 2u);  // slope and dem, each once
}

/// A job built in code, as the dem and calc commands build theirs: no file, no positions.
JobSpec built_job() {
  JobSpec job;
  job.inputs.push_back({"dem", "dem.tif", 1, {}, {}});
  job::StepSpec step;
  step.id = "slope";
  step.op = "slope";
  step.in = "dem";
  job.steps.push_back(step);
  job::OutputFileSpec output;
  output.from = {"slope"};
  output.path = "s.tif";
  job.outputs.push_back(output);
  return job;
}

std::string check_error(const JobSpec& job) {
  return test::message_of([&] { check_job(job); });
}

TEST(JobChecks, AJobBuiltInCodeIsCheckedByTheSameRulesWithoutPositions) {
  EXPECT_EQ(check_error(built_job()), "");
  JobSpec twice = built_job();
  twice.outputs[0].from = {"slope", "slope"};
  EXPECT_EQ(check_error(twice), "output 1: from: step 'slope' listed twice");
  JobSpec none = built_job();
  none.outputs[0].from.clear();
  EXPECT_EQ(check_error(none), "output 1: from: expected at least one step");
  JobSpec no_outputs = built_job();
  no_outputs.outputs.clear();
  EXPECT_EQ(check_error(no_outputs), "job has no [[output]] (expected at least one)");
  JobSpec tile = built_job();
  tile.run.tile = 100;
  EXPECT_EQ(check_error(tile), "run: tile: expected a positive multiple of 16, found 100");
  JobSpec duplicate = built_job();
  duplicate.steps.push_back(duplicate.steps[0]);
  EXPECT_EQ(check_error(duplicate), "duplicate step id 'slope'");
}

TEST(JobChecks, ACheckedJobStillFailsOnWhatOnlyMetadataShows) {
  JobSpec job = built_job();
  job.inputs[0].band = 2;
  EXPECT_EQ(check_error(job), "");
  EXPECT_THROW(make_plan(job, {dem()}), Error);  // dem.tif has one band
}

}  // namespace
}  // namespace tessera::plan
