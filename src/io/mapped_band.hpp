// Private to io: windows of one band of an uncompressed GeoTIFF read straight from the file,
// where GDAL would copy each block twice (the kernel into its block cache, then the block cache
// into the caller's buffer), allocate its cache's blocks afresh and take its locks on the way.
//
// Tiled files are read with pread: the blocks whose rows a window needs whole go into a few
// cached slots (a tile's halo is its neighbours' interior, so the next window along the row
// finds them there), the few rows of the blocks above and below go straight to a scratch slot.
// The slots are allocated once per reader and reused; each read lands at the file offset's
// alignment within a cache line, which keeps the kernel's copy at full speed (4x slower
// otherwise on the development machine).
//
// Strips are read from the file mapped read-only once per reader: a window takes a short piece
// of each strip, which pread would fetch one system call per row. Strips stay mapped while they
// may serve the next windows, and the least recently used are dropped from the reader's address
// space (MADV_DONTNEED) beyond kResidentBudget, so resident memory stays bounded whatever the
// file's size.
#pragma once

#include <gdal.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tessera/core/geometry.hpp"
#include "tessera/core/raster_info.hpp"

namespace tessera::io::detail {

class MappedBand {
 public:
  /// Bytes of strips a reader keeps mapped between reads.
  static constexpr int64_t kResidentBudget = mapped_bytes_per_reader;
  /// Bytes of a tiled file's blocks a reader keeps in its slots (at least kMinSlots blocks).
  static constexpr int64_t kSlotBudget = int64_t{8} << 20;
  static constexpr int64_t kMinSlots = 8;

  /// A reader of `band` of `ds` (opened from `path`) when the file qualifies: a local GTiff,
  /// uncompressed, one band per block (one band or INTERLEAVE=BAND), little-endian, whole bytes
  /// per cell and a real (not complex) type. nullptr otherwise, with no error: GDAL reads it.
  static std::unique_ptr<MappedBand> open(GDALDatasetH ds, GDALRasterBandH band,
                                          const std::string& path);
  ~MappedBand();
  MappedBand(const MappedBand&) = delete;
  MappedBand& operator=(const MappedBand&) = delete;

  /// Copies the cells of `inside` (within the raster) to `first`, rows `line_space` bytes apart,
  /// cells packed, as `type`. Returns false, having written nothing, when GDAL must do it: a
  /// conversion other than the band's own type or a widening of Byte/Int16/UInt16 to Int32, or
  /// a block the file does not hold (sparse) or holds outside the file. Throws tessera::Error
  /// naming the file if its pages cannot be read (it was truncated meanwhile, or the disk failed).
  bool read(Window inside, void* first, GDALDataType type, int64_t line_space);

 private:
  MappedBand() = default;
  struct Block {
    int64_t offset = -1;    ///< -1: not looked up yet; 0: absent (sparse) or unusable
    uint64_t last_use = 0;  ///< the read that last touched it
    bool resident = false;  ///< mapped into this reader since it was last dropped
  };
  /// A slot of a tiled file's reader: one block's rows, as the file holds them.
  struct Slot {
    int64_t block = -1;  ///< the block it holds; -1: none
    uint64_t last_use = 0;
    unsigned char* base = nullptr;  ///< cache-line aligned; the block starts at its offset % 64
  };
  /// The file offset of block (bx, by), looked up in GDAL's metadata on first use; 0 if unusable.
  int64_t block_offset(int64_t bx, int64_t by);
  /// Allocates the slots and the scratch slot, once.
  void allocate_slots();
  /// The rows of block `index` the raster has, whole, from its slot (read into the least
  /// recently used slot if no slot holds it).
  const unsigned char* cached_block(int64_t index);
  /// `bytes` of the file at `at` read into `base` at at's offset within a cache line; returns
  /// where they start. Throws tessera::Error naming the file if it cannot read them all.
  const unsigned char* read_file(int64_t at, int64_t bytes, unsigned char* base);
  /// Copies the cells of `part` (within block (bx, by)) to `out`, whose first cell is `inside`'s
  /// first; `rows` holds the block's rows from `first_row` on.
  void copy_part(Window part, int64_t bx, int64_t by, const unsigned char* rows, int64_t first_row,
                 Window inside, unsigned char* out, int64_t line_space, bool same) const;
  /// read() of a tiled file, with pread.
  void read_tiles(Window inside, unsigned char* out, int64_t line_space, bool same);
  /// read() of strips, from the mapping.
  void read_strips(Window inside, unsigned char* out, int64_t line_space, bool same);
  /// Unmaps the pages of the blocks at `offsets` (and the fault-around either side); clears it.
  void drop(std::vector<int64_t>& offsets);
  /// Once the blocks still mapped exceed the budget, drops the least recently used down to
  /// three quarters of it.
  void trim();

  GDALRasterBandH band_ = nullptr;
  GDALDataType own_ = GDT_Unknown;
  int64_t cell_ = 0;
  int64_t width_ = 0, height_ = 0;
  int64_t block_width_ = 0, block_height_ = 0;
  int64_t blocks_x_ = 0;
  int64_t block_bytes_ = 0;  ///< of a whole block; a last strip may hold fewer rows
  std::vector<Block> blocks_;
  std::string path_;
  bool tiled_ = false;  ///< blocks are tiles (read with pread), not strips (mapped)
  std::vector<unsigned char> slot_memory_;  ///< the slots and a scratch slot, allocated once
  std::vector<Slot> slots_;
  unsigned char* scratch_ = nullptr;  ///< for the rows of blocks the window needs in part
  std::vector<int64_t> touched_;      ///< block indices of the read in progress
  std::vector<int64_t> dropping_;     ///< offsets of the blocks trim() drops
  std::deque<std::pair<int64_t, uint64_t>> uses_;  ///< (block, read) in the order of use
  uint64_t reads_ = 0;
  int64_t resident_bytes_ = 0;
  int fd_ = -1;
  const unsigned char* map_ = nullptr;  ///< strips only
  int64_t file_bytes_ = 0;
};

}  // namespace tessera::io::detail
