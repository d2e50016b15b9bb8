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
#include <string>

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

/// The program's path, or why it is not known.
struct ProgramPath {
  std::string path;
  std::string error;
};

/// TESSERA_PROGRAM in this executable's folder (symbolic links resolved, so a link to
/// bin/tessera finds libexec/tessera/tessera of the installation).
ProgramPath program_path() {
  char self[PATH_MAX];
  const ssize_t size = readlink("/proc/self/exe", self, sizeof self);
  if (size <= 0 || size == static_cast<ssize_t>(sizeof self))
    return {{}, size <= 0 ? std::strerror(errno) : std::strerror(ENAMETOOLONG)};
  std::string path(self, static_cast<size_t>(size));
  path.erase(path.rfind('/') + 1);  // the kernel's path is absolute: there is a '/'
  return {path + TESSERA_PROGRAM, {}};
}

/// `text` with control characters as \xNN, so that a message stays one line (core/error.cpp's
/// printable(), which this static front does not link).
std::string printable(const std::string& text) {
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte != 0x7f) {
      out += c;
      continue;
    }
    char escaped[5];
    std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
    out += escaped;
  }
  return out;
}

}  // namespace

#if defined(__x86_64__)
// The process's entry point (linked with --entry=tessera_front_start): the stop signals are
// blocked by its first instruction, before glibc's own start-up (CPU features, IFUNC
// relocations, TLS); then glibc's _start runs as if it had been entered directly. The kernel
// enters with %rsp at argc and %rdx at an exit hook; both are kept. The mask is
// rt_sigprocmask(SIG_BLOCK, &mask, NULL, 8)'s: bit N-1 for signal N.
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
  const ProgramPath program = program_path();
  if (program.path.empty()) {
    std::fprintf(stderr, "tessera: error: cannot find its own executable (/proc/self/exe): %s\n",
                 program.error.c_str());
    return 1;
  }
  execv(program.path.c_str(), argv);
  std::fprintf(stderr, "tessera: error: cannot run %s: %s (a broken installation?)\n",
               printable(program.path).c_str(), std::strerror(errno));
  return 1;
}
