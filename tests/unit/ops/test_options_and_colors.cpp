// Option errors, the registry list, and color-relief's colour file and table rules.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "raster_fixture.hpp"
#include "tessera/ops/color_relief.hpp"
#include "tessera/ops/op.hpp"

namespace tessera::ops {
namespace {

std::string key_of_error(std::string_view name, const Options& options) {
  try {
    make_op(name, options);
  } catch (const OptionError& e) {
    return e.key();
  }
  return "";
}

TEST(Registry, ListsGdaldemsModesAndCalcInOneExplicitList) {
  std::vector<std::string> names;
  std::vector<std::string> internal;
  for (const auto& e : registry()) (e.internal ? internal : names).emplace_back(e.name);
  EXPECT_EQ(internal, (std::vector<std::string>{"fill_epsilon", "fill_epsilon_bound"}));
  EXPECT_EQ(names, (std::vector<std::string>{"hillshade",
                                             "slope",
                                             "aspect",
                                             "color-relief",
                                             "TRI",
                                             "TPI",
                                             "roughness",
                                             "calc",
                                             "set-type",
                                             "reclassify",
                                             "stretch",
                                             "normalize",
                                             "focal.mean",
                                             "focal.sum",
                                             "focal.count",
                                             "focal.variance",
                                             "focal.stddev",
                                             "focal.min",
                                             "focal.max",
                                             "focal.range",
                                             "focal.median",
                                             "focal.percentile",
                                             "focal.quart1",
                                             "focal.quart3",
                                             "focal.mode",
                                             "focal.minority",
                                             "focal.diversity",
                                             "fill",
                                             "flowdir",
                                             "flowacc",
                                             "watershed"}));
  EXPECT_THROW(make_op("shade-me", {}), Error);
}

TEST(Options, UnknownKeysAndBadValuesNameTheirKey) {
  EXPECT_EQ(key_of_error("slope", {{"unit", std::string("percent")}}), "unit");
  EXPECT_EQ(key_of_error("slope", {{"units", std::string("radians")}}), "units");
  EXPECT_EQ(key_of_error("slope", {{"scale", std::string("big")}}), "scale");
  EXPECT_EQ(key_of_error("slope", {{"scale", 0.0}}), "scale");
  EXPECT_EQ(key_of_error("hillshade", {{"alg", std::string("Wilson")}}), "alg");
  EXPECT_EQ(key_of_error("TRI", {{"alg", std::string("Horn")}}), "alg");
  EXPECT_EQ(key_of_error("aspect", {{"zero_for_flat", 3.0}}), "zero_for_flat");
  EXPECT_EQ(key_of_error("TPI", {{"z", 2.0}}), "z");
  EXPECT_EQ(key_of_error("slope", {{"units", std::string("Percent")}}), "");
}

TEST(Options, MessageSaysWhatIsExpected) {
  try {
    make_op("slope", {{"units", std::string("radians")}});
    FAIL() << "no error";
  } catch (const OptionError& e) {
    EXPECT_STREQ(e.what(), "option 'units' must be degrees or percent");
  }
}

TEST(Options, HillshadeRejectsTwoStylesAtOnceAsGdaldemDoes) {
  EXPECT_NE(key_of_error("hillshade", {{"multidirectional", true}, {"combined", true}}), "");
  EXPECT_NE(key_of_error("hillshade", {{"multidirectional", true}, {"igor", true}}), "");
  EXPECT_NE(key_of_error("hillshade", {{"combined", true}, {"igor", true}}), "");
  EXPECT_EQ(key_of_error("hillshade", {{"multidirectional", true}, {"azimuth", 10.0}}), "");
}

class ColorFile : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    path_ = ::testing::TempDir() + "tessera_colors_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".txt";
    std::ofstream(path_) << text;
    return path_;
  }
  void TearDown() override { std::remove(path_.c_str()); }
  std::string path_;
};

