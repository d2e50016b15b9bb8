// The memory a rank may use: the machine's, its memory cgroup's and Slurm's limits.
#include "tessera/run/memory.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "tessera/core/error.hpp"

namespace tessera::run {

namespace {

constexpr int64_t kMiB = int64_t{1} << 20;

/// The first number in file `path`, or nullopt when it is missing or says "max".
std::optional<int64_t> number_in(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text == "max") return std::nullopt;
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (end == text.c_str() || value <= 0) return std::nullopt;
  return static_cast<int64_t>(value);
}

/// The lowest limit in file `name` from `folder` up to `top`: a cgroup is bound by its parents'
/// limits too. v1 writes "no limit" as a number near 2^63, so only limits below physical
/// memory's order of magnitude matter to the caller (which takes the minimum with it).
std::optional<int64_t> lowest_limit(std::filesystem::path folder, const std::filesystem::path& top,
                                    const std::string& name) {
  std::optional<int64_t> lowest;
  for (;;) {
    if (const auto limit = number_in(folder / name); limit && (!lowest || *limit < *lowest))
      lowest = limit;
    if (folder == top || !folder.has_parent_path() || folder.parent_path() == folder) break;
    folder = folder.parent_path();
  }
  return lowest;
}

/// This process's memory cgroup limit: /proc/self/cgroup names its cgroup under v2's unified
/// hierarchy ("0::/path") or v1's memory controller ("N:memory:/path"). In a container the
/// path may not exist as seen from inside; the hierarchy's root file is read then.
std::optional<int64_t> cgroup_limit(const std::filesystem::path& root) {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  std::optional<int64_t> lowest;
  const auto take = [&](const std::optional<int64_t>& limit) {
    if (limit && (!lowest || *limit < *lowest)) lowest = limit;
  };
  while (std::getline(in, line)) {
    const size_t first = line.find(':');
    const size_t second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    const bool v2 = line.compare(0, first, "0") == 0 && controllers.empty();
    const bool v1 = controllers == "memory" || controllers.find("memory,") == 0 ||
                    controllers.find(",memory") != std::string::npos;
    if (!v2 && !v1) continue;
    const std::filesystem::path top = v2 ? root : root / "memory";
    const std::string file = v2 ? "memory.max" : "memory.limit_in_bytes";
    const std::filesystem::path mine = top / std::filesystem::path(path).relative_path();
    std::error_code ec;
    take(lowest_limit(std::filesystem::is_directory(mine, ec) ? mine : top, top, file));
  }
  return lowest;
}

/// Slurm's size variable `name` (MiB), or nullopt when unset or not a positive number.
std::optional<int64_t> slurm_mib(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr) return std::nullopt;
  char* end = nullptr;
  const long long value = std::strtoll(text, &end, 10);
  if (end == text || value <= 0) return std::nullopt;
  return static_cast<int64_t>(value) * kMiB;
}

}  // namespace

MemoryFacts read_memory_facts(const std::string& cgroup_root) {
  MemoryFacts facts;
  facts.physical = static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
  facts.cgroup_limit = cgroup_limit(cgroup_root);
  facts.slurm_per_cpu = slurm_mib("SLURM_MEM_PER_CPU");
  facts.slurm_per_node = slurm_mib("SLURM_MEM_PER_NODE");
  if (const char* cpus = std::getenv("SLURM_CPUS_PER_TASK"); cpus != nullptr && std::atoi(cpus) > 0)
    facts.slurm_cpus_per_task = std::atoi(cpus);
  return facts;
}

MemoryBudget rank_budget(const MemoryFacts& facts, int ranks_on_node) {
  const int ranks = std::max(1, ranks_on_node);
  const std::string shared = fmt::format(" / {} rank(s) on this node", ranks);
  MemoryBudget best{facts.physical / ranks,
                    "physical memory " + size_text(facts.physical) + shared};
  const auto consider = [&](int64_t bytes, const std::string& source) {
    if (bytes < best.bytes) best = {bytes, source};
  };
  if (facts.cgroup_limit)
    consider(*facts.cgroup_limit / ranks,
             "the memory cgroup's limit " + size_text(*facts.cgroup_limit) + shared);
  if (facts.slurm_per_node)
    consider(*facts.slurm_per_node / ranks,
             "Slurm's --mem " + size_text(*facts.slurm_per_node) + shared);
  if (facts.slurm_per_cpu)
    consider(*facts.slurm_per_cpu * facts.slurm_cpus_per_task,
             fmt::format("Slurm's --mem-per-cpu {} x {} CPU(s) a task",
                         size_text(*facts.slurm_per_cpu), facts.slurm_cpus_per_task));
  return best;
}

int64_t parse_memory_size(const std::string& flag, const std::string& text) {
  size_t used = 0;
  double value = -1;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string unit = text.substr(used);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  static const std::vector<std::pair<std::string, int>> units{
      {"", 2}, {"K", 1}, {"M", 2}, {"G", 3}, {"T", 4}};
  for (const auto& [prefix, power] : units) {
    if (!(unit == prefix || (!prefix.empty() && (unit == prefix + "B" || unit == prefix + "IB"))))
      continue;
    const double bytes = value * std::pow(1024.0, power);
    if (used == 0 || !std::isfinite(bytes) || bytes < 1 || bytes > 9.0e18) break;
    return static_cast<int64_t>(bytes);
  }
  throw UsageError(flag + " expects a size such as 4G, 512M or 2048 (MiB), got '" + text + "'");
}

std::string size_text(int64_t bytes) {
  const double b = static_cast<double>(bytes);
  if (b >= 1024.0 * kMiB) return fmt::format("{:.1f} GiB", b / (1024.0 * kMiB));
  return fmt::format("{:.1f} MiB", b / kMiB);
}

}  // namespace tessera::run
