// Sinks whose encoded band-tiles travel to rank 0 and are written there in tile order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "sink.hpp"
#include "tessera/core/output_spec.hpp"

namespace tessera::run {

/// An output written by rank 0 alone from band-tiles every rank encodes: each thread encodes
/// its band-tiles, the main thread hands them to the courier, and rank 0 writes each as soon as
/// every band-tile before it (in tile order, then band order) is written, so the file is the
/// same byte for byte whoever computed what. What the file is comes from the derived class.
class OrderedSink : public Sink, private Receiver {
 public:
  explicit OrderedSink(const OutputSpec& spec);

  void open(const SinkSetup& setup) final;
  void encode(const TilePlace& place, int band, const void* cells) final;
  void deliver(const Batch& batch) final;
  int64_t held_bytes_per_tile() const final;
  std::optional<int64_t> tiles_written() const final;
  SinkFigures figures() const final;
  void commit() final;
  void abandon() noexcept final;

 protected:
  /// Makes one encoder per thread, for `threads` threads (every rank).
  virtual void make_encoders(int threads) = 0;
  /// Encodes a full tile of cells on thread `thread`; the bytes stay valid until its next call.
  virtual std::span<const std::byte> encode_band(int thread, const void* cells) = 0;
  /// Rank 0: creates the file under a temporary name.
  virtual void create_file() = 0;
  /// Rank 0: writes band `band` of tile `tile`, in the pass's order.
  virtual void write_band(int band, int64_t tile, std::span<const std::byte> bytes) = 0;
  /// Rank 0: finishes the file and moves it into place.
  virtual void commit_file() = 0;
  /// Rank 0: removes the file, if created.
  virtual void drop_file() noexcept = 0;

  const OutputSpec& spec() const { return spec_; }

 private:
  void accept(int64_t tile, int band, Bytes bytes, std::vector<Bytes>& spent) override;

  OutputSpec spec_;
  Courier* courier_ = nullptr;
  const TileOrder* order_ = nullptr;  // tiles travel and are written by their place in it
  int route_ = 0;
  std::vector<std::vector<Bytes>> held_;  // per batch slot, per band
  std::map<int64_t, Bytes> waiting_;      // rank 0: by key = tile * bands + band
  int64_t next_ = 0;                      // rank 0: the key written next
  int64_t bytes_written_ = 0;
};

/// An OrderedSink over one encoder type (one per thread) and one file type (rank 0), each
/// built from the OutputSpec: io::TileEncoder and io::GeoTiffWriter, or HDF5's chunk pair.
template <class Encoder, class File>
class OrderedFileSink final : public OrderedSink {
 public:
  using OrderedSink::OrderedSink;

 private:
  void make_encoders(int threads) override {
    encoders_.clear();
    for (int t = 0; t < threads; ++t) encoders_.emplace_back(spec());
  }
  std::span<const std::byte> encode_band(int thread, const void* cells) override {
    return encoders_[static_cast<size_t>(thread)].encode(cells);
  }
  void create_file() override { file_.emplace(spec()); }
  void write_band(int band, int64_t tile, std::span<const std::byte> bytes) override {
    file_->write_tile(band, tile, bytes);
  }
  void commit_file() override { file_->commit(); }
  void drop_file() noexcept override { file_.reset(); }

  std::vector<Encoder> encoders_;
  std::optional<File> file_;
};

}  // namespace tessera::run
