// The `tessera` users run: a statically linked front that holds the stop signals from its first
// instruction, then executes the program itself (cli/main.cpp, TESSERA_PROGRAM beside it).
//
// Why: the program is dynamically linked against GDAL, PROJ, HDF5 and Open MPI (127 libraries,
// 61,000 relocations): the dynamic loader spends 15-30 ms of CPU before any of tessera's code
// runs, and a SIGTERM or SIGUSR1 arriving then would end the process by its default action, with
// nothing written and no status of tessera's. A blocked signal stays blocked, and one sent
// meanwhile stays pending, across execve: the program's handlers take it once its stop scope is in
// place (io::remove_temporaries_on_signal). This file needs nothing loaded, so the only moment
// left unguarded is the kernel's own exec of it.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

#ifndef TESSERA_PROGRAM
#error "TESSERA_PROGRAM: the program's path relative to this executable's folder"
#endif

namespace {

/// The signals the program takes as "stop" (io/temporary_files.cpp's list).
constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2};

void hold_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kStopSignals) sigaddset(&set, sig);
  sigprocmask(SIG_BLOCK, &set, nullptr);
}

/// The program's path: TESSERA_PROGRAM in this executable's folder (symbolic links resolved, so a
/// link to bin/tessera finds libexec/tessera/tessera of the installation). Empty when the
/// kernel does not say where this executable is; `error` then says why.
bool program_path(char (&path)[PATH_MAX], const char*& error) {
  const ssize_t size = readlink("/proc/self/exe", path, sizeof path - 1);
  if (size <= 0) {
    error = std::strerror(errno);
    return false;
  }
  path[size] = '\0';
  char* slash = std::strrchr(path, '/');
  const size_t folder = slash ? static_cast<size_t>(slash - path) + 1 : 0;
  const size_t tail = sizeof TESSERA_PROGRAM;  // with its '\0'
  if (folder + tail > sizeof path) {
    error = std::strerror(ENAMETOOLONG);
    return false;
  }
  std::memcpy(path + folder, TESSERA_PROGRAM, tail);
  return true;
}

}  // namespace

#if defined(__x86_64__)
// The process's entry point (linked with --entry=tessera_front_start): the stop signals are
// blocked by its first instruction, before glibc's own start-up (CPU features, IFUNC
// relocations, TLS); then glibc's _start runs as if it had been entered directly. The kernel
// enters with %rsp at argc and %rdx at an exit hook; both are kept.
// rt_sigprocmask(SIG_BLOCK, &mask, NULL, 8): SIGHUP 1, SIGINT 2, SIGUSR1 10, SIGUSR2 12, SIGTERM 15.
static_assert(SIGHUP == 1 && SIGINT == 2 && SIGUSR1 == 10 && SIGUSR2 == 12 && SIGTERM == 15);
asm(R"(
  .pushsection .rodata
  .p2align 3
tessera_front_stop_mask:
  .quad (1 << 0) | (1 << 1) | (1 << 9) | (1 << 11) | (1 << 14)
  .popsection
  .pushsection .text
  .globl tessera_front_start
  .type tessera_front_start, @function
tessera_front_start:
  mov %rdx, %r12
  mov $14, %eax
  xor %edi, %edi
  lea tessera_front_stop_mask(%rip), %rsi
  xor %edx, %edx
  mov $8, %r10d
  syscall
  mov %r12, %rdx
  xor %r12d, %r12d
  jmp _start
  .size tessera_front_start, . - tessera_front_start
  .popsection
)");
#endif

int main(int /*argc*/, char** argv) {
  hold_stop_signals();  // already held on x86-64; the first moment glibc allows elsewhere
  char path[PATH_MAX];
  const char* error = nullptr;
  if (!program_path(path, error)) {
    std::fprintf(stderr, "tessera: error: cannot find its own executable (/proc/self/exe): %s\n",
                 error);
    return 1;
  }
  execv(path, argv);
  std::fprintf(stderr, "tessera: error: cannot run %s: %s (a broken installation?)\n", path,
               std::strerror(errno));
  return 1;
}
