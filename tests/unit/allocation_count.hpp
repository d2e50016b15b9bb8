// Counts the heap allocations of a call, for tests that bound work (not wall time) where the
// CPU's instruction counter is out of reach, and the most heap a call holds at once, for tests
// that bound memory. Include it from one source file per test binary: it replaces the global
// operator new and delete (with malloc and free).
#pragma once

#include <malloc.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace tessera::test {

struct Allocations {
  uint64_t count = 0;
  uint64_t bytes = 0;
};

inline std::atomic<uint64_t> allocation_count{0};
inline std::atomic<uint64_t> allocation_bytes{0};
/// Bytes allocated by operator new and not yet deleted (malloc's usable sizes), and the most
/// there were since peak_bytes_of() last reset it.
inline std::atomic<int64_t> live_bytes{0};
inline std::atomic<int64_t> peak_live_bytes{0};

inline void add_live(int64_t bytes) {
  const int64_t now = live_bytes.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  int64_t peak = peak_live_bytes.load(std::memory_order_relaxed);
  while (now > peak && !peak_live_bytes.compare_exchange_weak(peak, now)) {
  }
}

/// The most heap (by operator new) held at once while `call` runs, above what was held before.
template <typename Call>
int64_t peak_bytes_of(Call call) {
  const int64_t before = live_bytes.load();
  peak_live_bytes.store(before);
  call();
  return peak_live_bytes.load() - before;
}

/// The allocations (by operator new) made while `call` runs.
template <typename Call>
Allocations allocations_of(Call call) {
  const uint64_t count = allocation_count.load();
  const uint64_t bytes = allocation_bytes.load();
  call();
  return {allocation_count.load() - count, allocation_bytes.load() - bytes};
}

/// How many times the allocations of `call(2 * n)` are those of `call(n)`, by count and by bytes,
/// whichever grows more: about 2 for work linear in n, about 4 where it copies quadratically.
template <typename Call>
double allocation_doubling_ratio(Call call, int n) {
  const Allocations small = allocations_of([&] { call(n); });
  const Allocations large = allocations_of([&] { call(2 * n); });
  const auto ratio = [](uint64_t a, uint64_t b) {
    return static_cast<double>(b) / static_cast<double>(a == 0 ? 1 : a);
  };
  return std::max(ratio(small.count, large.count), ratio(small.bytes, large.bytes));
}

}  // namespace tessera::test

void* operator new(std::size_t size) {
  tessera::test::allocation_count.fetch_add(1, std::memory_order_relaxed);
  tessera::test::allocation_bytes.fetch_add(size, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) {
    tessera::test::add_live(static_cast<int64_t>(malloc_usable_size(p)));
    return p;
  }
  throw std::bad_alloc();
}

// The deletes that match: without them a sanitizer sees malloc'd memory given to its own delete.
void operator delete(void* p) noexcept {
  tessera::test::add_live(-static_cast<int64_t>(malloc_usable_size(p)));
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
