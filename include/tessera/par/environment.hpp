// The MPI environment of one run: initialised once in main, FUNNELED, finalised on exit.
#pragma once

namespace tessera::par {

/// Initialises MPI asking for MPI_THREAD_FUNNELED (only the main thread calls MPI) and checks the
/// library provides it; finalises MPI when destroyed. Works without mpirun (a singleton run).
class Environment {
 public:
  Environment(int& argc, char**& argv);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }
  /// How many ranks of this run share this rank's node.
  int ranks_on_node() const { return ranks_on_node_; }
  /// The status the process ends with: MPI_Finalize, when it crashes in its own shut-down (see
  /// the destructor), ends the process with this status rather than with the crash.
  void set_exit_status(int status) { exit_status_ = status; }

 private:
  int exit_status_ = 0;
  int rank_ = 0;
  int size_ = 1;
  int ranks_on_node_ = 1;
};

/// This rank's number and the number of ranks in the run (MPI_COMM_WORLD).
int world_rank();
int world_size();

/// Whether world rank `rank` runs on this rank's node (the ranks MPI_COMM_TYPE_SHARED groups
/// with it, as Environment found them); only this rank itself before an Environment exists.
bool on_this_node(int rank);

/// Makes this process end without MPI_Finalize, when its Environment goes, with its exit
/// status: for a library left in a state whose shut-down in MPI_Finalize would wait in a
/// collective call that cannot complete (HDF5 closes the files left open there).
void end_without_finalize();

/// Ends every rank of the run at once with `status`; for errors that cannot be agreed on.
[[noreturn]] void abort_all(int status);

}  // namespace tessera::par
