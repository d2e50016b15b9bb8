// calc steps in jobs and plans: expression errors at the file's line and column, the bands a
// step reads (each once, in its own type), grid mismatches listing every difference.
#include <gtest/gtest.h>

#include <string>

#include "plan_fixture.hpp"
#include "tessera/core/error.hpp"
#include "tessera/plan/plan.hpp"
#include "tessera/plan/step_graph.hpp"

namespace tessera::plan {
namespace {

RasterInfo band_info(const std::string& path, PixelType type, int bands = 1) {
  RasterInfo info;
  info.path = path;
  info.band_count = bands;
  info.size = {700, 300};
  info.type = type;
  info.nodata = 65535;
  info.has_geotransform = true;
  info.geotransform = {500000, 30, 0, 4200000, 0, -30};
  info.crs_wkt = "PROJCRS[\"WGS 84 / UTM zone 12N\"]";
  for (int b = 1; b <= bands; ++b) {
    info.band_types.push_back(b == 2 ? PixelType::Int16 : type);
    info.band_nodata.push_back(b == 2 ? std::optional<double>(-1) : info.nodata);
  }
  return info;
}

std::string job_text(const std::string& expr, const std::string& extra = "") {
  return "[input.nir]\npath = \"b5.tif\"\n[input.red]\npath = \"b4.tif\"\n\n"
         "[[step]]\nid = \"ndvi\"\nop = \"calc\"\nexpr = \"" +
         expr + "\"\n" + extra + "\n[[output]]\nfrom = \"ndvi\"\npath = \"ndvi.tif\"\n";
}

job::JobSpec parse(const std::string& text) { return job::parse_job_text(text, "ndvi.toml", ""); }

/// The message reading and checking `text` fails with, or "" when it does not fail.
std::string job_error(const std::string& text) {
  return test::message_of([&] { check_job(parse(text)); });
}

std::string plan_error(const job::JobSpec& job, const std::vector<RasterInfo>& inputs) {
  return test::message_of([&] { make_plan(job, inputs); });
}

TEST(CalcJob, ASyntaxErrorPointsAtTheLineAndTheExpressionsCharacter) {
  // expr = "..." is line 9; its text starts at column 9, so its 22nd character is column 30.
  EXPECT_EQ(job_error(job_text("(nir - red) / (nir + rde)")),
            "ndvi.toml:9:30: step 'ndvi': option 'expr': column 22: unknown name 'rde' "
            "(inputs: nir, red)");
  EXPECT_EQ(job_error(job_text("(nir - red) / (nir + red")),
            "ndvi.toml:9:33: step 'ndvi': option 'expr': column 25: expected ')' but found the end "
            "of the expression");
}

TEST(CalcJob, OptionsAreChecked) {
  EXPECT_EQ(job_error(job_text("nir", "type = \"complex\"\n"))
                .rfind("ndvi.toml:10:1: step 'ndvi': "
                       "option 'type': ",
                       0),
            0u);
  EXPECT_EQ(job_error(job_text("nir", "in = \"nir\"\n")),
            "ndvi.toml:10:6: step 'ndvi': in: calc reads the inputs its expr names; remove in");
  EXPECT_NE(job_error(job_text("nir", "scale = 2\n")).find("unknown option 'scale' for calc"),
            std::string::npos);
}

TEST(CalcJob, ANodataTheOutputTypeCannotHoldIsRefusedAtItsKey) {
  // Byte would store 2.5 as 3 and 300 as 255: nodata cells would become data.
  EXPECT_EQ(job_error(job_text("nir", "type = \"byte\"\nnodata = 2.5\n")),
            "ndvi.toml:11:1: step 'ndvi': option 'nodata': 2.5 does not fit a Byte output "
            "(expected whole numbers from 0 to 255)");
  EXPECT_EQ(job_error(job_text("nir", "type = \"byte\"\nnodata = 300\n")),
            "ndvi.toml:11:1: step 'ndvi': option 'nodata': 300 does not fit a Byte output "
            "(expected whole numbers from 0 to 255)");
  EXPECT_EQ(job_error(job_text("nir", "type = \"int16\"\nnodata = -32769\n")),
            "ndvi.toml:11:1: step 'ndvi': option 'nodata': -32769 does not fit a Int16 output "
            "(expected whole numbers from -32768 to 32767)");
  EXPECT_NE(job_error(job_text("nir", "nodata = 1e40\n")).find("1e+40 does not fit a Float32"),
            std::string::npos);
}

TEST(CalcJob, ANodataTheOutputTypeHoldsIsKept) {
  EXPECT_EQ(job_error(job_text("nir", "type = \"byte\"\nnodata = 255\n")), "");
  EXPECT_EQ(job_error(job_text("nir", "type = \"uint32\"\nnodata = 4294967295\n")), "");
  EXPECT_EQ(job_error(job_text("nir", "nodata = 0.1\n")), "");  // Float32: rounded, as GDAL
}

TEST(ReclassifyJob, ANodataTheOutputTypeCannotHoldIsRefused) {
  const std::string text =
      "[input.dem]\npath = \"dem.tif\"\n[[step]]\nid = \"c\"\nop = \"reclassify\"\n"
      "in = \"dem\"\ntable = \"0..10=1\"\ntype = \"uint16\"\nnodata = -1\n"
      "[[output]]\nfrom = \"c\"\npath = \"c.tif\"\n";
  EXPECT_EQ(job_error(text),
            "ndvi.toml:9:1: step 'c': option 'nodata': -1 does not fit a UInt16 "
            "output (expected whole numbers from 0 to 65535)");
}

TEST(CalcPlan, EachBandIsReadOnceInItsOwnType) {
  const Plan plan = make_plan(
      parse(job_text("(nir - red) / (nir + red) + nir[2]", "type = \"int16\"\n")),
      {band_info("b5.tif", PixelType::UInt16, 2), band_info("b4.tif", PixelType::UInt16)});
  ASSERT_EQ(plan.bands.size(), 3u);
  EXPECT_EQ(plan.steps[0].bands, (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(plan.bands[0].input, 0u);
  EXPECT_EQ(plan.bands[0].band, 1);
  EXPECT_EQ(plan.bands[0].type, PixelType::UInt16);
  EXPECT_EQ(plan.bands[0].nodata, 65535);
  EXPECT_EQ(plan.bands[1].input, 1u);
  EXPECT_EQ(plan.bands[2].band, 2);
  EXPECT_EQ(plan.bands[2].type, PixelType::Int16);
  EXPECT_EQ(plan.bands[2].nodata, -1);
  EXPECT_EQ(plan.halo, 0);
  const auto& spec = plan.outputs[0].spec;
  EXPECT_EQ(spec.type, PixelType::Int16);
  EXPECT_EQ(spec.nodata, -32768);  // gdal_calc.py's default for Int16
  EXPECT_EQ(spec.size, (Extent{700, 300}));
  EXPECT_NE(plan.describe(1, 1).find("  ndvi: op calc reads nir band 1 (UInt16), red band 1 "
                                     "(UInt16), nir band 2 (Int16), halo 0, gives 1 band(s) of "
                                     "Int16\n"),
            std::string::npos)
      << plan.describe(1, 1);
}

TEST(CalcPlan, TheOutputTakesTheGivenNodata) {
  const Plan plan =
      make_plan(parse(job_text("nir - red", "type = \"float64\"\nnodata = -9999\n")),
                {band_info("b5.tif", PixelType::UInt16), band_info("b4.tif", PixelType::UInt16)});
  EXPECT_EQ(plan.outputs[0].spec.type, PixelType::Float64);
  EXPECT_EQ(plan.outputs[0].spec.nodata, -9999);
}

TEST(CalcPlan, ABandThatDoesNotExistIsNamed) {
  EXPECT_EQ(plan_error(parse(job_text("nir[3] - red")), {band_info("b5.tif", PixelType::UInt16, 2),
                                                         band_info("b4.tif", PixelType::UInt16)}),
            "ndvi.toml:9:1: step 'ndvi': option 'expr': nir[3]: band 3 does not exist in 'b5.tif' "
            "(it has 2)");
}

TEST(CalcPlan, AnExpressionOfNoInputHasNoGrid) {
  EXPECT_EQ(
      plan_error(parse(job_text("1 + 2")),
                 {band_info("b5.tif", PixelType::UInt16), band_info("b4.tif", PixelType::UInt16)}),
      "ndvi.toml:9:1: step 'ndvi': option 'expr': the expression reads no input (it needs one "
      "to give the output's grid)");
}

TEST(CalcPlan, InputsOffTheGridListEveryDifference) {
  RasterInfo red = band_info("b4.tif", PixelType::UInt16);
  red.size = {701, 300};
  red.geotransform[0] = 500030;
  red.crs_wkt = "PROJCRS[\"WGS 84 / UTM zone 13N\"]";
  const std::string error =
      plan_error(parse(job_text("nir - red")), {band_info("b5.tif", PixelType::UInt16), red});
  EXPECT_EQ(error.rfind("ndvi.toml:3:1: input 'red' is not on the grid of input 'nir' "
                        "(ndvi.toml:1:1): size 701 x 300 vs 700 x 300; geotransform (500030.",
                        0),
            0u)
      << error;
  EXPECT_NE(error.find("vs (500000."), std::string::npos) << error;
  EXPECT_NE(error.find("; crs differs"), std::string::npos) << error;
}

TEST(CalcPlan, AnInputTheExpressionDoesNotReadNeedNotBeOnTheGrid) {
  RasterInfo red = band_info("b4.tif", PixelType::UInt16);
  red.size = {10, 10};
  EXPECT_EQ(plan_error(parse(job_text("nir * 2")), {band_info("b5.tif", PixelType::UInt16), red}),
            "");
}

}  // namespace
}  // namespace tessera::plan
