// Windows of an uncompressed GeoTIFF band read straight from the mapped file.
#include "mapped_band.hpp"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "tessera/core/dataset_name.hpp"
#include "tessera/core/error.hpp"

namespace tessera::io::detail {
namespace {

constexpr int64_t kPage = 4096;
/// How far beyond a touched block the kernel may map pages on a fault (fault-around maps the
/// aligned 64 KiB around the faulting page): dropping a block drops this much either side too,
/// or pages of blocks this reader never touches would stay mapped for good.
constexpr int64_t kFaultAround = 64 * 1024;

bool is(const char* value, const char* expected) {
  return value != nullptr && std::strcmp(value, expected) == 0;
}

/// A metadata item of the band's "TIFF" domain as a non-negative integer; -1 when absent.
int64_t tiff_item(GDALRasterBandH band, const char* key, int64_t bx, int64_t by) {
  const std::string name = std::string(key) + std::to_string(bx) + "_" + std::to_string(by);
  const char* value = GDALGetMetadataItem(band, name.c_str(), "TIFF");
  if (value == nullptr) return -1;
  char* end = nullptr;
  const long long n = std::strtoll(value, &end, 10);
  return end != value && *end == '\0' && n >= 0 ? n : -1;
}

/// Whether the file starts with a little-endian TIFF or BigTIFF header.
bool little_endian_tiff(int fd) {
  unsigned char header[4] = {};
  if (pread(fd, header, sizeof header, 0) != static_cast<ssize_t>(sizeof header)) return false;
  return header[0] == 'I' && header[1] == 'I' && (header[2] == 42 || header[2] == 43) &&
         header[3] == 0;
}

template <class From>
void widen_row(const unsigned char* src, int64_t n, unsigned char* dst) {
  for (int64_t k = 0; k < n; ++k) {
    From v;
    std::memcpy(&v, src + k * static_cast<int64_t>(sizeof(From)), sizeof(From));
    const auto w = static_cast<int32_t>(v);
    std::memcpy(dst + k * 4, &w, 4);
  }
}

// A page of a mapped file that cannot be read (the file was truncated under the run, or the
// disk failed) raises SIGBUS in the thread touching it. While a thread copies from a mapping,
// the handler jumps back to that copy, which then fails with an error naming the file; any
// other SIGBUS goes to the handler installed before (MPI's, or the default).
thread_local sigjmp_buf* copying = nullptr;
struct sigaction previous_sigbus;

void on_sigbus(int sig, siginfo_t* info, void* context) {
  if (copying != nullptr) siglongjmp(*copying, 1);
  if (previous_sigbus.sa_flags & SA_SIGINFO) {
    if (previous_sigbus.sa_sigaction != nullptr) previous_sigbus.sa_sigaction(sig, info, context);
    return;
  }
  if (previous_sigbus.sa_handler == SIG_IGN) return;
  if (previous_sigbus.sa_handler == SIG_DFL) {
    signal(sig, SIG_DFL);  // the faulting access runs again and takes the default action
    return;
  }
  previous_sigbus.sa_handler(sig);
}

void catch_sigbus() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    sigaction(SIGBUS, &action, &previous_sigbus);
  });
}

}  // namespace

