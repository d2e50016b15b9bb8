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

/// Values of a trivially copyable type that put_all() wrote, read where they lie in a summary
/// (which aligns nothing): each read copies one value out.
template <class T>
class Packed {
 public:
  static_assert(std::is_trivially_copyable_v<T>);
  Packed() = default;
  Packed(const std::byte* data, size_t size) : data_(data), size_(size) {}
  size_t size() const { return size_; }
  T operator[](size_t i) const {
    T value;
    std::memcpy(&value, data_ + i * sizeof(T), sizeof(T));
    return value;
  }

 private:
  const std::byte* data_ = nullptr;
  size_t size_ = 0;
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
  /// What put_all() wrote, in place: valid while the string read is.
  template <class T>
  Packed<T> view() {
    const auto size = get<uint64_t>();
    if (size > (bytes_.size() - at_) / sizeof(T))
      throw Error("internal error: a tile summary is cut short");
    const std::byte* p = bytes_.data() + at_;
    at_ += size * sizeof(T);
    return {p, size};
  }
  /// Where the next value lies (valid while the string read is).
  const std::byte* here() const { return bytes_.data() + at_; }
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
