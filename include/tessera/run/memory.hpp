// The memory a rank may use, and the check that a plan fits it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace tessera::run {

/// What bounds the memory of the ranks on this node, as read from the machine and the batch
/// system. Sizes in bytes.
struct MemoryFacts {
  int64_t physical = 0;                   ///< the node's RAM
  std::optional<int64_t> cgroup_limit;    ///< the tightest memory cgroup limit above this process
  std::optional<int64_t> slurm_per_cpu;   ///< SLURM_MEM_PER_CPU (--mem-per-cpu)
  std::optional<int64_t> slurm_per_node;  ///< SLURM_MEM_PER_NODE (--mem)
  int slurm_cpus_per_task = 1;            ///< SLURM_CPUS_PER_TASK, for --mem-per-cpu
};

/// The facts of this process: physical memory from sysconf, the memory cgroup of
/// /proc/self/cgroup under `cgroup_root` (v2's memory.max or v1's memory.limit_in_bytes, the
/// lowest on the way up to the root), and Slurm's variables (sizes in MiB, as Slurm sets them).
MemoryFacts read_memory_facts(const std::string& cgroup_root = "/sys/fs/cgroup");

/// The memory one rank may use and what says so.
struct MemoryBudget {
  int64_t bytes = 0;
  std::string source;  ///< "physical memory 23.4 GiB / 2 ranks on this node"
};

/// The tightest of: Slurm's --mem-per-cpu times the CPUs of a task; Slurm's --mem, the cgroup
/// limit and physical memory, each shared by the `ranks_on_node`.
MemoryBudget rank_budget(const MemoryFacts& facts, int ranks_on_node);

/// "4G", "512M", "1.5GiB", "2048" (MiB, as Slurm's --mem reads a bare number) in bytes; units
/// K, M, G, T are powers of 1024, with or without "B" or "iB". Throws tessera::UsageError naming
/// `flag` for anything else.
int64_t parse_memory_size(const std::string& flag, const std::string& text);

/// "1.5 GiB", "300.0 MiB".
std::string size_text(int64_t bytes);

}  // namespace tessera::run
