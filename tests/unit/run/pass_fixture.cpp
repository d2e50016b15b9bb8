// The pass tests' fixture: a shared folder, synthetic tiles, the memory sink, injected faults.
#include "pass_fixture.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>

#include "mpi_for_tests.hpp"
#include "tessera/core/error.hpp"
#include "tessera/par/agreement.hpp"
#include "tessera/par/environment.hpp"

namespace tessera::run::test {

namespace {

[[maybe_unused]] auto* const mpi =
    ::testing::AddGlobalTestEnvironment(new tessera::test::MpiForTests);

std::mutex stores_mutex;
std::map<std::string, MemoryStore> stores;
std::set<std::string> failing_commits;

}  // namespace

SharedDir::SharedDir() {
  static int made = 0;
  const auto pid = par::broadcast_from_root(static_cast<int64_t>(getpid()));
  path_ = (std::filesystem::temp_directory_path() /
           ("tessera-pass-" + std::to_string(pid) + "-" + std::to_string(made++)))
              .string();
  if (par::world_rank() == 0) std::filesystem::create_directories(path_);
  par::barrier();
}

SharedDir::~SharedDir() {
  par::barrier();
  if (par::world_rank() == 0) std::filesystem::remove_all(path_);
}

std::vector<std::string> SharedDir::entries() const {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(path_))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

OutputSpec float_spec(const std::string& path, Extent size, int64_t tile, int bands) {
  OutputSpec spec;
  spec.path = path;
  spec.format = format_of_path(path).value_or(OutputFormat::GeoTiff);
  spec.size = size;
  spec.type = PixelType::Float32;
  spec.bands = bands;
  spec.tile_width = tile;
  spec.tile_height = tile;
  spec.has_geotransform = true;
  spec.geotransform = {500000, 30, 0, 4000000, 0, -30};
  return spec;
}

std::vector<float> synthetic_cells(const OutputSpec& spec, int64_t tile, int band) {
  const TileGrid grid(spec.size, spec.tile_width, spec.tile_height);
  const Window owned = grid.owned(tile);
  std::vector<float> cells(static_cast<size_t>(spec.tile_width * spec.tile_height), 0.0f);
  for (int64_t y = 0; y < owned.height; ++y)
    for (int64_t x = 0; x < owned.width; ++x)
      cells[static_cast<size_t>(y * spec.tile_width + x)] =
          static_cast<float>((owned.y + y) * spec.size.width + owned.x + x) + 0.25f * band;
  return cells;
}

namespace {

class SyntheticTiles : public TileSource {
 public:
  SyntheticTiles(std::vector<OutputSpec> specs, int64_t failing_tile)
      : specs_(std::move(specs)), failing_tile_(failing_tile) {}
  void process(int64_t tile, TileOutlet& out) override {
    if (tile == failing_tile_) throw Error("injected failure in tile " + std::to_string(tile));
    for (size_t o = 0; o < specs_.size(); ++o)
      for (int band = 0; band < specs_[o].bands; ++band) {
        cells_ = synthetic_cells(specs_[o], tile, band);
        out.put(o, band, cells_.data());
      }
  }
  const PhaseTimes& times() const override { return times_; }
  int64_t bytes_read() const override { return 0; }

 private:
  std::vector<OutputSpec> specs_;
  int64_t failing_tile_;
  std::vector<float> cells_;
  PhaseTimes times_;
};

/// Encodes by copying the full tile's bytes.
class MemoryEncoder {
 public:
  explicit MemoryEncoder(const OutputSpec& spec)
      : bytes_(static_cast<size_t>(spec.tile_width * spec.tile_height) * size_of(spec.type)) {}
  std::span<const std::byte> encode(const void* cells) {
    std::memcpy(bytes_.data(), cells, bytes_.size());
    return bytes_;
  }

