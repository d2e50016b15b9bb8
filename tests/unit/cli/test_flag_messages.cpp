// A mistake in a value given on a command line is reported with the flag the user typed, not
// with the words of the job the command line became ("step 'calc': option 'expr'").
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tessera/cli/calc_args.hpp"
#include "tessera/cli/dem_args.hpp"
#include "tessera/core/error.hpp"
#include "tessera/plan/step_graph.hpp"

namespace tessera::cli {
namespace {

/// The message check_job gives for the job of a command line, or "" when it passes.
std::string job_error(const job::JobSpec& job) {
  try {
    plan::check_job(job);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string calc_error(std::vector<std::string> args) {
  std::vector<std::string> all{"-A", "a.tif", "--outfile", "/nonexistent/o.tif"};
  all.insert(all.end(), args.begin(), args.end());
  return job_error(parse_calc_args(all).job);
}

std::string dem_error(std::vector<std::string> args) { return job_error(parse_dem_args(args).job); }

TEST(FlagMessages, CalcNamesTheFlagOfEachValue) {
  EXPECT_EQ(calc_error({"--calc", "A+"}),
            "--calc: column 3: expected a number, a name or '(' but found the end of the "
            "expression");
  EXPECT_EQ(calc_error({"--calc", "B"}), "--calc: column 1: unknown name 'B' (inputs: A)");
  EXPECT_EQ(calc_error({"--calc", "A", "--type", "Foo"}),
            "--type: unknown pixel type 'Foo' (expected Byte, UInt16, Int16, UInt32, Int32, "
            "Float32 or Float64)");
  EXPECT_EQ(calc_error({"--calc", "A", "--type", "Byte", "--NoDataValue", "2.5"}),
            "--NoDataValue: 2.5 does not fit a Byte output (expected whole numbers from 0 to 255)");
  EXPECT_EQ(calc_error({"--calc", "A", "--co", "BLOCKXSIZE=17"}),
            "--co BLOCKXSIZE: expected a positive multiple of 16, found 17");
}

TEST(FlagMessages, SeveralCalcsAreNumbered) {
  EXPECT_EQ(calc_error({"--calc", "A", "--calc", "A $ 2"}),
            "--calc #2: column 3: unexpected character '$'");
}

TEST(FlagMessages, DemNamesGdaldemsFlags) {
  EXPECT_EQ(dem_error({"slope", "in.tif", "out.tif", "-s", "0"}), "-s: must not be zero");
  EXPECT_EQ(dem_error({"hillshade", "in.tif", "out.tif", "-alg", "Sobel"}),
            "-alg: must be Horn or ZevenbergenThorne");
  EXPECT_EQ(dem_error({"slope", "in.tif", "out.tif", "-co", "BLOCKYSIZE=8"}),
            "-co BLOCKYSIZE: expected a positive multiple of 16, found 8");
}

TEST(FlagMessages, APositionalArgumentIsNamedByItsValue) {
  EXPECT_EQ(dem_error({"color-relief", "in.tif", "/nonexistent/colors.txt", "out.tif"}),
            "color file '/nonexistent/colors.txt': cannot open it");
}

TEST(FlagMessages, AJobFileStillSpeaksOfStepsAndOptions) {
  job::JobSpec job = parse_calc_args({"-A", "a.tif", "--calc", "B", "--outfile", "o.tif"}).job;
  job.steps[0].option_where.clear();
  job.steps[0].where = {"j.toml", 3, 1};
  EXPECT_EQ(job_error(job),
            "j.toml:3:1: step 'calc': option 'expr': column 1: unknown name 'B' (inputs: A)");
}

}  // namespace
}  // namespace tessera::cli
