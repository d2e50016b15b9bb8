// A tile counter shared by all ranks: ranks claim tiles dynamically, with no master process.
#pragma once

#include <cstdint>
#include <memory>

namespace tessera::par {

/// An MPI-3 one-sided counter hosted on rank 0: claim() is an atomic fetch-and-add, so fast
/// ranks take more tiles and a slow rank holds no one back. Collective to create and destroy.
class TileCounter {
 public:
  explicit TileCounter(int64_t total);
  ~TileCounter();
  TileCounter(const TileCounter&) = delete;
  TileCounter& operator=(const TileCounter&) = delete;

  /// Claims up to `n` consecutive tiles; returns the first. The claim is empty when the first
  /// is >= total(); otherwise it covers [first, min(first + n, total)).
  int64_t claim(int64_t n);
  /// Makes every later claim, on every rank, empty: a failing rank stops the others early.
  void cancel();
  int64_t total() const { return total_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int64_t total_;
};

}  // namespace tessera::par
