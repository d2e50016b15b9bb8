// Encoded tiles travelling from the ranks that computed them to the one rank that writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

namespace tessera::par {

/// One encoded tile and its place in the output sequence.
struct Parcel {
  int64_t key = 0;
  std::vector<std::byte> bytes;
};

/// The sending side (ranks other than 0). Sends are non-blocking; buffers are recycled once
/// MPI says they left, so memory stays bounded by what is in flight.
class Outbox {
 public:
  Outbox() = default;
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  /// A buffer to fill, reused from a finished send when one is free.
  std::vector<std::byte> take_buffer();
  /// Sends `key` + `bytes` to rank 0.
  void send(int64_t key, std::vector<std::byte> bytes);
  /// Says "no more tiles from me" and waits until every send has left.
  void close();

 private:
  struct Pending;
  void reap(bool wait_all);
  std::deque<Pending*> pending_;
  std::vector<std::vector<std::byte>> free_;
};

/// The receiving side (rank 0): parcels from the other ranks until each of them closed.
class Inbox {
 public:
  explicit Inbox(int senders) : open_senders_(senders) {}
  /// The next parcel that has arrived, without waiting; nullopt when none has.
  std::optional<Parcel> poll();
  /// The next parcel, waiting for it; nullopt once every sender has closed.
  std::optional<Parcel> wait();
  bool open() const { return open_senders_ > 0; }
  /// Gives a parcel's buffer back so that a later parcel reuses its memory.
  void recycle(std::vector<std::byte> bytes);
  /// A recycled buffer (empty, with its capacity), or a new empty one when none is free.
  std::vector<std::byte> take_buffer();

 private:
  std::optional<Parcel> receive(bool block);
  int open_senders_;
  std::vector<std::vector<std::byte>> free_;
};

}  // namespace tessera::par
