// The outputs' paths are checked before any output is opened, and a job file's error points at
// the output's `path`.
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "io/io_test_util.hpp"
#include "output_checks.hpp"
#include "tessera/core/error.hpp"

namespace tessera::run {
namespace {

using io::test::TempDir;

job::JobSpec job_of(const std::string& input, const std::vector<std::string>& outputs) {
  job::JobSpec job;
  job.inputs.push_back({"dem", input, 1, {}, {}});
  for (size_t o = 0; o < outputs.size(); ++o) {
    job::OutputFileSpec output;
    output.path = outputs[o];
    output.path_where = {"job.toml", 10 + static_cast<int>(o), 8};
    job.outputs.push_back(output);
  }
  return job;
}

/// The message check_output_paths throws for `job`, or "" when it passes.
std::string problem_of(const job::JobSpec& job) {
  try {
    check_output_paths(job);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(OutputChecks, NewAndRegularFilesPass) {
  TempDir dir;
  std::ofstream(dir.file("dem.tif")) << "dem";
  std::ofstream(dir.file("old.tif")) << "old";
  EXPECT_EQ(problem_of(job_of(dir.file("dem.tif"), {dir.file("new.tif"), dir.file("old.tif")})),
            "");
}

TEST(OutputChecks, AFolderIsRefusedAtThePlaceOfItsPath) {
  TempDir dir;
  std::filesystem::create_directory(dir.file("x.tif"));
  EXPECT_EQ(problem_of(job_of(dir.file("dem.tif"), {dir.file("x.tif")})),
            "job.toml:10:8: " + dir.file("x.tif") +
                ": is a folder, not a regular file; tessera writes only regular files");
}

TEST(OutputChecks, TheInputsFileIsRefusedHoweverSpelt) {
  TempDir dir;
  const std::string dem = dir.file("dem.tif");
  std::ofstream(dem) << "dem";
  std::filesystem::create_hard_link(dem, dir.file("hard.tif"));
  EXPECT_EQ(problem_of(job_of(dem, {dir.file("./dem.tif")})),
            "job.toml:10:8: " + dir.file("./dem.tif") + ": is the same file as the input " + dem +
                "; an output never replaces an input");
  EXPECT_NE(problem_of(job_of(dem, {dir.file("hard.tif")})), "");
}

TEST(OutputChecks, InputsThatAreNotFilesAreNotCompared) {
  TempDir dir;
  std::ofstream(dir.file("x.tif")) << "x";
  EXPECT_EQ(problem_of(job_of("/vsizip/" + dir.file("x.zip") + "/x.tif", {dir.file("x.tif")})), "");
}

TEST(OutputChecks, TwoOutputsInOneFileAreRefused) {
  TempDir dir;
  std::ofstream(dir.file("a.tif")) << "a";
  std::filesystem::create_hard_link(dir.file("a.tif"), dir.file("b.tif"));
  EXPECT_EQ(problem_of(job_of(dir.file("dem.tif"), {dir.file("a.tif"), dir.file("b.tif")})),
            "job.toml:11:8: " + dir.file("b.tif") + ": is the same file as the output " +
                dir.file("a.tif") + "; each output needs a file of its own");
  EXPECT_NE(problem_of(job_of(dir.file("dem.tif"), {dir.file("n.tif"), dir.file("./n.tif")})), "");
}

}  // namespace
}  // namespace tessera::run
