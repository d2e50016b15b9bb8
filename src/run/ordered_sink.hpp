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
#include "tessera/io/geotiff.hpp"
#include "tessera/io/hdf5.hpp"
#include "tessera/io/temporary_files.hpp"

namespace tessera::run {

/// Where rank 0's file of an interrupted run was: the bytes before any tile, then the band-tiles
/// written (in tile order, then band order) and made durable.
struct OrderedResume {
  int64_t prefix_bytes = 0;
  std::vector<io::ByteRange> written;
  /// The tile at each position `written` holds the bands of, in the pass's order.
  std::vector<int64_t> tiles;
};

/// An output written by rank 0 alone from band-tiles every rank encodes: each thread encodes
/// its band-tiles, the main thread hands them to the courier, and rank 0 writes each as soon as
/// every band-tile before it (in tile order, then band order) is written, so the file is the
/// same byte for byte whoever computed what. What the file is comes from the derived class.
///
/// Journal: rank 0's records each say where a run of band-tiles lies (from which key, each one's
/// offset and size), written after the file was synced; the tiles held are the whole tiles of
/// the longest run of keys from 0. Resumed, rank 0's file takes up those band-tiles as the
/// run that wrote them left them, and the ones after are written in order as ever.
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
  std::vector<bool> resumed_tiles(int64_t tiles) const final;
  std::vector<Bytes> checkpoint() final;
  void suspend() noexcept final;

 protected:
  /// Makes one encoder per thread, for `threads` threads (every rank).
  virtual void make_encoders(int threads) = 0;
  /// Encodes a full tile of cells on thread `thread`; the bytes stay valid until its next call.
  virtual std::span<const std::byte> encode_band(int thread, const void* cells) = 0;
  /// Rank 0: creates the file under temporary_path(path, `id`), or takes up what `resume`
  /// says is there. Returns how many of resume->written it took up (all, or none when the file
  /// is gone).
  virtual size_t create_file(int64_t id, const OrderedResume* resume) = 0;
  /// Rank 0: writes band `band` of tile `tile`, in the pass's order; returns where it went.
  virtual io::ByteRange write_band(int band, int64_t tile, std::span<const std::byte> bytes) = 0;
  /// Rank 0: the bytes of the file before its first tile.
  virtual int64_t prefix_bytes() const = 0;
  /// Rank 0: makes what was written durable.
  virtual void sync_file() = 0;
  /// Rank 0: finishes the file and moves it into place.
  virtual void commit_file() = 0;
  /// Rank 0: removes the file, if created.
  virtual void drop_file() noexcept = 0;
  /// Rank 0: leaves the file unfinished at its temporary name, for a resume.
  virtual void keep_file() noexcept = 0;

  const OutputSpec& spec() const { return spec_; }

 private:
  void accept(int64_t tile, int band, Bytes bytes, std::vector<Bytes>& spent) override;
  OrderedResume resume_from(const std::vector<Bytes>& records) const;

  OutputSpec spec_;
  Courier* courier_ = nullptr;
  const TileOrder* order_ = nullptr;  // tiles travel and are written by their place in it
  int route_ = 0;
  std::vector<std::vector<Bytes>> held_;  // per batch slot, per band
  std::map<int64_t, Bytes> waiting_;      // rank 0: by key = tile * bands + band
  int64_t next_ = 0;                      // rank 0: the key written next
  int64_t bytes_written_ = 0;
  int64_t tiles_taken_ = 0;              // whole tiles taken up from the runs before
  std::vector<io::ByteRange> unsynced_;  // rank 0: written since the last checkpoint
  int64_t unsynced_first_ = 0;           // rank 0: the key of unsynced_[0]
};

/// Rank 0's file of an ordered sink made (or taken up from `resume`) in `file`; returns how
/// many of resume->written it took up (geotiff_sink.cpp, hdf5_chunk_sink.cpp).
size_t make_file(std::optional<io::GeoTiffWriter>& file, const OutputSpec& spec, int64_t id,
                 const OrderedResume* resume);
size_t make_file(std::optional<io::Hdf5ChunkWriter>& file, const OutputSpec& spec, int64_t id,
                 const OrderedResume* resume);
inline int64_t file_prefix(const io::GeoTiffWriter& file) { return file.prefix_bytes(); }
inline int64_t file_prefix(const io::Hdf5ChunkWriter&) { return 0; }

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
  size_t create_file(int64_t id, const OrderedResume* resume) override {
    return make_file(file_, spec(), id, resume);
  }
  io::ByteRange write_band(int band, int64_t tile, std::span<const std::byte> bytes) override {
    return file_->write_tile(band, tile, bytes);
  }
  int64_t prefix_bytes() const override { return file_prefix(*file_); }
  void sync_file() override { file_->sync(); }
  void commit_file() override { file_->commit(); }
  void drop_file() noexcept override { file_.reset(); }
  void keep_file() noexcept override {
    if (file_) file_->keep();
    file_.reset();
  }

  std::vector<Encoder> encoders_;
  std::optional<File> file_;
};

}  // namespace tessera::run
