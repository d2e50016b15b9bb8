// The run report's text: the min / max / imbalance table, the JSON and its string escapes.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
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

TEST(RunReport, PartsGiveEachRanksPeakInTheJsonAndTheTable) {
  std::vector<RankReport> ranks = two_ranks();
  ranks[0].parts = {{1, "fel", "summaries", 120.5}, {1, "fel", "global", 310.25}};
  ranks[1].parts = {{1, "fel", "summaries", 130}, {1, "fel", "global", 90}};
  const std::string json = report_json(facts, ranks);
  EXPECT_NE(json.find("{\"pass\": 1, \"steps\": \"fel\", \"phase\": \"summaries\", "
                      "\"peak_rss_mb\": [120.5, 130]},"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("{\"pass\": 1, \"steps\": \"fel\", \"phase\": \"global\", "
                      "\"peak_rss_mb\": [310.25, 90]}\n"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"part_peaks\": "), std::string::npos) << json;
  const std::string text = summary_table(facts, ranks);
  const std::string global = line_of(text, "pass 1 global (fel)");
  EXPECT_NE(global.find(" 90.0 "), std::string::npos) << text;
  EXPECT_NE(global.find(" 310.2 "), std::string::npos) << text;
  EXPECT_EQ(global.back(), '0') << text;  // rank 0 holds the most
  EXPECT_EQ(line_of(text, "pass 1 summaries (fel)").back(), '1') << text;
}

TEST(RunReport, NoPartsNoPartLines) {
  EXPECT_EQ(summary_table(facts, two_ranks()).find("by part"), std::string::npos);
  EXPECT_EQ(report_json(facts, two_ranks()).find("\"parts\""), std::string::npos);
}

/// The process's resident set now, in MB (VmRSS).
double rss_mb() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  long long kb = 0;
  while (std::fgets(line, sizeof line, f) != nullptr)
    if (std::sscanf(line, "VmRSS: %lld kB", &kb) == 1) break;
  std::fclose(f);
  return static_cast<double>(kb) * 1024 / 1e6;
}

/// Maps `mb` MB and touches every page, so that they count in the RSS until unmapped.
std::pair<void*, size_t> touched(size_t mb) {
  const size_t size = mb << 20;
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  EXPECT_NE(p, MAP_FAILED);
  std::memset(p, 1, size);
  return {p, size};
}

// A part's peak is its own: 256 MB held and freed before the part began do not count in it, but
// do in the run's peak.
TEST(RunReport, APartsPeakCountsThatPartAlone) {
  const auto [big, big_size] = touched(256);
  munmap(big, big_size);
  if (!begin_part()) GTEST_SKIP() << "the kernel's peak RSS cannot be reset here";
  const double before = rss_mb();
  const auto [small, small_size] = touched(16);
  const PartPeak part = end_part(3, "a, b", "global");
  munmap(small, small_size);
  EXPECT_EQ(part.pass, 3);
  EXPECT_EQ(part.steps, "a, b");
  EXPECT_EQ(part.phase, "global");
  EXPECT_GE(part.peak_rss_mb, 16.0);
  EXPECT_LT(part.peak_rss_mb, before + 16 * 1.05 + 64)
      << "the 256 MB freed before the part counted in it";
  EXPECT_GE(peak_rss_mb(), 256.0) << "the run's peak forgot what came before the part";
  EXPECT_TRUE(part_peaks_reset());
}

}  // namespace
}  // namespace tessera::run
