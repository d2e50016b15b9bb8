// The ordered sink: held band-tiles, sent on after each batch, put in sequence on rank 0.
#include "ordered_sink.hpp"

#include <utility>

#include "journal.hpp"
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
    if (!courier_->receives()) return;
    if (!setup.resume) {
      create_file(setup.temporary_id, nullptr);
      return;
    }
    OrderedResume resume = resume_from(*setup.resume);
    for (size_t p = 0; p < resume.written.size() / static_cast<size_t>(spec_.bands); ++p)
      resume.tiles.push_back(order_ ? order_->tile(static_cast<int64_t>(p))
                                    : static_cast<int64_t>(p));
    next_ = static_cast<int64_t>(create_file(setup.temporary_id, &resume));
  });
  unsynced_first_ = next_;
  tiles_taken_ = par::broadcast_from_root(next_) / spec_.bands;
}

/// The band-tiles the records say are durable, in key order from 0, cut to whole tiles.
OrderedResume OrderedSink::resume_from(const std::vector<Bytes>& records) const {
  OrderedResume resume;
  for (const Bytes& record : records) {
    RecordReader r(record);
    const auto first = r.get<int64_t>();
    const auto prefix = r.get<int64_t>();
    const auto extents = r.get_all<io::ByteRange>();
    if (first != static_cast<int64_t>(resume.written.size())) break;
    resume.prefix_bytes = prefix;
    resume.written.insert(resume.written.end(), extents.begin(), extents.end());
  }
  resume.written.resize(resume.written.size() / static_cast<size_t>(spec_.bands) *
                        static_cast<size_t>(spec_.bands));
  return resume;
}

std::vector<bool> OrderedSink::resumed_tiles(int64_t tiles) const {
  std::vector<bool> held(static_cast<size_t>(tiles), false);
  for (int64_t p = 0; p < tiles_taken_ && p < tiles; ++p)
    held[static_cast<size_t>(order_ ? order_->tile(p) : p)] = true;
  return held;
}

std::vector<Bytes> OrderedSink::checkpoint() {
  if (!courier_->receives() || unsynced_.empty()) return {};
  sync_file();
  RecordWriter w;
  w.put(unsynced_first_).put(prefix_bytes()).put_all(unsynced_);
  unsynced_first_ = next_;
  unsynced_.clear();
  return {w.take()};
}

void OrderedSink::suspend() noexcept {
  if (courier_->receives()) keep_file();
  waiting_.clear();
}

void OrderedSink::encode(const TilePlace& place, int band, const void* cells) {
  const std::span<const std::byte> bytes = encode_band(place.thread, cells);
  held_[static_cast<size_t>(place.slot)][static_cast<size_t>(band)].assign(bytes.begin(),
                                                                           bytes.end());
}

void OrderedSink::deliver(const Batch& batch) {
  for (int64_t i = 0; i < batch.count; ++i)
    for (int band = 0; band < spec_.bands && !batch.skips(i); ++band) {
      Bytes& held = held_[static_cast<size_t>(i)][static_cast<size_t>(band)];
      courier_->send(route_, batch.first + i, band, std::exchange(held, courier_->take_buffer()));
    }
}

void OrderedSink::accept(int64_t position, int band, Bytes bytes, std::vector<Bytes>& spent) {
  const int64_t key = position * spec_.bands + band;
  if (key < next_) {  // taken up from the run before: computed again for another sink
    spent.push_back(std::move(bytes));
    return;
  }
  bytes_written_ += static_cast<int64_t>(bytes.size());
  waiting_.emplace(key, std::move(bytes));
  for (auto it = waiting_.begin(); it != waiting_.end() && it->first == next_;) {
    const int64_t position = next_ / spec_.bands;
    unsynced_.push_back(write_band(static_cast<int>(next_ % spec_.bands),
                                   order_ ? order_->tile(position) : position, it->second));
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
