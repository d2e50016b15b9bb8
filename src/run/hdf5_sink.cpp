// The parallel HDF5 sink: every rank keeps its tiles' cells and writes them over MPI-IO in
// lock-step rounds, one round per tile of the rank with most tiles in the batch.
#include <unistd.h>

#include <optional>

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

  void open(const SinkSetup& setup) override {
    held_.assign(static_cast<size_t>(setup.batch_slots),
                 std::vector<Bytes>(static_cast<size_t>(spec_.bands)));
    // Rank 0's process id makes the temporary name the same on every rank.
    const auto pid = par::broadcast_from_root(static_cast<int64_t>(getpid()));
    const io::Hdf5Share share{par::io_communicator(), par::io_info(), par::world_rank() == 0,
                              io::temporary_path(spec_.path, pid)};
    par::agreed([&] { writer_.emplace(spec_, share); });
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
    for (int band = 0; band < spec_.bands; ++band) {
      try {
        if (round < batch.count && !give_nothing && !failure) {
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
};

}  // namespace

std::unique_ptr<Sink> parallel_hdf5_sink(const OutputSpec& spec) {
  return std::make_unique<ParallelHdf5Sink>(spec);
}

}  // namespace tessera::run
