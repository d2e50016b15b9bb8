// Private to io: windows of one band of an uncompressed GeoTIFF read straight from the file,
// where GDAL would copy each block twice (the kernel into its block cache, then the block cache
// into the caller's buffer), allocate its cache's blocks afresh and take its locks on the way.
//
// The file is mapped read-only once per reader and a window's cells are copied from the mapping
// into the caller's buffer: one copy, where pread copies the page cache into a buffer and the
// buffer's rows into the caller's (a tiled file's window takes a piece of each block row; a
// strip file's a piece of each strip, which pread would fetch one system call per row). Blocks
// stay mapped while they may serve the next windows (a tile's halo is its neighbours' interior),
// and the least recently used are dropped from the reader's address space (MADV_DONTNEED)
// beyond kResidentBudget, so resident memory stays bounded whatever the file's size.
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
  /// Bytes of blocks a reader keeps mapped between reads.
  static constexpr int64_t kResidentBudget = mapped_bytes_per_reader;

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
  /// The file offset of block (bx, by), looked up in GDAL's metadata on first use; 0 if unusable.
  int64_t block_offset(int64_t bx, int64_t by);
  /// Copies the cells of `part` (within block (bx, by)) to `out`, whose first cell is `inside`'s
  /// first; `rows` holds the block's rows from `first_row` on.
  void copy_part(Window part, int64_t bx, int64_t by, const unsigned char* rows, int64_t first_row,
                 Window inside, unsigned char* out, int64_t line_space, bool same) const;
  /// read() from the mapping.
  void read_mapped(Window inside, unsigned char* out, int64_t line_space, bool same);
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
  std::vector<int64_t> touched_;                   ///< block indices of the read in progress
  std::vector<int64_t> dropping_;                  ///< offsets of the blocks trim() drops
  std::deque<std::pair<int64_t, uint64_t>> uses_;  ///< (block, read) in the order of use
  uint64_t reads_ = 0;
  int64_t resident_bytes_ = 0;
  int fd_ = -1;
  const unsigned char* map_ = nullptr;
  int64_t file_bytes_ = 0;
};

}  // namespace tessera::io::detail
