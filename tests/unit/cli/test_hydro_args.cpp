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

// A flag that takes no value given one is refused where a flag is read, naming it; a path given
// to a flag is that flag's value, whatever it looks like (the check read every word, and refused
// `-fel --quiet=x.tif`).
TEST(HydroArgs, FlagsGivenValuesOnlyInAFlagsPlace) {
  EXPECT_EQ(usage_error({"fill", "-z", "d", "-fel", "f", "--quiet=false"}),
            "hydro: --quiet takes no value, got '--quiet=false': give the flag, or leave it out");
  EXPECT_EQ(usage_error({"flowdir", "-fel", "d", "-p", "p", "-q=1"}),
            "hydro: -q takes no value, got '-q=1': give the flag, or leave it out");
  EXPECT_EQ(usage_error({"fill", "-z", "d", "-fel", "f", "--restart=yes"}),
            "hydro: --restart takes no value, got '--restart=yes': give the flag, or leave it out");
  const auto fill = parse_hydro_args({"fill", "-z", "--resume=d.tif", "-fel", "--quiet=x.tif"});
  EXPECT_EQ(fill.job.inputs.at(0).path, "--resume=d.tif");
  EXPECT_EQ(fill.job.outputs.at(0).path, "--quiet=x.tif");
  EXPECT_EQ(parse_hydro_args({"watershed", "-p", "d", "-gw", "g", "-o", "-q=o.tif"})
                .job.inputs.at(1)
                .path,
            "-q=o.tif");
}

}  // namespace
}  // namespace tessera::cli
