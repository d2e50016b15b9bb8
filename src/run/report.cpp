// The run report: gathered per rank, summarised as min / max / imbalance, written as JSON.
#include "tessera/run/report.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <numeric>

#include <fmt/core.h>

#include "tessera/core/error.hpp"
#include "tessera/io/temporary_files.hpp"
#include "tessera/par/agreement.hpp"
#include "tessera/par/environment.hpp"

namespace tessera::run {

namespace {

/// One figure of the report: its JSON name, its column heading and how to read it.
struct Figure {
  const char* name;
  const char* heading;
  std::function<double(const RankReport&)> get;
  bool integral;
};

const std::vector<Figure>& figures() {
  static const std::vector<Figure> list{
      {"tiles", "tiles", [](const RankReport& r) { return double(r.tiles); }, true},
      {"start_s", "start", [](const RankReport& r) { return r.start; }, false},
      {"read_s", "read", [](const RankReport& r) { return r.read; }, false},
      {"compute_s", "compute", [](const RankReport& r) { return r.compute; }, false},
      {"encode_s", "encode", [](const RankReport& r) { return r.encode; }, false},
      {"communicate_s", "comm", [](const RankReport& r) { return r.communicate; }, false},
      {"write_s", "write", [](const RankReport& r) { return r.write; }, false},
      {"wait_s", "wait", [](const RankReport& r) { return r.wait; }, false},
      {"bytes_read", "MB in", [](const RankReport& r) { return double(r.bytes_read); }, true},
      {"bytes_sent", "MB sent", [](const RankReport& r) { return double(r.bytes_sent); }, true},
      {"bytes_received", "MB recv", [](const RankReport& r) { return double(r.bytes_received); },
       true},
      {"bytes_written", "MB out", [](const RankReport& r) { return double(r.bytes_written); },
       true},
      {"peak_rss_mb", "RSS MB", [](const RankReport& r) { return r.peak_rss_mb; }, false},
  };
  return list;
}

struct Stats {
  double min = 0;
  double max = 0;
  double mean = 0;
  /// max / mean: 1 when perfectly balanced; 1 when every rank has 0.
  double imbalance() const { return mean > 0 ? max / mean : 1.0; }
};

Stats stats_of(const Figure& f, const std::vector<RankReport>& ranks) {
  std::vector<double> values;
  for (const auto& r : ranks) values.push_back(f.get(r));
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  const double sum = std::accumulate(values.begin(), values.end(), 0.0);
  return {*lo, *hi, sum / static_cast<double>(values.size())};
}

bool is_bytes(const Figure& f) { return std::string_view(f.name).starts_with("bytes_"); }

/// A cell of the table: seconds with 2 decimals, bytes in MB with 1, counts whole.
std::string cell(const Figure& f, double value) {
  if (is_bytes(f)) return fmt::format("{:.1f}", value / 1e6);
  if (f.integral) return fmt::format("{:.0f}", value);
  if (f.name == std::string_view("peak_rss_mb")) return fmt::format("{:.1f}", value);
  return fmt::format("{:.2f}", value);
}

std::string table_row(const char* label, const std::vector<std::string>& cells) {
  std::string row = fmt::format("  {:<9}", label);
  const auto& list = figures();
  for (size_t i = 0; i < cells.size(); ++i)
    row += fmt::format(" {:>{}}", cells[i],
                       std::max<size_t>(6, std::string_view(list[i].heading).size()));
  return row + "\n";
}

std::string json_number(double value, bool integral) {
  if (integral) return fmt::format("{:.0f}", value);
  return fmt::format("{:.6g}", value);
}

std::string json_rank(int rank, const RankReport& r) {
  std::string text = fmt::format("    {{\"rank\": {}", rank);
  for (const auto& f : figures())
    text += fmt::format(", \"{}\": {}", f.name, json_number(f.get(r), f.integral));
  return text + "}";
}

std::string json_summary(const std::vector<RankReport>& ranks) {
  std::string text = "  \"summary\": {\n";
  const auto& list = figures();
  for (size_t i = 0; i < list.size(); ++i) {
    const Stats s = stats_of(list[i], ranks);
    text +=
        fmt::format("    \"{}\": {{\"min\": {}, \"max\": {}, \"mean\": {}, \"imbalance\": {}}}{}\n",
                    list[i].name, json_number(s.min, list[i].integral),
                    json_number(s.max, list[i].integral), json_number(s.mean, false),
                    json_number(s.imbalance(), false), i + 1 < list.size() ? "," : "");
  }
  return text + "  }\n";
}

/// A part's name in the table: its pass, phase and steps.
std::string part_name(const PartPeak& part) {
  return fmt::format("pass {} {} ({})", part.pass, part.phase, part.steps);
}

/// The peak RSS of each part, min and max over the ranks (the rank of the max), after the table;
/// nothing for a run without parts.
std::string parts_table(const std::vector<RankReport>& ranks) {
  if (ranks.empty() || ranks[0].parts.empty()) return "";
  size_t width = 0;
  for (const PartPeak& part : ranks[0].parts) width = std::max(width, part_name(part).size());
  std::string text = fmt::format("  {:<{}}  {:>8} {:>8} {:>8}\n", "peak RSS MB by part", width,
                                 "min", "max", "max rank");
  for (size_t p = 0; p < ranks[0].parts.size(); ++p) {
    size_t most = 0;
    double least = ranks[0].parts[p].peak_rss_mb;
    for (size_t r = 0; r < ranks.size(); ++r) {
      least = std::min(least, ranks[r].parts[p].peak_rss_mb);
      if (ranks[r].parts[p].peak_rss_mb > ranks[most].parts[p].peak_rss_mb) most = r;
    }
    text += fmt::format("  {:<{}}  {:>8.1f} {:>8.1f} {:>8}\n", part_name(ranks[0].parts[p]), width,
                        least, ranks[most].parts[p].peak_rss_mb, most);
  }
  return text;
}

/// "parts": each part's pass, steps, phase and peak RSS per rank in rank order; "part_peaks" says
/// whether each counts its part alone or the run up to its end.
std::string json_parts(const std::vector<RankReport>& ranks) {
  if (ranks.empty() || ranks[0].parts.empty()) return "";
  std::string text = fmt::format(
      "  \"part_peaks\": {},\n  \"parts\": [\n",
      json_string(part_peaks_reset() ? "each part alone" : "the run up to the part's end"));
  const size_t count = ranks[0].parts.size();
  for (size_t p = 0; p < count; ++p) {
    const PartPeak& part = ranks[0].parts[p];
    std::string peaks;
    for (size_t r = 0; r < ranks.size(); ++r)
      peaks += (r > 0 ? ", " : "") + json_number(ranks[r].parts[p].peak_rss_mb, false);
    text += fmt::format(
        "    {{\"pass\": {}, \"steps\": {}, \"phase\": {}, \"peak_rss_mb\": [{}]}}{}\n", part.pass,
        json_string(part.steps), json_string(part.phase), peaks, p + 1 < count ? "," : "");
  }
  return text + "  ],\n";
}

}  // namespace

namespace {

/// The kernel's peak RSS of the process in MB: VmHWM, which begin_part() resets, else (no /proc)
/// getrusage's, which nothing resets.
double high_water_mb() {
  if (std::FILE* f = std::fopen("/proc/self/status", "re")) {
    char line[256];
    long long kb = -1;
    while (std::fgets(line, sizeof line, f) != nullptr)
      if (std::sscanf(line, "VmHWM: %lld kB", &kb) == 1) break;
    std::fclose(f);
    if (kb >= 0) return static_cast<double>(kb) * 1024 / 1e6;
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) * 1024 / 1e6;
}

/// The process's peak before the last reset of the kernel's (main thread only).
double peak_before_reset_mb = 0;
bool peak_reset = false;

}  // namespace

double peak_rss_mb() { return std::max(peak_before_reset_mb, high_water_mb()); }

bool begin_part() {
  peak_before_reset_mb = peak_rss_mb();
  const int fd = ::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return peak_reset = false;
  peak_reset = ::write(fd, "5", 1) == 1;
  ::close(fd);
  return peak_reset;
}

double part_peak_rss_mb() { return high_water_mb(); }

bool part_peaks_reset() { return peak_reset; }

PartPeak end_part(int pass, std::string steps, std::string phase) {
  PartPeak part{pass, std::move(steps), std::move(phase), part_peak_rss_mb()};
  begin_part();
  return part;
}

namespace {

struct ProcessStart {
  bool marked = false;
  std::chrono::steady_clock::time_point main;
  double cpu_before_main = 0;
};

ProcessStart process_start;

}  // namespace

void mark_process_start() {
  timespec cpu{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
  process_start = {true, std::chrono::steady_clock::now(),
                   static_cast<double>(cpu.tv_sec) + static_cast<double>(cpu.tv_nsec) * 1e-9};
}

double seconds_since_process_start() {
  if (!process_start.marked) return 0;
  const std::chrono::duration<double> since = std::chrono::steady_clock::now() - process_start.main;
  return process_start.cpu_before_main + since.count();
}

/// Every rank's figures on every rank, in one collective: each collective waits until every rank
/// is scheduled, and on a loaded node one per figure took up to 0.15 s (2026-12-06-floor.md).
/// The parts' peaks come after the figures: every rank ran the same parts (the same passes of the
/// same plan), so every rank gives as many numbers.
std::vector<RankReport> gather_reports(const RankReport& mine) {
  std::vector<double> own;
  for (const auto& f : figures()) own.push_back(f.get(mine));
  const size_t columns = own.size();
  for (const PartPeak& part : mine.parts) own.push_back(part.peak_rss_mb);
  const std::vector<double> all = par::all_gather(own);
  std::vector<RankReport> ranks(all.size() / own.size());
  for (size_t r = 0; r < ranks.size(); ++r) {
    const auto at = [&](size_t column) { return all[r * own.size() + column]; };
    auto whole = [&](size_t column) { return static_cast<int64_t>(at(column)); };
    ranks[r] = {whole(0), at(1),    at(2),    at(3),     at(4),     at(5),  at(6),
                at(7),    whole(8), whole(9), whole(10), whole(11), at(12), mine.parts};
    for (size_t p = 0; p < mine.parts.size(); ++p) ranks[r].parts[p].peak_rss_mb = at(columns + p);
  }
  return ranks;
}

std::string summary_table(const RunFacts& facts, const std::vector<RankReport>& ranks) {
  std::string text = fmt::format(
      "tessera: {} x {} cells, {} tiles of {} x {}{}, {} ranks x {} threads, {:.2f} s\n",
      facts.raster.width, facts.raster.height, facts.tiles, facts.tile_width, facts.tile_height,
      facts.sweeps > 1 ? fmt::format(" swept {} times", facts.sweeps) : "", ranks.size(),
      facts.threads, facts.wall);
  std::vector<std::string> headings;
  std::vector<std::string> mins;
  std::vector<std::string> maxs;
  std::vector<std::string> imbalances;
  for (const auto& f : figures()) {
    const Stats s = stats_of(f, ranks);
    headings.emplace_back(f.heading);
    mins.push_back(cell(f, s.min));
    maxs.push_back(cell(f, s.max));
    imbalances.push_back(fmt::format("{:.2f}", s.imbalance()));
  }
  text += table_row("per rank", headings);
  text += table_row("min", mins);
  text += table_row("max", maxs);
  text += table_row("imbalance", imbalances);
  return text + parts_table(ranks);
}

std::string report_json(const RunFacts& facts, const std::vector<RankReport>& ranks) {
  std::string text = "{\n";
  text += fmt::format(
      "  \"width\": {}, \"height\": {}, \"tiles\": {}, \"tile_width\": {}, "
      "\"tile_height\": {},\n",
      facts.raster.width, facts.raster.height, facts.tiles, facts.tile_width, facts.tile_height);
  text += fmt::format("  \"ranks\": {}, \"threads\": {}, \"sweeps\": {}, \"wall_s\": {},\n",
                      ranks.size(), facts.threads, facts.sweeps, json_number(facts.wall, false));
  text += "  \"units\": " +
          json_string(
              "start_s: seconds before the run (CPU before main, then main to the run); "
              "read_s, compute_s, encode_s: thread-seconds; "
              "communicate_s, wait_s: main-thread seconds; write_s: thread-seconds of in-place "
              "writes plus main-thread seconds of the others; parts: each part's peak RSS in "
              "MB per rank, in rank order") +
          ",\n";
  text += "  \"per_rank\": [\n";
  for (size_t r = 0; r < ranks.size(); ++r)
    text += json_rank(static_cast<int>(r), ranks[r]) + (r + 1 < ranks.size() ? ",\n" : "\n");
  text += "  ],\n";
  return text + json_parts(ranks) + json_summary(ranks) + "}\n";
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += fmt::format("\\u{:04x}", u);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

void write_text_file(const std::string& path, const std::string& text) {
  io::write_text_file(path, text, "the report");
}

void add_figures(RankReport& total, const RankReport& more) {
  total.tiles += more.tiles;
  total.read += more.read;
  total.compute += more.compute;
  total.encode += more.encode;
  total.communicate += more.communicate;
  total.write += more.write;
  total.wait += more.wait;
  total.bytes_read += more.bytes_read;
  total.bytes_sent += more.bytes_sent;
  total.bytes_received += more.bytes_received;
  total.bytes_written += more.bytes_written;
  total.peak_rss_mb = std::max(total.peak_rss_mb, more.peak_rss_mb);
  total.parts.insert(total.parts.end(), more.parts.begin(), more.parts.end());
}

void report_ranks(const RunFacts& facts, const RankReport& mine, bool quiet,
                  const std::string& report_path) {
  const auto ranks = gather_reports(mine);
  if (par::world_rank() != 0) return;
  if (!quiet) fmt::print("{}", summary_table(facts, ranks));
  if (report_path.empty()) return;
  try {
    write_text_file(report_path, report_json(facts, ranks));
  } catch (const Error& e) {
    // The outputs are in place and whole by now: a run that failed for its report would have a
    // batch system (an `afterok` dependency, a requeue) throw them away or compute them again.
    fmt::print(stderr, "tessera: warning: --report {}; the run's outputs are written\n",
               printable(e.what()));
  }
}

}  // namespace tessera::run
