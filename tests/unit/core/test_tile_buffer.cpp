// The one dispatch on pixel type (visit, pixel_type_of) and the type-erased band view and tile
// buffer: checked typed views, sub-views in cells, memory reused across tiles.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "tessera/core/error.hpp"
#include "tessera/core/tile_buffer.hpp"

namespace tessera {
namespace {

constexpr std::array<PixelType, 7> kTypes{PixelType::Byte,   PixelType::UInt16, PixelType::Int16,
                                          PixelType::UInt32, PixelType::Int32,  PixelType::Float32,
                                          PixelType::Float64};

static_assert(pixel_type_of<uint8_t> == PixelType::Byte);
static_assert(pixel_type_of<int16_t> == PixelType::Int16);
static_assert(pixel_type_of<double> == PixelType::Float64);
static_assert(size_of(PixelType::UInt32) == 4);

TEST(Visit, GivesEachTypeItsCppType) {
  // Integral, signed and size tell the seven types apart.
  struct Expected {
    bool integral;
    bool is_signed;
    size_t size;
  };
  const std::array<Expected, 7> expected{{{true, false, 1},
                                          {true, false, 2},
                                          {true, true, 2},
                                          {true, false, 4},
                                          {true, true, 4},
                                          {false, true, 4},
                                          {false, true, 8}}};
  for (size_t k = 0; k < kTypes.size(); ++k) {
    const PixelType t = kTypes[k];
    visit(t, [&]<class T>(std::type_identity<T>) {
      EXPECT_EQ(std::is_integral_v<T>, expected[k].integral) << name_of(t);
      EXPECT_EQ(std::is_signed_v<T>, expected[k].is_signed) << name_of(t);
      EXPECT_EQ(sizeof(T), expected[k].size) << name_of(t);
      EXPECT_EQ(pixel_type_of<T>, t) << name_of(t);
      EXPECT_EQ(sizeof(T), size_of(t)) << name_of(t);
      EXPECT_EQ(std::is_integral_v<T>, is_integer(t)) << name_of(t);
    });
  }
}

TEST(Visit, ReturnsWhatTheCallReturns) {
  const auto digits = [](PixelType t) {
    return visit(t, []<class T>(std::type_identity<T>) { return std::numeric_limits<T>::digits; });
  };
  EXPECT_EQ(digits(PixelType::Byte), 8);
  EXPECT_EQ(digits(PixelType::Int16), 15);
  EXPECT_EQ(digits(PixelType::Float32), 24);
  EXPECT_EQ(digits(PixelType::Float64), 53);
}

TEST(Visit, ThrowsOnAValueNoEnumeratorHas) {
  const auto bad = static_cast<PixelType>(7);
  EXPECT_THROW(visit(bad, []<class T>(std::type_identity<T>) { return 0; }), Error);
}

TEST(BandView, OfATypedViewKnowsItsTypeAndShape) {
  std::vector<int16_t> cells(6 * 4);
  const BandView band(View<int16_t>(cells.data(), 5, 3, 6));
  EXPECT_EQ(band.type(), PixelType::Int16);
  EXPECT_EQ(band.width(), 5);
  EXPECT_EQ(band.height(), 3);
  EXPECT_EQ(band.bytes().width(), 10);
  EXPECT_EQ(band.bytes().stride(), 12);
  EXPECT_EQ(band.bytes().data(), reinterpret_cast<std::byte*>(cells.data()));
  const View<int16_t> back = band.as<int16_t>();
  EXPECT_EQ(back.data(), cells.data());
  EXPECT_EQ(back.width(), 5);
  EXPECT_EQ(back.stride(), 6);
}

TEST(BandView, AsAnotherTypeThrows) {
  std::vector<float> cells(4);
  const BandView band(View<float>(cells.data(), 2, 2));
  EXPECT_NO_THROW(band.as<float>());
  EXPECT_THROW(band.as<int32_t>(), Error);  // same size, other type
  EXPECT_THROW(band.as<double>(), Error);
  try {
    band.as<uint8_t>();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Float32 cells viewed as Byte"), std::string::npos)
        << e.what();
  }
}

TEST(BandView, OfBytesCountsCellsOfItsType) {
  std::vector<std::byte> bytes(8 * 2);
  const BandView band(PixelType::Float64, View<std::byte>(bytes.data(), 8, 2));
  EXPECT_EQ(band.width(), 1);
  EXPECT_EQ(band.height(), 2);
  EXPECT_FALSE(band.empty());
  EXPECT_TRUE(BandView().empty());
}

TEST(BandView, SubCountsInCells) {
  std::vector<uint32_t> cells(4 * 3);
  for (size_t i = 0; i < cells.size(); ++i) cells[i] = static_cast<uint32_t>(i);
  const BandView band(View<uint32_t>(cells.data(), 4, 3));
  const BandView part = band.sub(1, 1, 2, 2);
  EXPECT_EQ(part.type(), PixelType::UInt32);
  EXPECT_EQ(part.width(), 2);
  EXPECT_EQ(part.bytes().width(), 8);
  const View<uint32_t> typed = part.as<uint32_t>();
  EXPECT_EQ(typed(0, 0), 5u);
  EXPECT_EQ(typed(1, 0), 6u);
  EXPECT_EQ(typed(0, 1), 9u);
  EXPECT_EQ(typed(1, 1), 10u);
  uint32_t second = 0;
  std::memcpy(&second, part.bytes().row(1), sizeof second);
  EXPECT_EQ(second, 9u);
}

TEST(TileBuffer, AllocatesOnFirstViewZeroed) {
  TileBuffer buffer(PixelType::UInt16, 3, 2);
  EXPECT_EQ(buffer.capacity_bytes(), 0u);
  const View<uint16_t> cells = buffer.as<uint16_t>();
  EXPECT_EQ(buffer.capacity_bytes(), 12u);
  EXPECT_EQ(cells.width(), 3);
  EXPECT_EQ(cells.stride(), 3);
  for (int64_t y = 0; y < 2; ++y)
    for (int64_t x = 0; x < 3; ++x) EXPECT_EQ(cells(x, y), 0);
  EXPECT_THROW(buffer.as<int16_t>(), Error);
}

TEST(TileBuffer, KeepsItsCellsAndMemoryWhenShrunk) {
  TileBuffer buffer(PixelType::Float32, 4, 4);
  View<float> cells = buffer.as<float>();
  cells(1, 0) = 7.5f;
  EXPECT_EQ(buffer.as<float>()(1, 0), 7.5f);  // view() again: the same cells
  buffer.resize(2, 3);
  const View<float> smaller = buffer.as<float>();
  EXPECT_EQ(smaller.data(), cells.data());
  EXPECT_EQ(smaller.width(), 2);
  EXPECT_EQ(smaller.height(), 3);
  EXPECT_EQ(smaller(1, 0), 7.5f);
  EXPECT_EQ(buffer.capacity_bytes(), 64u);
  buffer.resize(5, 5);
  EXPECT_EQ(buffer.view().width(), 5);
  EXPECT_EQ(buffer.capacity_bytes(), 100u);
}

}  // namespace
}  // namespace tessera
