// The courier: keys that say route, tile and band; par's mail between ranks; receivers on rank 0.
#include "courier.hpp"

#include <algorithm>

#include "stopwatch.hpp"

namespace tessera::run {

Courier::Courier(int rank, int ranks) : rank_(rank) {
  if (rank_ == 0) inbox_ = std::make_unique<par::Inbox>(ranks - 1);
}

int Courier::add_route(Receiver* receiver, int bands) {
  routes_.push_back({receiver, bands_});
  bands_ += bands;
  return static_cast<int>(routes_.size()) - 1;
}

Bytes Courier::take_buffer() {
  if (rank_ != 0) return outbox_.take_buffer();
  if (spent_.empty()) return inbox_->take_buffer();
  Bytes buffer = std::move(spent_.back());
  spent_.pop_back();
  buffer.clear();
  return buffer;
}

void Courier::send(int route, int64_t tile, int band, Bytes bytes) {
  const int64_t key = tile * bands_ + routes_[static_cast<size_t>(route)].first + band;
  if (rank_ == 0) return hand_over(key, std::move(bytes));
  Timed timed(times_.communicate);
  bytes_sent_ += static_cast<int64_t>(bytes.size());
  outbox_.send(key, std::move(bytes));
}

/// Gives the band-tile under `key` to its route's receiver; a failure stops later ones.
void Courier::hand_over(int64_t key, Bytes bytes) {
  Timed timed(times_.write);
  if (failure_) {
    spent_.push_back(std::move(bytes));
    return;
  }
  const int64_t tile = key / bands_;
  const auto within = static_cast<int>(key % bands_);
  const auto route = std::find_if(routes_.rbegin(), routes_.rend(),
                                  [&](const Route& r) { return r.first <= within; });
  try {
    route->receiver->accept(tile, within - route->first, std::move(bytes), spent_);
  } catch (...) {
    failure_ = std::current_exception();
  }
}

void Courier::receive(bool block) {
  if (!inbox_) return;
  while (true) {
    const auto start = Clock::now();
    auto parcel = block ? inbox_->wait() : inbox_->poll();
    (block ? times_.wait : times_.communicate) += seconds_since(start);
    if (!parcel) return;
    bytes_received_ += static_cast<int64_t>(parcel->bytes.size());
    hand_over(parcel->key, std::move(parcel->bytes));
    for (auto& spent : spent_) inbox_->recycle(std::move(spent));
    spent_.clear();
    if (note_) note_();
  }
}

void Courier::close() {
  if (rank_ != 0) {
    Timed timed(times_.wait);
    outbox_.close();
    return;
  }
  receive(true);
}

}  // namespace tessera::run
