// Instructions the process retires in user space, for tests that bound work, not wall time.
#pragma once

#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <optional>

namespace tessera::test {

/// The user-space instructions `call` retires on this thread, or nullopt where the kernel lets
/// no process count them (perf_event_paranoid > 2, or no counter in a virtual machine).
template <typename Call>
std::optional<uint64_t> instructions_of(Call call) {
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_HARDWARE;
  attr.config = PERF_COUNT_HW_INSTRUCTIONS;
  attr.disabled = 1;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  const int fd = static_cast<int>(syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0));
  if (fd < 0) return std::nullopt;
  ioctl(fd, PERF_EVENT_IOC_RESET, 0);
  ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
  call();
  ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
  uint64_t count = 0;
  const bool read_ok = read(fd, &count, sizeof count) == static_cast<ssize_t>(sizeof count);
  close(fd);
  if (!read_ok) return std::nullopt;
  return count;
}

/// How many times the instructions of `call(2 * n)` are those of `call(n)`: about 2 for work
/// linear in n, about 4 for quadratic. nullopt when instructions cannot be counted.
template <typename Call>
std::optional<double> doubling_ratio(Call call, int n) {
  const auto small = instructions_of([&] { call(n); });
  const auto large = instructions_of([&] { call(2 * n); });
  if (!small || !large || *small == 0) return std::nullopt;
  return static_cast<double>(*large) / static_cast<double>(*small);
}

}  // namespace tessera::test
