// HDF5 outputs in job files and plans: the path picks the format, only deflate compresses.
#include <gtest/gtest.h>

#include <string>

#include "plan_fixture.hpp"
#include "tessera/core/error.hpp"
#include "tessera/plan/plan.hpp"

namespace tessera {
namespace {

constexpr std::string_view kJob = R"([input.dem]
path = "dem.tif"

[[step]]
id = "slope"
op = "slope"
in = "dem"

[[step]]
id = "hs"
op = "hillshade"
in = "dem"

[[output]]
from = ["slope"]
)";

job::JobSpec parse(std::string_view output) {
  return job::parse_job_text(std::string(kJob) + std::string(output), "t.toml", "");
}

std::string error_of(std::string_view output) {
  return test::message_of([&] { parse(output); });
}

RasterInfo dem() { return test::dem({100, 70}); }

TEST(Hdf5Output, ExtensionPicksTheFormat) {
  EXPECT_EQ(format_of_path("a/b.tif"), OutputFormat::GeoTiff);
  EXPECT_EQ(format_of_path("a/b.TIFF"), OutputFormat::GeoTiff);
  EXPECT_EQ(format_of_path("a/b.h5"), OutputFormat::Hdf5);
  EXPECT_EQ(format_of_path("b.HDF5"), OutputFormat::Hdf5);
  EXPECT_FALSE(format_of_path("b.nc"));
  EXPECT_FALSE(format_of_path("dir.h5/b"));
  EXPECT_FALSE(format_of_path("h5"));
}

TEST(Hdf5Output, JobFileTakesCompressAndLevel) {
  const auto job = parse("path = \"out/t.h5\"\ncompress = \"deflate\"\nlevel = 4\n");
  EXPECT_EQ(job.outputs[0].format, OutputFormat::Hdf5);
  EXPECT_EQ(job.outputs[0].creation_options,
            (std::vector<std::string>{"COMPRESS=DEFLATE", "ZLEVEL=4"}));
  EXPECT_TRUE(parse("path = \"t.h5\"\n").outputs[0].creation_options.empty());
}

TEST(Hdf5Output, JobFileRejectsWhatHdf5CannotDo) {
  EXPECT_EQ(error_of("path = \"t.h5\"\ncompress = \"zstd\"\n"),
            "t.toml:17:12: output 1: compress: expected none or deflate for HDF5, found 'zstd'");
  EXPECT_EQ(error_of("path = \"t.h5\"\ncompress = \"deflate\"\nlevel = 10\n"),
            "t.toml:18:9: output 1: level: expected 1 to 9 for HDF5's deflate, found 10");
  EXPECT_EQ(error_of("path = \"t.h5\"\nlevel = 3\n"),
            "t.toml:17:9: output 1: level: expected compress = \"deflate\" with a level");
  EXPECT_EQ(error_of("path = \"t.h5\"\npredictor = 2\n"),
            "t.toml:17:13: output 1: predictor: HDF5 outputs take compress and level only (a "
            ".tif takes predictor)");
  EXPECT_NE(error_of("path = \"t.h5\"\nco = [\"ZLEVEL=3\"]\n"), "");
}

TEST(Hdf5Output, PlanCarriesFormatNamesAndCompression) {
  const auto job = parse("path = \"t.h5\"\ncompress = \"deflate\"\nlevel = 3\n");
  const plan::Plan plan = plan::make_plan(job, {dem()});
  const OutputSpec& spec = plan.outputs[0].spec;
  EXPECT_EQ(spec.format, OutputFormat::Hdf5);
  EXPECT_EQ(spec.options.compression, Compression::Deflate);
  EXPECT_EQ(spec.options.deflate_level, 3);
  EXPECT_EQ(spec.band_descriptions, std::vector<std::string>{"slope"});
  EXPECT_EQ(spec.type, PixelType::Float32);
}

TEST(Hdf5Output, PlanDescribesTheFileAsHdf5) {
  const plan::Plan plan = plan::make_plan(parse("path = \"t.h5\"\n"), {dem()});
  const std::string text = plan.describe(1, 1);
  EXPECT_NE(text.find("t.h5: 1 band(s) of Float32, no compression, HDF5 (netCDF-4/CF)\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("TIFF"), std::string::npos) << text;
}

TEST(Hdf5Output, PlanRejectsGeoTiffOnlyOptionsFromTheCommandLine) {
  job::JobSpec job = parse("path = \"t.h5\"\n");
  job.outputs[0].creation_options = {"COMPRESS=ZSTD"};
  EXPECT_THROW(plan::make_plan(job, {dem()}), Error);
  job.outputs[0].creation_options = {"COMPRESS=DEFLATE", "ZLEVEL=12"};
  EXPECT_THROW(plan::make_plan(job, {dem()}), Error);
  job.outputs[0].creation_options = {"PREDICTOR=3"};
  EXPECT_THROW(plan::make_plan(job, {dem()}), Error);
  job.outputs[0].creation_options = {"COMPRESS=DEFLATE", "ZLEVEL=9"};
  EXPECT_NO_THROW(plan::make_plan(job, {dem()}));
}

}  // namespace
}  // namespace tessera
