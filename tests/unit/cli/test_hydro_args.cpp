// `tessera hydro`'s flags of the run: where fill keeps its tiles between the passes, and its
// rasters' flags.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tessera/cli/hydro_args.hpp"
#include "tessera/core/error.hpp"

namespace tessera::cli {
namespace {

std::string usage_error(const std::vector<std::string>& args) {
  try {
    parse_hydro_args(args);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "no error";
}

TEST(HydroArgs, ScratchFolderOrNone) {
  EXPECT_FALSE(parse_hydro_args({"fill", "-z", "d.tif", "-fel", "f.tif"}).job.run.scratch);
  const auto kept = parse_hydro_args({"fill", "-z", "d.tif", "-fel", "f.tif", "--scratch", "/s"});
  EXPECT_EQ(kept.job.run.scratch, "/s");
  EXPECT_EQ(kept.job.run.scratch_where.flag, "--scratch");
  const auto none = parse_hydro_args({"fill", "-z", "d.tif", "-fel", "f.tif", "--no-scratch"});
  EXPECT_EQ(none.job.run.scratch, "");
}

TEST(HydroArgs, ScratchFlagsAreRefusedTwiceOrEmpty) {
  EXPECT_EQ(usage_error({"fill", "-z", "d", "-fel", "f", "--scratch", "/s", "--no-scratch"}),
            "give one of --scratch DIR and --no-scratch, once");
  EXPECT_EQ(usage_error({"fill", "-z", "d", "-fel", "f", "--scratch", ""}),
            "--scratch expects a folder");
  EXPECT_EQ(usage_error({"fill", "-z", "d", "-fel", "f", "--scratch", "-q"}),
            "--scratch expects a folder, not '-q'");
}

// Taken and of no effect: only fill keeps tiles between its passes.
TEST(HydroArgs, ScratchFlagsOnToolsThatKeepNoTiles) {
  EXPECT_EQ(usage_error({"flowdir", "-fel", "d", "-p", "p", "--scratch", "/s"}),
            "--scratch: hydro flowdir keeps no tiles between passes (only hydro fill does); leave "
            "it out");
  EXPECT_EQ(usage_error({"watershed", "-p", "d", "-gw", "g", "--no-scratch"}),
            "--no-scratch: hydro watershed keeps no tiles between passes (only hydro fill does); "
            "leave it out");
  EXPECT_NE(usage_error({"flowacc", "-p", "d", "-ad8", "a", "--scratch", "/s"}), "no error");
}

// The last of two was taken: an output the user named was not written, or another input read.
TEST(HydroArgs, PathFlagsAreRefusedTwice) {
  EXPECT_EQ(usage_error({"fill", "-z", "d", "-fel", "a.tif", "-fel", "b.tif"}),
            "-fel given twice ('a.tif', 'b.tif'): a raster each, given once");
  EXPECT_EQ(usage_error({"fill", "-z", "x", "-z", "d", "-fel", "f"}),
            "-z given twice ('x', 'd'): a raster each, given once");
  EXPECT_NE(usage_error({"flowacc", "-p", "d", "-ad8", "a", "-wg", "w", "-wg", "v"}), "no error");
}

// fill's --epsilon is the step's option epsilon = true, which the planner makes four passes of.
TEST(HydroArgs, EpsilonOnFillOnly) {
  const auto fill = parse_hydro_args({"fill", "-z", "d.tif", "-fel", "f.tif", "--epsilon"});
  ASSERT_EQ(fill.job.steps.size(), 1u);
  EXPECT_EQ(fill.job.steps[0].options.at("epsilon"), ops::OptionValue(true));
  EXPECT_EQ(fill.job.steps[0].option_where.at("epsilon").flag, "--epsilon");
  EXPECT_FALSE(parse_hydro_args({"fill", "-z", "d.tif", "-fel", "f.tif"})
                   .job.steps[0]
                   .options.contains("epsilon"));
  EXPECT_EQ(usage_error({"flowdir", "-fel", "d", "-p", "p", "--epsilon"}),
            "unknown flag '--epsilon' for hydro flowdir (see tessera hydro --help)");
}

}  // namespace
}  // namespace tessera::cli
