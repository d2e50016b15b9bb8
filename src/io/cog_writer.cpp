// The single writer of a GeoTIFF with overviews inside, in GDAL's COG layout: full-resolution
// tiles appended as they come, overview tiles spooled aside, then the directories and overviews
// put in front of the full resolution by the file system (insert range) rather than by a copy.
#include <fcntl.h>
#include <linux/falloc.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "tessera/core/error.hpp"
#include "tessera/core/overview.hpp"
#include "tessera/io/geotiff.hpp"
#include "tessera/io/positioned_io.hpp"
#include "tessera/io/temporary_files.hpp"
#include "tiff_directory.hpp"

namespace tessera::io {
namespace {

using detail::TiffEntry;

constexpr uint64_t kAlign = 4096;  // the room inserted before the full resolution is a multiple
constexpr uint64_t kFrame = 8;     // a tile's leader (its size) and trailer (its last 4 bytes)

// GDAL 3.6's ghost header. BLOCK_ORDER=ROW_MAJOR only when the full resolution's tiles lie in
// the order of its tile arrays: they lie in the order the ranks computed them (aligned blocks,
// Z order), which is row by row only for rasters one or two tiles wide; the overviews' always are.
std::string ghost_header(bool row_major) {
  const std::string body = std::string("LAYOUT=IFDS_BEFORE_DATA\n") +
                           (row_major ? "BLOCK_ORDER=ROW_MAJOR\n" : "") +
                           "BLOCK_LEADER=SIZE_AS_UINT4\n"
                           "BLOCK_TRAILER=LAST_4_BYTES_REPEATED\nKNOWN_INCOMPATIBLE_EDITION=NO\n ";
  char size[64];
  std::snprintf(size, sizeof size, "GDAL_STRUCTURAL_METADATA_SIZE=%06zu bytes\n", body.size());
  return size + body;
}

struct Place {
  int64_t offset = -1;  // of the tile's bytes (past its leader): in the data, or in the spool
  int64_t size = 0;
};

// The tags an overview's directory repeats from the full resolution's.
bool overview_keeps(uint16_t tag) {
  switch (tag) {
    case 258:    // BitsPerSample
    case 259:    // Compression
    case 262:    // Photometric
    case 277:    // SamplesPerPixel
    case 284:    // PlanarConfiguration
    case 317:    // Predictor
    case 322:    // TileWidth
    case 323:    // TileLength
    case 338:    // ExtraSamples
    case 339:    // SampleFormat
    case 42113:  // GDAL_NODATA
      return true;
    default:
      return false;
  }
}

}  // namespace

struct CogWriter::Impl {
  OutputSpec spec;
  int levels;
  bool bigtiff;
  std::vector<TiffEntry> tags;  // the full resolution's, tile arrays left out
  TemporaryFile temporary;
  int fd = -1;
  int spool = -1;
  int64_t data_end = 0;
  int64_t spool_end = 0;
  std::vector<std::vector<Place>> places;  // per level (0: full resolution), band-major
  std::vector<int64_t> tiles;              // per level, per band
  std::vector<Extent> sizes;               // per level
  std::vector<std::byte> frame;            // a tile between its leader and trailer

