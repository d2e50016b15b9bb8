// A COMPRESS=DEFLATE HDF5 output's chunks made outside HDF5, on any thread: the tile cut to the
// chunk, bytes shuffled as HDF5's shuffle filter does, then compressed as its deflate filter does.
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "tessera/core/error.hpp"
#include "tessera/io/hdf5.hpp"

namespace tessera::io {

namespace {

/// HDF5's shuffle filter: byte k of every cell together, k = 0 .. size - 1.
void shuffle(std::span<const std::byte> cells, size_t size, std::byte* out) {
  const size_t count = cells.size() / size;
  for (size_t k = 0; k < size; ++k) {
    std::byte* plane = out + k * count;
    for (size_t i = 0; i < count; ++i) plane[i] = cells[i * size + k];
  }
}

}  // namespace

Hdf5ChunkEncoder::Hdf5ChunkEncoder(const OutputSpec& spec)
    : spec_(spec),
      chunk_width_(std::min(spec.tile_width, spec.size.width)),
      chunk_height_(std::min(spec.tile_height, spec.size.height)) {
  const auto bytes = static_cast<size_t>(chunk_width_ * chunk_height_) * size_of(spec.type);
  chunk_.resize(bytes);
  shuffled_.resize(bytes);
  compressed_.resize(compressBound(static_cast<uLong>(bytes)));
}

std::span<const std::byte> Hdf5ChunkEncoder::encode(const void* cells) {
  const size_t cell = size_of(spec_.type);
  const auto row = static_cast<size_t>(chunk_width_) * cell;
  const auto* tile = static_cast<const std::byte*>(cells);
  std::span<const std::byte> chunk(tile, chunk_.size());
  if (chunk_width_ != spec_.tile_width) {  // the raster is narrower than a tile
    const auto tile_row = static_cast<size_t>(spec_.tile_width) * cell;
    for (int64_t y = 0; y < chunk_height_; ++y)
      std::memcpy(chunk_.data() + static_cast<size_t>(y) * row,
                  tile + static_cast<size_t>(y) * tile_row, row);
    chunk = chunk_;
  }
  if (cell > 1) {
    shuffle(chunk, cell, shuffled_.data());
    chunk = shuffled_;
  }
  auto size = static_cast<uLongf>(compressed_.size());
  const int level = spec_.options.deflate_level;
  if (compress2(reinterpret_cast<Bytef*>(compressed_.data()), &size,
                reinterpret_cast<const Bytef*>(chunk.data()), static_cast<uLong>(chunk.size()),
                level) != Z_OK)
    throw Error(spec_.path + ": cannot compress a chunk (zlib level " + std::to_string(level) +
                ")");
  return {compressed_.data(), static_cast<size_t>(size)};
}

}  // namespace tessera::io
