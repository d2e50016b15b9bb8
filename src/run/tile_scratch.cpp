// Scratch files of a tile-graph pass: one per rank, appended in phase 1, read by any rank after.
#include "tile_scratch.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include <fmt/core.h>

#include "tessera/core/error.hpp"
#include "tessera/core/hidden_name.hpp"
#include "tessera/io/positioned_io.hpp"
#include "tessera/par/environment.hpp"
#include "tessera/par/gather.hpp"

namespace tessera::run {

namespace {

/// One record of share(): a tile this rank kept and where it lies in its file.
struct Record {
  int64_t tile = 0;
  int64_t offset = 0;
  int64_t size = 0;
};

}  // namespace

TileScratch::TileScratch(const std::string& folder, const std::string& step, int64_t id,
                         int64_t tiles)
    : folder_(folder),
      step_(step),
      id_(id),
      places_(static_cast<size_t>(tiles)),
      file_(path_of(par::world_rank())) {
  // Locked as it is made, so that no other run's cleaner takes it for a killed run's file.
  file_.hold();
  fd_ = open(file_.path().c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0) fail("cannot create its file", errno);
  fchmod(fd_, 0600);
  io::remove_stale_numbered_temporaries(folder_, file_start(step_), id_);
}

int64_t TileScratch::new_id() {
  std::random_device random;
  const uint64_t bits = (uint64_t{random()} << 32) ^ random();
  return static_cast<int64_t>(bits >> 2);  // positive: the name's ID is digits
}

TileScratch::~TileScratch() {
  for (int fd : fds_)
    if (fd >= 0 && fd != fd_) close(fd);
  if (fd_ >= 0) close(fd_);
}

std::string TileScratch::file_start(const std::string& step) {
  return hidden_stem(step) + ".scratch-r";
}

void TileScratch::remove_stale(const std::string& folder, const std::string& step) {
  io::remove_stale_numbered_temporaries(folder, file_start(step), -1);  // -1: no run's id
}

std::string TileScratch::path_of(int rank) const {
  const std::string name = fmt::format("{}{}.tmp-{}", file_start(step_), rank, id_);
  return (std::filesystem::path(folder_) / name).string();
}

void TileScratch::fail(const std::string& doing, int error) const {
  throw Error(fmt::format(
      "{}: scratch folder of step '{}': {}: {}; free space there, choose another ([run] scratch, "
      "--scratch DIR) or none (--no-scratch: the tiles are computed again)",
      folder_, step_, doing, std::strerror(error)));
}

void TileScratch::keep(int64_t tile, std::span<const std::byte> bytes) {
  if (bytes.empty()) return;
  int64_t offset = 0;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    offset = end_;
    end_ += static_cast<int64_t>(bytes.size());
  }
  if (const int error = io::pwrite_all(fd_, bytes.data(), bytes.size(), offset); error != 0)
    fail("cannot write", error);
  places_[static_cast<size_t>(tile)] = {par::world_rank(), offset,
                                        static_cast<int64_t>(bytes.size())};
}

void TileScratch::share() {
  std::vector<Record> mine;
  for (size_t t = 0; t < places_.size(); ++t)
    if (places_[t].rank >= 0)
      mine.push_back({static_cast<int64_t>(t), places_[t].offset, places_[t].size});
  const auto ranks = par::all_gather_bytes(std::as_bytes(std::span<const Record>(mine)));
  fds_.assign(ranks.size(), -1);
  for (size_t r = 0; r < ranks.size(); ++r) {
    const auto count = ranks[r].size() / sizeof(Record);
    std::vector<Record> records(count);
    std::memcpy(records.data(), ranks[r].data(), count * sizeof(Record));
    for (const Record& k : records)
      places_[static_cast<size_t>(k.tile)] = {static_cast<int32_t>(r), k.offset, k.size};
    if (static_cast<int>(r) == par::world_rank())
      fds_[r] = fd_;
    else if (count > 0 && par::on_this_node(static_cast<int>(r)))
      fds_[r] = open(path_of(static_cast<int>(r)).c_str(), O_RDONLY | O_CLOEXEC);
  }
}

bool TileScratch::take(int64_t tile, ops::Bytes& into) const {
  const Place& place = places_[static_cast<size_t>(tile)];
  if (place.rank < 0 || fds_.empty() || fds_[static_cast<size_t>(place.rank)] < 0) return false;
  const int fd = fds_[static_cast<size_t>(place.rank)];
  into.resize(static_cast<size_t>(place.size));
  if (const int error = io::pread_all(fd, into.data(), into.size(), place.offset); error != 0)
    fail("cannot read tile " + std::to_string(tile), error);
  return true;
}

}  // namespace tessera::run