TEST_F(ColorFile, ParsesNamesNvPercentSeparatorsAndComments) {
  const auto entries = read_color_file(
      write("# comment\n/ also a comment\nnv 1 2 3 4\n0,black\n10:white:128\n50% 10\t20 30\r\n"));
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].kind, ColorEntry::Kind::NoData);
  EXPECT_EQ(entries[0].a, 4);
  EXPECT_EQ(entries[1].r, 0);
  EXPECT_EQ(entries[2].r, 255);
  EXPECT_EQ(entries[2].a, 128);
  EXPECT_EQ(entries[3].kind, ColorEntry::Kind::Percent);
  EXPECT_DOUBLE_EQ(entries[3].value, 0.5);
  EXPECT_EQ(entries[3].b, 30);
}

TEST_F(ColorFile, BadFilesAreOptionErrorsOnColorFile) {
  EXPECT_EQ(key_of_error("color-relief", {{"color_file", write("0 chartreuse\n")}}), "color_file");
  EXPECT_EQ(key_of_error("color-relief", {{"color_file", write("150% 1 2 3\n")}}), "color_file");
  EXPECT_EQ(key_of_error("color-relief", {{"color_file", std::string("/nonexistent/c.txt")}}),
            "color_file");
  EXPECT_EQ(key_of_error("color-relief", {}), "color_file");
}

TEST_F(ColorFile, PercentagesNeedSourceMinAndMax) {
  const auto path = write("0% black\n100% white\n");
  EXPECT_TRUE(color_file_uses_percent(path));
  EXPECT_EQ(key_of_error("color-relief", {{"color_file", path}}), "color_file");
  auto p =
      color_relief_params({{"color_file", path}, {"source_min", 100.0}, {"source_max", 300.0}});
  const auto table = color_table(p, std::nullopt);
  EXPECT_DOUBLE_EQ(table[0].value, 100.0);
  EXPECT_DOUBLE_EQ(table[1].value, 300.0);
}

TEST_F(ColorFile, InterpolatesExactAndNearestLikeGdaldem) {
  auto r = testing::make_raster<int32_t>(4, 1, [](int64_t x, int64_t) {
    static const int32_t v[4] = {0, 3, 10, -5};
    return v[x];
  });
  r.nodata = -5;
  const auto path = write("0 0 0 0 0\n10 100 200 255\nnv 7 8 9\n");
  const auto run = [&](Options o) {
    o["color_file"] = path;
    o["alpha"] = true;
    return testing::run_tiled<int32_t, uint8_t>(*make_op("color-relief", o), r, 4, 1);
  };
  const auto lerp = run({});
  // 3 is 30% of the way: int(0.45 + 0.3 * 100) = 30, int(0.45 + 60) = 60, int(0.45 + 76.5) = 76.
  EXPECT_EQ(lerp[0][1], 30);
  EXPECT_EQ(lerp[1][1], 60);
  EXPECT_EQ(lerp[3][1], 76);
  EXPECT_EQ(lerp[0][3], 7);  // nodata takes the nv colour
  // gdaldem 3.6's search lands on the entry above an exact match, so -exact_color_entry only
  // matches the first entry (here the nv entry); everything else is 0 (its n43 output is black).
  const auto exact = run({{"exact_color_entry", true}});
  EXPECT_EQ(exact[0][3], 7);
  EXPECT_EQ(exact[1][1], 0);
  EXPECT_EQ(exact[1][2], 0);
  const auto nearest = run({{"nearest_color_entry", true}});
  EXPECT_EQ(nearest[1][1], 0);
  EXPECT_EQ(nearest[1][2], 200);
}

TEST_F(ColorFile, OutputHasNoNodataAndThreeOrFourBands) {
  const auto path = write("0 black\n");
  EXPECT_EQ(make_op("color-relief", {{"color_file", path}})->output_bands(), 3);
  const auto with_alpha = make_op("color-relief", {{"color_file", path}, {"alpha", true}});
  EXPECT_EQ(with_alpha->output_bands(), 4);
  EXPECT_FALSE(with_alpha->output_nodata().has_value());
}

}  // namespace
}  // namespace tessera::ops
