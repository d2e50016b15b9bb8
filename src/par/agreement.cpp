// Agreement on failure with one allreduce and one broadcast, and small collective helpers.
#include "tessera/par/agreement.hpp"

#include <mpi.h>

#include "tessera/core/error.hpp"

namespace tessera::par {

namespace {

std::string message_of(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (...) {
    return failure_message();
  }
}

std::string broadcast_string(std::string text, int root) {
  int64_t length = static_cast<int64_t>(text.size());
  MPI_Bcast(&length, 1, MPI_INT64_T, root, MPI_COMM_WORLD);
  text.resize(static_cast<size_t>(length));
  MPI_Bcast(text.data(), static_cast<int>(length), MPI_CHAR, root, MPI_COMM_WORLD);
  return text;
}

}  // namespace

void agree(std::exception_ptr local_failure) {
  int rank = 0;
  int size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int mine = local_failure ? rank : size;
  int first = size;
  MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (first == size) return;
  const std::string text = rank == first ? message_of(local_failure) : std::string();
  throw Error(broadcast_string(text, first));
}

void agreed(const std::function<void()>& step) {
  std::exception_ptr failure;
  try {
    step();
  } catch (...) {
    failure = std::current_exception();
  }
  agree(failure);
}

std::vector<double> all_gather(double value) {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  std::vector<double> values(static_cast<size_t>(size));
  MPI_Allgather(&value, 1, MPI_DOUBLE, values.data(), 1, MPI_DOUBLE, MPI_COMM_WORLD);
  return values;
}

std::vector<double> all_gather(const std::vector<double>& values) {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  std::vector<double> gathered(values.size() * static_cast<size_t>(size));
  const int count = static_cast<int>(values.size());
  MPI_Allgather(values.data(), count, MPI_DOUBLE, gathered.data(), count, MPI_DOUBLE,
                MPI_COMM_WORLD);
  return gathered;
}

int64_t max_over_ranks(int64_t value) {
  int64_t result = 0;
  MPI_Allreduce(&value, &result, 1, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD);
  return result;
}

void broadcast_bytes(void* data, size_t size) {
  MPI_Bcast(data, static_cast<int>(size), MPI_BYTE, 0, MPI_COMM_WORLD);
}

void barrier() { MPI_Barrier(MPI_COMM_WORLD); }

}  // namespace tessera::par
