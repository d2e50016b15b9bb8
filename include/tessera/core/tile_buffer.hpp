// Cells whose pixel type is known only at run time: a non-owning view of one band and the owning,
// reusable tile buffer behind it (Halide's Buffer<void>: type() and checked as<T>()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tessera/core/pixel_type.hpp"
#include "tessera/core/raster_view.hpp"

namespace tessera {

/// A width x height grid of cells of one pixel type in row-major memory: a View whose cell type
/// is a value. Does not own its cells; copying it copies the pointer.
class BandView {
 public:
  BandView() = default;
  /// The cells of `type` in `bytes`, whose width and stride are whole cells of that type.
  BandView(PixelType type, View<std::byte> bytes);
  /// The cells of a typed view (T one of the seven types visit() passes, not const).
  template <class T>
  explicit BandView(View<T> cells)
      : BandView(pixel_type_of<T>, View<std::byte>(reinterpret_cast<std::byte*>(cells.data()),
                                                   cells.width() * cell_bytes<T>, cells.height(),
                                                   cells.stride() * cell_bytes<T>)) {}

  PixelType type() const { return type_; }
  int64_t width() const { return bytes_.width() / cell(); }
  int64_t height() const { return bytes_.height(); }
  bool empty() const { return bytes_.empty(); }
  /// Its rows as bytes: width() * size_of(type()) bytes each.
  View<std::byte> bytes() const { return bytes_; }
  /// Its cells as T. Throws tessera::Error (an internal error) unless T is type()'s C++ type.
  template <class T>
  View<T> as() const {
    if (pixel_type_of<T> != type_) throw_not(pixel_type_of<T>);
    return View<T>(reinterpret_cast<T*>(bytes_.data()), width(), height(),
                   bytes_.stride() / cell_bytes<T>);
  }
  /// The sub-view of w x h cells starting at column x, row y of this view.
  BandView sub(int64_t x, int64_t y, int64_t w, int64_t h) const {
    return {type_, bytes_.sub(x * cell(), y, w * cell(), h)};
  }

 private:
  template <class T>
  static constexpr int64_t cell_bytes = static_cast<int64_t>(sizeof(T));
  int64_t cell() const { return static_cast<int64_t>(size_of(type_)); }
  /// Throws the error of as<T>() for a T of pixel type `asked`.
  [[noreturn]] void throw_not(PixelType asked) const;

  PixelType type_ = PixelType::Byte;
  View<std::byte> bytes_;
};

/// An owning buffer of width x height cells of one pixel type, sized once and reused: memory is
/// allocated on the first view() and again only when resize() makes it larger, so a thread that
/// keeps one per tile touches fresh memory only on its first tile.
class TileBuffer {
 public:
  /// An empty Byte buffer.
  TileBuffer() = default;
  /// A buffer of width x height cells of `type`; nothing is allocated before view().
  TileBuffer(PixelType type, int64_t width, int64_t height)
      : type_(type), width_(width), height_(height) {}

  PixelType type() const { return type_; }
  int64_t width() const { return width_; }
  int64_t height() const { return height_; }
  /// Makes it width x height cells (the type stays); cells it kept hold what they held.
  void resize(int64_t width, int64_t height) {
    width_ = width;
    height_ = height;
  }
  /// All its cells, row after row (stride = width); allocates them, zeroed, when they do not fit
  /// yet, which moves them: views taken before a resize() that grew it are then stale.
  BandView view();
  /// view().as<T>(): its cells as T, checked.
  template <class T>
  View<T> as() {
    return view().as<T>();
  }
  /// view().bytes(): its rows as bytes.
  View<std::byte> bytes() { return view().bytes(); }
  /// Bytes allocated so far.
  size_t capacity_bytes() const { return bytes_.size(); }

 private:
  PixelType type_ = PixelType::Byte;
  int64_t width_ = 0;
  int64_t height_ = 0;
  std::vector<std::byte> bytes_;
};

}  // namespace tessera
