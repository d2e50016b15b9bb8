// MPI start-up and shut-down; the thread level is checked, not assumed.
#include "tessera/par/environment.hpp"

#include <mpi.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "mail_communicator.hpp"
#include "tessera/core/error.hpp"
#include "tessera/par/launcher_link.hpp"

namespace tessera::par {
namespace {

bool has_env(const char* name) { return std::getenv(name) != nullptr; }

/// True when every rank of the run is on this node: an Open MPI mpirun whose world is all local,
/// or a singleton started by no launcher at all (srun and other PMI launchers set PMIX_RANK or
/// PMI_RANK, and such a run may span nodes).
bool whole_run_on_this_node() {
  const char* world = std::getenv("OMPI_COMM_WORLD_SIZE");
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  if (world) return local && std::string_view(world) == local;
  return !has_env("PMIX_RANK") && !has_env("PMI_RANK") && !has_env("PMI_SIZE");
}

/// On one node Open MPI's UCX messaging layer only adds its start-up (0.22 s per run here, most of
/// a small job's fixed cost) to what shared memory does anyway, so tessera asks for the ob1 layer
/// there unless the user chose one (OMPI_MCA_pml, or an MCA parameter file).
void prefer_shared_memory_messaging() {
  if (has_env("OMPI_MCA_pml") || !whole_run_on_this_node()) return;
  setenv("OMPI_MCA_pml", "ob1", 0);
}

/// On one node the shared-memory transport (vader) and the loopback one (self) reach every rank.
/// Open MPI opens its TCP transport too, and then the window of the tile counter
/// (MPI_Win_allocate, osc/rdma) takes 5-170 ms of every run here instead of under 5, and each
/// rank's first collectives are slower (2026-12-06-floor.md). So on one node tessera asks for
/// self and vader unless the user chose the transports (OMPI_MCA_btl).
void use_shared_memory_transports() {
  if (has_env("OMPI_MCA_btl") || !whole_run_on_this_node()) return;
  setenv("OMPI_MCA_btl", "self,vader", 0);
}

/// MPI_Init has hwloc discover the node, its PCI devices and GPUs included: each rank reads the
/// PCI configuration space of every device (a trap to the hypervisor per word on a VM) and looks
/// for X displays, 20-25 ms of every run here. Shared memory needs only the cores and caches, so
/// on one node tessera leaves the I/O devices out unless the user set HWLOC_COMPONENTS.
void skip_io_device_discovery() {
  if (has_env("HWLOC_COMPONENTS") || !whole_run_on_this_node()) return;
  setenv("HWLOC_COMPONENTS", "-pci,-linuxio,-gl,-opencl", 0);
}

volatile sig_atomic_t finalize_exit_status = 0;

bool finalize_skipped = false;  // end_without_finalize()

MPI_Comm mail = MPI_COMM_NULL;  // mail_communicator()

extern "C" void end_in_finalize(int) { _exit(finalize_exit_status); }

/// Open MPI 4.1.4's MPI_Finalize closes its PMIx plugin before it joins its progress thread, and
/// that thread may still run one of the plugin's event callbacks, now unmapped: SIGSEGV (seen in
/// about 1 of 400 exits under load, after every output was complete). Kept mapped, the callback
/// deadlocks instead. So a crash inside MPI_Finalize ends the process with the status it was
/// ending with anyway, everything already written and flushed.
void end_quietly_on_a_crash_in_finalize(int status) {
  finalize_exit_status = status;
  struct sigaction end {};
  end.sa_handler = end_in_finalize;
  sigemptyset(&end.sa_mask);
  for (const int sig : {SIGSEGV, SIGBUS, SIGILL}) sigaction(sig, &end, nullptr);
}

/// The node of each world rank (the world rank of its first rank), set by Environment.
std::vector<int>& node_of_rank() {
  static std::vector<int> nodes;
  return nodes;
}

}  // namespace

Environment::Environment(int& argc, char**& argv) {
  end_with_launcher();
  prefer_shared_memory_messaging();
  use_shared_memory_transports();
  skip_io_device_discovery();
  int provided = MPI_THREAD_SINGLE;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  send_local_tcp_without_delay();
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  if (provided < MPI_THREAD_FUNNELED) {
    MPI_Finalize();
    throw Error("the MPI library does not provide MPI_THREAD_FUNNELED");
  }
  MPI_Comm_dup(MPI_COMM_WORLD, &mail);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
  MPI_Comm_size(node, &ranks_on_node_);
  // Each node named by the world rank of its first rank, every rank's node known to all.
  int leader = rank_;
  MPI_Bcast(&leader, 1, MPI_INT, 0, node);
  MPI_Comm_free(&node);
  node_of_rank().assign(static_cast<size_t>(size_), 0);
  MPI_Allgather(&leader, 1, MPI_INT, node_of_rank().data(), 1, MPI_INT, MPI_COMM_WORLD);
}

Environment::~Environment() {
  std::fflush(nullptr);
  if (finalize_skipped) _exit(exit_status_);
  if (mail != MPI_COMM_NULL) MPI_Comm_free(&mail);
  end_quietly_on_a_crash_in_finalize(exit_status_);
  MPI_Finalize();
}

bool on_this_node(int rank) {
  const std::vector<int>& nodes = node_of_rank();
  const int me = world_rank();
  if (rank < 0 || static_cast<size_t>(rank) >= nodes.size() ||
      static_cast<size_t>(me) >= nodes.size())
    return rank == me;
  return nodes[static_cast<size_t>(rank)] == nodes[static_cast<size_t>(me)];
}

int world_rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

int world_size() {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

void end_without_finalize() { finalize_skipped = true; }

MPI_Comm mail_communicator() { return mail != MPI_COMM_NULL ? mail : MPI_COMM_WORLD; }

void abort_all(int status) {
  MPI_Abort(MPI_COMM_WORLD, status);
  std::abort();
}

}  // namespace tessera::par
