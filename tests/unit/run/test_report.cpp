// The run report's text: the min / max / imbalance table, the JSON and its string escapes.
#include <gtest/gtest.h>
#include <time.h>

#include <chrono>
#include <string>
#include <vector>

#include "tessera/run/report.hpp"

namespace tessera::run {
namespace {

std::vector<RankReport> two_ranks() {
  RankReport a;
  a.tiles = 3;
  a.compute = 1.5;
  a.bytes_written = 4000000;
  a.bytes_received = 1000000;
  RankReport b;
  b.tiles = 5;
  b.compute = 4.5;
  b.bytes_sent = 1000000;
  return {a, b};
}

const RunFacts facts{{1000, 600}, 256, 256, 8, 2, 3.25};

/// The line of `text` that starts with `label` after the indent.
std::string line_of(const std::string& text, const std::string& label) {
  const size_t at = text.find("\n  " + label + " ");
  if (at == std::string::npos) return "";
  return text.substr(at + 1, text.find('\n', at + 1) - at - 1);
}

TEST(RunReport, TableGivesMinMaxAndImbalanceOverRanks) {
  const std::string text = summary_table(facts, two_ranks());
  EXPECT_NE(text.find("1000 x 600 cells, 8 tiles of 256 x 256, 2 ranks x 2 threads, 3.25 s"),
            std::string::npos);
  const std::string min = line_of(text, "min");
  const std::string max = line_of(text, "max");
  const std::string imbalance = line_of(text, "imbalance");
  EXPECT_NE(min.find(" 3 "), std::string::npos) << min;
  EXPECT_NE(min.find(" 1.50 "), std::string::npos) << min;
  EXPECT_NE(max.find(" 5 "), std::string::npos) << max;
  EXPECT_NE(max.find(" 4.50 "), std::string::npos) << max;
  EXPECT_NE(max.find(" 4.0 "), std::string::npos) << max;               // MB written
  EXPECT_NE(imbalance.find(" 1.25 "), std::string::npos) << imbalance;  // tiles: 5 / 4
  EXPECT_NE(imbalance.find(" 1.50 "), std::string::npos) << imbalance;  // compute: 4.5 / 3
}

TEST(RunReport, JsonHoldsEveryRankAndTheSummary) {
  const std::string json = report_json(facts, two_ranks());
  EXPECT_NE(json.find("\"ranks\": 2"), std::string::npos);
  EXPECT_NE(json.find("{\"rank\": 0, \"tiles\": 3,"), std::string::npos) << json;
  EXPECT_NE(json.find("{\"rank\": 1, \"tiles\": 5,"), std::string::npos) << json;
  EXPECT_NE(json.find("\"bytes_sent\": 1000000"), std::string::npos) << json;
  EXPECT_NE(json.find("\"tiles\": {\"min\": 3, \"max\": 5, \"mean\": 4, \"imbalance\": 1.25}"),
            std::string::npos)
      << json;
  EXPECT_EQ(json.front(), '{');
  EXPECT_EQ(json.substr(json.size() - 2), "}\n");
}

TEST(RunReport, StartIsAColumnAndAJsonFigure) {
  std::vector<RankReport> ranks = two_ranks();
  ranks[0].start = 0.12;
  ranks[1].start = 0.18;
  const std::string text = summary_table(facts, ranks);
  EXPECT_NE(line_of(text, "per").find(" start "), std::string::npos) << text;
  EXPECT_NE(line_of(text, "min").find(" 0.12 "), std::string::npos) << text;
  EXPECT_NE(line_of(text, "max").find(" 0.18 "), std::string::npos) << text;
  const std::string json = report_json(facts, ranks);
  EXPECT_NE(json.find("{\"rank\": 1, \"tiles\": 5, \"start_s\": 0.18,"), std::string::npos) << json;
}

// The start counts the CPU time spent before the mark (a process's libraries load before main),
// then the wall time after it.
TEST(RunReport, ProcessStartCountsTheCpuTimeBeforeTheMark) {
  timespec cpu{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
  const double spent = static_cast<double>(cpu.tv_sec) + static_cast<double>(cpu.tv_nsec) * 1e-9;
  mark_process_start();
  const double at_mark = seconds_since_process_start();
  EXPECT_GE(at_mark, spent);
  EXPECT_LT(at_mark, spent + 0.5);
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(30);
  while (std::chrono::steady_clock::now() < until) {
  }
  EXPECT_GE(seconds_since_process_start(), at_mark + 0.03);
}

TEST(RunReport, JsonStringsEscapeQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(json_string("plain"), "\"plain\"");
  EXPECT_EQ(json_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json_string("tab\there\nnl"), "\"tab\\u0009here\\u000anl\"");
}

TEST(RunReport, ImbalanceIsOneWhenEveryRankHasNothing) {
  const std::string text = summary_table(facts, {RankReport{}, RankReport{}});
  const std::string imbalance = line_of(text, "imbalance");
  EXPECT_EQ(imbalance.find("2.00"), std::string::npos) << imbalance;
  EXPECT_NE(imbalance.find("1.00"), std::string::npos) << imbalance;
}

}  // namespace
}  // namespace tessera::run
