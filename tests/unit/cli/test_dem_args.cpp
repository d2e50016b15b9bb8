// gdaldem's command line parsed into a one-step job, and its usage errors.
#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "tessera/cli/dem_args.hpp"
#include "tessera/core/error.hpp"

namespace tessera::cli {
namespace {

std::string usage_error(const std::vector<std::string>& args) {
  try {
    parse_dem_args(args);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "no error";
}

TEST(DemArgs, HillshadeWithFlagsAnywhere) {
  const auto command = parse_dem_args(
      {"hillshade", "-z", "2", "dem.tif", "-co", "COMPRESS=ZSTD", "hs.tif", "-az", "200", "-q"});
  const auto& job = command.job;
  ASSERT_EQ(job.inputs.size(), 1u);
  EXPECT_EQ(job.inputs[0].path, "dem.tif");
  EXPECT_EQ(job.inputs[0].band, 1);
  ASSERT_EQ(job.steps.size(), 1u);
  EXPECT_EQ(job.steps[0].op, "hillshade");
  EXPECT_EQ(std::get<double>(job.steps[0].options.at("z")), 2.0);
  EXPECT_EQ(std::get<double>(job.steps[0].options.at("azimuth")), 200.0);
  ASSERT_EQ(job.outputs.size(), 1u);
  EXPECT_EQ(job.outputs[0].path, "hs.tif");
  EXPECT_EQ(job.outputs[0].creation_options, std::vector<std::string>{"COMPRESS=ZSTD"});
  EXPECT_TRUE(command.quiet);
}

TEST(DemArgs, SlopePercentAndBand) {
  const auto command =
      parse_dem_args({"slope", "-p", "-b", "2", "-compute_edges", "in.tif", "out.tif"});
  EXPECT_EQ(std::get<std::string>(command.job.steps[0].options.at("units")), "percent");
  EXPECT_TRUE(std::get<bool>(command.job.steps[0].options.at("compute_edges")));
  EXPECT_EQ(command.job.inputs[0].band, 2);
}

TEST(DemArgs, ColorReliefTakesTheColourFileBetweenInputAndOutput) {
  const auto command =
      parse_dem_args({"color-relief", "dem.tif", "colors.txt", "out.tif", "-alpha"});
  EXPECT_EQ(std::get<std::string>(command.job.steps[0].options.at("color_file")), "colors.txt");
  EXPECT_EQ(command.job.outputs[0].path, "out.tif");
}

TEST(DemArgs, FlagsOfOtherModesAreIgnoredWithAWarning) {
  const auto command = parse_dem_args({"slope", "-z", "3", "in.tif", "out.tif"});
  EXPECT_EQ(command.job.steps[0].options.count("z"), 0u);
  ASSERT_EQ(command.warnings.size(), 1u);
  EXPECT_NE(command.warnings[0].find("'z' has no effect on slope"), std::string::npos);
}

TEST(DemArgs, NegativeNumbersAreValuesNotFlags) {
  const auto command = parse_dem_args({"hillshade", "-alt", "-10", "in.tif", "out.tif"});
  EXPECT_EQ(std::get<double>(command.job.steps[0].options.at("altitude")), -10.0);
}

TEST(DemArgs, OutputFormatFromOfOrTheExtension) {
  using tessera::OutputFormat;
  EXPECT_EQ(parse_dem_args({"slope", "a.tif", "b.tif"}).job.outputs[0].format,
            OutputFormat::GeoTiff);
  EXPECT_EQ(parse_dem_args({"slope", "a.tif", "b.H5"}).job.outputs[0].format, OutputFormat::Hdf5);
  EXPECT_EQ(parse_dem_args({"slope", "-of", "hdf5", "a.tif", "b.out"}).job.outputs[0].format,
            OutputFormat::Hdf5);
  EXPECT_EQ(parse_dem_args({"slope", "-of", "GTiff", "a.tif", "b.h5"}).job.outputs[0].format,
            OutputFormat::GeoTiff);
}

TEST(DemArgs, ReportTakesAPath) {
  EXPECT_EQ(parse_dem_args({"slope", "dem.tif", "s.tif", "--report", "r.json"}).report, "r.json");
  EXPECT_EQ(parse_dem_args({"slope", "dem.tif", "s.tif"}).report, "");
  EXPECT_EQ(usage_error({"slope", "dem.tif", "s.tif", "--report"}), "--report expects a value");
}

TEST(DemArgs, UsageErrorsNameTheCulprit) {
  EXPECT_EQ(usage_error({"hillshade", "-zz", "in.tif", "out.tif"}),
            "unknown flag '-zz' (see tessera dem --help)");
  EXPECT_EQ(usage_error({"hillshade", "in.tif", "out.tif", "-z"}), "-z expects a value");
  EXPECT_EQ(usage_error({"hillshade", "-z", "steep", "in.tif", "out.tif"}),
            "-z expects a number, got 'steep'");
  EXPECT_EQ(usage_error({"hillshade", "in.tif"}), "hillshade expects INPUT OUTPUT");
  EXPECT_EQ(usage_error({"color-relief", "in.tif", "out.tif"}),
            "color-relief expects INPUT COLOR_FILE OUTPUT");
  EXPECT_EQ(usage_error({"slope", "a.tif", "b.tif", "c.tif"}), "unexpected argument 'c.tif'");
  EXPECT_EQ(usage_error({"slope", "-of", "PNG", "a.tif", "b.tif"}),
            "-of PNG: tessera dem writes GTiff, COG or HDF5");
  // Taken as the last, without a word.
  EXPECT_EQ(usage_error({"slope", "-of", "GTIFF", "-of", "COG", "a.tif", "b.tif"}),
            "-of given twice ('GTIFF', 'COG'): one format");
  EXPECT_EQ(usage_error({"hillshade", "-multidirectional", "-az", "10", "a.tif", "b.tif"}),
            "-multidirectional and -az cannot be used together");
  EXPECT_EQ(usage_error({"hillshade", "-igor", "-alt", "10", "a.tif", "b.tif"}),
            "-igor and -alt cannot be used together");
  EXPECT_EQ(usage_error({}), "missing the mode (see tessera dem --help)");
  EXPECT_EQ(usage_error({"shine", "a.tif", "b.tif"}),
            "unknown mode 'shine' (expected hillshade, slope, aspect, TRI, TPI, roughness or "
            "color-relief)");
}

}  // namespace
}  // namespace tessera::cli
