// The shared tile counter: one int64 in an MPI window on rank 0, advanced with MPI_Fetch_and_op.
#include "tessera/par/tile_counter.hpp"

#include <mpi.h>

#include <algorithm>

namespace tessera::par {

struct TileCounter::Impl {
  MPI_Win window = MPI_WIN_NULL;
  int64_t* cell = nullptr;
};

TileCounter::TileCounter(int64_t total) : impl_(std::make_unique<Impl>()), total_(total) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const MPI_Aint bytes = rank == 0 ? sizeof(int64_t) : 0;
  MPI_Win_allocate(bytes, sizeof(int64_t), MPI_INFO_NULL, MPI_COMM_WORLD, &impl_->cell,
                   &impl_->window);
  if (rank == 0) *impl_->cell = 0;
  MPI_Win_fence(0, impl_->window);
  MPI_Win_lock_all(MPI_MODE_NOCHECK, impl_->window);
}

TileCounter::~TileCounter() {
  MPI_Win_unlock_all(impl_->window);
  MPI_Win_free(&impl_->window);
}

int64_t TileCounter::claim(int64_t n) {
  int64_t first = 0;
  MPI_Fetch_and_op(&n, &first, MPI_INT64_T, 0, 0, MPI_SUM, impl_->window);
  MPI_Win_flush(0, impl_->window);
  return std::min(first, total_);
}

void TileCounter::cancel() {
  // Far past any total, but far from overflowing however many ranks add it.
  const int64_t jump = int64_t{1} << 52;
  int64_t ignored = 0;
  MPI_Fetch_and_op(&jump, &ignored, MPI_INT64_T, 0, 0, MPI_SUM, impl_->window);
  MPI_Win_flush(0, impl_->window);
}

}  // namespace tessera::par
