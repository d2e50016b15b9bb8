// The parallel HDF5 sink: every rank keeps its tiles' cells and writes them over MPI-IO in
// lock-step rounds, one round per tile of the rank with most tiles in the batch.
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <set>

#include "journal.hpp"
#include "sinks.hpp"
#include "tessera/io/hdf5.hpp"
#include "tessera/io/temporary_files.hpp"
#include "tessera/par/agreement.hpp"
#include "tessera/par/environment.hpp"
#include "tessera/par/mpi_io.hpp"

namespace tessera::run {

namespace {

class ParallelHdf5Sink final : public Sink {
 public:
  explicit ParallelHdf5Sink(const OutputSpec& spec)
      : spec_(spec),
        tile_bytes_(static_cast<size_t>(spec.tile_width * spec.tile_height) * size_of(spec.type)) {}

  /// Resumed, the interrupted run's file is moved aside, the new one made as it was, and rank 0
  /// copies into it the chunks of the tiles the records name (the chunks lie at the same places)
  /// before it reserves the file's bytes, so that the two files need the room of one and the
  /// copied chunks. A failure from the making of the file on is not followed by HDF5's
  /// collective close (see io::Hdf5Writer::forsake): the file set aside stays for the next
  /// --resume, or, once removed, the new file with the chunks copied into it.
  void open(const SinkSetup& setup) override {
    held_.assign(static_cast<size_t>(setup.batch_slots),
                 std::vector<Bytes>(static_cast<size_t>(spec_.bands)));
    const bool root = par::world_rank() == 0;
    std::string from;
    par::agreed([&] {
      if (root && setup.resume) from = io::set_aside_for_resume(spec_.path, setup.temporary_id);
    });
    const bool resumed = par::broadcast_from_root(!from.empty());
    if (resumed) taken_ = tiles_in(*setup.resume);
    io::Hdf5Share share{par::io_communicator(), par::io_info(), root,
                        io::temporary_path(spec_.path, setup.temporary_id), par::agreed};
    share.reserve = !resumed;
    try {
      writer_.emplace(spec_, share);  // agreed step by step, by share.agreed
    } catch (...) {
      par::end_without_finalize();  // the file was forsaken: see Hdf5Writer's constructor
      throw;
    }
    bool copied = false;
    try {
      par::agreed([&] {
        if (!root || from.empty()) return;
        std::vector<io::BandTile> chunks;
        for (int64_t tile : taken_)
          for (int band = 0; band < spec_.bands; ++band) chunks.push_back({band, tile});
        writer_->copy_chunks(from, chunks);
        std::remove(from.c_str());
      });
      copied = resumed;
      if (resumed) par::agreed([&] { writer_->reserve(); });
    } catch (...) {
      writer_->forsake(copied);
      writer_.reset();
      par::end_without_finalize();
      throw;
    }
  }

  static std::set<int64_t> tiles_in(const std::vector<Bytes>& records) {
    std::set<int64_t> tiles;
    for (const Bytes& record : records)
      for (int64_t t : RecordReader(record).get_all<int64_t>()) tiles.insert(t);
    return tiles;
  }

  std::vector<bool> resumed_tiles(int64_t tiles) const override {
    std::vector<bool> held(static_cast<size_t>(tiles), false);
    for (int64_t t : taken_)
      if (t >= 0 && t < tiles) held[static_cast<size_t>(t)] = true;
    return held;
  }

  std::vector<Bytes> checkpoint() override {
    if (unsynced_.empty()) return {};
    writer_->sync();
    Bytes record = RecordWriter().put_all(unsynced_).take();
    unsynced_.clear();
    return {record};
  }

  /// A sink that failed to open holds no writer: it forsook its file (see open()).
  void suspend() noexcept override {
    if (writer_) writer_->keep();
    writer_.reset();
  }

  void encode(const TilePlace& place, int band, const void* cells) override {
    Bytes& held = held_[static_cast<size_t>(place.slot)][static_cast<size_t>(band)];
    const auto* bytes = static_cast<const std::byte*>(cells);
    held.assign(bytes, bytes + tile_bytes_);  // no zeroing of a new buffer first
  }

  void deliver(const Batch&) override {}
  bool lockstep() const override { return true; }

  /// After a failure of its own, a rank keeps joining (empty) so no rank waits in a round.
  std::exception_ptr write_round(const Batch& batch, int64_t round, bool give_nothing) override {
    std::exception_ptr failure;
    const bool mine = round < batch.count && !give_nothing && !batch.skips(round);
    for (int band = 0; band < spec_.bands; ++band) {
      try {
        if (mine && !failure) {
          const Bytes& cells = held_[static_cast<size_t>(round)][static_cast<size_t>(band)];
          writer_->write_tile(band, batch.tile(round), cells);
          bytes_written_ += static_cast<int64_t>(cells.size());
        } else {
          writer_->join_round(band);
        }
      } catch (...) {
        if (!failure) failure = std::current_exception();
      }
    }
    if (mine && !failure) unsynced_.push_back(batch.first + round);
    return failure;
  }

  int64_t held_bytes_per_tile() const override {
    return static_cast<int64_t>(tile_bytes_) * spec_.bands;
  }
  SinkFigures figures() const override { return {0, bytes_written_}; }

  void commit() override {
    par::agreed([&] { writer_->commit(); });
  }

  /// Rank 0 drops the bytes before any rank closes: the close is collective.
  void abandon() noexcept override {
    if (writer_) writer_->discard();
    par::barrier();
    if (writer_) writer_->close();
    writer_.reset();
  }

 private:
  OutputSpec spec_;
  size_t tile_bytes_;
  std::vector<std::vector<Bytes>> held_;  // per batch slot, per band: full tiles of cells
  std::optional<io::Hdf5Writer> writer_;
  int64_t bytes_written_ = 0;
  std::set<int64_t> taken_;        // tiles whose chunks were copied from the run before
  std::vector<int64_t> unsynced_;  // tiles written since the last checkpoint
};

}  // namespace

std::unique_ptr<Sink> parallel_hdf5_sink(const OutputSpec& spec) {
  return std::make_unique<ParallelHdf5Sink>(spec);
}

}  // namespace tessera::run
