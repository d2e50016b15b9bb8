// Point-to-point transport of encoded tiles to rank 0: a key header and the bytes, one message,
// on a communicator of its own.
#include "tessera/par/tile_mail.hpp"

#include <mpi.h>

#include <cstring>

#include "mail_communicator.hpp"
#include "tessera/core/error.hpp"

namespace tessera::par {

namespace {
constexpr int tile_tag = 7101;
constexpr int close_tag = 7102;
constexpr size_t header = sizeof(int64_t);
}  // namespace

struct Outbox::Pending {
  MPI_Request request = MPI_REQUEST_NULL;
  std::vector<std::byte> message;
};

Outbox::~Outbox() {
  for (Pending* p : pending_) {
    MPI_Wait(&p->request, MPI_STATUS_IGNORE);
    delete p;
  }
}

std::vector<std::byte> Outbox::take_buffer() {
  reap(false);
  if (free_.empty()) return {};
  std::vector<std::byte> buffer = std::move(free_.back());
  free_.pop_back();
  return buffer;
}

void Outbox::send(int64_t key, std::vector<std::byte> bytes) {
  // The header travels in front of the payload: insert it without a second buffer.
  bytes.insert(bytes.begin(), header, std::byte{0});
  std::memcpy(bytes.data(), &key, header);
  auto* p = new Pending{MPI_REQUEST_NULL, std::move(bytes)};
  if (p->message.size() > static_cast<size_t>(INT32_MAX)) {
    delete p;
    throw Error("an encoded tile is larger than 2 GiB; use a smaller tile size");
  }
  MPI_Isend(p->message.data(), static_cast<int>(p->message.size()), MPI_BYTE, 0, tile_tag,
            mail_communicator(), &p->request);
  pending_.push_back(p);
}

void Outbox::reap(bool wait_all) {
  while (!pending_.empty()) {
    Pending* p = pending_.front();
    int done = 0;
    if (wait_all) {
      MPI_Wait(&p->request, MPI_STATUS_IGNORE);
      done = 1;
    } else {
      MPI_Test(&p->request, &done, MPI_STATUS_IGNORE);
    }
    if (!done) return;
    p->message.clear();
    free_.push_back(std::move(p->message));
    pending_.pop_front();
    delete p;
  }
}

void Outbox::close() {
  MPI_Send(nullptr, 0, MPI_BYTE, 0, close_tag, mail_communicator());
  reap(true);
}

std::optional<Parcel> Inbox::poll() { return receive(false); }

std::optional<Parcel> Inbox::wait() { return receive(true); }

void Inbox::recycle(std::vector<std::byte> bytes) { free_.push_back(std::move(bytes)); }

std::vector<std::byte> Inbox::take_buffer() {
  if (free_.empty()) return {};
  std::vector<std::byte> buffer = std::move(free_.back());
  free_.pop_back();
  buffer.clear();
  return buffer;
}

std::optional<Parcel> Inbox::receive(bool block) {
  while (open_senders_ > 0) {
    MPI_Status status;
    int arrived = 1;
    if (block) {
      MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, mail_communicator(), &status);
    } else {
      MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, mail_communicator(), &arrived, &status);
    }
    if (!arrived) return std::nullopt;
    int count = 0;
    MPI_Get_count(&status, MPI_BYTE, &count);
    std::vector<std::byte> message;
    if (!free_.empty()) {
      message = std::move(free_.back());
      free_.pop_back();
    }
    message.resize(static_cast<size_t>(count));
    MPI_Recv(message.data(), count, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG,
             mail_communicator(), MPI_STATUS_IGNORE);
    if (status.MPI_TAG == close_tag) {
      --open_senders_;
      free_.push_back(std::move(message));
      continue;
    }
    Parcel parcel;
    std::memcpy(&parcel.key, message.data(), header);
    message.erase(message.begin(), message.begin() + header);
    parcel.bytes = std::move(message);
    return parcel;
  }
  return std::nullopt;
}

}  // namespace tessera::par
