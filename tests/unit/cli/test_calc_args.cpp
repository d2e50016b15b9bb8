// gdal_calc.py's command line turned into a job: inputs A-Z with bands, one calc step per --calc,
// one output, and the errors of a bad command line.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "tessera/cli/calc_args.hpp"
#include "tessera/core/error.hpp"

namespace tessera::cli {
namespace {

TEST(CalcArgs, BothSpellingsOfValuesAndOneStepPerCalc) {
  const auto c =
      parse_calc_args({"-A", "nir.tif", "--A_band=4", "-B", "red.tif", "--calc", "(A-B)/(A+B)",
                       "--calc=A*(A>B)", "--outfile=/nonexistent/o.h5", "--type", "Int16",
                       "--NoDataValue=-9999", "--co", "ZLEVEL=5", "--co=BLOCKXSIZE=256", "-q"});
  const auto& job = c.job;
  ASSERT_EQ(job.inputs.size(), 2u);
  EXPECT_EQ(job.inputs[0].name, "A");
  EXPECT_EQ(job.inputs[0].path, "nir.tif");
  EXPECT_EQ(job.inputs[0].band, 4);
  EXPECT_EQ(job.inputs[1].band, 1);
  ASSERT_EQ(job.steps.size(), 2u);
  EXPECT_EQ(job.steps[0].op, "calc");
  EXPECT_EQ(std::get<std::string>(job.steps[0].options.at("expr")), "(A-B)/(A+B)");
  EXPECT_EQ(std::get<std::string>(job.steps[1].options.at("expr")), "A*(A>B)");
  EXPECT_EQ(std::get<std::string>(job.steps[1].options.at("type")), "Int16");
  EXPECT_EQ(std::get<double>(job.steps[1].options.at("nodata")), -9999);
  ASSERT_EQ(job.outputs.size(), 1u);
  EXPECT_EQ(job.outputs[0].from, (std::vector<std::string>{"calc_1", "calc_2"}));
  EXPECT_EQ(job.outputs[0].format, OutputFormat::Hdf5);
  EXPECT_EQ(job.outputs[0].creation_options,
            (std::vector<std::string>{"ZLEVEL=5", "BLOCKXSIZE=256"}));
  EXPECT_EQ(job.run.tile, 256);
  EXPECT_TRUE(c.quiet);
}

TEST(CalcArgs, FormatFlagWinsOverTheExtension) {
  const auto c = parse_calc_args(
      {"-A", "a.tif", "--calc", "A", "--outfile", "/nonexistent/o.h5", "--format", "GTiff"});
  EXPECT_EQ(c.job.outputs[0].format, OutputFormat::GeoTiff);
  EXPECT_EQ(c.job.steps[0].id, "calc");
  EXPECT_EQ(c.job.steps[0].options.count("nodata"), 0u);
}

std::string usage_error(const std::vector<std::string>& args) {
  try {
    parse_calc_args(args);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(CalcArgs, BadCommandLinesAreUsageErrors) {
  EXPECT_EQ(usage_error({"-A", "a.tif", "--outfile", "o.tif"}), "missing --calc (the expression)");
  EXPECT_EQ(usage_error({"-A", "a.tif", "--calc", "A"}), "missing --outfile");
  EXPECT_EQ(usage_error({"-A", "a.tif", "--calc", "A", "--outfile", "o.tif", "--format", "GTiff",
                         "-of", "COG"}),
            "-of given twice ('GTiff', 'COG'): one format");
  EXPECT_EQ(usage_error({"--calc", "A", "--outfile", "o.tif"}), "missing an input (-A FILE)");
  EXPECT_EQ(usage_error({"-A", "a.tif", "--calc", "A", "--outfile", "o.tif", "--allBands", "A"}),
            "unknown flag '--allBands' (see tessera calc --help)");
  EXPECT_EQ(usage_error({"-A", "a.tif", "--calc"}), "--calc expects a value");
  EXPECT_EQ(usage_error({"-A", "a.tif", "--B_band=2", "--calc", "A", "--outfile", "o.tif"}),
            "--B_band given without -B");
  EXPECT_EQ(usage_error({"-A", "a.tif", "--A_band", "0", "--calc", "A", "--outfile", "o.tif"}),
            "--A_band expects a band number from 1");
  EXPECT_EQ(usage_error({"-A", "a.tif", "--calc", "A", "--outfile", "o.tif", "--format", "PNG"}),
            "--format PNG: tessera calc writes GTiff, COG or HDF5");
  EXPECT_EQ(usage_error({"-A", "a.tif", "--calc", "A", "--outfile", "o.tif", "--overwrite=yes"}),
            "--overwrite takes no value");
}

TEST(CalcArgs, AnExistingOutfileNeedsOverwrite) {
  const std::string path = ::testing::TempDir() + "tessera_calc_args_exists.tif";
  std::ofstream(path) << "x";
  const std::vector<std::string> args{"-A", "a.tif", "--calc", "A", "--outfile", path};
  try {
    parse_calc_args(args);
    FAIL() << "no error";
  } catch (const UsageError&) {
    FAIL() << "a usage error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "--outfile: '" + path + "' exists (use --overwrite to replace it)");
  }
  auto with_overwrite = args;
  with_overwrite.push_back("--overwrite");
  EXPECT_EQ(parse_calc_args(with_overwrite).job.outputs[0].path, path);
  std::remove(path.c_str());
}

TEST(CalcArgs, WithoutTypeTheTypeComesFromTheInputsAsGdalCalcPy) {
  auto c = parse_calc_args({"-A", "a.tif", "-B", "b.tif", "-C", "c.tif", "--calc", "A+B", "--calc",
                            "A", "--outfile", "/nonexistent/o.tif"});
  EXPECT_TRUE(c.type_from_inputs);
  EXPECT_EQ(c.job.steps[0].options.count("type"), 0u);
  // C is not read by any expression, yet gdal_calc.py counts it, as tessera does.
  set_default_type(c, {PixelType::Byte, PixelType::UInt16, PixelType::Int16});
  EXPECT_FALSE(c.type_from_inputs);
  for (const auto& step : c.job.steps)
    EXPECT_EQ(std::get<std::string>(step.options.at("type")), "Int32");
  EXPECT_EQ(c.job.steps[0].options.count("nodata"), 0u);  // gdal_calc.py's for Int32
}

TEST(CalcArgs, AGivenTypeIsKept) {
  const auto c = parse_calc_args(
      {"-A", "a.tif", "--calc", "A", "--outfile", "/nonexistent/o.tif", "--type", "Byte"});
  EXPECT_FALSE(c.type_from_inputs);
  EXPECT_EQ(std::get<std::string>(c.job.steps[0].options.at("type")), "Byte");
}

TEST(CalcArgs, ADefaultTypeOfInt64IsAnError) {
  auto c = parse_calc_args(
      {"-A", "a.tif", "-B", "b.tif", "--calc", "A", "--outfile", "/nonexistent/o.tif"});
  try {
    set_default_type(c, {PixelType::UInt32, PixelType::Int16});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "--type: gdal_calc.py's default for input B (Int16) with UInt32 inputs is Int64, "
              "which tessera does not write; give --type");
  }
}

}  // namespace
}  // namespace tessera::cli
