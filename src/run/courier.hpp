// Band-tiles on their way from the ranks that computed them to the one rank that writes them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <vector>

#include "tessera/par/tile_mail.hpp"

namespace tessera::run {

using Bytes = std::vector<std::byte>;

/// Rank 0's side of a route: takes band-tiles as they arrive, in any order.
class Receiver {
 public:
  virtual ~Receiver() = default;
  /// Band `band` of tile `tile`; buffers it is done with go into `spent` for reuse.
  virtual void accept(int64_t tile, int band, Bytes bytes, std::vector<Bytes>& spent) = 0;
};

/// Seconds the main thread spent on the courier's behalf.
struct CourierTimes {
  double communicate = 0;  ///< sending, and receiving without waiting
  double wait = 0;         ///< waiting for other ranks' band-tiles
  double write = 0;        ///< inside the receivers (rank 0)
};

/// Carries band-tiles to rank 0: sends them from the other ranks, and on rank 0 hands each, its
/// own and the others', to the receiver of its route. Every rank adds the same routes in the
/// same order. Main thread only.
class Courier {
 public:
  Courier(int rank, int ranks);
  Courier(const Courier&) = delete;
  Courier& operator=(const Courier&) = delete;

  bool receives() const { return rank_ == 0; }
  /// A route for the `bands` bands of each tile; `receiver` (used on rank 0 only) must outlive
  /// the courier's last close().
  int add_route(Receiver* receiver, int bands);
  /// An empty buffer with capacity left by an earlier band-tile, when there is one.
  Bytes take_buffer();
  /// Band `band` of tile `tile` of route `route`: sent to rank 0, or given to its receiver.
  void send(int route, int64_t tile, int band, Bytes bytes);
  /// Rank 0: gives the band-tiles that have arrived to their receivers, without waiting.
  void poll() { receive(false); }
  /// Every rank: says it has sent everything; rank 0 then receives until all ranks have.
  void close();

  /// The first failure of a receiver; later band-tiles are then dropped.
  std::exception_ptr failure() const { return failure_; }
  /// Called on rank 0 after each band-tile it received (progress).
  void on_arrival(std::function<void()> note) { note_ = std::move(note); }
  const CourierTimes& times() const { return times_; }
  int64_t bytes_sent() const { return bytes_sent_; }
  int64_t bytes_received() const { return bytes_received_; }

 private:
  void receive(bool block);
  void hand_over(int64_t key, Bytes bytes);

  struct Route {
    Receiver* receiver;
    int first;  // the key of band 0 among a tile's keys
  };
  int rank_;
  std::vector<Route> routes_;
  int bands_ = 0;  // keys per tile, over every route
  par::Outbox outbox_;
  std::unique_ptr<par::Inbox> inbox_;
  std::vector<Bytes> spent_;
  std::exception_ptr failure_;
  std::function<void()> note_;
  CourierTimes times_;
  int64_t bytes_sent_ = 0;
  int64_t bytes_received_ = 0;
};

}  // namespace tessera::run
