// A fixed table of temporary output paths that an async-signal-safe handler can unlink.
#include "tessera/io/temporary_files.hpp"

#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>

namespace tessera::io {

namespace {

constexpr int kSlots = 64;
constexpr size_t kPathBytes = 4096;

struct Slot {
  std::atomic<bool> used{false};
  std::array<char, kPathBytes> path{};
};

std::array<Slot, kSlots> slots;

extern "C" void remove_and_reraise(int sig) {
  for (auto& slot : slots)
    if (slot.used.load()) unlink(slot.path.data());
  signal(sig, SIG_DFL);
  raise(sig);
}

}  // namespace

int register_temporary(const std::string& path) {
  if (path.size() >= kPathBytes) return -1;
  for (int i = 0; i < kSlots; ++i) {
    Slot& slot = slots[static_cast<size_t>(i)];
    if (slot.used.load()) continue;
    std::memcpy(slot.path.data(), path.c_str(), path.size() + 1);
    slot.used.store(true);
    return i;
  }
  return -1;
}

void unregister_temporary(int slot) {
  if (slot >= 0 && slot < kSlots) slots[static_cast<size_t>(slot)].used.store(false);
}

void remove_temporaries_on_signal() {
  struct sigaction action {};
  action.sa_handler = remove_and_reraise;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2}) sigaction(sig, &action, nullptr);
}

}  // namespace tessera::io
