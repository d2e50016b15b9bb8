// Agreement on failure: no rank is left waiting in a collective when another one failed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

namespace tessera::par {

/// Collective. If any rank passes a failure, every rank throws tessera::Error carrying the
/// message of the lowest failing rank; otherwise returns on every rank.
void agree(std::exception_ptr local_failure);

/// Runs `step` and agrees on its outcome: every rank returns, or every rank throws.
void agreed(const std::function<void()>& step);

/// Collective: `value` of every rank, gathered to every rank, in rank order.
std::vector<double> all_gather(double value);

/// Collective: `values` of every rank (the same count on each), gathered to every rank in one
/// message, rank after rank: rank r's values are at [r * values.size(), (r + 1) * values.size()).
std::vector<double> all_gather(const std::vector<double>& values);

/// Collective: the largest `value` over all ranks.
int64_t max_over_ranks(int64_t value);

/// Collective: the `size` bytes at `data` as rank 0 holds them, on every rank, in one message.
void broadcast_bytes(void* data, size_t size);

/// Collective: `value` as rank 0 holds it, on every rank, in one message.
template <class T>
requires std::is_trivially_copyable_v<T> T broadcast_from_root(T value) {
  broadcast_bytes(&value, sizeof value);
  return value;
}

/// Collective: returns on every rank once every rank has called it.
void barrier();

}  // namespace tessera::par
