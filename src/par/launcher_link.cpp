// TCP_NODELAY on this process's sockets to its own host, found through /proc/self/fd.
#include "tessera/par/launcher_link.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

namespace tessera::par {
namespace {

bool is_tcp(int fd) {
  int domain = 0;
  int protocol = 0;
  socklen_t size = sizeof domain;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &size) != 0) return false;
  size = sizeof protocol;
  if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &size) != 0) return false;
  return (domain == AF_INET || domain == AF_INET6) && protocol == IPPROTO_TCP;
}

bool is_loopback(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    return (ntohl(v4.sin_addr.s_addr) >> 24) == 127;
  }
  const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address).sin6_addr;
  if (IN6_IS_ADDR_V4MAPPED(&v6)) return v6.s6_addr[12] == 127;
  return IN6_IS_ADDR_LOOPBACK(&v6);
}

bool same_host(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET)
    return reinterpret_cast<const sockaddr_in&>(a).sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in&>(b).sin_addr.s_addr;
  return std::memcmp(&reinterpret_cast<const sockaddr_in6&>(a).sin6_addr,
                     &reinterpret_cast<const sockaddr_in6&>(b).sin6_addr, sizeof(in6_addr)) == 0;
}

/// True when `fd` is a connected TCP socket whose peer runs on this host.
bool is_local_tcp(int fd) {
  if (!is_tcp(fd)) return false;
  sockaddr_storage peer{};
  sockaddr_storage self{};
  socklen_t size = sizeof peer;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &size) != 0) return false;
  size = sizeof self;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&self), &size) != 0) return false;
  return is_loopback(peer) || same_host(peer, self);
}

}  // namespace

int send_local_tcp_without_delay() {
  const std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir("/proc/self/fd"), closedir);
  if (!dir) return 0;
  const int listing = dirfd(dir.get());
  int count = 0;
  while (const dirent* entry = readdir(dir.get())) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    const int fd = std::atoi(entry->d_name);
    if (fd == listing || !is_local_tcp(fd)) continue;
    const int on = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == 0) ++count;
  }
  return count;
}

namespace {

/// The command name of process `pid` (/proc/PID/comm), or "" when it cannot be read.
std::string command_of(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(file, name);
  return name;
}

bool is_open_mpi_launcher(const std::string& name) {
  for (const char* launcher : {"mpirun", "mpiexec", "orterun", "orted", "prterun", "prted"})
    if (name == launcher) return true;
  return false;
}

}  // namespace

bool end_with_launcher() {
  if (std::getenv("OMPI_COMM_WORLD_SIZE") == nullptr) return false;
  const pid_t parent = getppid();
  if (!is_open_mpi_launcher(command_of(parent))) return false;
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) return false;
  if (getppid() != parent) std::raise(SIGTERM);  // it was gone before the request
  return true;
}

}  // namespace tessera::par
