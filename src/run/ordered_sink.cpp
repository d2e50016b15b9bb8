// The ordered sink: held band-tiles, sent on after each batch, put in sequence on rank 0.
#include "ordered_sink.hpp"

#include <utility>

#include "tessera/core/error.hpp"
#include "tessera/par/agreement.hpp"

namespace tessera::run {

OrderedSink::OrderedSink(const OutputSpec& spec) : spec_(spec) {}

void OrderedSink::open(const SinkSetup& setup) {
  courier_ = setup.courier;
  order_ = setup.order;
  route_ = courier_->add_route(this, spec_.bands);
  held_.assign(static_cast<size_t>(setup.batch_slots),
               std::vector<Bytes>(static_cast<size_t>(spec_.bands)));
  par::agreed([&] {
    make_encoders(setup.threads);
    if (courier_->receives()) create_file();
  });
}

void OrderedSink::encode(const TilePlace& place, int band, const void* cells) {
  const std::span<const std::byte> bytes = encode_band(place.thread, cells);
  held_[static_cast<size_t>(place.slot)][static_cast<size_t>(band)].assign(bytes.begin(),
                                                                           bytes.end());
}

void OrderedSink::deliver(const Batch& batch) {
  for (int64_t i = 0; i < batch.count; ++i)
    for (int band = 0; band < spec_.bands; ++band) {
      Bytes& held = held_[static_cast<size_t>(i)][static_cast<size_t>(band)];
      courier_->send(route_, batch.first + i, band, std::exchange(held, courier_->take_buffer()));
    }
}

void OrderedSink::accept(int64_t tile, int band, Bytes bytes, std::vector<Bytes>& spent) {
  bytes_written_ += static_cast<int64_t>(bytes.size());
  waiting_.emplace(tile * spec_.bands + band, std::move(bytes));
  for (auto it = waiting_.begin(); it != waiting_.end() && it->first == next_;) {
    const int64_t position = next_ / spec_.bands;
    write_band(static_cast<int>(next_ % spec_.bands), order_ ? order_->tile(position) : position,
               it->second);
    spent.push_back(std::move(it->second));
    it = waiting_.erase(it);
    ++next_;
  }
}

int64_t OrderedSink::held_bytes_per_tile() const {
  return spec_.tile_width * spec_.tile_height * static_cast<int64_t>(size_of(spec_.type)) *
         spec_.bands;
}

std::optional<int64_t> OrderedSink::tiles_written() const {
  if (!courier_ || !courier_->receives()) return std::nullopt;
  return next_ / spec_.bands;
}

SinkFigures OrderedSink::figures() const { return {0, bytes_written_}; }

void OrderedSink::commit() {
  par::agreed([&] {
    if (!courier_->receives()) return;
    const TileGrid grid(spec_.size, spec_.tile_width, spec_.tile_height);
    if (next_ != grid.count() * spec_.bands)
      throw Error("internal error: tiles are missing from " + spec_.path);
    commit_file();
  });
}

void OrderedSink::abandon() noexcept {
  drop_file();
  waiting_.clear();
}

}  // namespace tessera::run
