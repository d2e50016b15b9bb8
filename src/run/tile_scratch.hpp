// Scratch files of a tile-graph pass: what phase 1 kept of each tile, read back in phase 2.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "tessera/io/temporary_files.hpp"
#include "tessera/ops/tile_graph.hpp"

namespace tessera::run {

/// One tile-graph step's kept tiles in a scratch folder. Each rank appends the tiles it computed
/// to its own hidden file there (".STEP.scratch-rR.tmp-ID"); after phase 1, share() tells every
/// rank where every kept tile lies, and take() reads a tile from the file of the rank that kept
/// it when that rank is on the same node (what one node wrote is read back from its page cache;
/// another node's writes need not be visible yet even in a folder the nodes share). A tile kept
/// on another node, or in a file this rank cannot open, is not taken: phase 2 computes it again,
/// to the same cells. The
/// file is removed when this object goes, on a stop signal (io::TemporaryFile) and, after a
/// SIGKILL, by the next run that keeps the same step's tiles there (every rank's file, whatever
/// the ranks of either run).
class TileScratch : public ops::KeptTiles {
 public:
  /// Creates this rank's file for the `tiles` tiles of step `step`; `id` is the same on every
  /// rank. Throws tessera::Error naming the folder when the file cannot be made (no such folder,
  /// not writable). Not collective: the caller agrees on failure.
  TileScratch(const std::string& folder, const std::string& step, int64_t id, int64_t tiles);
  /// A new `id` for a run's scratch files: random, so that runs sharing a folder never name
  /// theirs alike (process ids repeat across nodes and in containers).
  static int64_t new_id();
  /// Removes the files of step `step` in `folder` that no live run holds: what a run killed
  /// with SIGKILL left, for a run that resumes it without keeping tiles of its own (it takes
  /// the step's solution from the journal).
  static void remove_stale(const std::string& folder, const std::string& step);
  ~TileScratch() override;
  TileScratch(const TileScratch&) = delete;
  TileScratch& operator=(const TileScratch&) = delete;

  /// Thread-safe: appends `bytes` (phase 1) to this rank's file; an empty string keeps nothing.
  /// Throws tessera::Error naming the folder when the write fails (a full disk).
  void keep(int64_t tile, std::span<const std::byte> bytes) override;
  /// Collective, after phase 1: every rank learns where every tile lies and opens the files of
  /// the other ranks that it can.
  void share();
  /// Thread-safe, after share(): the tile's bytes, read from the file of the rank that kept it.
  bool take(int64_t tile, ops::Bytes& into) const override;
  /// Bytes this rank wrote.
  int64_t bytes() const { return end_; }

 private:
  struct Place {
    int32_t rank = -1;  // -1: not kept
    int64_t offset = 0;
    int64_t size = 0;
  };
  /// ".STEP.scratch-r" (STEP shortened for a long id: hidden_stem), which every rank's file
  /// name starts with.
  static std::string file_start(const std::string& step);
  std::string path_of(int rank) const;
  [[noreturn]] void fail(const std::string& doing, int error) const;

  std::string folder_;
  std::string step_;
  int64_t id_;
  std::vector<Place> places_;  // per tile
  io::TemporaryFile file_;
  int fd_ = -1;
  std::vector<int> fds_;  // per rank, after share(): -1 when its file cannot be opened here
  std::mutex mutex_;
  int64_t end_ = 0;
};

}  // namespace tessera::run
