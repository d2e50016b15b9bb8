// Type-erased band views and tile buffers: the checks of as<T>() and the growing of the buffer.
#include "tessera/core/tile_buffer.hpp"

#include <cassert>
#include <string>

#include "tessera/core/error.hpp"

namespace tessera {

BandView::BandView(PixelType type, View<std::byte> bytes) : type_(type), bytes_(bytes) {
  assert(bytes.width() % cell() == 0 && bytes.stride() % cell() == 0);
}

void BandView::throw_not(PixelType asked) const {
  throw Error("internal error: a band of " + std::string(name_of(type_)) + " cells viewed as " +
              std::string(name_of(asked)));
}

BandView TileBuffer::view() {
  const auto row = width_ * static_cast<int64_t>(size_of(type_));
  const auto needed = static_cast<size_t>(row * height_);
  if (bytes_.size() < needed) bytes_.resize(needed);
  return {type_, View<std::byte>(bytes_.data(), row, height_)};
}

}  // namespace tessera
