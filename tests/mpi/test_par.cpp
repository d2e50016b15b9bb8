// The par layer at any rank count: tile claims, failure agreement and tile mail.
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "tessera/core/error.hpp"
#include "tessera/par/agreement.hpp"
#include "tessera/par/environment.hpp"
#include "tessera/par/gather.hpp"
#include "tessera/par/tile_counter.hpp"
#include "tessera/par/tile_mail.hpp"

namespace tessera::par {
namespace {

/// Every tile claimed by some rank, gathered on every rank.
std::vector<int64_t> claimed_everywhere(int64_t total, int64_t batch) {
  std::vector<int64_t> mine;
  {
    TileCounter counter(total);
    for (int64_t first = counter.claim(batch); first < total; first = counter.claim(batch))
      for (int64_t t = first; t < std::min(first + batch, total); ++t) mine.push_back(t);
  }
  int count = static_cast<int>(mine.size());
  std::vector<int> counts(static_cast<size_t>(world_size()));
  MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
  std::vector<int> offsets(counts.size(), 0);
  std::partial_sum(counts.begin(), counts.end() - 1, offsets.begin() + 1);
  std::vector<int64_t> all(static_cast<size_t>(offsets.back() + counts.back()));
  MPI_Allgatherv(mine.data(), count, MPI_INT64_T, all.data(), counts.data(), offsets.data(),
                 MPI_INT64_T, MPI_COMM_WORLD);
  std::sort(all.begin(), all.end());
  return all;
}

TEST(TileCounter, EveryTileIsClaimedExactlyOnce) {
  for (int64_t total : {0, 1, 3, 97, 1000}) {
    for (int64_t batch : {1, 2, 7}) {
      std::vector<int64_t> expected(static_cast<size_t>(total));
      std::iota(expected.begin(), expected.end(), 0);
      EXPECT_EQ(claimed_everywhere(total, batch), expected) << total << " tiles, batch " << batch;
    }
  }
}

TEST(TileCounter, CancelEmptiesEveryLaterClaim) {
  TileCounter counter(1'000'000);
  if (world_rank() == world_size() - 1) counter.cancel();
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_GE(counter.claim(4), counter.total());
}

TEST(Agreement, NoFailureReturnsEverywhere) { EXPECT_NO_THROW(agree(nullptr)); }

TEST(Agreement, OneRankFailingMakesEveryRankThrowItsMessage) {
  const int failing = world_size() - 1;
  try {
    agreed([&] {
      if (world_rank() == failing)
        throw Error("tile 12: read failed on rank " + std::to_string(failing));
    });
    FAIL() << "agreed() returned although a rank failed";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "tile 12: read failed on rank " + std::to_string(failing));
  }
}

TEST(Agreement, TheLowestFailingRankSpeaks) {
  try {
    agreed([&] { throw Error("rank " + std::to_string(world_rank())); });
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "rank 0");
  }
}

TEST(TileMail, EveryParcelReachesRankZeroIntact) {
  const int per_rank = 25;
  if (world_rank() != 0) {
    Outbox outbox;
    for (int i = 0; i < per_rank; ++i) {
      auto bytes = outbox.take_buffer();
      bytes.assign(static_cast<size_t>(1000 * i + world_rank()), std::byte(world_rank()));
      outbox.send(world_rank() * 1000 + i, std::move(bytes));
    }
    outbox.close();
    return;
  }
  Inbox inbox(world_size() - 1);
  int received = 0;
  while (auto parcel = inbox.wait()) {
    const int64_t sender = parcel->key / 1000;
    const int64_t i = parcel->key % 1000;
    ASSERT_EQ(parcel->bytes.size(), static_cast<size_t>(1000 * i + sender));
    if (!parcel->bytes.empty()) {
      EXPECT_EQ(parcel->bytes.front(), std::byte(sender));
    }
    inbox.recycle(std::move(parcel->bytes));
    ++received;
  }
  EXPECT_EQ(received, per_rank * (world_size() - 1));
}

/// Rank r's piece i: `size` bytes, each from (r, i, its place), so a byte out of place shows.
std::vector<std::byte> piece_of(int r, int i, size_t size) {
  std::vector<std::byte> piece(size);
  for (size_t k = 0; k < size; ++k) piece[k] = std::byte((r * 131 + i * 17 + k * 7) & 0xff);
  return piece;
}

const std::vector<size_t> kPieceSizes = {0, 1, 1000, 0, 70001, 13};

void expect_pieces_at_root(size_t most_message_bytes) {
  const int me = world_rank();
  std::vector<std::vector<std::byte>> pieces;
  for (size_t i = 0; i < kPieceSizes.size(); ++i)
    pieces.push_back(piece_of(me, static_cast<int>(i), kPieceSizes[i] + static_cast<size_t>(me)));
  std::vector<const std::byte*> own;  // where rank 0's pieces lie: they must stay there
  for (const auto& piece : pieces)
    if (!piece.empty()) own.push_back(piece.data());
  const auto got = gather_pieces_to_root(std::move(pieces), most_message_bytes);
  EXPECT_TRUE(pieces.empty());  // NOLINT(bugprone-use-after-move): documented as left empty
  if (me != 0) {
    EXPECT_TRUE(got.empty());
    return;
  }
  ASSERT_EQ(got.size(), own.size() + static_cast<size_t>(world_size() - 1));
  size_t at = 0;
  for (size_t i = 0; i < kPieceSizes.size(); ++i) {
    if (kPieceSizes[i] == 0) continue;
    EXPECT_EQ(got[at].data(), own[at]) << "rank 0's piece " << i << " was copied";
    EXPECT_EQ(got[at], piece_of(0, static_cast<int>(i), kPieceSizes[i]));
    ++at;
  }
  for (int r = 1; r < world_size(); ++r) {
    std::vector<std::byte> expected;
    for (size_t i = 0; i < kPieceSizes.size(); ++i) {
      const auto piece = piece_of(r, static_cast<int>(i), kPieceSizes[i] + static_cast<size_t>(r));
      expected.insert(expected.end(), piece.begin(), piece.end());
    }
    EXPECT_EQ(got[at++], expected) << "rank " << r;
  }
}

// Rank 0 may still be in the tile mail's test when the other ranks send these: its Inbox, which
// takes any tag, took them as tiles (a heap overrun) while the mail travelled on MPI_COMM_WORLD.
TEST(Gather, EveryRanksPiecesReachRankZeroInOrder) { expect_pieces_at_root(kMostMessageBytes); }

// A rank's bytes go in messages of at most 1 GiB (MPI counts them in an int; the gather of
// fill --epsilon's summaries refused more than 2 GiB a rank): here 7 bytes, pieces split across.
TEST(Gather, PiecesLargerThanAMessageArriveWhole) { expect_pieces_at_root(7); }

}  // namespace
}  // namespace tessera::par

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  tessera::par::Environment env(argc, argv);
  if (!env.is_root()) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  const int failed = RUN_ALL_TESTS();
  int any = 0;
  MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  env.set_exit_status(any);
  return any;
}
