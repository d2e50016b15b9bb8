// The memory a rank may use: the tightest of the node's, its cgroup's and Slurm's limits, each
// shared as it is meant to be; and sizes as users write them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tessera/core/error.hpp"
#include "tessera/run/memory.hpp"

namespace tessera::run {
namespace {

constexpr int64_t MiB = int64_t{1} << 20;
constexpr int64_t GiB = int64_t{1} << 30;

TEST(RankBudget, PhysicalMemoryIsSharedByTheRanksOnTheNode) {
  MemoryFacts facts;
  facts.physical = 24 * GiB;
  const MemoryBudget budget = rank_budget(facts, 4);
  EXPECT_EQ(budget.bytes, 6 * GiB);
  EXPECT_EQ(budget.source, "physical memory 24.0 GiB / 4 rank(s) on this node");
}

TEST(RankBudget, TheTightestLimitWins) {
  MemoryFacts facts;
  facts.physical = 24 * GiB;
  facts.cgroup_limit = 8 * GiB;
  EXPECT_EQ(rank_budget(facts, 2).bytes, 4 * GiB);
  EXPECT_EQ(rank_budget(facts, 2).source,
            "the memory cgroup's limit 8.0 GiB / 2 rank(s) on this node");
  facts.slurm_per_node = 2 * GiB;
  EXPECT_EQ(rank_budget(facts, 2).bytes, 1 * GiB);
  EXPECT_EQ(rank_budget(facts, 2).source, "Slurm's --mem 2.0 GiB / 2 rank(s) on this node");
  facts.slurm_per_cpu = 300 * MiB;
  facts.slurm_cpus_per_task = 2;
  EXPECT_EQ(rank_budget(facts, 2).bytes, 600 * MiB);
  EXPECT_EQ(rank_budget(facts, 2).source, "Slurm's --mem-per-cpu 300.0 MiB x 2 CPU(s) a task");
}

TEST(RankBudget, ALooserLimitChangesNothing) {
  MemoryFacts facts;
  facts.physical = 16 * GiB;
  facts.cgroup_limit = int64_t{9223372036854771712};  // cgroup v1's "no limit"
  EXPECT_EQ(rank_budget(facts, 1).bytes, 16 * GiB);
}

TEST(MemoryFacts, SlurmsVariablesAreMiB) {
  setenv("SLURM_MEM_PER_NODE", "2048", 1);
  setenv("SLURM_MEM_PER_CPU", "512", 1);
  setenv("SLURM_CPUS_PER_TASK", "3", 1);
  const MemoryFacts facts = read_memory_facts();
  unsetenv("SLURM_MEM_PER_NODE");
  unsetenv("SLURM_MEM_PER_CPU");
  unsetenv("SLURM_CPUS_PER_TASK");
  EXPECT_EQ(facts.slurm_per_node, 2 * GiB);
  EXPECT_EQ(facts.slurm_per_cpu, 512 * MiB);
  EXPECT_EQ(facts.slurm_cpus_per_task, 3);
  EXPECT_GT(facts.physical, 0);
}

TEST(MemoryFacts, TheCgroupLimitIsRead) {
  // A cgroup tree of both versions whose roots say 1 GiB; the process's own cgroup folder is
  // not in it, so each version's root file is what bounds it.
  const auto root = std::filesystem::temp_directory_path() / "tessera-cgroup-test";
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root / "memory");
  std::ofstream(root / "memory.max") << GiB << "\n";
  std::ofstream(root / "memory" / "memory.limit_in_bytes") << GiB << "\n";
  const MemoryFacts facts = read_memory_facts(root.string());
  std::filesystem::remove_all(root);
  ASSERT_TRUE(facts.cgroup_limit.has_value());
  EXPECT_EQ(*facts.cgroup_limit, GiB);
}

TEST(MemoryFacts, NoLimitWhenTheFilesSayMaxOrAreMissing) {
  const auto root = std::filesystem::temp_directory_path() / "tessera-cgroup-none";
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root);
  std::ofstream(root / "memory.max") << "max\n";
  const MemoryFacts facts = read_memory_facts(root.string());
  std::filesystem::remove_all(root);
  EXPECT_FALSE(facts.cgroup_limit.has_value());
}

TEST(MemorySize, UnitsArePowersOf1024AndABareNumberIsMiB) {
  EXPECT_EQ(parse_memory_size("--memory", "4G"), 4 * GiB);
  EXPECT_EQ(parse_memory_size("--memory", "4GiB"), 4 * GiB);
  EXPECT_EQ(parse_memory_size("--memory", "4gb"), 4 * GiB);
  EXPECT_EQ(parse_memory_size("--memory", "512M"), 512 * MiB);
  EXPECT_EQ(parse_memory_size("--memory", "1.5G"), 3 * GiB / 2);
  EXPECT_EQ(parse_memory_size("--memory", "2048"), 2 * GiB);
  EXPECT_EQ(parse_memory_size("--memory", "1T"), 1024 * GiB);
  EXPECT_EQ(parse_memory_size("--memory", "64K"), 64 * 1024);
}

TEST(MemorySize, AnythingElseIsAUsageError) {
  for (const char* bad : {"", "lots", "4X", "G", "-1G", "0", "4 G", "nan", "1e30T"}) {
    EXPECT_THROW(parse_memory_size("--memory", bad), UsageError) << bad;
  }
  try {
    parse_memory_size("--memory", "4X");
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "--memory expects a size such as 4G, 512M or 2048 (MiB), got '4X'");
  }
}

}  // namespace
}  // namespace tessera::run
