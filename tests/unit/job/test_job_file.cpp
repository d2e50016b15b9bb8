// Job files: a valid file becomes the expected JobSpec; every mistake names its line and column.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "job_text.hpp"
#include "tessera/core/error.hpp"
#include "tessera/job/job_spec.hpp"

namespace tessera::job {
namespace {

JobSpec parse(std::string_view text) { return parse_job_text(text, "t.toml", "/jobs"); }

/// The message parsing `text` fails with, or "" when it does not fail.
std::string error_of(std::string_view text) {
  try {
    parse(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

using test::job;
using test::kInput;
using test::kOutput;
using test::kSlopeStep;

TEST(JobFile, ValidJobParsesToTheExpectedSpec) {
  const JobSpec spec = parse(R"([input.dem]
path = "../data/dem.tif"
band = 2

[[step]]
id = "hs"
op = "hillshade"
in = "dem"
z = 2
azimuth = 300.5
combined = true
compute_edges = false

[[step]]
id = "slope"
op = "slope"
in = "dem"
units = "percent"

[[output]]
from = ["hs"]
path = "out/hs.tif"
compress = "ZStd"
predictor = 2
level = 15
co = ["BIGTIFF=YES"]

[[output]]
from = "slope"
path = "/abs/slope.TIFF"

[run]
tile = 256
)");
  EXPECT_EQ(spec.file, "t.toml");
  ASSERT_EQ(spec.inputs.size(), 1u);
  EXPECT_EQ(spec.inputs[0].name, "dem");
  EXPECT_EQ(spec.inputs[0].path, "/data/dem.tif");
  EXPECT_EQ(spec.inputs[0].band, 2);
  EXPECT_EQ(spec.inputs[0].where.str(), "t.toml:1:1");
  ASSERT_EQ(spec.steps.size(), 2u);
  const StepSpec& hs = spec.steps[0];
  EXPECT_EQ(hs.id, "hs");
  EXPECT_EQ(hs.op, "hillshade");
  EXPECT_EQ(hs.in, "dem");
  EXPECT_EQ(hs.where.str(), "t.toml:5:1");
  EXPECT_EQ(hs.in_where.str(), "t.toml:8:6");
  const ops::Options expected{
      {"z", 2.0}, {"azimuth", 300.5}, {"combined", true}, {"compute_edges", false}};
  EXPECT_EQ(hs.options, expected);
  EXPECT_EQ(hs.option_where.at("azimuth").str(), "t.toml:10:1");
  EXPECT_EQ(spec.steps[1].options, (ops::Options{{"units", std::string("percent")}}));
  ASSERT_EQ(spec.outputs.size(), 2u);
  EXPECT_EQ(spec.outputs[0].from, std::vector<std::string>{"hs"});
  EXPECT_EQ(spec.outputs[0].path, "/jobs/out/hs.tif");
  EXPECT_EQ(
      spec.outputs[0].creation_options,
      (std::vector<std::string>{"COMPRESS=ZSTD", "PREDICTOR=2", "ZSTD_LEVEL=15", "BIGTIFF=YES"}));
  EXPECT_EQ(spec.outputs[0].where.str(), "t.toml:20:1");
  EXPECT_EQ(spec.outputs[0].from_where.str(), "t.toml:21:8");
  EXPECT_EQ(spec.outputs[0].path_where.str(), "t.toml:22:8");
  EXPECT_EQ(spec.outputs[1].from, std::vector<std::string>{"slope"});
  EXPECT_EQ(spec.outputs[1].path, "/abs/slope.TIFF");
  EXPECT_TRUE(spec.outputs[1].creation_options.empty());
  EXPECT_EQ(spec.run.tile, 256);
}

TEST(JobFile, DefaultsWhenOptionalKeysAreAbsent) {
  const JobSpec spec = parse(job(kInput, kSlopeStep, kOutput));
  EXPECT_EQ(spec.inputs[0].band, 1);
  EXPECT_TRUE(spec.steps[0].options.empty());
  EXPECT_FALSE(spec.run.tile.has_value());
}

TEST(JobFile, RelativePathsWithoutABaseStayRelative) {
  const JobSpec spec = parse_job_text(job(kInput, kSlopeStep, kOutput), "t.toml", "");
  EXPECT_EQ(spec.inputs[0].path, "dem.tif");
  EXPECT_EQ(spec.outputs[0].path, "out/slope.tif");
}

TEST(JobFile, GdalConnectionStringsAreNotResolved) {
  const JobSpec spec =
      parse(job("[input.dem]\npath = \"NETCDF:x.nc:elev\"\n", kSlopeStep, kOutput));
  EXPECT_EQ(spec.inputs[0].path, "NETCDF:x.nc:elev");
}

TEST(JobFile, TheFileInsideAQuotedGdalNameOrAnArchiveResolvesAgainstTheJobFolder) {
  const auto path_of = [](const std::string& written) {
    const std::string input = "[input.dem]\npath = '" + written + "'\n";
    return parse_job_text(job(input, kSlopeStep, kOutput), "t.toml", "/jobs").inputs[0].path;
  };
  EXPECT_EQ(path_of("NETCDF:\"out.h5\":slope"), "NETCDF:\"/jobs/out.h5\":slope");
  EXPECT_EQ(path_of("HDF5:\"../out.h5\"://slope"), "HDF5:\"/out.h5\"://slope");
  EXPECT_EQ(path_of("GTIFF_DIR:2:pages.tif"), "GTIFF_DIR:2:/jobs/pages.tif");
  EXPECT_EQ(path_of("/vsizip/rel.zip/x.tif"), "/vsizip//jobs/rel.zip/x.tif");
  EXPECT_EQ(path_of("/vsigzip/x.tif.gz"), "/vsigzip//jobs/x.tif.gz");
  EXPECT_EQ(path_of("/vsizip//abs/a.zip/x.tif"), "/vsizip//abs/a.zip/x.tif");
}

TEST(JobFile, FileOptionsResolveAgainstTheJobFolder) {
  const std::string step =
      "\n[[step]]\nid = \"relief\"\nop = \"color-relief\"\nin = \"dem\"\n"
      "color_file = \"color_file.txt\"\nalpha = true\n";
  const std::string text =
      std::string(kInput) + step + "\n[[output]]\nfrom = \"relief\"\npath = \"r.tif\"\n";
  const JobSpec spec = parse_job_text(text, "t.toml", TESSERA_TEST_DATA);
  const auto colours =
      (std::filesystem::path(TESSERA_TEST_DATA) / "color_file.txt").lexically_normal();
  EXPECT_EQ(std::get<std::string>(spec.steps[0].options.at("color_file")), colours.string());
}

TEST(JobFile, DeflateLevelBecomesZlevel) {
  const JobSpec spec =
      parse(job(kInput, kSlopeStep, std::string(kOutput) + "compress = \"deflate\"\nlevel = 6\n"));
  EXPECT_EQ(spec.outputs[0].creation_options,
            (std::vector<std::string>{"COMPRESS=DEFLATE", "ZLEVEL=6"}));
}

TEST(JobFile, TheTerrainDemoJobParses) {
  const std::string path = std::string(TESSERA_TEST_DATA) + "/../../jobs/terrain.toml";
  const JobSpec spec = parse_job_file(path);
  EXPECT_EQ(spec.file, path);
  ASSERT_EQ(spec.inputs.size(), 1u);
  const auto dem =
      (std::filesystem::path(TESSERA_TEST_DATA) / "chiprofiler_dem.tif").lexically_normal();
  EXPECT_EQ(spec.inputs[0].path, dem.string());
  EXPECT_TRUE(std::filesystem::exists(spec.inputs[0].path));
  ASSERT_EQ(spec.steps.size(), 3u);
  EXPECT_EQ(spec.steps[0].op, "hillshade");
  EXPECT_EQ(spec.steps[1].op, "slope");
  EXPECT_EQ(spec.steps[2].op, "aspect");
  ASSERT_EQ(spec.outputs.size(), 3u);
  const auto jobs = (std::filesystem::path(TESSERA_TEST_DATA) / "../../jobs").lexically_normal();
  EXPECT_EQ(spec.outputs[0].path, (jobs / "out/hillshade.tif").string());
  EXPECT_EQ(spec.outputs[0].creation_options,
            (std::vector<std::string>{"COMPRESS=ZSTD", "PREDICTOR=2"}));
  EXPECT_EQ(spec.outputs[1].from, std::vector<std::string>{"slope"});
  EXPECT_EQ(spec.outputs[2].creation_options,
            (std::vector<std::string>{"COMPRESS=ZSTD", "PREDICTOR=3"}));
  EXPECT_EQ(spec.run.tile, 256);
}

TEST(JobFile, MissingFileIsAnError) {
  EXPECT_THROW(parse_job_file("/nonexistent/job.toml"), Error);
}

TEST(JobFileErrors, TomlSyntaxErrorGivesItsPosition) {
  EXPECT_EQ(error_of("[input.dem]\npath = = 1\n"),
            "t.toml:2:8: error while parsing value: could not determine value type");
}

TEST(JobFileErrors, UnknownTopLevelTable) {
  EXPECT_EQ(error_of(job(kInput, kSlopeStep, kOutput) + "[outputs]\nx = 1\n"),
            "t.toml:12:2: job: unknown key 'outputs' (expected one of: input, step, output, run)");
}

TEST(JobFileErrors, UnknownKeyInInputListsTheAllowedOnes) {
  EXPECT_EQ(error_of(job("[input.dem]\npath = \"d.tif\"\nbnad = 2\n", kSlopeStep, kOutput)),
            "t.toml:3:1: input 'dem': unknown key 'bnad' (expected one of: path, band)");
}

TEST(JobFileErrors, UnknownKeyInOutput) {
  EXPECT_EQ(
      error_of(job(kInput, kSlopeStep, std::string(kOutput) + "compression = \"zstd\"\n")),
      "t.toml:12:1: output 1: unknown key 'compression' (expected one of: from, path, format, "
      "compress, predictor, level, co, overviews, resampling, zones, zones_band, layer, id, "
      "all_touched, categorical, stats)");
}

TEST(JobFileErrors, UnknownKeyInRun) {
  EXPECT_EQ(error_of(job(kInput, kSlopeStep, kOutput) + "[run]\ntiles = 16\n"),
            "t.toml:13:1: run: unknown key 'tiles' (expected one of: tile, scratch)");
}

// An empty scratch folder is refused, as --scratch '' is; false is how a job keeps no tiles.
TEST(JobFileErrors, EmptyScratchFolder) {
  EXPECT_EQ(error_of(job(kInput, kSlopeStep, kOutput) + "[run]\nscratch = \"\"\n"),
            "t.toml:13:11: run: scratch: expected a folder, found \"\" (false keeps no tiles)");
}

TEST(JobFileErrors, MissingInputPathPointsAtTheTable) {
  EXPECT_EQ(error_of(job("\n[input.dem]\nband = 1\n", kSlopeStep, kOutput)),
            "t.toml:2:1: input 'dem': missing key 'path'");
}

TEST(JobFileErrors, MissingStepKeyPointsAtTheStep) {
  EXPECT_EQ(error_of(job(kInput, "\n[[step]]\nid = \"s\"\nin = \"dem\"\n", kOutput)),
            "t.toml:4:1: step 's': missing key 'op'");
  EXPECT_EQ(error_of(job(kInput, "\n[[step]]\nop = \"slope\"\n", kOutput)),
            "t.toml:4:1: step 1: missing key 'id'");
}

TEST(JobFileErrors, MissingOutputPath) {
  EXPECT_EQ(error_of(job(kInput, kSlopeStep, "\n[[output]]\nfrom = \"slope\"\n")),
            "t.toml:9:1: output 1: missing key 'path'");
}

TEST(JobFileErrors, WrongValueTypes) {
  EXPECT_EQ(error_of("[input.dem]\npath = 3\n"),
            "t.toml:2:8: input 'dem': path: expected a string, found an integer");
  EXPECT_EQ(error_of("[input.dem]\npath = \"d.tif\"\nband = 1.5\n"),
            "t.toml:3:8: input 'dem': band: expected an integer, found a floating-point number");
  EXPECT_EQ(error_of(job(kInput, "\n[[step]]\nid = \"s\"\nop = true\n", kOutput)),
            "t.toml:6:6: step 's': op: expected a string, found a boolean");
  EXPECT_EQ(
      error_of(job(kInput, std::string(kSlopeStep) + "scale = [1, 2]\n", kOutput)),
      "t.toml:8:9: step 'slope': scale: expected a boolean, a number or a string, found an array");
  EXPECT_EQ(
      error_of(job(kInput, kSlopeStep, "\n[[output]]\nfrom = 1\npath = \"o.tif\"\n")),
      "t.toml:10:8: output 1: from: expected a string or an array of strings, found an integer");
  EXPECT_EQ(error_of(job(kInput, kSlopeStep, kOutput) + "[run]\ntile = \"big\"\n"),
            "t.toml:13:8: run: tile: expected an integer, found a string");
  EXPECT_EQ(error_of("input = 3\n"), "t.toml:1:9: input: expected a table, found an integer");
  EXPECT_EQ(error_of(job(kInput, "[step]\nid = \"s\"\n", kOutput)),
            "t.toml:3:1: step: expected [[step]] tables, found a table");
}

TEST(JobFileErrors, BandMustBePositive) {
  EXPECT_EQ(error_of("[input.dem]\npath = \"d.tif\"\nband = 0\n"),
            "t.toml:3:8: input 'dem': band: expected 1 or more, found 0");
}

TEST(JobFileErrors, OutputPathMustBeTiffOrHdf5) {
  EXPECT_EQ(
      error_of(job(kInput, kSlopeStep, "\n[[output]]\nfrom = \"slope\"\npath = \"out/s.png\"\n")),
      "t.toml:11:8: output 1: path: expected a .tif, .tiff, .h5 or .hdf5 path, found 'out/s.png'");
}

// "out.tif\u0000.h5" was an HDF5 output (by the text's extension) written to out.tif (the
// system's C text stops at the NUL).
TEST(JobFileErrors, StringsHoldNoNul) {
  EXPECT_EQ(
      error_of(job(kInput, kSlopeStep,
                   "\n[[output]]\nfrom = \"slope\"\npath = \"out/s.tif\\u0000.h5\"\n")),
      "t.toml:11:8: a string holds a NUL character (\\u0000), which no path, name or expression "
      "may");
  EXPECT_NE(error_of(std::string(kInput) + "[run]\nscratch = [\"a\\u0000\"]\n").find("NUL"),
            std::string::npos);
}

TEST(JobFileErrors, CompressionKeys) {
  const auto with = [](std::string_view keys) {
    return job(kInput, kSlopeStep, std::string(kOutput) + std::string(keys));
  };
  EXPECT_EQ(error_of(with("compress = \"gzip\"\n")),
            "t.toml:12:12: output 1: compress: expected none, deflate, zstd or lzw, found 'gzip'");
  EXPECT_EQ(error_of(with("predictor = 4\n")),
            "t.toml:12:13: output 1: predictor: expected 1 (none), 2 (horizontal) or 3 (floating "
            "point), found 4");
  EXPECT_EQ(
      error_of(with("compress = \"lzw\"\nlevel = 3\n")),
      "t.toml:13:9: output 1: level: expected compress = \"zstd\" or \"deflate\" with a level");
  EXPECT_EQ(error_of(with("compress = \"zstd\"\nlevel = 23\n")),
            "t.toml:13:9: output 1: level: expected 1 to 22 for ZSTD, found 23");
  EXPECT_EQ(
      error_of(with("compress = \"zstd\"\nco = [\"compress=lzw\"]\n")),
      "t.toml:13:7: output 1: co: 'compress=lzw' repeats COMPRESS, which the output's keys set");
  EXPECT_EQ(error_of(with("co = [\"TILED\"]\n")),
            "t.toml:12:7: output 1: co: expected NAME=VALUE, found 'TILED'");
  const std::string unknown = error_of(with("co = [\"QUALITY=3\"]\n"));
  EXPECT_TRUE(unknown.starts_with("t.toml:12:6: output 1: unknown creation option 'QUALITY'"))
      << unknown;
}

}  // namespace
}  // namespace tessera::job