std::unique_ptr<MappedBand> MappedBand::open(GDALDatasetH ds, GDALRasterBandH band,
                                             const std::string& path) {
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
  return nullptr;
#endif
  // Only a plain file is read directly: GTIFF_DIR:2:x.tif or /vsigzip/x.tif.gz opened by GTiff
  // are not the bytes of the file their name ends with.
  if (is_gdal_dataset_name(path)) return nullptr;
  GDALDriverH driver = GDALGetDatasetDriver(ds);
  if (driver == nullptr || !is(GDALGetDriverShortName(driver), "GTiff")) return nullptr;
  if (GDALGetMetadataItem(ds, "COMPRESSION", "IMAGE_STRUCTURE") != nullptr) return nullptr;
  if (GDALGetRasterCount(ds) != 1 &&
      !is(GDALGetMetadataItem(ds, "INTERLEAVE", "IMAGE_STRUCTURE"), "BAND"))
    return nullptr;
  if (GDALGetMetadataItem(band, "NBITS", "IMAGE_STRUCTURE") != nullptr) return nullptr;
  const GDALDataType type = GDALGetRasterDataType(band);
  if (GDALDataTypeIsComplex(type) || GDALGetDataTypeSizeBytes(type) <= 0) return nullptr;

  std::unique_ptr<MappedBand> m(new MappedBand);
  m->band_ = band;
  m->own_ = type;
  m->cell_ = GDALGetDataTypeSizeBytes(type);
  m->width_ = GDALGetRasterBandXSize(band);
  m->height_ = GDALGetRasterBandYSize(band);
  int bw = 0, bh = 0;
  GDALGetBlockSize(band, &bw, &bh);
  if (bw <= 0 || bh <= 0) return nullptr;
  m->block_width_ = bw;
  m->block_height_ = bh;
  m->blocks_x_ = (m->width_ + bw - 1) / bw;
  m->block_bytes_ = static_cast<int64_t>(bw) * bh * m->cell_;
  m->blocks_.resize(static_cast<size_t>(m->blocks_x_ * ((m->height_ + bh - 1) / bh)));

  m->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (m->fd_ < 0) return nullptr;
  struct stat st {};
  if (fstat(m->fd_, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) return nullptr;
  if (!little_endian_tiff(m->fd_)) return nullptr;
  m->file_bytes_ = st.st_size;
  m->path_ = path;
  void* map = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_SHARED, m->fd_, 0);
  if (map == MAP_FAILED) return nullptr;
  m->map_ = static_cast<const unsigned char*>(map);
  catch_sigbus();
  return m;
}

MappedBand::~MappedBand() {
  if (map_ != nullptr) munmap(const_cast<unsigned char*>(map_), static_cast<size_t>(file_bytes_));
  if (fd_ >= 0) ::close(fd_);
}

int64_t MappedBand::block_offset(int64_t bx, int64_t by) {
  Block& b = blocks_[static_cast<size_t>(by * blocks_x_ + bx)];
  if (b.offset >= 0) return b.offset;
  b.offset = 0;
  const int64_t offset = tiff_item(band_, "BLOCK_OFFSET_", bx, by);
  const int64_t bytes = tiff_item(band_, "BLOCK_SIZE_", bx, by);
  // Every row this band can ask of the block must lie inside it and inside the file: a whole
  // block, or (the last strip of an untiled file) the rows left in the raster.
  const int64_t rows = std::min(block_height_, height_ - by * block_height_);
  const int64_t needed = rows * block_width_ * cell_;
  if (offset > 0 && bytes >= needed && bytes <= block_bytes_ && offset + bytes <= file_bytes_)
    b.offset = offset;
  return b.offset;
}

void MappedBand::drop(std::vector<int64_t>& offsets) {
  // Each call costs every other CPU running this process a TLB flush (an interrupt, and a VM
  // exit on a virtual machine), so neighbouring blocks are dropped in one call.
  std::sort(offsets.begin(), offsets.end());
  int64_t from = -1, to = -1;
  const auto flush = [&] {
    if (from < to)
      madvise(const_cast<unsigned char*>(map_) + from, static_cast<size_t>(to - from),
              MADV_DONTNEED);
  };
  for (const int64_t offset : offsets) {
    const int64_t start = std::max<int64_t>(0, (offset - kFaultAround) / kPage * kPage);
    const int64_t end =
        std::min(file_bytes_, (offset + block_bytes_ + kFaultAround + kPage - 1) / kPage * kPage);
    if (start > to) {
      flush();
      from = start;
    }
    to = std::max(to, end);
  }
  flush();
  offsets.clear();
}

