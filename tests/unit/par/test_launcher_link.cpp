// The launcher link: TCP_NODELAY is set on connected TCP sockets to this host, and only on them.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tessera/par/launcher_link.hpp"

namespace {

/// A socket closed when the test ends.
struct Socket {
  int fd;
  explicit Socket(int f) : fd(f) {}
  ~Socket() {
    if (fd >= 0) close(fd);
  }
};

bool no_delay(int fd) {
  int value = 0;
  socklen_t size = sizeof value;
  EXPECT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, &size), 0);
  return value != 0;
}

sockaddr_in loopback_any_port() {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

TEST(LauncherLink, SetsNoDelayOnBothEndsOfALoopbackConnectionOnly) {
  Socket listener(socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_GE(listener.fd, 0);
  sockaddr_in address = loopback_any_port();
  ASSERT_EQ(bind(listener.fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(listener.fd, 1), 0);
  socklen_t size = sizeof address;
  ASSERT_EQ(getsockname(listener.fd, reinterpret_cast<sockaddr*>(&address), &size), 0);
  Socket client(socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_EQ(connect(client.fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  Socket server(accept(listener.fd, nullptr, nullptr));
  ASSERT_GE(server.fd, 0);
  Socket unconnected(socket(AF_INET, SOCK_STREAM, 0));
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  Socket unix_a(pair[0]);
  Socket unix_b(pair[1]);
  ASSERT_FALSE(no_delay(client.fd));
  ASSERT_FALSE(no_delay(server.fd));

  EXPECT_EQ(tessera::par::send_local_tcp_without_delay(), 2);
  EXPECT_TRUE(no_delay(client.fd));
  EXPECT_TRUE(no_delay(server.fd));
  EXPECT_FALSE(no_delay(listener.fd));
  EXPECT_FALSE(no_delay(unconnected.fd));
}

}  // namespace
