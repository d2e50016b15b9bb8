// The in-place GeoTIFF sink: rank 0 lays the tiles out, every rank writes its own with pwrite.
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <set>

#include "journal.hpp"
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
  bool taken_up = false;  // the file is an interrupted run's, with the tiles its journal names
};

/// Journal records: rank 0's says how many bytes the file had before its tiles; every rank's
/// others list tiles it wrote, every band, and synced.
enum class Record : uint8_t { Prefix = 0, Tiles = 1 };

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
      shared.taken_up = make_writer(setup);
      shared.layout = writer_->reserve_tiles();
    });
    shared = par::broadcast_from_root(shared);
    if (shared.taken_up) held_ = tiles_in(*setup.resume);
    par::agreed([&] {
      file_.emplace(io::temporary_path(spec_.path, setup.temporary_id), spec_.path, shared.layout);
    });
  }

  /// Rank 0: takes up the interrupted run's file when its journal says what it was before its
  /// tiles and the file is there; otherwise makes it anew. Returns whether it took it up.
  bool make_writer(const SinkSetup& setup) {
    const std::string temporary = io::temporary_path(spec_.path, setup.temporary_id);
    std::optional<int64_t> prefix;
    for (const Bytes& record : setup.resume ? *setup.resume : std::vector<Bytes>{}) {
      RecordReader r(record);
      if (r.get<Record>() == Record::Prefix) prefix = r.get<int64_t>();
    }
    if (!prefix || !std::filesystem::exists(temporary)) {
      writer_.emplace(spec_, setup.temporary_id);
      return false;
    }
    const io::GeoTiffResume take_up{*prefix, {}, {}};
    writer_.emplace(spec_, setup.temporary_id, &take_up);
    return true;
  }

  /// The tiles every rank's records name.
  static std::set<int64_t> tiles_in(const std::vector<Bytes>& records) {
    std::set<int64_t> tiles;
    for (const Bytes& record : records) {
      RecordReader r(record);
      if (r.get<Record>() != Record::Tiles) continue;
      for (int64_t t : r.get_all<int64_t>()) tiles.insert(t);
    }
    return tiles;
  }

  std::vector<bool> resumed_tiles(int64_t tiles) const override {
    std::vector<bool> held(static_cast<size_t>(tiles), false);
    for (int64_t t : held_)
      if (t >= 0 && t < tiles) held[static_cast<size_t>(t)] = true;
    return held;
  }

  /// Every band of a delivered tile was written by its thread (pwrite) before.
  std::vector<Bytes> checkpoint() override {
    std::vector<Bytes> records;
    if (writer_ && !prefix_said_) {
      writer_->sync();
      records.push_back(RecordWriter().put(Record::Prefix).put(writer_->prefix_bytes()).take());
      prefix_said_ = true;
    }
    if (unsynced_.empty()) return records;
    file_->sync();
    records.push_back(RecordWriter().put(Record::Tiles).put_all(unsynced_).take());
    unsynced_.clear();
    return records;
  }

  void suspend() noexcept override {
    file_.reset();
    if (writer_) writer_->keep();
    writer_.reset();
  }

  /// pwrite from the worker thread: safe from any thread, and no copy.
  void encode(const TilePlace& place, int band, const void* cells) override {
    ThreadState& state = threads_[static_cast<size_t>(place.thread)];
    const auto bytes = state.encoder.encode(cells);
    Timed timed(state.write_seconds);
    file_->write(band, place.tile, bytes);
    state.bytes_written += static_cast<int64_t>(bytes.size());
  }

  void deliver(const Batch& batch) override {
    for (int64_t i = 0; i < batch.count; ++i)
      if (!batch.skips(i)) unsynced_.push_back(batch.first + i);
  }
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
  std::set<int64_t> held_;         // tiles taken up from the runs before
  std::vector<int64_t> unsynced_;  // tiles delivered since the last checkpoint
  bool prefix_said_ = false;
};

}  // namespace

std::unique_ptr<Sink> in_place_geotiff_sink(const OutputSpec& spec) {
  return std::make_unique<InPlaceSink>(spec);
}

}  // namespace tessera::run
