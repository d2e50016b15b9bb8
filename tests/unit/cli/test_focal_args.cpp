// `tessera focal`'s command line parsed into a one-step job, and its usage errors.
#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "tessera/cli/focal_args.hpp"
#include "tessera/core/error.hpp"

namespace tessera::cli {
namespace {

std::string usage_error(const std::vector<std::string>& args) {
  try {
    parse_focal_args(args);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "no error";
}

TEST(FocalArgs, MethodWindowAndOutput) {
  const auto command = parse_focal_args(
      {"stddev", "dem.tif", "--size", "5", "sd.h5", "--circle", "-co", "COMPRESS=DEFLATE", "-q"});
  const auto& job = command.job;
  ASSERT_EQ(job.steps.size(), 1u);
  EXPECT_EQ(job.steps[0].op, "focal.stddev");
  EXPECT_EQ(job.steps[0].in, "input");
  EXPECT_EQ(std::get<double>(job.steps[0].options.at("size")), 5.0);
  EXPECT_TRUE(std::get<bool>(job.steps[0].options.at("circle")));
  EXPECT_EQ(job.inputs.at(0).path, "dem.tif");
  EXPECT_EQ(job.outputs.at(0).path, "sd.h5");
  EXPECT_EQ(job.outputs.at(0).format, OutputFormat::Hdf5);
  EXPECT_TRUE(command.quiet);
}

TEST(FocalArgs, GrassNamesPickTheSameOps) {
  EXPECT_EQ(parse_focal_args({"average", "a", "b", "--radius", "2"}).job.steps[0].op, "focal.mean");
  EXPECT_EQ(parse_focal_args({"majority", "a", "b", "--radius", "2"}).job.steps[0].op,
            "focal.mode");
  EXPECT_EQ(parse_focal_args({"variety", "a", "b", "--radius", "2"}).job.steps[0].op,
            "focal.diversity");
  const auto perc = parse_focal_args({"perc", "a", "b", "--size", "3", "--percentile", "90"});
  EXPECT_EQ(perc.job.steps[0].op, "focal.percentile");
  EXPECT_EQ(std::get<double>(perc.job.steps[0].options.at("percentile")), 90.0);
  const auto w = parse_focal_args({"sum", "a", "b", "--size", "3", "--weights", "k.txt"});
  EXPECT_EQ(std::get<std::string>(w.job.steps[0].options.at("weights_file")), "k.txt");
}

TEST(FocalArgs, UsageErrors) {
  EXPECT_EQ(usage_error({}), "missing the method (see tessera focal --help)");
  EXPECT_EQ(usage_error({"mean", "a", "b"}), "give the window: --size N (odd) or --radius R");
  EXPECT_EQ(usage_error({"mean", "a", "--size", "3"}), "mean expects INPUT OUTPUT");
  EXPECT_EQ(usage_error({"mean", "a", "b", "c", "--size", "3"}), "unexpected argument 'c'");
  EXPECT_EQ(usage_error({"mean", "a", "b", "--size"}), "--size expects a value");
  EXPECT_EQ(usage_error({"mean", "a", "b", "--size", "3", "--bogus"}),
            "unknown flag '--bogus' (see tessera focal --help)");
  EXPECT_EQ(usage_error({"blur", "a", "b", "--size", "3"}).rfind("unknown focal method 'blur'", 0),
            0u);
}

}  // namespace
}  // namespace tessera::cli