 private:
  std::vector<std::byte> bytes_;
};

/// Rank 0's "file": its store, which it removes when given up on.
class MemoryFile {
 public:
  explicit MemoryFile(const OutputSpec& spec) : path_(spec.path) {
    const std::lock_guard lock(stores_mutex);
    stores[path_] = MemoryStore{};
  }
  ~MemoryFile() {
    const std::lock_guard lock(stores_mutex);
    if (!stores[path_].committed) stores.erase(path_);
  }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;

  io::ByteRange write_tile(int band, int64_t tile, std::span<const std::byte> bytes) {
    const std::lock_guard lock(stores_mutex);
    MemoryStore& store = stores[path_];
    store.tiles[{tile, band}].assign(bytes.begin(), bytes.end());
    store.order.emplace_back(tile, band);
    const io::ByteRange range{written_, static_cast<int64_t>(bytes.size())};
    written_ += range.size;
    return range;
  }
  void sync() {}
  /// Kept for a resume: the store stays, as a file would at its temporary name.
  void keep() noexcept {
    const std::lock_guard lock(stores_mutex);
    stores[path_].committed = true;
  }
  void commit() {
    const std::lock_guard lock(stores_mutex);
    if (failing_commits.count(path_)) throw Error("injected failure in commit of " + path_);
    stores[path_].committed = true;
  }

 private:
  std::string path_;
  int64_t written_ = 0;
};

/// The ordered sink's file hook (ordered_sink.hpp): a store is always made anew.
size_t make_file(std::optional<MemoryFile>& file, const OutputSpec& spec, int64_t /*id*/,
                 const OrderedResume* /*resume*/) {
  file.emplace(spec);
  return 0;
}
int64_t file_prefix(const MemoryFile& /*file*/) { return 0; }

class FailingEncode final : public Sink {
 public:
  FailingEncode(std::unique_ptr<Sink> inner, int64_t tile)
      : inner_(std::move(inner)), tile_(tile) {}
  void open(const SinkSetup& setup) override { inner_->open(setup); }
  void encode(const TilePlace& place, int band, const void* cells) override {
    if (place.tile == tile_)
      throw Error("injected failure in encode of tile " + std::to_string(tile_));
    inner_->encode(place, band, cells);
  }
  void deliver(const Batch& batch) override { inner_->deliver(batch); }
  int64_t held_bytes_per_tile() const override { return inner_->held_bytes_per_tile(); }
  SinkFigures figures() const override { return inner_->figures(); }
  void commit() override { inner_->commit(); }
  void abandon() noexcept override { inner_->abandon(); }

 private:
  std::unique_ptr<Sink> inner_;
  int64_t tile_;
};

}  // namespace

std::unique_ptr<TileSource> synthetic_tiles(const std::vector<OutputSpec>& specs,
                                            int64_t failing_tile) {
  return std::make_unique<SyntheticTiles>(specs, failing_tile);
}

const MemoryStore* memory_store(const std::string& path) {
  const std::lock_guard lock(stores_mutex);
  const auto it = stores.find(path);
  return it == stores.end() ? nullptr : &it->second;
}

void fail_commit_of(const std::string& path) {
  const std::lock_guard lock(stores_mutex);
  failing_commits.insert(path);
}

void clear_memory_stores() {
  const std::lock_guard lock(stores_mutex);
  stores.clear();
  failing_commits.clear();
}

CaptureSink::CaptureSink(const OutputSpec& spec)
    : tile_bytes_(static_cast<size_t>(spec.tile_width * spec.tile_height) * size_of(spec.type)) {}

void CaptureSink::encode(const TilePlace& place, int band, const void* cells) {
  const auto* bytes = static_cast<const std::byte*>(cells);
  tiles_[{place.tile, band}].assign(bytes, bytes + tile_bytes_);
}

std::unique_ptr<Sink> memory_sink(const OutputSpec& spec) {
  return std::make_unique<OrderedFileSink<MemoryEncoder, MemoryFile>>(spec);
}

std::unique_ptr<Sink> failing_encode(std::unique_ptr<Sink> inner, int64_t tile) {
  return std::make_unique<FailingEncode>(std::move(inner), tile);
}

}  // namespace tessera::run::test
