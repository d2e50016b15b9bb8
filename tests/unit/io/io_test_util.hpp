// Helpers shared by the io unit tests: a temporary folder removed at the end of each test, and
// GDAL's own reading of a band, the reference the readers are compared with.
#pragma once

#include <gdal.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include <cstring>

#include "tessera/core/geometry.hpp"
#include "tessera/io/raster_source.hpp"

namespace tessera::io::test {

/// A fresh empty folder under the system temporary folder, removed with its contents.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("tessera-io-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  /// The path of `name` inside the folder.
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  /// How many entries the folder holds.
  int entries() const {
    int n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(path_)) ++n;
    return n;
  }

 private:
  std::filesystem::path path_;
};

/// Band `band` of `path` read whole by GDAL as `type`.
template <class T>
std::vector<T> gdal_cells(const std::string& path, int band, GDALDataType type, Extent size) {
  std::vector<T> cells(static_cast<size_t>(size.cells()));
  GDALDatasetH ds = GDALOpen(path.c_str(), GA_ReadOnly);
  EXPECT_NE(ds, nullptr) << path;
  if (ds == nullptr) return cells;
  EXPECT_EQ(GDALRasterIO(GDALGetRasterBand(ds, band), GF_Read, 0, 0, static_cast<int>(size.width),
                         static_cast<int>(size.height), cells.data(), static_cast<int>(size.width),
                         static_cast<int>(size.height), type, 0, 0),
            CE_None);
  GDALClose(ds);
  return cells;
}

/// Reads `window` through `reader` into a view with spare columns and checks every cell of the
/// backing memory bit for bit: inside the raster the cell of `reference` (the whole band, as
/// gdal_cells reads it), elsewhere the sentinel the memory was filled with.
template <class T>
void check_window(RasterReader& reader, const std::vector<T>& reference, Extent size,
                  Window window) {
  const T sentinel = static_cast<T>(-12345);
  const int64_t stride = window.width + 7;
  std::vector<T> memory(static_cast<size_t>(stride * window.height), sentinel);
  reader.read(window, View<T>(memory.data(), window.width, window.height, stride));
  for (int64_t y = 0; y < window.height; ++y)
    for (int64_t x = 0; x < stride; ++x) {
      const int64_t gx = window.x + x, gy = window.y + y;
      const bool inside =
          x < window.width && gx >= 0 && gy >= 0 && gx < size.width && gy < size.height;
      const T expected = inside ? reference[static_cast<size_t>(gy * size.width + gx)] : sentinel;
      const T got = memory[static_cast<size_t>(y * stride + x)];
      ASSERT_EQ(std::memcmp(&got, &expected, sizeof(T)), 0)
          << "window " << window.x << "," << window.y << " " << window.width << "x" << window.height
          << " cell " << x << "," << y << ": " << got << " != " << expected;
    }
}

}  // namespace tessera::io::test