  Impl(const OutputSpec& s, int l)
      : spec(s), levels(l), bigtiff(needs_bigtiff(s)), temporary(temporary_path(s.path, getpid())) {
    for (TiffEntry& e : detail::first_directory(GeoTiffWriter::empty_file(spec), spec.path))
      if (e.tag != 324 && e.tag != 325) tags.push_back(std::move(e));
    fd = ::open(temporary.path().c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) fail("cannot create " + temporary.path());
    temporary.hold();
    // The spool has no name once open: nothing of it outlives the process, however it ends.
    const std::string spool_path = temporary.path() + "-overviews";
    spool = ::open(spool_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (spool < 0) fail("cannot create " + spool_path);
    ::unlink(spool_path.c_str());
    for (int k = 0; k <= levels; ++k) {
      sizes.push_back(overview_size(spec.size, k));
      tiles.push_back(TileGrid(sizes.back(), spec.tile_width, spec.tile_height).count());
      places.emplace_back(static_cast<size_t>(tiles.back() * spec.bands));
    }
  }

  ~Impl() {
    if (fd >= 0) ::close(fd);
    if (spool >= 0) ::close(spool);
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(spec.path + ": " + what + ": " + std::strerror(errno));
  }

  void write_all(int file, const std::byte* bytes, size_t n, int64_t at) const {
    if (const int error = pwrite_all(file, bytes, n, at); error != 0) {
      errno = error;
      fail("cannot write");
    }
  }

  void read_all(int file, std::byte* bytes, size_t n, int64_t at) const {
    if (const int error = pread_all(file, bytes, n, at); error != 0) {
      errno = error;
      fail("cannot read back what it wrote");
    }
  }

  // `bytes` between its leader and trailer, in `frame`.
  void frame_tile(std::span<const std::byte> bytes) {
    frame.resize(bytes.size() + kFrame);
    const auto size = static_cast<uint32_t>(bytes.size());
    for (int i = 0; i < 4; ++i) frame[static_cast<size_t>(i)] = std::byte((size >> (8 * i)) & 0xff);
    std::copy(bytes.begin(), bytes.end(), frame.begin() + 4);
    std::byte* trailer = frame.data() + 4 + bytes.size();
    std::memset(trailer, 0, 4);
    const size_t last = std::min<size_t>(4, bytes.size());
    std::memcpy(trailer, bytes.data() + bytes.size() - last, last);
  }

  Place& place(int level, int band, int64_t tile) {
    if (level < 0 || level > levels || band < 0 || band >= spec.bands || tile < 0 ||
        tile >= tiles[static_cast<size_t>(level)])
      throw Error(spec.path + ": no tile " + std::to_string(tile) + " of band " +
                  std::to_string(band) + " at level " + std::to_string(level));
    return places[static_cast<size_t>(level)]
                 [static_cast<size_t>(band * tiles[static_cast<size_t>(level)] + tile)];
  }

  void write_tile(int band, int64_t tile, std::span<const std::byte> bytes) {
    Place& p = place(0, band, tile);
    frame_tile(bytes);
    write_all(fd, frame.data(), frame.size(), data_end);
    p = {data_end + 4, static_cast<int64_t>(bytes.size())};
    data_end += static_cast<int64_t>(frame.size());
  }

  void write_overview_tile(int level, int band, int64_t tile, std::span<const std::byte> bytes) {
    if (level == 0) throw Error(spec.path + ": overview levels count from 1");
    Place& p = place(level, band, tile);
    write_all(spool, bytes.data(), bytes.size(), spool_end);
    p = {spool_end, static_cast<int64_t>(bytes.size())};
    spool_end += static_cast<int64_t>(bytes.size());
  }

  // The directory of level `level` with tile offsets `offsets` and sizes `counts`.
  std::vector<TiffEntry> directory(int level, const std::vector<uint64_t>& offsets,
                                   const std::vector<uint64_t>& counts) const {
    std::vector<TiffEntry> entries;
    if (level == 0) {
      entries = tags;
    } else {
      const Extent size = sizes[static_cast<size_t>(level)];
      entries.push_back(detail::long_entry(254, 1));  // NewSubfileType: reduced resolution
      entries.push_back(detail::long_entry(256, static_cast<uint32_t>(size.width)));
      entries.push_back(detail::long_entry(257, static_cast<uint32_t>(size.height)));
      for (const TiffEntry& e : tags)
        if (overview_keeps(e.tag)) entries.push_back(e);
    }
    entries.push_back(detail::offsets_entry(324, offsets, bigtiff));
    entries.push_back(detail::offsets_entry(325, counts, bigtiff));
    return entries;
  }

  uint64_t tile_count(int level) const {
    return static_cast<uint64_t>(tiles[static_cast<size_t>(level)] * spec.bands);
  }

  void check_complete() const {
    for (const auto& level : places)
      for (const Place& p : level)
        if (p.offset < 0) throw Error("internal error: tiles are missing from " + spec.path);
  }

  void commit() {
    check_complete();
    const bool cog = spec.format == OutputFormat::Cog;
    const std::string ghost = cog ? ghost_header(full_resolution_in_order()) : std::string();
    const uint64_t header = bigtiff ? 16 : 8;
    uint64_t at = header + ghost.size();
    at += at & 1;
    std::vector<uint64_t> directory_at;
    for (int k = 0; k <= levels; ++k) {  // sizes alone: the arrays' values come later
      const std::vector<uint64_t> zeros(tile_count(k));
      directory_at.push_back(at);
      at += detail::directory_size(directory(k, zeros, zeros), bigtiff);
    }
    // Overview tiles, coarsest first, each band's row by row; then the room is rounded up.
    std::vector<std::vector<uint64_t>> offsets(static_cast<size_t>(levels) + 1);
    std::vector<std::vector<uint64_t>> counts(static_cast<size_t>(levels) + 1);
    for (int k = levels; k >= 1; --k)
      for (const Place& p : places[static_cast<size_t>(k)]) {
        offsets[static_cast<size_t>(k)].push_back(at + 4);
        counts[static_cast<size_t>(k)].push_back(static_cast<uint64_t>(p.size));
        at += static_cast<uint64_t>(p.size) + kFrame;
      }
    const uint64_t overview_end = at;
    const uint64_t room = (at + kAlign - 1) / kAlign * kAlign;
    for (const Place& p : places[0]) {
      offsets[0].push_back(room + static_cast<uint64_t>(p.offset));
      counts[0].push_back(static_cast<uint64_t>(p.size));
    }
    make_room(room);
    std::vector<std::byte> front = header_bytes(directory_at.front());
    front.insert(front.end(), reinterpret_cast<const std::byte*>(ghost.data()),
                 reinterpret_cast<const std::byte*>(ghost.data()) + ghost.size());
    front.resize(directory_at.front(), std::byte{0});
    for (int k = 0; k <= levels; ++k) {
      const uint64_t next = k < levels ? directory_at[static_cast<size_t>(k) + 1] : 0;
      const auto bytes = detail::directory_bytes(
          directory(k, offsets[static_cast<size_t>(k)], counts[static_cast<size_t>(k)]),
          directory_at[static_cast<size_t>(k)], next, bigtiff);
      front.insert(front.end(), bytes.begin(), bytes.end());
    }
    write_all(fd, front.data(), front.size(), 0);
    copy_overviews(offsets);
    const std::vector<std::byte> gap(room - overview_end);
    write_all(fd, gap.data(), gap.size(), static_cast<int64_t>(overview_end));
    finish();
  }

  // Whether the full resolution's tiles lie in the file in the order of its tile arrays.
  bool full_resolution_in_order() const {
    const auto& full = places[0];
    for (size_t i = 1; i < full.size(); ++i)
      if (full[i].offset < full[i - 1].offset) return false;
    return true;
  }

  std::vector<std::byte> header_bytes(uint64_t first_directory) const {
    std::vector<std::byte> out{std::byte{'I'}, std::byte{'I'}};
    const auto put = [&](uint64_t v, int n) {
      for (int i = 0; i < n; ++i) out.push_back(std::byte((v >> (8 * i)) & 0xff));
    };
    if (bigtiff) {
      put(43, 2);
      put(8, 2);
      put(0, 2);
      put(first_directory, 8);
    } else {
      put(42, 2);
      put(first_directory, 4);
    }
    return out;
  }

  // `room` bytes before the full resolution: inserted by the file system where it can (no
  // byte of the full resolution moves through memory), else by moving the tiles up.
  void make_room(uint64_t room) {
    if (data_end == 0) return;
    if (fallocate(fd, FALLOC_FL_INSERT_RANGE, 0, static_cast<off_t>(room)) == 0) return;
    if (errno != EOPNOTSUPP && errno != EINVAL && errno != ENOSYS) fail("cannot make room");
    std::vector<std::byte> chunk(size_t{4} << 20);
    for (int64_t end = data_end; end > 0;) {  // from the end, so nothing is overwritten unread
      const int64_t n = std::min<int64_t>(end, static_cast<int64_t>(chunk.size()));
      read_all(fd, chunk.data(), static_cast<size_t>(n), end - n);
      write_all(fd, chunk.data(), static_cast<size_t>(n), end - n + static_cast<int64_t>(room));
      end -= n;
    }
  }

  void copy_overviews(const std::vector<std::vector<uint64_t>>& offsets) {
    std::vector<std::byte> bytes;
    for (int k = levels; k >= 1; --k) {
      const auto& level = places[static_cast<size_t>(k)];
      for (size_t i = 0; i < level.size(); ++i) {
        bytes.resize(static_cast<size_t>(level[i].size));
        read_all(spool, bytes.data(), bytes.size(), level[i].offset);
        frame_tile(bytes);
        write_all(fd, frame.data(), frame.size(),
                  static_cast<int64_t>(offsets[static_cast<size_t>(k)][i]) - 4);
      }
    }
  }

  void finish() {
    if (::close(std::exchange(fd, -1)) != 0) fail("cannot finish");
    move_into_place(temporary.path(), spec.path, spec.path);
    temporary.release();
  }
};

CogWriter::CogWriter(const OutputSpec& spec, int levels)
    : impl_(std::make_unique<Impl>(spec, levels)) {}
CogWriter::~CogWriter() = default;

void CogWriter::write_tile(int band, int64_t tile, std::span<const std::byte> encoded) {
  impl_->write_tile(band, tile, encoded);
}

void CogWriter::write_overview_tile(int level, int band, int64_t tile,
                                    std::span<const std::byte> encoded) {
  impl_->write_overview_tile(level, band, tile, encoded);
}

void CogWriter::commit() { impl_->commit(); }

}  // namespace tessera::io
