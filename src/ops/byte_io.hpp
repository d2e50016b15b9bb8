// Plain values to and from byte strings: the summaries and solutions of tile-graph ops.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>
#include <vector>

#include "tessera/core/error.hpp"

namespace tessera::ops {

/// Appends trivially copyable values to a byte string.
class ByteWriter {
 public:
  template <class T>
  void put(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    const auto* p = reinterpret_cast<const std::byte*>(&value);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  template <class T>
  void put_all(std::span<const T> values) {
    put<uint64_t>(values.size());
    const auto* p = reinterpret_cast<const std::byte*>(values.data());
    bytes_.insert(bytes_.end(), p, p + values.size_bytes());
  }
  std::vector<std::byte> take() { return std::move(bytes_); }

 private:
  std::vector<std::byte> bytes_;
};

/// Reads back what a ByteWriter wrote, in the same order; throws on a string too short.
class ByteReader {
 public:
  explicit ByteReader(std::span<const std::byte> bytes) : bytes_(bytes) {}
  template <class T>
  T get() {
    T value;
    copy(&value, sizeof(T));
    return value;
  }
  template <class T>
  std::vector<T> get_all() {
    std::vector<T> values(get<uint64_t>());
    copy(values.data(), values.size() * sizeof(T));
    return values;
  }
  /// What put_all() wrote of bytes, in place: valid while the string read is.
  std::span<const uint8_t> view_all() {
    const auto size = get<uint64_t>();
    if (size > bytes_.size() - at_) throw Error("internal error: a tile summary is cut short");
    const auto* p = reinterpret_cast<const uint8_t*>(bytes_.data() + at_);
    at_ += size;
    return {p, size};
  }

 private:
  void copy(void* to, size_t size) {
    if (size > bytes_.size() - at_) throw Error("internal error: a tile summary is cut short");
    std::memcpy(to, bytes_.data() + at_, size);
    at_ += size;
  }
  std::span<const std::byte> bytes_;
  size_t at_ = 0;
};

}  // namespace tessera::ops
