// What the pass tests drive a pass with: MPI for the binary, a folder every rank shares, a
// synthetic tile source, an in-memory sink whose "file" the test reads, and injected faults.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "ordered_sink.hpp"
#include "pass.hpp"
#include "tessera/core/geometry.hpp"
#include "tessera/core/output_spec.hpp"

namespace tessera::run::test {

/// A folder every rank of the run names the same (rank 0's process id), made and removed by
/// rank 0, with barriers so no rank looks at it before it exists or after it is gone.
class SharedDir {
 public:
  SharedDir();
  ~SharedDir();
  SharedDir(const SharedDir&) = delete;
  SharedDir& operator=(const SharedDir&) = delete;
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  /// The names in the folder, sorted (every rank sees the same on one node).
  std::vector<std::string> entries() const;

 private:
  std::string path_;
};

/// A Float32 output of `size` cut into `tile` x `tile` tiles, `bands` bands.
OutputSpec float_spec(const std::string& path, Extent size, int64_t tile, int bands = 1);

/// The cells of band `band` of tile `tile` the synthetic source makes: a full tile, every cell a
/// different value, cells past the raster's edge 0.
std::vector<float> synthetic_cells(const OutputSpec& spec, int64_t tile, int band);

/// One thread's synthetic tiles: synthetic_cells() for every band of every output in `specs`;
/// throws "injected failure in tile N" on tile `failing_tile` (none when negative).
std::unique_ptr<TileSource> synthetic_tiles(const std::vector<OutputSpec>& specs,
                                            int64_t failing_tile = -1);

/// What a MemoryFile was given, kept by path until the test clears it.
struct MemoryStore {
  std::map<std::pair<int64_t, int>, std::vector<std::byte>> tiles;  // (tile, band) -> bytes
  std::vector<std::pair<int64_t, int>> order;                       // as written
  bool committed = false;
};
/// The store of the memory file at `path`, or nullptr when there is none (never made, or given
/// up on: a memory file destroyed without commit removes its store).
const MemoryStore* memory_store(const std::string& path);
/// Makes the commit of the memory file at `path` fail ("injected failure in commit").
void fail_commit_of(const std::string& path);
void clear_memory_stores();

/// An in-memory sink through the real ordered route: threads "encode" (copy) the cells, the
/// courier carries them to rank 0, which writes them in order into a MemoryStore.
std::unique_ptr<Sink> memory_sink(const OutputSpec& spec);

/// A sink of this process alone (no MPI): keeps a copy of every band-tile it is given, by
/// (tile, band). For making references.
class CaptureSink final : public Sink {
 public:
  explicit CaptureSink(const OutputSpec& spec);
  void open(const SinkSetup&) override {}
  void encode(const TilePlace& place, int band, const void* cells) override;
  void deliver(const Batch&) override {}
  int64_t held_bytes_per_tile() const override { return 0; }
  SinkFigures figures() const override { return {}; }
  void commit() override {}
  void abandon() noexcept override {}
  const std::map<std::pair<int64_t, int>, std::vector<std::byte>>& tiles() const { return tiles_; }

 private:
  size_t tile_bytes_;
  std::map<std::pair<int64_t, int>, std::vector<std::byte>> tiles_;
};

/// `inner`, except that encode() throws "injected failure in encode of tile N" on tile `tile`.
std::unique_ptr<Sink> failing_encode(std::unique_ptr<Sink> inner, int64_t tile);

}  // namespace tessera::run::test
