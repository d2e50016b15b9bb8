// Dijkstra's queue for the global solves of the tile-graph steps (flowdir's flats, fill's
// epsilon): each perimeter cell at most once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "tessera/core/error.hpp"
#include "tessera/ops/tile_graph.hpp"

namespace tessera::ops {

/// No place in a NodeQueue: the node is not waiting. Node numbers must be below it.
inline constexpr uint32_t kNoPlace = std::numeric_limits<uint32_t>::max();

/// The nodes waiting in Dijkstra's algorithm over a tile graph's perimeter cells, least distance
/// first: a binary heap in which each node is at most once (its place kept per node), so that
/// lowering a waiting node's distance moves it up instead of adding an entry. A perimeter cell is
/// lowered from every cell of its piece settled before it (in flowdir's solve on the benchmark's
/// 16000 x 16000 DEM, 3.4 times a node: 6.9 million entries for 2 million nodes in a queue of
/// pairs); this queue holds at most one entry a node, 8 bytes with its place. `dist` is the
/// solve's distance per node, which the caller lowers before calling `lowered`.
template <class Distance>
class NodeQueue {
 public:
  explicit NodeQueue(const std::vector<Distance>& dist) : dist_(dist) {
    static_assert(kMostNumberedPerimeterCells == int64_t{kNoPlace} - 1);
    if (dist.size() > static_cast<size_t>(kMostNumberedPerimeterCells))
      throw Error("a tile graph of " + std::to_string(dist.size()) +
                  " perimeter cells is more than its global solve numbers (" +
                  std::to_string(kMostNumberedPerimeterCells) + "); use larger tiles");
    place_.assign(dist.size(), kNoPlace);
  }

  bool empty() const { return heap_.empty(); }

  /// n's distance has just been lowered: n waits at its place in the order.
  void lowered(uint32_t n) {
    uint32_t i = place_[n];
    if (i == kNoPlace) {
      i = static_cast<uint32_t>(heap_.size());
      heap_.push_back(n);
    }
    up(i, n);
  }

  /// The waiting node of the least distance, which waits no more.
  uint32_t pop() {
    const uint32_t top = heap_.front();
    place_[top] = kNoPlace;
    const uint32_t last = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) down(0, last);
    return top;
  }

 private:
  /// Puts n at place i or above it.
  void up(uint32_t i, uint32_t n) {
    const Distance d = dist_[n];
    while (i > 0) {
      const uint32_t parent = (i - 1) / 2;
      if (dist_[heap_[parent]] <= d) break;
      put(i, heap_[parent]);
      i = parent;
    }
    put(i, n);
  }

  /// Puts n at place i or below it.
  void down(uint32_t i, uint32_t n) {
    const Distance d = dist_[n];
    const size_t size = heap_.size();
    for (;;) {
      size_t child = 2 * size_t{i} + 1;
      if (child >= size) break;
      if (child + 1 < size && dist_[heap_[child + 1]] < dist_[heap_[child]]) ++child;
      if (dist_[heap_[child]] >= d) break;
      put(i, heap_[child]);
      i = static_cast<uint32_t>(child);
    }
    put(i, n);
  }

  void put(uint32_t i, uint32_t n) {
    heap_[i] = n;
    place_[n] = i;
  }

  const std::vector<Distance>& dist_;
  std::vector<uint32_t> place_;  ///< per node: its place in heap_, or kNoPlace
  std::vector<uint32_t> heap_;
};

}  // namespace tessera::ops
