// The in-place GeoTIFF sink: rank 0 lays the tiles out, every rank writes its own with pwrite.
#include <unistd.h>

#include <optional>

#include "sinks.hpp"
#include "stopwatch.hpp"
#include "tessera/io/geotiff.hpp"
#include "tessera/io/temporary_files.hpp"
#include "tessera/par/agreement.hpp"
#include "tessera/par/environment.hpp"

namespace tessera::run {

namespace {

/// What rank 0 tells the others once it has made the file: one message.
struct SharedLayout {
  io::TileLayout layout;
  int64_t pid = 0;  // names the writer's temporary file
};

/// Per thread: its encoder (which gives uncompressed cells back as they are) and its figures.
struct ThreadState {
  explicit ThreadState(const OutputSpec& spec) : encoder(spec) {}
  io::TileEncoder encoder;
  double write_seconds = 0;
  int64_t bytes_written = 0;
};

class InPlaceSink final : public Sink {
 public:
  explicit InPlaceSink(const OutputSpec& spec) : spec_(spec) {}

  void open(const SinkSetup& setup) override {
    const bool root = par::world_rank() == 0;
    SharedLayout shared;
    par::agreed([&] {
      for (int t = 0; t < setup.threads; ++t) threads_.emplace_back(spec_);
      if (!root) return;
      writer_.emplace(spec_);
      shared = {writer_->reserve_tiles(), static_cast<int64_t>(getpid())};
    });
    shared = par::broadcast_from_root(shared);
    par::agreed([&] {
      file_.emplace(io::temporary_path(spec_.path, shared.pid), spec_.path, shared.layout);
    });
  }

  /// pwrite from the worker thread: safe from any thread, and no copy.
  void encode(const TilePlace& place, int band, const void* cells) override {
    ThreadState& state = threads_[static_cast<size_t>(place.thread)];
    const auto bytes = state.encoder.encode(cells);
    Timed timed(state.write_seconds);
    file_->write(band, place.tile, bytes);
    state.bytes_written += static_cast<int64_t>(bytes.size());
  }

  void deliver(const Batch&) override {}
  int64_t held_bytes_per_tile() const override { return 0; }

  SinkFigures figures() const override {
    SinkFigures figures;
    for (const auto& state : threads_) {
      figures.thread_write_seconds += state.write_seconds;
      figures.bytes_written += state.bytes_written;
    }
    return figures;
  }

  void commit() override {
    par::agreed([&] {
      file_.reset();
      if (writer_) writer_->commit();
    });
  }

  void abandon() noexcept override {
    file_.reset();
    writer_.reset();
  }

 private:
  OutputSpec spec_;
  std::vector<ThreadState> threads_;
  std::optional<io::GeoTiffWriter> writer_;  // rank 0
  std::optional<io::TileFile> file_;
};

}  // namespace

std::unique_ptr<Sink> in_place_geotiff_sink(const OutputSpec& spec) {
  return std::make_unique<InPlaceSink>(spec);
}

}  // namespace tessera::run
