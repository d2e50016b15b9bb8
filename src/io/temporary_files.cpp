// Temporary output files: named beside their final path, removed on failure and on signals.
#include "tessera/io/temporary_files.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include "stale_temporaries.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/hidden_name.hpp"
#include "tessera/io/output_paths.hpp"

namespace tessera::io {

namespace {

constexpr int kSlots = 64;
/// The signals that remove the registered temporary files.
constexpr std::array<int, 5> kSignals{SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2};
constexpr size_t kPathBytes = 4096;

struct Slot {
  std::atomic<bool> used{false};
  std::array<char, kPathBytes> path{};
};

std::array<Slot, kSlots> slots;

std::atomic<int> stop_scopes{0};
volatile sig_atomic_t first_stop_signal = 0;

/// A run that did not stop within its grace ends by the signal that asked it to, its files kept.
extern "C" void end_by_stop_signal(int) {
  const int sig = first_stop_signal;
  signal(sig, SIG_DFL);
  raise(sig);
}

extern "C" void remove_and_reraise(int sig) {
  if (stop_scopes.load() > 0) {
    if (first_stop_signal == 0) {
      first_stop_signal = sig;
      signal(SIGALRM, end_by_stop_signal);
      alarm(stop_grace_seconds);
    }
    return;
  }
  for (auto& slot : slots)
    if (slot.used.load()) unlink(slot.path.data());
  signal(sig, SIG_DFL);
  raise(sig);
}

}  // namespace

StopScope::StopScope() { stop_scopes.fetch_add(1); }

StopScope::~StopScope() { stop_scopes.fetch_sub(1); }

int stop_signal() { return first_stop_signal; }

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

namespace {

/// ".NAME" + `kind` + `id` in the folder of `path` (NAME shortened for a long name: hidden_stem).
std::string hidden_beside(const std::string& path, const char* kind, int64_t id) {
  std::string suffix(kind);
  suffix += std::to_string(id);
  return tessera::hidden_beside(path, suffix);
}

/// The signals remove_temporaries_on_signal() handles, held back while an output and the file
/// it replaces trade places, so that neither is lost half-way.
class HeldSignals {
 public:
  HeldSignals() {
    sigset_t held;
    sigemptyset(&held);
    for (int sig : kSignals) sigaddset(&held, sig);
    pthread_sigmask(SIG_BLOCK, &held, &before_);
  }
  ~HeldSignals() { pthread_sigmask(SIG_SETMASK, &before_, nullptr); }
  HeldSignals(const HeldSignals&) = delete;
  HeldSignals& operator=(const HeldSignals&) = delete;

 private:
  sigset_t before_;
};

bool is_regular_file(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

std::string temporary_path(const std::string& path, int64_t id) {
  return hidden_beside(path, ".tmp-", id);
}

std::string set_aside_for_resume(const std::string& path, int64_t id) {
  const std::string temporary = temporary_path(path, id);
  const std::string aside = hidden_beside(path, ".resume-", id);
  if (is_regular_file(aside)) {
    std::remove(temporary.c_str());
    return aside;
  }
  if (!is_regular_file(temporary)) return {};
  if (std::rename(temporary.c_str(), aside.c_str()) != 0)
    throw Error(path + ": cannot move " + temporary + " aside: " + std::strerror(errno));
  return aside;
}

void check_output_folder(const std::string& path) {
  std::filesystem::path folder = std::filesystem::path(path).parent_path();
  if (folder.empty()) folder = ".";
  std::error_code ec;
  const auto status = std::filesystem::status(folder, ec);
  if (!std::filesystem::exists(status))
    throw Error(path + ": cannot create: no folder " + folder.string());
  if (!std::filesystem::is_directory(status))
    throw Error(path + ": cannot create: " + folder.string() + " is not a folder");
  if (access(folder.c_str(), W_OK) != 0)
    throw Error(path + ": cannot create: folder " + folder.string() + " is not writable");
}

void move_into_place(const std::string& temporary, const std::string& path,
                     const std::string& label) {
  check_replaceable(path);  // the plan checked already; something may have appeared since
  const HeldSignals held;
  const std::string aside =
      is_regular_file(path) ? hidden_beside(path, ".old-", getpid()) : std::string();
  if (!aside.empty() && std::rename(path.c_str(), aside.c_str()) != 0)
    throw Error(label + ": cannot move the existing " + path + " aside: " + std::strerror(errno));
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    if (!aside.empty()) std::rename(aside.c_str(), path.c_str());
    throw Error(label + ": cannot rename " + temporary + " into place: " + std::strerror(error));
  }
  // The new file is in place whatever becomes of the old one; the folder that let it be moved
  // aside lets it be removed.
  if (!aside.empty()) unlink(aside.c_str());
}

uint64_t room_left(const std::string& path) {
  struct statvfs fs {};
  if (statvfs(path.c_str(), &fs) != 0) return UINT64_MAX;
  return static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
}

TemporaryFile::TemporaryFile(std::string path)
    : path_(std::move(path)), slot_(register_temporary(path_)) {
  remove_stale_temporaries(path_);
}

void write_text_file(const std::string& path, const std::string& text, const std::string& what) {
  TemporaryFile temporary(temporary_path(path, getpid()));
  {
    std::ofstream out(temporary.path(), std::ios::binary);
    out << text;
    if (!out.flush()) throw Error(path + ": cannot write " + what + ": " + std::strerror(errno));
  }
  move_into_place(temporary.path(), path, path);
  temporary.release();
}

void TemporaryFile::hold() {
  if (lock_ < 0) lock_ = hold_temporary(path_);
}

TemporaryFile::~TemporaryFile() {
  if (!path_.empty()) std::remove(path_.c_str());
  unregister_temporary(slot_);
  if (lock_ >= 0) close(lock_);
}

void TemporaryFile::release() {
  path_.clear();
  unregister_temporary(slot_);
  slot_ = -1;
  if (lock_ >= 0) close(lock_);
  lock_ = -1;
}

namespace {

/// Whether hold_stop_signals() blocked them, for remove_temporaries_on_signal() to release.
bool held_from_start = false;

sigset_t stop_signal_set() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kSignals) sigaddset(&set, sig);
  return set;
}

}  // namespace

void hold_stop_signals() {
  const sigset_t set = stop_signal_set();
  sigprocmask(SIG_BLOCK, &set, nullptr);
  held_from_start = true;
}

void remove_temporaries_on_signal() {
  struct sigaction action {};
  action.sa_handler = remove_and_reraise;
  sigemptyset(&action.sa_mask);
  for (int sig : kSignals) sigaction(sig, &action, nullptr);
  if (!held_from_start) return;
  held_from_start = false;
  const sigset_t set = stop_signal_set();
  sigprocmask(SIG_UNBLOCK, &set, nullptr);  // one sent meanwhile reaches the handler now
}

}  // namespace tessera::io
