// fill's kept tiles: what phase 2 needs of a tile's flood, as runs, and the tile finished from it.
#include <algorithm>
#include <cstring>
#include <string>
#include <variant>

#include "tessera/ops/fill.hpp"

namespace tessera::ops {
namespace {

/// A run: its length (1 to 65535 cells), then its code: region label + 1 in the low 15 bits
/// (0 for voids), and the top bit set when the run's cells are raised to one level, a Float32
/// that follows.
constexpr uint16_t kRaised = 0x8000;
constexpr int32_t kMostRegions = 0x7FFF;  // label + 1 in 15 bits
constexpr int64_t kLongestRun = 0xFFFF;

uint32_t bits_of(float v) {
  uint32_t b = 0;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

/// Row y of the tile's heights, from column 0.
const float* heights(const TileIn& in, int64_t y) {
  return std::get<ConstView<float>>(in.cells).row(y + in.halo) + in.halo;
}

/// Writes runs into a buffer of fixed size; full() once a run did not fit.
class RunWriter {
 public:
  RunWriter(Bytes& out, size_t capacity) : out_(out) { out_.resize(capacity); }
  template <class T>
  void put(T value) {
    if (at_ + sizeof(T) > out_.size()) {
      full_ = true;
      return;
    }
    std::memcpy(out_.data() + at_, &value, sizeof(T));
    at_ += sizeof(T);
  }
  bool full() const { return full_; }
  void finish() { out_.resize(full_ ? 0 : at_); }

 private:
  Bytes& out_;
  size_t at_ = 0;
  bool full_ = false;
};

/// Appends row y's runs. A cell whose level is its own height (bit for bit) joins a run that
/// keeps heights; one raised joins a run of its level. A cell that is both (raised to exactly
/// its height) continues either.
void keep_row(const TileFlood& flood, const float* z, int64_t y, RunWriter& out) {
  const float* level = flood.level.data() + flood.at(0, y);
  const int32_t* label = flood.label.data() + flood.at(0, y);
  for (int64_t x = 0; x < flood.width && !out.full();) {
    const int32_t own = label[x];
    const int64_t most = std::min(flood.width, x + kLongestRun);
    int64_t end = x + 1;
    if (bits_of(level[x]) == bits_of(z[x])) {
      while (end < most && label[end] == own && bits_of(level[end]) == bits_of(z[end])) ++end;
      out.put(static_cast<uint16_t>(end - x));
      out.put(static_cast<uint16_t>(own + 1));
    } else {
      const uint32_t raised = bits_of(level[x]);
      while (end < most && label[end] == own && bits_of(level[end]) == raised) ++end;
      out.put(static_cast<uint16_t>(end - x));
      out.put(static_cast<uint16_t>((own + 1) | kRaised));
      out.put(level[x]);
    }
    x = end;
  }
}

/// Reads keep_flood()'s bytes, checking each run against the tile.
class RunReader {
 public:
  explicit RunReader(std::span<const std::byte> bytes) : bytes_(bytes) {}
  template <class T>
  T get() {
    T value;
    if (at_ + sizeof(T) > bytes_.size()) broken();
    std::memcpy(&value, bytes_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return value;
  }
  bool done() const { return at_ == bytes_.size(); }
  [[noreturn]] static void broken() {
    throw Error("internal error: a kept tile of fill does not match its tile");
  }

 private:
  std::span<const std::byte> bytes_;
  size_t at_ = 0;
};

}  // namespace

void keep_flood(const TileFlood& flood, const TileIn& in, Bytes& kept) {
  if (flood.labels > kMostRegions) {
    kept.clear();
    return;
  }
  const int64_t cells = flood.width * flood.height;
  RunWriter out(kept, static_cast<size_t>(sizeof(int32_t) + kKeptBytesPerCell * cells));
  out.put(flood.labels);
  for (int64_t y = 0; y < flood.height && !out.full(); ++y) keep_row(flood, heights(in, y), y, out);
  out.finish();
}

void finish_kept(std::span<const std::byte> kept, const TileIn& in, const FillSolution& solution,
                 int64_t tile, float none, View<float> out) {
  RunReader runs(kept);
  const auto labels = runs.get<int32_t>();
  if (labels < 1 || labels > kMostRegions) RunReader::broken();
  thread_local std::vector<float> region_level;
  region_level.resize(static_cast<size_t>(labels));
  for (int32_t l = 0; l < labels; ++l) region_level[l] = solution.level_of(tile, l);
  for (int64_t y = 0; y < in.owned.height; ++y) {
    const float* z = heights(in, y);
    float* row = out.row(y);
    for (int64_t x = 0; x < in.owned.width;) {
      const auto length = runs.get<uint16_t>();
      const auto code = runs.get<uint16_t>();
      const int32_t label = (code & ~kRaised) - 1;
      if (length == 0 || length > in.owned.width - x || label >= labels) RunReader::broken();
      float* to = row + x;
      x += length;
      if (label < 0) {
        if ((code & kRaised) != 0) RunReader::broken();
        std::fill(to, to + length, none);
      } else if ((code & kRaised) != 0) {
        std::fill(to, to + length, std::max(runs.get<float>(), region_level[label]));
      } else {
        const float at_least = region_level[label];
        const float* from = z + (to - row);
        for (int i = 0; i < length; ++i) to[i] = std::max(from[i], at_least);
      }
    }
  }
  if (!runs.done()) RunReader::broken();
}

}  // namespace tessera::ops
