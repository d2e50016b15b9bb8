// Non-owning 2-D views of cells of a type known at compile time (tile_buffer.hpp holds the
// owning buffer and the views of a type known at run time).
#pragma once

#include <cassert>
#include <cstdint>
#include <type_traits>

namespace tessera {

/// A width x height grid of T in row-major memory with `stride` elements between rows.
/// Does not own its cells; copying a view copies the pointer.
template <class T>
class View {
 public:
  View() = default;
  View(T* data, int64_t width, int64_t height, int64_t stride)
      : data_(data), width_(width), height_(height), stride_(stride) {}
  View(T* data, int64_t width, int64_t height) : View(data, width, height, width) {}
  /// A view of const T from a view of T.
  template <class U, class = std::enable_if_t<std::is_same_v<const U, T>>>
  View(const View<U>& other)  // NOLINT(google-explicit-constructor)
      : View(other.data(), other.width(), other.height(), other.stride()) {}

  T* data() const { return data_; }
  int64_t width() const { return width_; }
  int64_t height() const { return height_; }
  int64_t stride() const { return stride_; }
  bool empty() const { return width_ <= 0 || height_ <= 0; }

  T* row(int64_t y) const {
    assert(y >= 0 && y < height_);
    return data_ + y * stride_;
  }
  T& operator()(int64_t x, int64_t y) const {
    assert(x >= 0 && x < width_);
    return row(y)[x];
  }
  /// The sub-view of `w` cells starting at column x, row y of this view.
  View sub(int64_t x, int64_t y, int64_t w, int64_t h) const {
    assert(x >= 0 && y >= 0 && x + w <= width_ && y + h <= height_);
    return View(data_ + y * stride_ + x, w, h, stride_);
  }

 private:
  T* data_ = nullptr;
  int64_t width_ = 0;
  int64_t height_ = 0;
  int64_t stride_ = 0;
};

template <class T>
using ConstView = View<const T>;

}  // namespace tessera
