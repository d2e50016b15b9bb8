// A COMPRESS=DEFLATE HDF5 output's chunks made outside HDF5, on any thread: the tile cut to the
// chunk, bytes shuffled as HDF5's shuffle filter does, then a zlib stream its deflate filter reads.
#include <libdeflate.h>

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
      chunk_height_(std::min(spec.tile_height, spec.size.height)),
      compressor_(libdeflate_alloc_compressor(spec.options.deflate_level)) {
  if (!compressor_)
    throw Error(spec_.path + ": cannot make a deflate compressor at level " +
                std::to_string(spec.options.deflate_level));
  const size_t cell = size_of(spec.type);
  const auto bytes = static_cast<size_t>(chunk_width_ * chunk_height_) * cell;
  if (chunk_width_ != spec.tile_width) chunk_.resize(bytes);  // else the tile's rows are the chunk
  if (cell > 1) shuffled_.resize(bytes);
  compressed_.resize(libdeflate_zlib_compress_bound(compressor_.get(), bytes));
}

void Hdf5ChunkEncoder::FreeCompressor::operator()(libdeflate_compressor* compressor) const {
  libdeflate_free_compressor(compressor);
}

std::span<const std::byte> Hdf5ChunkEncoder::encode(const void* cells) {
  const size_t cell = size_of(spec_.type);
  const auto row = static_cast<size_t>(chunk_width_) * cell;
  const auto* tile = static_cast<const std::byte*>(cells);
  std::span<const std::byte> chunk(tile, row * static_cast<size_t>(chunk_height_));
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
  const size_t size = libdeflate_zlib_compress(compressor_.get(), chunk.data(), chunk.size(),
                                               compressed_.data(), compressed_.size());
  if (size == 0) throw Error(spec_.path + ": cannot compress a chunk");
  return {compressed_.data(), size};
}

}  // namespace tessera::io