bool MappedBand::read(Window inside, void* first, GDALDataType type, int64_t line_space) {
  const bool same = type == own_;
  const bool widen =
      type == GDT_Int32 && (own_ == GDT_Byte || own_ == GDT_Int16 || own_ == GDT_UInt16);
  if (!same && !widen) return false;
  const int64_t bx0 = inside.x / block_width_, bx1 = (inside.right() - 1) / block_width_;
  const int64_t by0 = inside.y / block_height_, by1 = (inside.bottom() - 1) / block_height_;
  touched_.clear();
  for (int64_t by = by0; by <= by1; ++by)
    for (int64_t bx = bx0; bx <= bx1; ++bx) {
      if (block_offset(bx, by) == 0) return false;
      touched_.push_back(by * blocks_x_ + bx);
    }
  ++reads_;
  read_mapped(inside, static_cast<unsigned char*>(first), line_space, same);
  return true;
}

void MappedBand::copy_part(Window part, int64_t bx, int64_t by, const unsigned char* rows,
                           int64_t first_row, Window inside, unsigned char* out, int64_t line_space,
                           bool same) const {
  const int64_t out_cell = same ? cell_ : 4;
  for (int64_t y = part.y; y < part.bottom(); ++y) {
    const unsigned char* src = rows + ((y - by * block_height_ - first_row) * block_width_ +
                                       (part.x - bx * block_width_)) *
                                          cell_;
    unsigned char* dst = out + (y - inside.y) * line_space + (part.x - inside.x) * out_cell;
    if (same)
      std::memcpy(dst, src, static_cast<size_t>(part.width * cell_));
    else if (own_ == GDT_Byte)
      widen_row<uint8_t>(src, part.width, dst);
    else if (own_ == GDT_Int16)
      widen_row<int16_t>(src, part.width, dst);
    else
      widen_row<uint16_t>(src, part.width, dst);
  }
}

void MappedBand::read_mapped(Window inside, unsigned char* out, int64_t line_space, bool same) {
  // Nothing between here and the copies owns a resource a jump back could skip.
  sigjmp_buf jump;
  if (sigsetjmp(jump, 0) != 0) {
    copying = nullptr;
    throw Error(path_ +
                ": cannot read cells: the file changed or its disk failed while it was read");
  }
  copying = &jump;
  size_t next = 0;
  for (int64_t by = inside.y / block_height_; by <= (inside.bottom() - 1) / block_height_; ++by)
    for (int64_t bx = inside.x / block_width_; bx <= (inside.right() - 1) / block_width_; ++bx) {
      const int64_t index = touched_[next++];
      Block& b = blocks_[static_cast<size_t>(index)];
      if (!b.resident) resident_bytes_ += block_bytes_ + 2 * kFaultAround;
      b.resident = true;
      b.last_use = reads_;
      uses_.emplace_back(index, reads_);
      const Window part =
          intersect(inside, {bx * block_width_, by * block_height_, block_width_, block_height_});
      copy_part(part, bx, by, map_ + b.offset, 0, inside, out, line_space, same);
    }
  copying = nullptr;
  trim();
}

void MappedBand::trim() {
  // A raster that fits the budget is never trimmed: forget the uses later ones have superseded,
  // so that the queue stays within a few entries per block.
  if (uses_.size() > 2 * blocks_.size() + 64)
    std::erase_if(uses_, [&](const std::pair<int64_t, uint64_t>& use) {
      return blocks_[static_cast<size_t>(use.first)].last_use != use.second;
    });
  if (resident_bytes_ <= kResidentBudget) return;
  // Down to three quarters of the budget at once, so that drops come in batches.
  while (resident_bytes_ > kResidentBudget / 4 * 3 && !uses_.empty()) {
    const auto [index, read] = uses_.front();
    uses_.pop_front();
    Block& b = blocks_[static_cast<size_t>(index)];
    if (!b.resident || b.last_use != read) continue;  // used again since: a later entry holds it
    dropping_.push_back(b.offset);
    b.resident = false;
    resident_bytes_ -= block_bytes_ + 2 * kFaultAround;
  }
  drop(dropping_);
}

}  // namespace tessera::io::detail
