// The shared tile counter's cost: each rank claims one tile at a time (MPI_Fetch_and_op on
// rank 0's window) until TILES are taken; rank 0 prints the claims' latency (median and 99th
// percentile over all ranks' claims) and the claims served a second. By hand:
//   mpirun -n 64 --oversubscribe bench_counter 200000
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "tessera/par/environment.hpp"
#include "tessera/par/tile_counter.hpp"

int main(int argc, char** argv) {
  tessera::par::Environment env(argc, argv);
  const int64_t tiles = argc > 1 ? std::atoll(argv[1]) : 100000;
  std::vector<double> mine;
  MPI_Barrier(MPI_COMM_WORLD);
  const double start = MPI_Wtime();
  {
    tessera::par::TileCounter counter(tiles);
    while (true) {
      const auto before = std::chrono::steady_clock::now();
      const int64_t first = counter.claim(1);
      mine.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - before).count());
      if (first >= tiles) break;
    }
  }
  const double wall = MPI_Wtime() - start;
  int count = static_cast<int>(mine.size());
  int ranks = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  std::vector<int> counts(static_cast<size_t>(ranks));
  MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  std::vector<int> at(static_cast<size_t>(ranks), 0);
  for (int r = 1; r < ranks; ++r) at[r] = at[r - 1] + counts[r - 1];
  std::vector<double> all(env.is_root() ? static_cast<size_t>(at.back() + counts.back()) : 0);
  MPI_Gatherv(mine.data(), count, MPI_DOUBLE, all.data(), counts.data(), at.data(), MPI_DOUBLE, 0,
              MPI_COMM_WORLD);
  if (!env.is_root()) return 0;
  // Rank 0 hosts the counter and claims from its own memory: the others' claims are the cost.
  std::vector<double> remote(all.begin() + counts[0], all.end());
  if (remote.empty()) remote = all;
  std::sort(remote.begin(), remote.end());
  std::printf(
      "ranks %d, claims %zu in %.3f s: %.0f claims/s, rank 0 took %d; the others' latency "
      "median %.1f us, p99 %.1f us\n",
      ranks, all.size(), wall, static_cast<double>(all.size()) / wall, counts[0],
      remote[remote.size() / 2] * 1e6, remote[remote.size() * 99 / 100] * 1e6);
  return 0;
}
